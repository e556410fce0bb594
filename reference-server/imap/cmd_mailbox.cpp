// CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (RFC 5258 / 5819 / 6154 options),
// LSUB, NAMESPACE, STATUS and APPEND (RFC 9051 §6.3.4-§6.3.12, RFC 4315 APPENDUID).
#include <algorithm>

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
  if (s.box && s.box_name == args.mailbox) {
    s.no(cmd, "[INUSE] mailbox is selected");
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
  backend_status status = s.account->rename(args.from, args.to);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  s.ok(cmd, "RENAME completed");
}

void session::impl::cmd_subscribe(impl& s, const command& cmd) {
  const auto& args = std::get<mailbox_args>(cmd.args);
  const bool on = cmd.name == command_name::subscribe;
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
  for (const mailbox_info& info : boxes) {
    bool matched = false;
    for (const std::string& pattern : args.patterns) {
      matched = matched || list_match(args.reference + pattern, info.name);
    }
    if (!matched) continue;
    if ((lsub || args.select_subscribed) && !info.subscribed) continue;
    if (args.select_special_use && info.special_use.empty()) continue;
    std::string attrs;
    auto add = [&attrs](std::string_view a) {
      if (!attrs.empty()) attrs += ' ';
      attrs += a;
    };
    if (!lsub) {
      add(info.has_children ? "\\HasChildren" : "\\HasNoChildren");
      if (!info.special_use.empty()) add(info.special_use);
      // RFC 5258 §3.1: the SUBSCRIBED selection option implies the return option.
      const bool show_subscribed = args.return_subscribed || args.select_subscribed;
      if (show_subscribed && info.subscribed) add("\\Subscribed");
    }
    s.untagged(std::string(verb) + " (" + attrs + ") \"/\" " + s.mailbox_text(info.name));
    if (args.return_status && !lsub) {
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
