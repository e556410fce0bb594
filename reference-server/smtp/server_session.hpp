// mailsim::smtp server session — the receiving side of RFC 5321, sans-IO.
//
// Shape (../shared/DESIGN.md "The session shape"):
//   feed(bytes)        hand over bytes read from the peer; all are taken
//   next_event()       what the session needs decided next, or need_more
//   submit(decision)   the policy's answer to the last event
//   take_output()      bytes to write to the peer
//   next_deadline()    when on_timeout() must be called
//   on_timeout(now)    a deadline passed
// The Asio driver (reference-server/server) and the simulator's event loop drive the same
// object. The session enforces syntax (RFC 5321 §4.1), command order (§4.1.4), the
// extensions it advertises (RFC 1870 SIZE, 1652/6152 8BITMIME, 2920 PIPELINING, 3030
// CHUNKING/BINARYMIME, 3207 STARTTLS, 3461 DSN, 4954 AUTH, 6531 SMTPUTF8, 2034/3463
// ENHANCEDSTATUSCODES) and every limit in smtp::limits. It answers NOOP, RSET, HELP, QUIT,
// syntax and sequence errors itself; everything that needs policy or storage (connect,
// HELO, MAIL, RCPT, VRFY, the complete message) becomes an event that waits for submit().
// An event's 250 is never sent before submit() says so: a message is acknowledged only
// after the caller made it durable.
//
// After a STARTTLS event the caller flushes the 220, performs the TLS handshake and calls
// tls_started(); bytes pipelined after the STARTTLS line are discarded (CVE-2011-0411).
// Never throws; no I/O; time comes from the injected clock.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/line_reader.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/smtp/command.hpp"
#include "reference-server/smtp/data_reader.hpp"
#include "reference-server/smtp/envelope.hpp"
#include "reference-server/smtp/limits.hpp"
#include "reference-server/smtp/reply.hpp"

namespace mailsim::sasl {
class credential_store;
class server_mechanism;
struct step_result;
}  // namespace mailsim::sasl

namespace mailsim::smtp {

struct server_options {
  std::string hostname = "localhost";        // greeting, EHLO and Received
  std::string greeting_text = "ESMTP mailsim";
  bool tls_available = false;                // STARTTLS may be offered (a certificate exists)
  bool tls_active = false;                   // implicit TLS (RFC 8314): already encrypted
  bool require_tls = false;                  // MAIL and AUTH refused before TLS (530 5.7.0)
  bool require_auth = false;                 // MAIL refused before AUTH (530 5.7.0)
  bool auth_requires_tls = true;             // AUTH offered only under TLS (RFC 4954 §4, §14)
  std::vector<std::string> auth_mechanisms;  // e.g. SCRAM-SHA-256 PLAIN LOGIN; empty: no AUTH
  bool vrfy_enabled = false;                 // false: VRFY answers 252 2.5.0 (§3.5.3)
  bool pipelining = true;
  bool eight_bit_mime = true;
  bool smtputf8 = true;
  bool chunking = true;                      // BDAT; BINARYMIME comes with it
  bool dsn = true;
  bare_newline_policy bare_newlines = bare_newline_policy::reject;
};

struct server_deps {
  const core::clock* clock = nullptr;                         // required
  core::random_source* random = nullptr;                      // required for SCRAM nonces
  const sasl::credential_store* credentials = nullptr;        // required when AUTH is offered
};

enum class server_event_kind {
  need_more,  // flush take_output(), then feed more bytes
  waiting,    // an event is waiting for submit(), or a delayed reply for its deadline
  connect,    // the connection opened: accept (220 greeting) or reply (554/421, then close)
  helo,       // HELO or EHLO: accept, or reply with an error (e.g. 550 for a bad name)
  mail,       // MAIL FROM passed syntax and order checks: accept (250 2.1.0) or reply
  rcpt,       // RCPT TO passed syntax and order checks: accept (250 2.1.5) or reply
  vrfy,       // VRFY when enabled: reply (250/251/252/550/553) — accept means 252
  message,    // DATA or BDAT LAST complete: accept once durable (250 2.0.0) or reply
  starttls,   // the 220 is queued: flush it, do the TLS handshake, then tls_started()
  auth,       // a SASL step must run (password hashing: slow by design): call run_auth(),
              // on any thread, before the next call to next_event()
  close,      // flush take_output(), then close the connection
};

struct server_event {
  server_event_kind kind = server_event_kind::need_more;
  const command* cmd = nullptr;  // helo, mail, rcpt, vrfy: the parsed command
};

struct decision {
  enum class kind { accept, reply, reply_and_close };
  kind type = kind::accept;
  reply answer;       // for reply and reply_and_close; for accept, optional override text

  static decision accept() { return {}; }
  // Accept with this reply (e.g. "250 2.0.0 Ok: queued as ID").
  static decision accept_with(reply r) { return {kind::accept, std::move(r)}; }
  static decision refuse(reply r) { return {kind::reply, std::move(r)}; }
  static decision refuse_and_close(reply r) { return {kind::reply_and_close, std::move(r)}; }
};

// Counters the session keeps for logs and tests.
struct server_stats {
  std::size_t messages_accepted = 0;
  std::size_t errors = 0;
  std::size_t auth_failures = 0;
};

class server_session {
 public:
  server_session(server_options options, limits limits, server_deps deps);
  ~server_session();
  server_session(const server_session&) = delete;
  server_session& operator=(const server_session&) = delete;

  void feed(std::string_view bytes);
  // The peer closed its side: no more bytes will come.
  void feed_eof();

  server_event next_event();
  void submit(const decision& d);

  std::string take_output();
  bool has_output() const { return !output_.empty(); }

  std::optional<core::time_point> next_deadline() const;
  void on_timeout(core::time_point now);

  // The TLS handshake that followed a starttls event succeeded.
  void tls_started();

  // Runs the SASL step an auth event asked for. It touches only the mechanism, so a driver
  // may run it on a worker thread while it makes no other call on this session.
  void run_auth();

  // The server is stopping: between transactions, answer 421 4.3.2 and close (RFC 5321
  // §3.8); returns false (and does nothing) while a transaction or a decision is under way.
  bool shutdown();

  // Data of the current transaction, valid during mail/rcpt/message events.
  const envelope& current_envelope() const { return envelope_; }
  // The message bytes (unstuffed, as received) during a message event.
  std::string_view message() const { return message_; }
  bool closed() const { return state_ == state::closed; }
  const server_stats& stats() const { return stats_; }
  const server_options& options() const { return options_; }

 private:
  enum class state {
    start,      // before the connect event was answered
    idle,       // reading commands
    data,       // reading DATA content
    bdat,       // reading a BDAT chunk
    bdat_skip,  // discarding a BDAT chunk that will be refused
    auth,       // reading SASL responses
    tls_wait,   // STARTTLS answered; waiting for tls_started()
    closed,
  };
  struct handler;
  friend struct handler;

  server_event step();
  server_event process_line();
  server_event continue_data();
  void touch();
  void note_progress(std::string_view consumed);
  server_event continue_bdat();
  void answer_event(const decision& d);
  void protocol_error(int code, std::string_view enhanced, std::string_view text);
  // A 503/554 that a pipelining client earns only because this server refused its MAIL or
  // every RCPT (RFC 2920 §3.1): answered, but not counted toward errors_max.
  void sequence_error(int code, std::string_view enhanced, std::string_view text);
  void send(int code, std::string_view enhanced, std::string_view text);
  void send(const reply& r);
  void reset_transaction();
  void close_with(int code, std::string_view enhanced, std::string_view text);
  server_event hold(server_event_kind kind);
  void auth_step(const sasl::step_result& r);
  void auth_succeeded(const std::string& user);
  void auth_failed();
  void end_auth();

  server_options options_;
  limits limits_;
  server_deps deps_;
  core::line_reader reader_;
  state state_ = state::start;
  std::string output_;
  bool eof_ = false;
  bool progressed_ = false;  // the last step consumed input

  // Session facts (reset by STARTTLS, RFC 3207 §4.2).
  bool greeted_ = false;
  bool tls_ = false;
  std::optional<std::string> auth_user_;
  std::size_t transactions_ = 0;

  // The transaction.
  envelope envelope_;
  bool has_mail_ = false;
  bool mail_refused_ = false;  // the last MAIL was refused: following RCPT/DATA errors are ours
  std::string message_;
  std::unique_ptr<data_reader> data_reader_;
  std::uint64_t bdat_remaining_ = 0;
  bool bdat_last_ = false;
  bool bdat_started_ = false;    // a BDAT chunk was taken in this transaction (no DATA now)
  std::optional<reply> bdat_skip_reply_;  // the answer owed once a refused chunk is skipped

  // The event waiting for submit().
  std::optional<server_event_kind> pending_;
  command pending_cmd_;
  recipient pending_recipient_;

  // AUTH.
  std::unique_ptr<sasl::server_mechanism> mechanism_;
  std::optional<std::string> auth_final_user_;  // success sent as a 334 awaiting the empty ack
  struct auth_job;
  std::unique_ptr<auth_job> auth_job_;  // a SASL step waiting for run_auth()
  std::optional<reply> delayed_reply_;  // an AUTH failure answered later (slowing guessers)
  bool delayed_close_ = false;
  core::time_point delayed_until_{};

  core::time_point last_activity_{};  // the idle deadline counts from here (touch())
  std::size_t bytes_since_touch_ = 0;
  server_stats stats_;
};

}  // namespace mailsim::smtp
