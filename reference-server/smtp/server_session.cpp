#include "reference-server/smtp/server_session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {
// The one dispatch table of the SMTP server (RFC 5321 §4.1 commands plus extensions).
server_event server_session::handler::dispatch(server_session& s, command& cmd) {
  using run = server_event (*)(server_session&, command&);
  static const std::array<std::pair<verb, run>, 14> table = {{
      {verb::helo, &helo},   {verb::ehlo, &helo},         {verb::mail, &mail},
      {verb::rcpt, &rcpt},   {verb::data, &data},         {verb::bdat, &bdat},
      {verb::rset, &rset},   {verb::noop, &noop},         {verb::quit, &quit},
      {verb::vrfy, &vrfy},   {verb::expn, &expn},         {verb::help, &help},
      {verb::starttls, &starttls}, {verb::auth, &auth},
  }};
  for (const auto& [kind, handler_fn] : table) {
    if (kind == cmd.kind) return handler_fn(s, cmd);
  }
  s.protocol_error(500, "5.5.1", "Error: command not recognized");
  return {};
}

server_session::server_session(server_options options, limits limits, server_deps deps)
    : options_(std::move(options)),
      limits_(limits),
      deps_(deps),
      // AUTH responses may be longer than commands (RFC 4954 §4); command lines are checked
      // against command_line_bytes_max separately.
      reader_({std::max(limits.command_line_bytes_max, limits.auth_line_bytes_max)}),
      tls_(options_.tls_active) {
  last_activity_ = deps_.clock->now();
}

server_session::~server_session() = default;

void server_session::feed(std::string_view bytes) {
  if (state_ == state::closed || state_ == state::tls_wait) return;  // see tls_started()
  reader_.feed(bytes);
}

// The idle deadline restarts when a unit of input is complete — a command line, a line of
// message content, record_bytes of BDAT data — never for a mere read: a client that
// trickles one byte at a time (slowloris) must still time out (Postfix's per-record
// deadline, smtpd_per_record_deadline, works the same way).
void server_session::touch() {
  last_activity_ = deps_.clock->now();
  bytes_since_touch_ = 0;
}

void server_session::note_progress(std::string_view consumed) {
  constexpr std::size_t record_bytes = 512;
  bytes_since_touch_ += consumed.size();
  if (consumed.find('\n') != std::string_view::npos || bytes_since_touch_ >= record_bytes) {
    touch();
  }
}

void server_session::feed_eof() { eof_ = true; }

server_event server_session::next_event() {
  if (state_ == state::closed) return {server_event_kind::close};
  if (auth_job_) {
    if (!auth_job_->result) return {server_event_kind::auth};
    sasl::step_result r = std::move(*auth_job_->result);
    auth_job_.reset();
    auth_step(r);
  }
  if (pending_ || delayed_reply_ || state_ == state::tls_wait) {
    return {server_event_kind::waiting};
  }
  if (state_ == state::start) return hold(server_event_kind::connect);
  server_event ev = step();
  if (state_ == state::closed) return {server_event_kind::close};
  if (ev.kind == server_event_kind::need_more && eof_) {
    state_ = state::closed;  // the peer is gone; whatever was in progress is dropped
    return {server_event_kind::close};
  }
  return ev;
}

// One unit of progress in the current state: a line, a DATA stretch or a BDAT stretch.
server_event server_session::step() {
  for (;;) {
    server_event ev;
    switch (state_) {
      case state::data: ev = continue_data(); break;
      case state::bdat:
      case state::bdat_skip: ev = continue_bdat(); break;
      default: ev = process_line(); break;
    }
    if (ev.kind != server_event_kind::need_more || state_ == state::closed) return ev;
    if (auth_job_) return {server_event_kind::auth};
    if (delayed_reply_ || state_ == state::tls_wait) return {server_event_kind::waiting};
    if (!progressed_) return ev;
    progressed_ = false;
  }
}

server_event server_session::process_line() {
  core::line l = reader_.next();
  if (l.state == core::line::status::need_more) return {};
  progressed_ = true;
  touch();
  if (l.state == core::line::status::too_long) {
    if (state_ == state::auth) end_auth();  // an over-long SASL response ends the exchange
    protocol_error(500, "5.5.2", "Error: line too long");  // RFC 5321 §4.5.3.1.4
    return {};
  }
  if (state_ == state::auth) return handler::auth_response(*this, l.text);
  if (l.text.size() > limits_.command_line_bytes_max) {
    protocol_error(500, "5.5.2", "Error: line too long");
    return {};
  }
  // RFC 5321 §2.3.8: a CR alone has no place in a command line.
  if (l.has_bare_cr) {
    protocol_error(500, "5.5.2", "Error: bare CR in command");
    return {};
  }
  command_parse parsed = parse_command(l.text, {options_.smtputf8});
  if (!parsed.value) {
    switch (parsed.error) {
      case command_error::unknown_command:
        protocol_error(500, "5.5.1", "Error: command not recognized");
        break;
      case command_error::utf8_not_allowed:
        protocol_error(553, "5.6.7", "Error: UTF-8 address requires SMTPUTF8");
        break;
      case command_error::syntax:
        protocol_error(501, "5.5.4", parsed.detail.empty() ? "Syntax error" : parsed.detail);
        break;
    }
    return {};
  }
  return handler::dispatch(*this, *parsed.value);
}

server_event server_session::continue_data() {
  std::string_view pending = reader_.pending();
  if (pending.empty()) return {};
  std::size_t used = data_reader_->feed(pending);
  note_progress(pending.substr(0, used));
  reader_.consume_pending(used);
  progressed_ = used > 0;
  if (!data_reader_->done()) return {};
  bool too_big = data_reader_->too_big();
  bool bare = data_reader_->saw_bare_newline();
  data_reader_.reset();
  state_ = state::idle;
  if (too_big) {  // RFC 5321 §4.5.3.1.10
    send(552, "5.3.4", "Error: message exceeds fixed maximum message size");
    reset_transaction();
    return {};
  }
  if (bare && options_.bare_newlines == bare_newline_policy::reject) {
    // RFC 5321 §2.3.8: CR and LF only as CRLF. Refusing keeps smuggled text from being
    // delivered as part of a message (CVE-2023-51766 family).
    send(554, "5.5.2", "Error: bare CR or LF in message data");
    reset_transaction();
    return {};
  }
  return hold(server_event_kind::message);
}

server_event server_session::continue_bdat() {
  std::string_view pending = reader_.pending();
  if (bdat_remaining_ > 0 && pending.empty()) return {};
  std::size_t take = static_cast<std::size_t>(
      std::min<std::uint64_t>(bdat_remaining_, pending.size()));
  if (state_ == state::bdat) message_.append(pending.substr(0, take));
  note_progress(pending.substr(0, take));
  reader_.consume_pending(take);
  bdat_remaining_ -= take;
  progressed_ = take > 0;
  if (bdat_remaining_ > 0) return {};
  bool skipped = state_ == state::bdat_skip;
  state_ = state::idle;
  progressed_ = true;
  if (skipped) {  // RFC 3030 §2: a refused chunk is still read, then answered
    send(*bdat_skip_reply_);
    bdat_skip_reply_.reset();
    return {};
  }
  if (bdat_last_) return hold(server_event_kind::message);
  send(250, "2.0.0", std::to_string(message_.size()) + " octets received");
  return {};
}

server_event server_session::hold(server_event_kind kind) {
  pending_ = kind;
  return {kind, &pending_cmd_};
}

void server_session::submit(const decision& d) {
  if (!pending_) return;
  answer_event(d);
  pending_.reset();
  touch();  // the client's wait for our answer is not its idle time
  if (d.type == decision::kind::reply_and_close) state_ = state::closed;
}

void server_session::answer_event(const decision& d) {
  bool accept = d.type == decision::kind::accept;
  // A refusal without a reply is a policy bug; answer it as a temporary local failure.
  const reply custom = accept || d.answer.code != 0
                           ? d.answer
                           : make_reply(451, "4.3.0", "Error: local policy failure");
  auto answer = [&](int code, std::string_view enhanced, std::string_view text) {
    if (custom.code != 0) {
      send(custom);
    } else {
      send(code, enhanced, text);
    }
  };
  switch (*pending_) {
    case server_event_kind::connect:
      state_ = state::idle;
      if (accept) {
        answer(220, "", options_.hostname + " " + options_.greeting_text);
      } else {  // RFC 5321 §3.1: a refused connection gets 554 (or 421) and is closed
        send(custom);
        state_ = state::closed;
      }
      break;
    case server_event_kind::helo:
      if (accept) {
        handler::accepted_helo(*this);
      } else {
        send(custom);
      }
      break;
    case server_event_kind::mail:
      mail_refused_ = !accept;
      if (accept) {
        has_mail_ = true;
        ++transactions_;
        answer(250, "2.1.0", "Ok");
      } else {
        send(custom);
        reset_transaction();
      }
      break;
    case server_event_kind::rcpt:
      if (accept) {
        envelope_.recipients.push_back(std::move(pending_recipient_));
        answer(250, "2.1.5", "Ok");
      } else {
        send(custom);
      }
      break;
    case server_event_kind::vrfy:
      // RFC 5321 §3.5.3: 252 when the server will not say whether the user exists.
      answer(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
      break;
    case server_event_kind::message:
      if (accept) {
        handler::accepted_message(*this, d);
      } else {
        send(custom);
      }
      reset_transaction();
      break;
    default:
      break;
  }
}

void server_session::send(int code, std::string_view enhanced, std::string_view text) {
  append_reply(output_, code, enhanced, text);
}

void server_session::send(const reply& r) {
  append_format(output_, r);
}

void server_session::protocol_error(int code, std::string_view enhanced, std::string_view text) {
  ++stats_.errors;
  send(code, enhanced, text);
  if (limits_.errors_max > 0 && stats_.errors >= limits_.errors_max) {
    close_with(421, "4.7.0", options_.hostname + " Error: too many errors");
  }
}

void server_session::sequence_error(int code, std::string_view enhanced, std::string_view text) {
  if (mail_refused_) {
    send(code, enhanced, text);
  } else {
    protocol_error(code, enhanced, text);
  }
}

void server_session::close_with(int code, std::string_view enhanced, std::string_view text) {
  send(code, enhanced, text);
  state_ = state::closed;
}

void server_session::reset_transaction() {
  auto helo = std::move(envelope_.helo_name);
  bool esmtp = envelope_.esmtp;
  envelope_ = {};
  envelope_.helo_name = std::move(helo);
  envelope_.esmtp = esmtp;
  envelope_.auth_user = auth_user_;
  envelope_.tls = tls_;
  has_mail_ = false;
  message_.clear();
  bdat_started_ = false;
}

std::string server_session::take_output() { return std::exchange(output_, {}); }

std::optional<core::time_point> server_session::next_deadline() const {
  if (state_ == state::closed) return std::nullopt;
  if (delayed_reply_) return delayed_until_;
  // While the policy or the store works, the peer is not idle: no timeout.
  if (pending_ || state_ == state::start || state_ == state::tls_wait) return std::nullopt;
  bool in_data = state_ == state::data || state_ == state::bdat || state_ == state::bdat_skip;
  return last_activity_ + (in_data ? limits_.data_timeout : limits_.command_timeout);
}

void server_session::on_timeout(core::time_point now) {
  if (delayed_reply_) {
    if (now < delayed_until_) return;
    send(*delayed_reply_);
    delayed_reply_.reset();
    if (delayed_close_) close_with(421, "4.7.0", options_.hostname + " Error: too many failed authentications");
    return;
  }
  auto deadline = next_deadline();
  if (deadline && now >= *deadline) {  // RFC 5321 §4.5.3.2.7
    close_with(421, "4.4.2", options_.hostname + " Error: timeout exceeded");
  }
}

void server_session::run_auth() {
  if (!auth_job_ || auth_job_->result || !mechanism_) return;
  auth_job_->result = auth_job_->start ? mechanism_->start(auth_job_->input)
                                       : mechanism_->step(auth_job_->input.value_or(""));
}

bool server_session::shutdown() {
  if (state_ == state::closed) return true;
  if (pending_ || has_mail_ || state_ != state::idle) return false;
  close_with(421, "4.3.2", options_.hostname + " Service shutting down");
  return true;
}

void server_session::tls_started() {
  if (state_ != state::tls_wait) return;
  // RFC 3207 §4.2: forget everything learned before TLS; the client starts with EHLO.
  reader_.clear();
  touch();
  tls_ = true;
  greeted_ = false;
  auth_user_.reset();
  envelope_ = {};
  reset_transaction();
  state_ = state::idle;
}

}  // namespace mailsim::smtp
