// The SMTP client session's core: matching replies to the commands in flight, output,
// deadlines and closing. Setup (greeting to AUTH) is in client_setup.cpp, transactions in
// client_transaction.cpp.
#include "reference-server/smtp/client_session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "reference-server/sasl/client.hpp"
#include "reference-server/smtp/address.hpp"

namespace mailsim::smtp {
namespace {

// The names of client_session::expect, in its order, for timeout messages.
std::string_view expect_name(std::size_t kind) {
  static constexpr std::array<std::string_view, 12> names = {
      "greeting", "EHLO", "HELO",        "STARTTLS", "AUTH", "MAIL",
      "RCPT",     "DATA", "end of data", "BDAT",     "RSET", "QUIT"};
  return kind < names.size() ? names[kind] : "command";
}

}  // namespace

std::string_view close_reason_name(close_reason r) {
  switch (r) {
    case close_reason::none:
      return "none";
    case close_reason::quit:
      return "quit";
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::service_unavailable:
      return "service_unavailable";
    case close_reason::greeting_refused:
      return "greeting_refused";
    case close_reason::helo_refused:
      return "helo_refused";
    case close_reason::tls_required:
      return "tls_required";
    case close_reason::auth_unavailable:
      return "auth_unavailable";
    case close_reason::auth_failed:
      return "auth_failed";
    case close_reason::timeout:
      return "timeout";
    case close_reason::protocol_error:
      return "protocol_error";
  }
  return "unknown";
}

std::size_t transaction_result::delivered_count() const {
  return static_cast<std::size_t>(
      std::count_if(recipients.begin(), recipients.end(),
                    [](const recipient_outcome& o) { return o.delivered(); }));
}

client_session::client_session(client_options options, client_limits limits, client_deps deps)
    : options_(std::move(options)),
      limits_(limits),
      deps_(deps),
      parser_(limits.replies),
      tls_(options_.tls_active) {
  // RFC 5321 §4.1.4: the EHLO argument is a domain or an address literal; checking it here
  // also keeps a configured name from carrying a line break into the command stream.
  if (!is_valid_domain(options_.helo_name, false)) options_.helo_name = "localhost";
  if (limits_.data_block_bytes == 0) limits_.data_block_bytes = client_limits{}.data_block_bytes;
  await(expect::greeting);  // RFC 5321 §3.1: the server speaks first
}

client_session::~client_session() = default;

void client_session::feed(std::string_view bytes) {
  // During the TLS handshake the driver owns the stream; anything that still reaches the
  // session came in clear text and could have been injected (RFC 3207 §4.2).
  if (phase_ == phase::closed || phase_ == phase::tls_wait) return;
  parser_.feed(bytes);
}

void client_session::feed_eof() {
  eof_ = true;
}

client_event client_session::next_event() {
  for (;;) {
    if (!events_.empty()) {
      client_event ev = std::move(events_.front());
      events_.pop_front();
      return ev;
    }
    if (phase_ == phase::closed) return closed_event_;
    if (phase_ == phase::tls_wait) {
      if (!eof_) return client_event(client_event_kind::waiting);
      on_eof();  // the server went away instead of doing the handshake
      continue;
    }
    // A reply can only answer a command that was written: until the driver has taken the
    // output (the message data included), replies wait in the parser. A server that answers
    // early is then read in order, as if its reply had come late. After EOF nothing more
    // will be read by anyone, so what is left is settled at once.
    if (has_output() && !eof_) return client_event(client_event_kind::need_more);
    reply_event r = parser_.next();
    if (r.state == reply_event::status::error) {
      close(close_reason::protocol_error, "unparseable reply: " + r.error,
            make_reply(451, "4.5.0", "protocol error: " + r.error), true);
    } else if (r.state == reply_event::status::reply) {
      on_reply(r.value);
    } else if (eof_) {
      on_eof();
    } else {
      return client_event(awaited_.empty() ? client_event_kind::waiting
                                           : client_event_kind::need_more);
    }
  }
}

void client_session::on_reply(const reply& r) {
  if (awaited_.empty()) {
    // RFC 5321 §3.8: a server may announce 421 at any time before it closes.
    if (r.code == 421) {
      close(close_reason::service_unavailable, "server closing: " + r.text(), r, false);
    } else {
      close(close_reason::protocol_error,
            "reply " + std::to_string(r.code) + " with no command in flight",
            make_reply(451, "4.5.0", "protocol error: unexpected reply"), true);
    }
    return;
  }
  const awaited a = awaited_.front();
  awaited_.pop_front();
  restart_deadline();
  if (r.code == 421 && a.kind != expect::quit) {  // RFC 5321 §3.8
    close(close_reason::service_unavailable, "server closing: " + r.text(), r, false);
    return;
  }
  dispatch(a, r);
}

// The one table that maps what a reply answers to the code that handles it.
void client_session::dispatch(const awaited& a, const reply& r) {
  static constexpr std::array<std::pair<expect, reply_handler>, 12> table = {{
      {expect::greeting, &client_session::on_greeting},
      {expect::ehlo, &client_session::on_ehlo},
      {expect::helo, &client_session::on_helo},
      {expect::starttls, &client_session::on_starttls},
      {expect::auth, &client_session::on_auth},
      {expect::mail, &client_session::on_mail},
      {expect::rcpt, &client_session::on_rcpt},
      {expect::data, &client_session::on_data},
      {expect::data_end, &client_session::on_data_end},
      {expect::bdat, &client_session::on_bdat},
      {expect::rset, &client_session::on_rset},
      {expect::quit, &client_session::on_quit},
  }};
  for (const auto& [kind, handler] : table) {
    if (kind == a.kind) return (this->*handler)(r, a.index);
  }
}

void client_session::on_eof() {
  close(close_reason::peer_closed, "connection closed by the server",
        make_reply(451, "4.4.2", "connection lost"), true);
}

void client_session::send_line(std::string_view line) {
  output_ += line;
  output_ += "\r\n";
}

void client_session::await(expect kind, std::size_t index) {
  awaited_.push_back({kind, index});
  if (awaited_.size() == 1) restart_deadline();
}

// RFC 5321 §4.5.3.2: each reply has its own timeout, counted from the moment the client
// starts waiting for it (for a pipelined group: from the previous reply).
core::duration_ms client_session::timeout_for(expect kind) const {
  switch (kind) {
    case expect::greeting:
      return limits_.greeting_timeout;  // §4.5.3.2.1
    case expect::mail:
      return limits_.mail_timeout;  // §4.5.3.2.2
    case expect::rcpt:
      return limits_.rcpt_timeout;  // §4.5.3.2.3
    case expect::data:
      return limits_.data_init_timeout;  // §4.5.3.2.4
    case expect::data_end:
    case expect::bdat:
      return limits_.data_term_timeout;  // §4.5.3.2.6
    default:
      return limits_.command_timeout;
  }
}

void client_session::restart_deadline() {
  if (!awaited_.empty()) deadline_ = deps_.clock->now() + timeout_for(awaited_.front().kind);
}

std::string client_session::take_output() {
  std::string out = std::exchange(output_, {});
  if (!streaming_ || !tx_) return out;
  // The driver asks for the next block once the previous one is written, so each take is
  // the progress the data block timeout watches (RFC 5321 §4.5.3.2.5).
  const std::string& content = tx_->content;
  const std::size_t n = std::min(limits_.data_block_bytes, content.size() - content_sent_);
  out.append(content, content_sent_, n);
  content_sent_ += n;
  block_taken_ = deps_.clock->now();
  if (content_sent_ == content.size()) {
    streaming_ = false;
    deadline_ = block_taken_ + limits_.data_term_timeout;  // RFC 5321 §4.5.3.2.6
  }
  return out;
}

bool client_session::has_output() const {
  return !output_.empty() || streaming_;
}

std::optional<core::time_point> client_session::next_deadline() const {
  // The TLS handshake is timed by the driver that performs it; an idle connection between
  // transactions is the caller's to keep or quit.
  if (phase_ == phase::closed || phase_ == phase::tls_wait) return std::nullopt;
  if (streaming_) return block_taken_ + limits_.data_block_timeout;  // §4.5.3.2.5
  if (awaited_.empty()) return std::nullopt;
  return deadline_;
}

void client_session::on_timeout(core::time_point now) {
  const auto deadline = next_deadline();
  if (!deadline || now < *deadline) return;
  const std::string what =
      streaming_ ? std::string("timeout sending message data")
                 : "timeout waiting for the reply to " +
                       std::string(expect_name(static_cast<std::size_t>(awaited_.front().kind)));
  close(close_reason::timeout, what, make_reply(451, "4.4.2", what), true);
}

void client_session::close(close_reason reason, std::string detail, const reply& answer,
                           bool local) {
  if (phase_ == phase::closed) return;
  if (tx_) {
    client_event ev{client_event_kind::transaction_result};
    ev.result = result_on_close(answer, local);
    push_event(std::move(ev));
  }
  client_event closed{client_event_kind::closed};
  if (phase_ == phase::quitting) {  // the QUIT's purpose decides how the session ended
    closed.reason = quit_reason_;
    closed.detail = quit_detail_;
    closed.answer = quit_answer_;
  } else {
    closed.reason = reason;
    closed.detail = std::move(detail);
    if (!local) closed.answer = answer;
  }
  closed_event_ = std::move(closed);
  phase_ = phase::closed;
  tx_.reset();
  streaming_ = false;
  awaited_.clear();
  output_.clear();  // commands not yet written no longer mean anything
  mechanism_.reset();
  drop_ready_events();
}

// What a transaction still in flight becomes when the session closes: recipients the
// server already refused keep that answer, everything else fails with `answer` (a 421 or
// a local 4xx), so the caller retries it.
transaction_result client_session::result_on_close(const reply& answer, bool local) const {
  transaction_result res;
  res.answer = tx_->mail_refusal ? *tx_->mail_refusal : answer;
  res.local = !tx_->mail_refusal && local;
  for (const auto& rcpt : tx_->rcpt_replies) {
    if (tx_->mail_refusal) {
      res.recipients.push_back({*tx_->mail_refusal, false});
    } else if (rcpt && rcpt->code / 100 != 2) {
      res.recipients.push_back({*rcpt, false});
    } else {
      res.recipients.push_back({answer, local});
    }
  }
  return res;
}

void client_session::push_event(client_event ev) {
  events_.push_back(std::move(ev));
}

// A queued ready_for_transaction is stale once the caller has started a transaction or quit.
void client_session::drop_ready_events() {
  events_.erase(std::remove_if(events_.begin(), events_.end(),
                               [](const client_event& ev) {
                                 return ev.kind == client_event_kind::ready_for_transaction;
                               }),
                events_.end());
}

}  // namespace mailsim::smtp
