// SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE and IDLE (RFC 9051 §6.3.2-3,
// §6.3.13, §6.4.1-3; RFC 3691; RFC 4315; RFC 7162 QRESYNC), and the untagged updates that
// tell the client what other sessions changed (RFC 9051 §5.2, §7.5.1).
#include <algorithm>

#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {
namespace {

constexpr std::string_view all_flags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";


}  // namespace

void session::impl::no_for(const command& cmd, backend_status status, std::string_view what) {
  std::string w(what);
  switch (status) {
    case backend_status::ok:
      no(cmd, w + " failed");
      return;
    case backend_status::not_found:
      no(cmd, "[NONEXISTENT] " + w + " does not exist");
      return;
    case backend_status::already_exists:
      no(cmd, "[ALREADYEXISTS] " + w + " already exists");
      return;
    case backend_status::invalid_name:
      no(cmd, "[CANNOT] " + w + ": not allowed");
      return;
    case backend_status::in_use:
      no(cmd, "[INUSE] " + w + " is in use");
      return;
    case backend_status::over_quota:
      no(cmd, "[OVERQUOTA] quota exceeded");
      return;
    case backend_status::failed:
      no(cmd, "[SERVERBUG] " + w + ": internal error");
      return;
  }
}

void session::impl::close_mailbox() {
  box.reset();
  box_name.clear();
  view.clear();
  saved_uids.clear();  // RFC 5182 §2.1: each selected mailbox starts with an empty result
  read_only = false;
  if (st == state::selected) st = state::authenticated;
}

const message_entry* session::impl::backend_entry(std::uint32_t uid) const {
  const auto& msgs = box->messages();
  auto it = std::lower_bound(msgs.begin(), msgs.end(), uid,
                             [](const message_entry& m, std::uint32_t u) { return m.uid < u; });
  return it != msgs.end() && it->uid == uid ? &*it : nullptr;
}

std::string session::impl::fetch_flags_line(std::size_t index, bool with_uid) const {
  const view_entry& v = view[index];
  const message_entry* e = backend_entry(v.uid);  // the keywords as the view knows them
  static const std::vector<std::string> none;
  std::string line = std::to_string(index + 1) + " FETCH (";
  // RFC 7162 §3.2.4: with QRESYNC every unsolicited FETCH carries the UID.
  if (with_uid || qresync) line += "UID " + std::to_string(v.uid) + " ";
  line += "FLAGS (" + flags_text(v.flags, e != nullptr ? e->keywords : none) + ")";
  if (condstore) line += " MODSEQ (" + std::to_string(v.modseq) + ")";
  return line + ")";
}

bool session::impl::close_if_gone(backend_status sync_status) {
  if (sync_status != backend_status::not_found) return false;
  // The client's view cannot be reconciled with a mailbox that no longer exists, and
  // IMAP has no response that deselects it: end the session (RFC 9051 §7.1.5).
  bye_and_close("Mailbox was deleted");
  return true;
}

bool session::impl::selected_mailbox_gone() {
  sync_report report;
  const backend_status status = box->sync(report);
  if (close_if_gone(status)) return true;
  const bool quiet = report.expunged.empty() && report.added == 0 && !report.flags_changed;
  if (status == backend_status::ok && !quiet) box_changed = true;  // report it next time
  return false;
}

void session::impl::follow_rename(const std::string& from, const std::string& to,
                                  std::uint32_t uid_validity) {
  const bool below = box_name.size() > from.size() && box_name.compare(0, from.size(), from) == 0 &&
                     box_name[from.size()] == '/';
  if (!box || (box_name != from && !below)) return;
  const std::string new_name = to + box_name.substr(from.size());
  backend_status status = backend_status::ok;
  std::unique_ptr<mailbox_backend> reopened = account->open(new_name, read_only, status);
  sync_report report;
  if (reopened) status = reopened->sync(report);
  // UIDs stay valid only when the mailbox kept its UIDVALIDITY across the rename.
  if (!reopened || status != backend_status::ok ||
      reopened->uid_validity() != uid_validity) {
    bye_and_close("Mailbox was renamed");
    return;
  }
  box = std::move(reopened);
  box_name = new_name;
  box_changed = true;
}

void session::impl::report_changes(bool allow_expunge) {
  sync_report report;
  const backend_status status = box->sync(report);
  if (status != backend_status::ok) {
    close_if_gone(status);  // other failures may pass: the next sync tries again
    return;
  }
  const bool quiet = report.expunged.empty() && report.added == 0 && !report.flags_changed;
  if (quiet && !box_changed) return;  // nothing moved: a NOOP on a big mailbox stays cheap
  // Expunges held back now (RFC 9051 §7.5.1) must still be found by the next report.
  box_changed = !allow_expunge;
  if (allow_expunge) {
    std::vector<std::uint32_t> vanished;
    // Highest first: an EXPUNGE renumbers only the messages after it.
    for (std::size_t i = view.size(); i-- > 0;) {
      if (backend_entry(view[i].uid) != nullptr) continue;
      if (qresync) {
        vanished.push_back(view[i].uid);
      } else {
        untagged(std::to_string(i + 1) + " EXPUNGE");
      }
      view.erase(view.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (!vanished.empty()) {
      std::sort(vanished.begin(), vanished.end());
      untagged("VANISHED " + format_uid_set(vanished));
    }
  }
  const std::size_t known = view.size();
  const std::uint32_t max_uid = view.empty() ? 0 : view.back().uid;
  for (const message_entry& m : box->messages()) {
    if (m.uid > max_uid) view.push_back(to_view(m));
  }
  if (view.size() != known) untagged(std::to_string(view.size()) + " EXISTS");
  for (std::size_t i = 0; i < known; ++i) {
    const message_entry* e = backend_entry(view[i].uid);
    if (e == nullptr) continue;
    view_entry& v = view[i];
    if (e->flags == v.flags && keywords_digest(e->keywords) == v.keywords_digest &&
        (!condstore || e->modseq == v.modseq)) {
      continue;
    }
    v = to_view(*e);
    untagged(fetch_flags_line(i, false));
  }
}

// RFC 9051 §9 (seq-number): a number above the message count the client knows of, or "*"
// in an empty mailbox, is a client error. "$" names saved UIDs and is always valid.
bool session::impl::sequence_numbers_valid(const sequence_set& set) const {
  if (set.saved) return true;
  for (const auto& [a, b] : normalize(set, static_cast<std::uint32_t>(view.size()))) {
    if (a == 0 || b > view.size()) return false;
  }
  return true;
}

std::optional<std::vector<std::size_t>> session::impl::resolve(const command& cmd,
                                                               const sequence_set& set,
                                                               bool uid) {
  std::vector<std::size_t> out;
  if (set.saved) {
    // RFC 5182 §2.1: "$" is the saved result, whether the command uses UIDs or not.
    for (std::size_t i = 0; i < view.size(); ++i) {
      if (std::binary_search(saved_uids.begin(), saved_uids.end(), view[i].uid)) out.push_back(i);
    }
    return out;
  }
  if (uid) {
    const std::uint32_t star = view.empty() ? 0 : view.back().uid;
    for (const auto& [a, b] : normalize(set, star)) {
      auto it = std::lower_bound(view.begin(), view.end(), a,
                                 [](const view_entry& v, std::uint32_t u) { return v.uid < u; });
      for (; it != view.end() && it->uid <= b; ++it) {
        out.push_back(static_cast<std::size_t>(it - view.begin()));
      }
    }
  } else {
    if (!sequence_numbers_valid(set)) {
      bad(cmd.tag, "invalid message sequence number");
      return std::nullopt;
    }
    const uid_ranges ranges = normalize(set, static_cast<std::uint32_t>(view.size()));
    for (const auto& [a, b] : ranges) {
      for (std::uint32_t n = a; n <= b; ++n) out.push_back(n - 1);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}


// RFC 7162 §3.2.5.2: the UIDs of `known` that are not in the mailbox, as ranges.
std::string vanished_uids(const sequence_set& known, const std::vector<view_entry>& view,
                             std::uint32_t uid_next) {
  std::string out;
  auto add = [&out](std::uint32_t a, std::uint32_t b) {
    if (!out.empty()) out += ',';
    out += std::to_string(a);
    if (b != a) out += ':' + std::to_string(b);
  };
  const std::uint32_t last_uid = uid_next > 0 ? uid_next - 1 : 0;
  for (auto [a, b] : normalize(known, last_uid)) {
    b = std::min(b, last_uid);
    if (a == 0 || a > b) continue;
    std::uint32_t next = a;
    auto it = std::lower_bound(view.begin(), view.end(), a,
                               [](const view_entry& v, std::uint32_t u) { return v.uid < u; });
    for (; it != view.end() && it->uid <= b; ++it) {
      if (it->uid > next) add(next, it->uid - 1);
      next = it->uid + 1;
    }
    if (next <= b && next != 0) add(next, b);
  }
  return out;
}


// RFC 9051 §6.3.2: the LIST response of SELECT carries the mailbox's attributes. Its
// special use (RFC 6154) is sent as `LIST "" *` spells it, so that a client that selects
// "Sent" learns it is \Sent; child attributes are left out (RFC 9051 §7.3.1 does not
// require them here, and they describe other mailboxes). A listing that fails leaves the
// list empty rather than fail a SELECT that has already succeeded.
std::string session::impl::selected_attributes() {
  backend_status status = backend_status::ok;
  const std::vector<mailbox_info> all = account->list(status);
  if (status != backend_status::ok) return {};
  for (const mailbox_info& info : all) {
    if (info.name == box_name && info.exists) return info.special_use;
  }
  return {};
}

// RFC 9051 §6.3.2 (and §7.3.1 for rev1's RECENT and UNSEEN), RFC 7162 §3.2.5 for QRESYNC.
void session::impl::select_responses(const select_args& args) {
  untagged("FLAGS (" + std::string(all_flags) + ")");
  untagged(std::to_string(view.size()) + " EXISTS");
  if (!rev2) {
    untagged("0 RECENT");
    for (std::size_t i = 0; i < view.size(); ++i) {
      if ((view[i].flags & flag_seen) != 0) continue;
      untagged("OK [UNSEEN " + std::to_string(i + 1) + "] first unseen");
      break;
    }
  }
  untagged("OK [UIDVALIDITY " + std::to_string(box->uid_validity()) + "] UIDs valid");
  untagged("OK [UIDNEXT " + std::to_string(box->uid_next()) + "] predicted next UID");
  untagged(read_only ? std::string("OK [PERMANENTFLAGS ()] read-only mailbox")
                     : "OK [PERMANENTFLAGS (" + std::string(all_flags) + " \\*)] flags permitted");
  untagged("OK [HIGHESTMODSEQ " + std::to_string(box->highest_modseq()) + "] modseq");
  if (rev2) {
    untagged("LIST (" + selected_attributes() + ") \"/\" " + mailbox_text(args.mailbox));
  }
  if (args.qresync && args.qresync->uidvalidity == box->uid_validity()) {
    const qresync_params& q = *args.qresync;
    if (q.known_uids) {
      std::string gone = vanished_uids(*q.known_uids, view, box->uid_next());
      if (!gone.empty()) untagged("VANISHED (EARLIER) " + gone);
    }
    for (std::size_t i = 0; i < view.size(); ++i) {
      if (view[i].modseq > q.modseq) untagged(fetch_flags_line(i, true));
    }
  }
}

void session::impl::cmd_select(impl& s, const command& cmd) {
  const auto& args = std::get<select_args>(cmd.args);
  if (args.qresync && !s.qresync) {
    s.bad(cmd.tag, "QRESYNC is not enabled");
    return;
  }
  const bool was_selected = s.box != nullptr;
  s.close_mailbox();
  // RFC 9051 §7.1 and RFC 7162 §3.2.11: the client learns where the old mailbox's
  // responses end.
  if (was_selected && (s.qresync || s.rev2)) s.untagged("OK [CLOSED] previous mailbox closed");
  const bool examine = cmd.name == command_name::examine;
  backend_status status = backend_status::ok;
  std::unique_ptr<mailbox_backend> opened = s.account->open(args.mailbox, examine, status);
  if (!opened) {
    s.no_for(cmd, status, "mailbox");
    return;
  }
  sync_report report;
  opened->sync(report);
  if (args.condstore) s.condstore = true;  // RFC 7162 §3.1.8
  s.box = std::move(opened);
  s.box_changed = false;  // the view below is the backend's as of this sync
  s.box_name = args.mailbox;
  s.read_only = examine;
  s.st = state::selected;
  for (const message_entry& m : s.box->messages()) s.view.push_back(to_view(m));

  s.select_responses(args);
  s.ok(cmd, examine ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

void session::impl::cmd_close(impl& s, const command& cmd) {
  if (cmd.name == command_name::close && !s.read_only) {
    // RFC 9051 §6.4.1: \Deleted messages go silently, without EXPUNGE responses.
    std::vector<std::uint32_t> deleted;
    for (const message_entry& m : s.box->messages()) {
      if ((m.flags & flag_deleted) != 0) deleted.push_back(m.uid);
    }
    if (!deleted.empty()) s.box->expunge(deleted);  // the mailbox is closed next: no report
  }
  s.close_mailbox();
  s.ok(cmd, cmd.name == command_name::close ? "CLOSE completed" : "UNSELECT completed");
}

void session::impl::cmd_expunge(impl& s, const command& cmd) {
  if (s.read_only) {
    s.no(cmd, "[READ-ONLY] mailbox is read-only");
    return;
  }
  // Plain EXPUNGE has no arguments; UID EXPUNGE names a UID set (RFC 4315 §2.1).
  const auto* args = std::get_if<expunge_args>(&cmd.args);
  const bool by_uid = args != nullptr && args->uids;
  std::vector<std::uint32_t> chosen;
  if (by_uid) {
    auto indexes = s.resolve(cmd, *args->uids, true);
    if (!indexes) return;
    for (std::size_t i : *indexes) chosen.push_back(s.view[i].uid);
  }
  std::vector<std::uint32_t> deleted;
  for (const message_entry& m : s.box->messages()) {
    if ((m.flags & flag_deleted) == 0) continue;
    if (by_uid && !std::binary_search(chosen.begin(), chosen.end(), m.uid)) continue;
    deleted.push_back(m.uid);
  }
  if (!deleted.empty()) {
    s.box_changed = true;
    backend_status status = s.box->expunge(deleted);
    if (status != backend_status::ok) {
      s.no_for(cmd, status, "expunge");
      return;
    }
  }
  s.ok(cmd, "EXPUNGE completed");
}

void session::impl::cmd_idle(impl& s, const command& cmd) {
  s.idling = true;
  s.idle_tag = cmd.tag;
  s.self.output_ += "+ idling\r\n";
  s.next_poll = s.dep.clock->now() + s.lim.idle_poll_interval;
  if (s.box) s.report_changes(true);
}

void session::impl::idle_poll() {
  if (box && idling) report_changes(true);
}

}  // namespace mailsim::imap
