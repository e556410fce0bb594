// COPY and MOVE, with and without UID (RFC 9051 §6.4.7-§6.4.8, RFC 6851 MOVE, RFC 4315
// COPYUID).
#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {

void session::impl::cmd_copy(impl& s, const command& cmd) {
  const auto& args = std::get<copy_args>(cmd.args);
  const bool move = cmd.name == command_name::move;
  if (move && s.read_only) {
    s.no(cmd, "[READ-ONLY] mailbox is read-only");
    return;
  }
  auto indexes = s.resolve(cmd, args.set, cmd.uid);
  if (!indexes) return;
  std::vector<std::uint32_t> uids;
  for (std::size_t i : *indexes) {
    if (s.backend_entry(s.view[i].uid) != nullptr) uids.push_back(s.view[i].uid);
  }
  std::unique_ptr<mailbox_backend> holder;
  backend_status status = backend_status::ok;
  mailbox_backend* target = s.open_other(args.mailbox, false, holder, status);
  if (target == nullptr) {
    if (status == backend_status::not_found) {
      s.no(cmd, "[TRYCREATE] mailbox does not exist");
    } else {
      s.no_for(cmd, status, "mailbox");
    }
    return;
  }
  const char* verb = move ? "MOVE" : "COPY";
  if (uids.empty()) {
    s.ok(cmd, std::string(verb) + " completed");
    return;
  }
  std::vector<std::uint32_t> new_uids;
  s.box_changed = true;
  status = s.box->copy_to(uids, *target, new_uids);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "copy");
    return;
  }
  const std::string copyuid = "[COPYUID " + std::to_string(target->uid_validity()) + " " +
                              format_uid_set(uids) + " " + format_uid_set(new_uids) + "]";
  if (!move) {
    s.ok(cmd, copyuid + " COPY completed");
    return;
  }
  s.box_changed = true;
  status = s.box->expunge(uids);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "move");
    return;
  }
  // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGE responses.
  s.untagged("OK " + copyuid + " moved");
  s.ok(cmd, "MOVE completed");
}

}  // namespace mailsim::imap
