// HELO and EHLO (RFC 5321 §4.1.1.1), and the EHLO extension list.
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {

server_event server_session::handler::helo(server_session& s, command& cmd) {
  s.reset_transaction();  // RFC 5321 §4.1.4: HELO/EHLO also acts as RSET
  s.pending_cmd_ = std::move(cmd);
  return s.hold(server_event_kind::helo);
}

void server_session::handler::accepted_helo(server_session& s) {
  s.greeted_ = true;
  s.envelope_.helo_name = s.pending_cmd_.helo_name;
  s.envelope_.esmtp = s.pending_cmd_.kind == verb::ehlo;
  if (s.envelope_.esmtp) {
    s.send(ehlo_reply(s));
  } else {
    s.send(250, "", s.options_.hostname);
  }
}

reply server_session::handler::ehlo_reply(const server_session& s) {
  const server_options& o = s.options_;
  reply r;
  r.code = 250;
  r.lines.push_back(o.hostname + " greets " + s.pending_cmd_.helo_name);
  if (o.pipelining) r.lines.emplace_back("PIPELINING");            // RFC 2920
  r.lines.push_back("SIZE " + std::to_string(s.limits_.message_bytes_max));  // RFC 1870
  if (s.options_.vrfy_enabled) r.lines.emplace_back("VRFY");
  if (o.eight_bit_mime) r.lines.emplace_back("8BITMIME");          // RFC 6152
  if (o.smtputf8) r.lines.emplace_back("SMTPUTF8");                // RFC 6531
  r.lines.emplace_back("ENHANCEDSTATUSCODES");                     // RFC 2034
  if (o.chunking) {
    r.lines.emplace_back("CHUNKING");                              // RFC 3030
    r.lines.emplace_back("BINARYMIME");
  }
  if (o.dsn) r.lines.emplace_back("DSN");                          // RFC 3461
  if (o.tls_available && !s.tls_) r.lines.emplace_back("STARTTLS");  // RFC 3207
  bool clear_text_auth = !o.auth_requires_tls && !o.require_tls;
  if (!o.auth_mechanisms.empty() && (s.tls_ || clear_text_auth)) {
    std::string line = "AUTH";                                     // RFC 4954
    for (const auto& m : o.auth_mechanisms) line += " " + m;
    r.lines.push_back(std::move(line));
  }
  return r;
}

}  // namespace mailsim::smtp
