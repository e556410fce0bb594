// BDAT (RFC 3030 §2): chunks of exactly the announced size, no dot-stuffing.
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {

server_event server_session::handler::bdat(server_session& s, command& cmd) {
  if (!s.options_.chunking) {
    s.protocol_error(500, "5.5.1", "Error: command not recognized");
    return {};
  }
  s.bdat_remaining_ = cmd.bdat_size;
  s.bdat_last_ = cmd.bdat_last;
  // RFC 3030 §2: a chunk that will be refused is still read in full, then answered, so
  // that its bytes are never taken for commands.
  auto refuse = [&](int code, std::string_view enhanced, std::string_view text, bool ours) {
    if (!ours) ++s.stats_.errors;
    s.bdat_skip_reply_ = make_reply(code, enhanced, text);
    s.state_ = state::bdat_skip;
    return server_event{};
  };
  if (!s.has_mail_) return refuse(503, "5.5.1", need_mail_text, s.mail_refused_);
  if (s.envelope_.recipients.empty()) {
    return refuse(554, "5.5.1", "Error: no valid recipients", true);
  }
  if (cmd.bdat_size > s.limits_.message_bytes_max - s.message_.size()) {
    s.reset_transaction();
    return refuse(552, "5.3.4", "Error: message exceeds fixed maximum message size", true);
  }
  s.bdat_started_ = true;
  s.state_ = state::bdat;
  return {};
}

}  // namespace mailsim::smtp
