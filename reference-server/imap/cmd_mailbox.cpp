// CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (RFC 5258 / 5819 / 6154 options),
// LSUB, NAMESPACE, STATUS and APPEND (RFC 9051 §6.3.4-§6.3.12, RFC 4315 APPENDUID).
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "reference-server/imap/mutf7.hpp"
#include "reference-server/imap/response_format.hpp"
#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {
namespace {

// LIST wildcards (RFC 9051 §6.3.9): '*' matches anything, '%' anything but the hierarchy
// separator. Dynamic programming over (pattern, name) so a hostile pattern stays
// polynomial.
bool wildcard_match(std::string_view pattern, std::string_view name) {
  std::vector<char> row(name.size() + 1, 0);
  row[0] = 1;
  for (char p : pattern) {
    std::vector<char> next(name.size() + 1, 0);
    if (p == '*' || p == '%') {
      next[0] = row[0];
      for (std::size_t j = 1; j <= name.size(); ++j) {
        const bool can_extend = p == '*' || name[j - 1] != '/';
        next[j] = static_cast<char>(row[j] || (can_extend && next[j - 1]));
      }
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j) {
        next[j] = static_cast<char>(row[j - 1] && name[j - 1] == p);
      }
    }
    row.swap(next);
  }
  return row[name.size()] != 0;
}

// "INBOX" is case-insensitive, so the pattern's first five characters are too when they
// spell it and the name is INBOX or below it.
bool list_match(std::string pattern, std::string_view name) {
  if (name.substr(0, 5) == "INBOX" && upper(pattern.substr(0, 5)) == "INBOX") {
    for (std::size_t i = 0; i < 5; ++i) pattern[i] = "INBOX"[i];
  }
  return wildcard_match(pattern, name);
}

// A LIST/LSUB candidate: a backend entry, or a level of the hierarchy with no entry of its
// own. `level` marks a name that a pattern ending in '%' returns although it is no mailbox
// (LIST) or not subscribed (LSUB).
struct list_entry {
  mailbox_info info;
  bool level = false;
};

// Calls f with each superior level of a name ("A", then "A/B" for "A/B/C").
template <class F>
void for_each_superior(std::string_view name, F f) {
  for (auto slash = name.find('/'); slash != std::string_view::npos;
       slash = name.find('/', slash + 1)) {
    f(std::string(name.substr(0, slash)));
  }
}

// RFC 3501 §6.3.8/§6.3.9, RFC 9051 §6.3.9: when '%' ends a pattern, the levels of hierarchy
// it matches are returned too, marked as not selectable. For LIST those are the superiors
// of existing mailboxes that are no mailbox themselves (Maildir++ ".A.B" made without ".A"
// by another program); for LSUB the superiors of subscribed names that are not subscribed.
// The answer keeps the backend's order: INBOX first, then byte order.
std::vector<list_entry> list_entries(const std::vector<mailbox_info>& boxes, bool lsub) {
  std::vector<list_entry> out;
  std::map<std::string, std::size_t> index;
  for (const mailbox_info& info : boxes) {
    index.emplace(info.name, out.size());
    out.push_back({info, false});
  }
  std::set<std::string> levels;
  for (const mailbox_info& info : boxes) {
    if (lsub ? info.subscribed : info.exists) {
      for_each_superior(info.name, [&levels](std::string level) { levels.insert(level); });
    }
  }
  bool added = false;
  for (const std::string& level : levels) {
    auto at = index.find(level);
    if (at == index.end()) {
      mailbox_info info;
      info.name = level;
      info.exists = false;
      info.has_children = !lsub;  // LIST levels have an existing mailbox below them
      out.push_back({info, true});
      added = true;
    } else if (list_entry& e = out[at->second]; lsub ? !e.info.subscribed : !e.info.exists) {
      e.level = true;
    }
  }
  if (added) {
    std::stable_sort(out.begin(), out.end(), [](const list_entry& a, const list_entry& b) {
      return std::pair(a.info.name != "INBOX", std::string_view(a.info.name)) <
             std::pair(b.info.name != "INBOX", std::string_view(b.info.name));
    });
  }
  return out;
}

// Whether a backend entry belongs in the answer. RFC 5258 §3: a name with no mailbox is
// shown only when it meets the selection criteria, here that it is subscribed (LSUB, or the
// SUBSCRIBED selection option); a plain LIST lists existing mailboxes only, plus the levels
// a trailing '%' asks for (list_entries()).
bool list_selects(const list_args& args, bool lsub, const list_entry& e) {
  const mailbox_info& info = e.info;
  bool matched = false;
  bool matched_level = false;
  for (const std::string& pattern : args.patterns) {
    const std::string full = args.reference + pattern;
    const bool match = list_match(full, info.name);
    matched = matched || match;
    matched_level = matched_level || (match && !full.empty() && full.back() == '%');
  }
  if (!matched) return false;
  const bool subscribed_only = lsub || args.select_subscribed;
  if (e.level && matched_level && (lsub || (!args.select_subscribed && !args.select_special_use))) {
    return true;
  }
  if (subscribed_only && !info.subscribed) return false;
  if (!info.exists && !subscribed_only) return false;
  return !args.select_special_use || !info.special_use.empty();
}

// The attributes of a LIST line (RFC 9051 §7.3.1, RFC 5258 §3.1, RFC 6154). A name with no
// mailbox is \NonExistent for IMAP4rev2 clients and extended LIST (RFC 5258 §3.4), and
// \Noselect, the attribute RFC 3501 knows, for a plain LIST of an IMAP4rev1 client.
std::string list_attributes(const list_args& args, const mailbox_info& info, bool rev2) {
  std::string attrs;
  auto add = [&attrs](std::string_view a) {
    if (!attrs.empty()) attrs += ' ';
    attrs += a;
  };
  // \NonExistent implies \Noselect; a name with no mailbox may still have children
  // (a Maildir++ parent removed by another program while its sub-folders stay).
  if (!info.exists) add(rev2 || args.extended ? "\\NonExistent" : "\\Noselect");
  if (info.has_children) {
    add("\\HasChildren");
  } else if (info.exists) {
    add("\\HasNoChildren");
  }
  if (!info.special_use.empty()) add(info.special_use);
  // RFC 5258 §3.1: the SUBSCRIBED selection option implies the return option.
  const bool show_subscribed = args.return_subscribed || args.select_subscribed;
  if (show_subscribed && info.subscribed) add("\\Subscribed");
  return attrs;
}

// "." and ".." as levels (RFC 9051 §5.1 leaves the choice of names to the server): a file
// system store would read them as "this level" and "the level above", so they are refused
// for every backend before one sees them.
bool has_dot_level(std::string_view name) {
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = name.find('/', start);
    const std::string_view level = name.substr(start, slash - start);
    if (level == "." || level == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

// Whether `name` is a mailbox with mailboxes below it (RFC 9051 §6.3.5: DELETE is refused
// then, so that no level is left without a mailbox). False when the list cannot be read:
// the backend refuses such a DELETE too.
bool has_children(account_backend& account, const std::string& name) {
  backend_status status = backend_status::ok;
  for (const mailbox_info& info : account.list(status)) {
    if (info.name == name) return info.exists && info.has_children;
  }
  return false;
}

constexpr std::string_view dot_level_refusal =
    "[CANNOT] \".\" and \"..\" are not valid hierarchy levels";

// Bounds on a name a client may create or subscribe to (Dovecot's are alike): every
// superior level of a subscribed name is listed by LSUB "%", and a name may arrive as a
// literal of many megabytes.
constexpr std::size_t mailbox_name_bytes_max = 1024;
constexpr std::size_t mailbox_levels_max = 32;

// Why a new mailbox name is refused, or nothing when it is acceptable.
std::optional<std::string_view> name_refusal(std::string_view name) {
  if (has_dot_level(name)) return dot_level_refusal;
  if (name.size() > mailbox_name_bytes_max ||
      static_cast<std::size_t>(std::count(name.begin(), name.end(), '/')) >= mailbox_levels_max) {
    return "[LIMIT] mailbox name too long or too deep (1024 bytes, 32 levels)";
  }
  return std::nullopt;
}

}  // namespace

std::string session::impl::mailbox_text(std::string_view name) const {
  if (utf8) return format_astring(name, true);
  std::optional<std::string> encoded = utf8_to_mutf7(name);
  return format_astring(encoded ? *encoded : std::string(name));
}

mailbox_backend* session::impl::open_other(const std::string& name, bool ro,
                                           std::unique_ptr<mailbox_backend>& holder,
                                           backend_status& status) {
  status = backend_status::ok;
  if (box && name == box_name && (ro || !read_only)) return box.get();
  holder = account->open(name, ro, status);
  if (holder && status == backend_status::ok) {
    sync_report report;
    holder->sync(report);
  }
  if (holder) return holder.get();
  if (status == backend_status::ok) status = backend_status::failed;
  return nullptr;
}

void session::impl::cmd_create(impl& s, const command& cmd) {
  const auto& args = std::get<mailbox_args>(cmd.args);
  std::string name = args.mailbox;
  // RFC 9051 §6.3.4: a trailing separator only says that names will be created below it.
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (!args.special_use.empty()) {
    s.no(cmd, "[USEATTR] special-use attributes cannot be assigned");
    return;
  }
  if (name == "INBOX") {
    s.no(cmd, "[ALREADYEXISTS] INBOX already exists");
    return;
  }
  if (auto refusal = name_refusal(name)) {
    s.no(cmd, *refusal);
    return;
  }
  // RFC 9051 §6.3.4: the backend makes the missing superior levels too.
  backend_status status = s.account->create(name);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  s.ok(cmd, "CREATE completed");
}

void session::impl::cmd_delete(impl& s, const command& cmd) {
  const auto& args = std::get<mailbox_args>(cmd.args);
  if (args.mailbox == "INBOX") {
    s.no(cmd, "[CANNOT] INBOX cannot be deleted");
    return;
  }
  if (has_dot_level(args.mailbox)) {  // DELETE: any existing name may go
    s.no(cmd, dot_level_refusal);
    return;
  }
  if (s.box && s.box_name == args.mailbox) {
    s.no(cmd, "[INUSE] mailbox is selected");
    return;
  }
  if (has_children(*s.account, args.mailbox)) {
    s.no(cmd, "[HASCHILDREN] Mailbox has children, delete them first");
    return;
  }
  backend_status status = s.account->remove(args.mailbox);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  s.ok(cmd, "DELETE completed");
}

void session::impl::cmd_rename(impl& s, const command& cmd) {
  const auto& args = std::get<rename_args>(cmd.args);
  if (args.to == "INBOX") {
    s.no(cmd, "[ALREADYEXISTS] INBOX already exists");
    return;
  }
  if (has_dot_level(args.from)) {
    s.no(cmd, dot_level_refusal);
    return;
  }
  if (auto refusal = name_refusal(args.to)) {
    s.no(cmd, *refusal);
    return;
  }
  const std::uint32_t selected_validity = s.box ? s.box->uid_validity() : 0;
  backend_status status = s.account->rename(args.from, args.to);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  if (args.from == "INBOX") {
    // RFC 9051 §6.3.6: INBOX and the mailboxes below it stay; only its messages moved. A
    // selected INBOX stays selected, and the sync before the tagged OK reports them expunged.
    if (s.box && s.box_name == "INBOX") s.box_changed = true;
  } else {
    s.follow_rename(args.from, args.to, selected_validity);
    if (s.st == state::logout) return;
  }
  s.ok(cmd, "RENAME completed");
}

void session::impl::cmd_subscribe(impl& s, const command& cmd) {
  const auto& args = std::get<mailbox_args>(cmd.args);
  const bool on = cmd.name == command_name::subscribe;
  // Such a name can never be a mailbox; UNSUBSCRIBE may still drop one from an old list.
  if (auto refusal = on ? name_refusal(args.mailbox) : std::nullopt) {
    s.no(cmd, *refusal);
    return;
  }
  backend_status status = s.account->subscribe(args.mailbox, on);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  s.ok(cmd, on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

void session::impl::cmd_list(impl& s, const command& cmd) {
  const auto& args = std::get<list_args>(cmd.args);
  const bool lsub = cmd.name == command_name::lsub;
  const char* verb = lsub ? "LSUB" : "LIST";
  // RFC 9051 §6.3.9: an empty pattern asks for the separator and the root.
  if (args.patterns.size() == 1 && args.patterns[0].empty()) {
    s.untagged(std::string(verb) + " (\\Noselect) \"/\" \"\"");
    s.ok(cmd, std::string(verb) + " completed");
    return;
  }
  backend_status status = backend_status::ok;
  std::vector<mailbox_info> boxes = s.account->list(status);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox list");
    return;
  }
  for (const list_entry& entry : list_entries(boxes, lsub)) {
    if (!list_selects(args, lsub, entry)) continue;
    const mailbox_info& info = entry.info;
    // RFC 3501 §6.3.9: LSUB marks \Noselect a subscribed name that cannot be selected and a
    // level returned for '%' that is not subscribed itself.
    const std::string attrs = lsub ? (info.exists && info.subscribed ? "" : "\\Noselect")
                                   : list_attributes(args, info, s.rev2);
    s.untagged(std::string(verb) + " (" + attrs + ") \"/\" " + s.mailbox_text(info.name));
    // A name with no mailbox has no status to give (RFC 5819 §2).
    if (args.return_status && !lsub && info.exists) {
      std::unique_ptr<mailbox_backend> holder;
      backend_status st = backend_status::ok;
      mailbox_backend* other = s.open_other(info.name, true, holder, st);
      if (other != nullptr) {
        s.untagged("STATUS " + s.mailbox_text(info.name) + " " +
                   s.status_items(*other, *args.return_status));
      }
    }
  }
  s.ok(cmd, std::string(verb) + " completed");
}

void session::impl::cmd_namespace(impl& s, const command& cmd) {
  s.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  s.ok(cmd, "NAMESPACE completed");
}

std::string session::impl::status_items(mailbox_backend& mb,
                                        const std::vector<status_item>& items) const {
  std::uint64_t unseen = 0;
  std::uint64_t deleted = 0;
  std::uint64_t size = 0;
  for (const message_entry& m : mb.messages()) {
    if ((m.flags & flag_seen) == 0) ++unseen;
    if ((m.flags & flag_deleted) != 0) ++deleted;
    size += m.size_bytes;
  }
  std::string out;
  auto add = [&out](std::string_view name, std::uint64_t value) {
    if (!out.empty()) out += ' ';
    out += name;
    out += ' ';
    out += std::to_string(value);
  };
  for (status_item item : items) {
    switch (item) {
      case status_item::messages: add("MESSAGES", mb.messages().size()); break;
      case status_item::recent: add("RECENT", 0); break;
      case status_item::uidnext: add("UIDNEXT", mb.uid_next()); break;
      case status_item::uidvalidity: add("UIDVALIDITY", mb.uid_validity()); break;
      case status_item::unseen: add("UNSEEN", unseen); break;
      case status_item::deleted: add("DELETED", deleted); break;
      case status_item::size: add("SIZE", size); break;
      case status_item::highestmodseq: add("HIGHESTMODSEQ", mb.highest_modseq()); break;
      case status_item::appendlimit: add("APPENDLIMIT", reader.limits().literal_bytes_max); break;
    }
  }
  return "(" + out + ")";
}

void session::impl::cmd_status(impl& s, const command& cmd) {
  const auto& args = std::get<status_args>(cmd.args);
  std::unique_ptr<mailbox_backend> holder;
  backend_status status = backend_status::ok;
  mailbox_backend* mb = s.open_other(args.mailbox, true, holder, status);
  if (mb == nullptr) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  s.untagged("STATUS " + s.mailbox_text(args.mailbox) + " " + s.status_items(*mb, args.items));
  s.ok(cmd, "STATUS completed");
}

void session::impl::cmd_append(impl& s, const command& cmd) {
  const auto& args = std::get<append_args>(cmd.args);
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  if (!parse_flags(args.flags, flags, keywords)) {
    s.bad(cmd.tag, "invalid flag");
    return;
  }
  std::unique_ptr<mailbox_backend> holder;
  backend_status status = backend_status::ok;
  mailbox_backend* mb = s.open_other(args.mailbox, false, holder, status);
  if (mb == nullptr) {
    // RFC 9051 §6.3.12: [TRYCREATE] tells the client that CREATE would help.
    if (status == backend_status::not_found) {
      s.no(cmd, "[TRYCREATE] mailbox does not exist");
    } else {
      s.no_for(cmd, status, "mailbox");
    }
    return;
  }
  const std::int64_t date_ms = args.internal_date ? date_time_to_ms(*args.internal_date) : 0;
  std::uint32_t uid = 0;
  if (mb == s.box.get()) s.box_changed = true;
  status = mb->append(args.message, flags, keywords, date_ms, uid);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "append");
    return;
  }
  ++s.self.stats_.messages_appended;
  s.ok(cmd, "[APPENDUID " + std::to_string(mb->uid_validity()) + " " + std::to_string(uid) +
                "] APPEND completed");
}

}  // namespace mailsim::imap
