// HELO and EHLO (RFC 5321 §4.1.1.1), and the EHLO extension list.
#include <array>
#include <span>
#include <string>

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
    send_ehlo_reply(s);
  } else {
    s.send(250, "", s.options_.hostname);
  }
}

// The lines are views into strings that live here: no reply object per connection.
void server_session::handler::send_ehlo_reply(server_session& s) {
  const server_options& o = s.options_;
  const std::string greeting = o.hostname + " greets " + s.pending_cmd_.helo_name;
  const std::string size = "SIZE " + std::to_string(s.limits_.message_bytes_max);  // RFC 1870
  std::string auth;
  std::array<std::string_view, 16> lines;
  std::size_t n = 0;
  lines[n++] = greeting;
  if (o.pipelining) lines[n++] = "PIPELINING";  // RFC 2920
  lines[n++] = size;
  if (o.vrfy_enabled) lines[n++] = "VRFY";
  if (o.eight_bit_mime) lines[n++] = "8BITMIME";  // RFC 6152
  if (o.smtputf8) lines[n++] = "SMTPUTF8";        // RFC 6531
  lines[n++] = "ENHANCEDSTATUSCODES";             // RFC 2034
  if (o.chunking) {
    lines[n++] = "CHUNKING";  // RFC 3030
    lines[n++] = "BINARYMIME";
  }
  if (o.dsn) lines[n++] = "DSN";                            // RFC 3461
  if (o.tls_available && !s.tls_) lines[n++] = "STARTTLS";  // RFC 3207
  const bool clear_text_auth = !o.auth_requires_tls && !o.require_tls;
  if (!o.auth_mechanisms.empty() && (s.tls_ || clear_text_auth)) {
    auth = "AUTH";  // RFC 4954
    for (const auto& m : o.auth_mechanisms) (auth += ' ') += m;
    lines[n++] = auth;
  }
  append_reply_lines(s.output_, 250, std::span(lines.data(), n));
}

}  // namespace mailsim::smtp
