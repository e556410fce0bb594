// mailsim::pop3 session — the server side of POP3 (RFC 1939), sans-IO.
//
// Shape (../shared/DESIGN.md "The session shape"): feed() bytes, next_event() until
// need_more, take_output() bytes to write; next_deadline()/on_timeout() for the autologout
// timer. Commands: USER, PASS, APOP is not offered; AUTH (RFC 5034, SASL mechanisms of
// reference-server/sasl, with initial response), STLS (RFC 2595), CAPA (RFC 2449, with
// TOP USER UIDL SASL STLS PIPELINING RESP-CODES AUTH-RESP-CODE EXPIRE NEVER IMPLEMENTATION),
// STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, LAST is not offered.
// Responses: "+OK"/"-ERR" with RFC 2449/3206 response codes where they apply ([IN-USE],
// [AUTH], [SYS/TEMP], [SYS/PERM]); multi-line answers are byte-stuffed and end with ".".
//
// The session answers everything itself except what needs a slow or outside step:
//   auth      a SASL step (password hashing, slow by design) must run: call run_auth(), on
//             any thread, before the next call to next_event(). USER/PASS runs as PLAIN.
//   stls      "+OK" is queued: flush it, do the TLS handshake, then tls_started(); bytes
//             pipelined after the STLS line are discarded (as SMTP STARTTLS, CVE-2011-0411).
//   write     limits::output_pending_max bytes of answers wait: write take_output(), then
//             call next_event() again. No command is read meanwhile, so a client that
//             pipelines RETRs without reading costs one message's worth of memory, not
//             one per RETR (the check is made between commands).
//   close     flush take_output() and close the connection.
// After a successful authentication the session opens the maildrop through the injected
// maildrop_opener, on the caller's thread inside next_event(): "-ERR [IN-USE]" when it is
// locked, "-ERR [SYS/TEMP]" when it fails, and the session stays in AUTHORIZATION.
// Bad input: unknown commands, bad arguments, commands in the wrong state and lines over
// line_bytes_max get "-ERR" and the session goes on; after errors_max errors it answers
// "-ERR" and closes. USER/PASS and AUTH PLAIN are refused before
// TLS unless allow_plaintext_auth (RFC 2595 §2; Dovecot's disable_plaintext_auth).
// Never throws; no I/O of its own (the maildrop does the reading); time from the clock.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/pop3/maildrop.hpp"

namespace mailsim::sasl {
class credential_store;
class server_mechanism;
}  // namespace mailsim::sasl

namespace mailsim::pop3 {

struct options {
  std::string hostname = "localhost";          // in the greeting
  std::string greeting_text = "POP3 mailsim ready";
  bool tls_available = false;                  // STLS may be offered
  bool tls_active = false;                     // implicit TLS (port 995): already encrypted
  bool allow_plaintext_auth = false;           // USER/PASS and PLAIN without TLS
  std::vector<std::string> auth_mechanisms = {"SCRAM-SHA-256", "PLAIN"};
};

struct limits {
  std::size_t line_bytes_max = 1024;           // a command line without CRLF (RFC 2449: 255)
  std::size_t errors_max = 20;                 // then "-ERR" and close
  std::size_t auth_failures_max = 3;           // then "-ERR [AUTH]" and close
  // The n-th failed login is answered after n x this, and no command is read meanwhile
  // (slows password guessing). 0 here; the server passes its limits.auth_failure_delay.
  core::duration_ms auth_failure_delay{0};
  core::duration_ms idle_timeout{10 * 60 * 1000};  // RFC 1939 §3: at least 10 minutes
  // Answers waiting to be written before the next command is read (event_kind::write).
  std::size_t output_pending_max = 256 * 1024;
};

struct deps {
  const core::clock* clock = nullptr;                   // required
  core::random_source* random = nullptr;                // required (SCRAM nonces)
  const sasl::credential_store* credentials = nullptr;  // required
  maildrop_opener* maildrops = nullptr;                 // required
};

enum class event_kind { need_more, auth, stls, write, close };

struct stats {
  std::size_t messages_retrieved = 0;
  std::size_t messages_deleted = 0;  // committed at QUIT
  std::size_t errors = 0;
  std::size_t auth_failures = 0;
};

class session {
 public:
  session(options opts, limits lim, deps d);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Queues the greeting ("+OK <greeting_text>"). Call once, first.
  void start();

  void feed(std::string_view bytes);
  void feed_eof();  // the peer closed: no UPDATE state, nothing is deleted

  event_kind next_event();
  std::string take_output();
  bool has_output() const;  // output that may be written now (not held back)

  std::optional<core::time_point> next_deadline() const;
  void on_timeout(core::time_point now);  // autologout: "-ERR" and close, nothing deleted

  void tls_started();
  void run_auth();

  // The server is stopping: "-ERR [SYS/TEMP] server shutting down" and close, nothing
  // deleted (RFC 1939 leaves the maildrop as it was when no QUIT reached UPDATE state).
  void shutdown();

  bool closed() const;
  // The authenticated user once in TRANSACTION state.
  const std::optional<std::string>& user() const { return user_; }
  const struct stats& stats() const { return stats_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string output_;
  std::optional<std::string> user_;
  struct stats stats_;
};

}  // namespace mailsim::pop3
