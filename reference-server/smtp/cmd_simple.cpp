// The commands that need no policy: RSET (§4.1.1.5), NOOP (§4.1.1.9), QUIT (§4.1.1.10),
// EXPN (§4.1.1.7), HELP (§4.1.1.8), and VRFY (§4.1.1.6) when disabled.
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {

server_event server_session::handler::rset(server_session& s, command&) {
  s.reset_transaction();
  s.send(250, "2.0.0", "Ok");
  return {};
}

server_event server_session::handler::noop(server_session& s, command&) {
  s.send(250, "2.0.0", "Ok");
  return {};
}

server_event server_session::handler::quit(server_session& s, command&) {
  s.close_with(221, "2.0.0", "Bye");
  return {};
}

server_event server_session::handler::vrfy(server_session& s, command& cmd) {
  if (!s.options_.vrfy_enabled) {  // RFC 5321 §3.5.3: 252, neither confirm nor deny
    s.send(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    return {};
  }
  s.pending_cmd_ = std::move(cmd);
  return s.hold(server_event_kind::vrfy);
}

server_event server_session::handler::expn(server_session& s, command&) {
  s.send(502, "5.5.1", "Error: EXPN not available");  // RFC 5321 §7.3: may be disabled
  return {};
}

server_event server_session::handler::help(server_session& s, command&) {
  reply r = make_reply(214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT");
  r.lines.emplace_back("VRFY HELP STARTTLS AUTH; see RFC 5321");
  s.send(r);
  return {};
}

}  // namespace mailsim::smtp
