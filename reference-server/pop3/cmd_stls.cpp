// STLS (RFC 2595 §4).
#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {

void session::impl::cmd_stls(impl& s, const command_line& cmd) {
  if (!s.in_state(state::authorization)) return;
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
  } else if (s.tls) {  // RFC 2595 §4: not once TLS is active
    s.client_error("TLS already active");
  } else if (!s.opts.tls_available) {
    s.client_error("STLS not available");
  } else {
    s.ok("Begin TLS negotiation");
    // CVE-2011-0411: bytes pipelined after STLS travelled in clear text and could have been
    // injected on the path; they are dropped, never executed.
    s.reader.clear();
    s.st = state::tls_wait;
    s.stls_due = true;
  }
}

}  // namespace mailsim::pop3
