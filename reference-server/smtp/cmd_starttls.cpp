// STARTTLS (RFC 3207).
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {

server_event server_session::handler::starttls(server_session& s, command&) {
  if (s.tls_) {  // RFC 3207 §4: not again once TLS is active
    s.protocol_error(503, "5.5.1", "Error: TLS already active");
    return {};
  }
  if (!s.options_.tls_available) {
    s.protocol_error(502, "5.5.1", "Error: command not implemented");
    return {};
  }
  s.send(220, "2.0.0", "Ready to start TLS");
  // RFC 3207 §5 and CVE-2011-0411: bytes pipelined after STARTTLS were sent in clear text
  // and could be injected by anyone on the path; they are dropped, never executed.
  s.reader_.clear();
  s.state_ = state::tls_wait;
  return {server_event_kind::starttls};
}

}  // namespace mailsim::smtp
