// DATA (RFC 5321 §4.1.1.4): the 354 and the switch to the DATA reader.
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {

server_event server_session::handler::data(server_session& s, command&) {
  if (!s.has_mail_) {
    s.sequence_error(503, "5.5.1", need_mail_text);
    return {};
  }
  if (s.envelope_.recipients.empty()) {  // RFC 5321 §3.3: 503 or 554 "no valid recipients"
    // Every RCPT was refused by policy: the client's pipelined DATA is no client error.
    s.send(554, "5.5.1", "Error: no valid recipients");
    return {};
  }
  // RFC 3030 §3: BINARYMIME content, and a transaction already using BDAT, need BDAT.
  if (s.envelope_.body == body_type::binary_mime || s.bdat_started_) {
    s.protocol_error(503, "5.5.1", "Error: BDAT required for this transaction");
    return {};
  }
  s.message_.clear();
  s.data_reader_ = std::make_unique<data_reader>(
      data_reader_options{s.limits_.message_bytes_max, s.options_.bare_newlines}, s.message_);
  s.state_ = state::data;
  s.send(354, "", "End data with <CR><LF>.<CR><LF>");
  return {};
}

}  // namespace mailsim::smtp

namespace mailsim::smtp {

// The 250 for DATA or BDAT LAST: sent only now, after the caller made the message durable.
void server_session::handler::accepted_message(server_session& s, const decision& d) {
  ++s.stats_.messages_accepted;
  if (d.answer.code != 0) {
    s.send(d.answer);
  } else {
    s.send(250, "2.0.0", "Ok: queued");
  }
}

}  // namespace mailsim::smtp
