// The SMTP client session's transactions: the checks made before sending, MAIL and RCPT
// (pipelined per RFC 2920 when offered), DATA (RFC 5321 §4.1.1.4, §4.5.2) or BDAT (RFC 3030),
// RSET after an aborted transaction, and the per-recipient result.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "reference-server/smtp/client_session.hpp"
#include "reference-server/smtp/xtext.hpp"

namespace mailsim::smtp {
namespace {

bool is_2xx(const reply& r) {
  return r.code / 100 == 2;
}

// Eight bytes per step: every message sent is scanned whole.
bool has_8bit(std::string_view bytes) {
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, 8);
    if ((word & high_bits) != 0) return true;
  }
  return std::any_of(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; });
}

bool utf8_address(const path& p) {
  return !p.null && (p.box.utf8 || has_8bit(p.box.local_part) || has_8bit(p.box.domain));
}

bool utf8_envelope(const envelope& env) {
  return utf8_address(env.reverse_path) ||
         std::any_of(env.recipients.begin(), env.recipients.end(),
                     [](const recipient& r) { return utf8_address(r.address); });
}

// The header section: up to the first empty line (RFC 5322 §2.1), or everything.
std::string_view header_section(std::string_view message) {
  if (message.rfind("\r\n", 0) == 0) return {};
  const std::size_t end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end);
}

// RFC 3461 §4.2: ORCPT=addr-type ";" xtext.
bool valid_orcpt(std::string_view value) {
  const std::size_t semi = value.find(';');
  return semi != std::string_view::npos && semi > 0 && semi + 1 < value.size() &&
         is_xtext(value.substr(semi + 1));
}

// RFC 3461 §4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY.
std::string notify_value(const dsn_notify& n) {
  if (n.never) return "NEVER";
  std::string out;
  auto add = [&](bool on, std::string_view word) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(n.success, "SUCCESS");
  add(n.failure, "FAILURE");
  add(n.delay, "DELAY");
  return out;
}

// A command line must stay one line: a CR, LF or NUL from an envelope field would let it
// end early and smuggle a command of its own.
// (A loop: find_first_of runs a memchr over the three for every byte.)
bool one_line(std::string_view line) {
  return std::none_of(line.begin(), line.end(),
                      [](char c) { return core::is_line_break(c) || c == '\0'; });
}

}  // namespace

data_encoding encode_data(std::string_view message) {
  data_encoding out;
  out.wire.reserve(message.size() + message.size() / 64 + 5);
  bool line_start = true;
  // The next CR and LF at or after i (message.size() when there is none): each is searched
  // for again only when passed, so every byte is looked at once, by memchr.
  const auto next = [message](char c, std::size_t from) {
    if (from >= message.size()) return message.size();  // memchr wants a pointer, even for 0
    const void* at = std::memchr(message.data() + from, c, message.size() - from);
    if (at == nullptr) return message.size();
    return static_cast<std::size_t>(static_cast<const char*>(at) - message.data());
  };
  std::size_t next_cr = next('\r', 0);
  std::size_t next_lf = next('\n', 0);
  std::size_t i = 0;
  while (i < message.size()) {
    // A line's text goes over in one piece; only its start and its end need a look.
    if (next_cr < i) next_cr = next('\r', i);
    if (next_lf < i) next_lf = next('\n', i);
    std::size_t end = std::min(next_cr, next_lf);
    if (end > i) {
      if (line_start && message[i] == '.') out.wire += '.';  // RFC 5321 §4.5.2
      out.wire.append(message.substr(i, end - i));
      out.message_bytes += end - i;
      line_start = false;
    }
    if (end == message.size()) break;
    // RFC 5321 §2.3.8: CR and LF only as CRLF. A bare one becomes a line end here, so the
    // receiver sees the lines that were stuffed (no "\n.\n" smuggling downstream).
    if (message[end] == '\r' && end + 1 < message.size() && message[end + 1] == '\n') ++end;
    out.wire += "\r\n";
    out.message_bytes += 2;
    line_start = true;
    i = end + 1;
  }
  if (!line_start) {  // RFC 5321 §4.1.1.4: the data ends with CRLF before the "."
    out.wire += "\r\n";
    out.message_bytes += 2;
  }
  out.wire += ".\r\n";
  return out;
}

bool client_session::start_transaction(const envelope& env, std::string_view message) {
  if (std::string why = check_request(env); !why.empty()) return refuse_request(std::move(why));
  auto tx = std::make_unique<transaction>();
  const std::optional<reply> failure = prepare(env, message, *tx);
  if (!failure && (!one_line(tx->mail_line) ||
                   !std::all_of(tx->rcpt_lines.begin(), tx->rcpt_lines.end(), one_line))) {
    return refuse_request("an envelope field holds CR, LF or NUL");
  }
  drop_ready_events();
  if (failure) {
    fail_local(env.recipients.size(), *failure);
    return true;
  }
  tx_ = std::move(tx);
  phase_ = phase::transaction;
  send_group();
  return true;
}

std::string client_session::check_request(const envelope& env) const {
  if (phase_ != phase::ready) return "not ready for a transaction";
  if (env.recipients.empty()) return "no recipients";
  if (env.recipients.size() > limits_.recipients_max) {
    return "more than " + std::to_string(limits_.recipients_max) + " recipients";
  }
  for (const recipient& r : env.recipients) {
    if (r.address.null) return "null recipient address";
    if (r.orcpt && !valid_orcpt(*r.orcpt)) return "bad ORCPT value";
  }
  if (env.envid && (env.envid->size() > 100 || !is_xtext(*env.envid))) {  // RFC 3461 §4.4
    return "bad ENVID value";
  }
  return {};
}

bool client_session::refuse_request(std::string why) {
  client_event ev{client_event_kind::error};
  ev.detail = std::move(why);
  push_event(std::move(ev));
  return false;
}

// Decides how the message goes (DATA or BDAT, which parameters) and whether it can go at
// all: a message this server cannot take fails here, before anything is sent.
std::optional<reply> client_session::prepare(const envelope& env, std::string_view message,
                                             transaction& tx) const {
  const bool binary = env.body == body_type::binary_mime;
  const bool eight_bit = has_8bit(message);
  // RFC 6531 §3.2: no UTF-8 address, nor UTF-8 header, to a server without SMTPUTF8; this
  // client does not downgrade.
  if (!caps_.smtputf8 && utf8_envelope(env)) {
    return make_reply(553, "5.6.7", "UTF-8 address but the server does not offer SMTPUTF8");
  }
  if (!caps_.smtputf8 && env.smtputf8 && has_8bit(header_section(message))) {
    return make_reply(554, "5.6.9", "UTF-8 header but the server does not offer SMTPUTF8");
  }
  // RFC 3030 §3: BINARYMIME needs BDAT; no conversion to a 7-bit or 8-bit form here.
  if (binary && !(caps_.chunking && caps_.binary_mime)) {
    return make_reply(554, "5.6.3", "binary message but the server does not offer BINARYMIME");
  }
  // RFC 6152 §3: 8-bit data only to a server that offers 8BITMIME; no conversion here.
  if (!binary && eight_bit && !caps_.eight_bit_mime) {
    return make_reply(554, "5.6.3", "8-bit message but the server does not offer 8BITMIME");
  }
  tx.bdat = caps_.chunking && (binary || options_.prefer_bdat);
  std::uint64_t size = message.size();
  if (tx.bdat) {
    tx.content = std::string(message);  // RFC 3030 §2: BDAT carries the bytes as they are
  } else {
    data_encoding enc = encode_data(message);
    tx.content = std::move(enc.wire);
    size = enc.message_bytes;
  }
  // RFC 1870 §4: a message above the announced limit would get 552; do not send it.
  if (caps_.size && caps_.size_max > 0 && size > caps_.size_max) {
    return make_reply(552, "5.3.4",
                      "message of " + std::to_string(size) +
                          " bytes exceeds the server's limit of " + std::to_string(caps_.size_max));
  }
  tx.mail_line = mail_line(env, size, eight_bit);
  for (const recipient& r : env.recipients) tx.rcpt_lines.push_back(rcpt_line(r));
  tx.rcpt_replies.resize(env.recipients.size());
  tx.pipelined = caps_.pipelining && options_.use_pipelining;
  return std::nullopt;
}

std::string client_session::mail_line(const envelope& env, std::uint64_t size,
                                      bool eight_bit) const {
  std::string line = "MAIL FROM:" + env.reverse_path.to_string();
  if (caps_.size) line += " SIZE=" + std::to_string(size);  // RFC 1870 §3
  if (env.body == body_type::binary_mime) {
    line += " BODY=BINARYMIME";  // RFC 3030 §3
  } else if ((eight_bit || env.body == body_type::eight_bit_mime) && caps_.eight_bit_mime) {
    line += " BODY=8BITMIME";  // RFC 6152 §3
  }
  if (caps_.smtputf8 && (env.smtputf8 || utf8_envelope(env))) line += " SMTPUTF8";  // RFC 6531 §3.4
  if (caps_.dsn) {
    if (env.ret != dsn_ret::unspecified) {  // RFC 3461 §4.3
      line += env.ret == dsn_ret::full ? " RET=FULL" : " RET=HDRS";
    }
    if (env.envid) line += " ENVID=" + *env.envid;  // RFC 3461 §4.4
  }
  return line;
}

std::string client_session::rcpt_line(const recipient& r) const {
  std::string line = "RCPT TO:" + r.address.to_string();
  if (caps_.dsn) {
    const std::string notify = r.notify.specified ? notify_value(r.notify) : std::string();
    if (!notify.empty()) line += " NOTIFY=" + notify;  // RFC 3461 §4.1
    if (r.orcpt) line += " ORCPT=" + *r.orcpt;         // RFC 3461 §4.2
  }
  return line;
}

// RFC 2920 §3.1: with PIPELINING, MAIL, every RCPT and DATA go as one group ("DATA" last);
// without it, MAIL alone and each next command after the previous reply.
void client_session::send_group() {
  send_line(tx_->mail_line);
  await(expect::mail);
  if (!tx_->pipelined) return;
  for (std::size_t i = 0; i < tx_->rcpt_lines.size(); ++i) {
    send_line(tx_->rcpt_lines[i]);
    await(expect::rcpt, i);
  }
  // BDAT waits for the RCPT replies: a chunk for nobody would be read and thrown away.
  if (!tx_->bdat) {
    send_line("DATA");
    await(expect::data);
  }
}

void client_session::on_mail(const reply& r, std::size_t) {
  if (!is_2xx(r)) {
    tx_->mail_refusal = r;
    // Pipelined: the RCPT and DATA replies still come and are read, but mean nothing now.
    if (!tx_->pipelined) finish_transaction();
    return;
  }
  if (!tx_->pipelined) {
    send_line(tx_->rcpt_lines.front());
    await(expect::rcpt, 0);
  }
}

void client_session::on_rcpt(const reply& r, std::size_t index) {
  const bool last = index + 1 == tx_->rcpt_lines.size();
  if (tx_->mail_refusal) {  // only pipelined RCPTs get here
    if (last && tx_->bdat) finish_transaction();
    return;
  }
  tx_->rcpt_replies[index] = r;
  if (is_2xx(r)) {
    ++tx_->accepted;
  } else if (!tx_->first_refusal) {
    tx_->first_refusal = r;
  }
  client_event ev{client_event_kind::recipient_result};
  ev.recipient = index;
  ev.answer = r;
  push_event(std::move(ev));
  if (!last) {
    if (!tx_->pipelined) {
      send_line(tx_->rcpt_lines[index + 1]);
      await(expect::rcpt, index + 1);
    }
    return;
  }
  after_last_rcpt();
}

void client_session::after_last_rcpt() {
  if (tx_->pipelined && !tx_->bdat) return;  // DATA went with the group; its reply decides
  if (tx_->accepted == 0) {
    // RFC 5321 §3.3: no recipient, no data; RSET ends the transaction MAIL opened.
    tx_->needs_rset = true;
    return finish_transaction();
  }
  send_content_command();
}

void client_session::send_content_command() {
  if (!tx_->bdat) {
    send_line("DATA");
    return await(expect::data);
  }
  // RFC 3030 §2: one chunk with the whole message; its size counts every byte as sent.
  send_line("BDAT " + std::to_string(tx_->content.size()) + " LAST");
  await(expect::bdat);
  start_streaming();
}

void client_session::start_streaming() {
  streaming_ = true;
  content_sent_ = 0;
  block_taken_ = deps_.clock->now();
}

void client_session::on_data(const reply& r, std::size_t) {
  if (r.code == 354) {
    if (tx_->mail_refusal || tx_->accepted == 0) {
      // A pipelined DATA got 354 though nobody can receive the message: RFC 5321 §3.3
      // forbids sending it, and the data phase still has to be ended, so "." alone.
      tx_->discarding = true;
      send_line(".");
    } else {
      start_streaming();
    }
    return await(expect::data_end);
  }
  if (r.code / 100 < 4) {
    close(close_reason::protocol_error, "DATA answered with " + std::to_string(r.code),
          make_reply(451, "4.5.0", "protocol error: unexpected reply to DATA"), true);
    return;
  }
  if (!tx_->mail_refusal) {
    if (tx_->accepted > 0) tx_->data_refusal = r;
    tx_->needs_rset = true;  // MAIL opened a transaction that DATA did not end
  }
  finish_transaction();
}

void client_session::on_data_end(const reply& r, std::size_t) {
  if (r.code / 100 == 3) {
    close(close_reason::protocol_error, "end of data answered with " + std::to_string(r.code),
          make_reply(451, "4.5.0", "protocol error: unexpected reply to end of data"), true);
    return;
  }
  if (!tx_->discarding) tx_->final_reply = r;
  finish_transaction();
}

void client_session::on_bdat(const reply& r, std::size_t) {
  if (r.code / 100 == 3) {
    close(close_reason::protocol_error, "BDAT answered with " + std::to_string(r.code),
          make_reply(451, "4.5.0", "protocol error: unexpected reply to BDAT"), true);
    return;
  }
  tx_->final_reply = r;
  // A refused chunk leaves it to the server whether the transaction lives on; RSET makes
  // sure the next one starts clean.
  tx_->needs_rset = !is_2xx(r);
  finish_transaction();
}

void client_session::finish_transaction() {
  client_event ev{client_event_kind::transaction_result};
  ev.result = take_result();
  const bool rset = tx_->needs_rset;
  tx_.reset();
  streaming_ = false;
  push_event(std::move(ev));
  if (!rset) return become_ready();
  send_line("RSET");  // RFC 5321 §4.1.1.5
  await(expect::rset);
}

// Moves the replies out of the transaction, which ends here.
transaction_result client_session::take_result() {
  transaction& tx = *tx_;
  transaction_result res;
  if (tx.mail_refusal) {
    res.answer = *tx.mail_refusal;
  } else if (tx.accepted == 0 && tx.first_refusal) {
    res.answer = std::move(*tx.first_refusal);
  } else if (tx.data_refusal) {
    res.answer = std::move(*tx.data_refusal);
  } else if (tx.final_reply) {
    res.answer = std::move(*tx.final_reply);
  }
  res.recipients.reserve(tx.rcpt_replies.size());
  for (auto& rcpt : tx.rcpt_replies) {
    if (tx.mail_refusal) {
      res.recipients.push_back({*tx.mail_refusal, false});
    } else if (rcpt && !is_2xx(*rcpt)) {
      res.recipients.push_back({std::move(*rcpt), false});
    } else {
      res.recipients.push_back({res.answer, false});
    }
  }
  return res;
}

void client_session::on_rset(const reply& r, std::size_t) {
  if (is_2xx(r)) return become_ready();
  close(close_reason::protocol_error, "RSET answered with " + std::to_string(r.code), r, false);
}

void client_session::fail_local(std::size_t recipients, const reply& answer) {
  client_event ev{client_event_kind::transaction_result};
  ev.result.answer = answer;
  ev.result.local = true;
  ev.result.recipients.assign(recipients, recipient_outcome{answer, true});
  push_event(std::move(ev));
  push_event(client_event(client_event_kind::ready_for_transaction));
}

}  // namespace mailsim::smtp
