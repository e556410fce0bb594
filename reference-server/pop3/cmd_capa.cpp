// CAPA (RFC 2449 §5): the capabilities that hold now.
#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {

// USER and SASL are AUTHORIZATION capabilities, which RFC 2449 §5 wants announced in both
// states; STLS is listed only while it can be used (RFC 2595 §4: before authentication,
// before TLS). Plaintext logins are listed only when they would be accepted.
void session::impl::cmd_capa(impl& s, const command_line& cmd) {
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
    return;
  }
  std::string& out = s.self.output_;
  s.ok("Capability list follows");
  out += "TOP\r\n";
  if (s.plaintext_allowed()) out += "USER\r\n";
  std::vector<std::string> mechanisms = s.offered_mechanisms();
  if (!mechanisms.empty()) {
    out += "SASL";
    for (const std::string& name : mechanisms) out += " " + name;
    out += "\r\n";
  }
  if (s.st == state::authorization && s.opts.tls_available && !s.tls) out += "STLS\r\n";
  out += "UIDL\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nEXPIRE NEVER\r\n";
  out += "IMPLEMENTATION mailsim\r\n.\r\n";
}

}  // namespace mailsim::pop3
