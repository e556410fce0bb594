// mailsim::imap session — the server side of IMAP4rev2 / IMAP4rev1 (RFC 9051, RFC 3501),
// sans-IO.
//
// Shape (../shared/DESIGN.md "The session shape"): feed() bytes, next_event() until
// need_more, take_output() bytes to write; next_deadline()/on_timeout() for the autologout
// timer and the IDLE poll. Framing is command_reader.hpp, syntax parser.hpp; this object
// owns the states (not authenticated, authenticated, selected, logout) and the commands:
// CAPABILITY NOOP LOGOUT STARTTLS LOGIN AUTHENTICATE (SASL-IR) ENABLE ID SELECT EXAMINE
// CHECK CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE LIST (RETURN SPECIAL-USE/STATUS/SUBSCRIBED/
// CHILDREN) LSUB NAMESPACE STATUS APPEND (APPENDUID) IDLE CLOSE UNSELECT EXPUNGE (UID)
// FETCH (CHANGEDSINCE, VANISHED) (UID) STORE (UNCHANGEDSINCE) (UID) COPY (UID) MOVE
// (COPYUID) (UID) SEARCH (ESEARCH, SEARCHRES). Details: docs/imap-session.md.
//
// The session answers everything itself except what needs a slow or outside step:
//   auth      a SASL step (password hashing, slow by design) must run: call run_auth(), on
//             any thread, before the next call to next_event(). LOGIN runs as PLAIN.
//   starttls  "OK Begin TLS" is queued: flush it, do the handshake, then tls_started();
//             bytes pipelined after the STARTTLS line are discarded (CVE-2011-0411).
//   write     a long answer (FETCH) is under way: write take_output(), then call next_event()
//             again without waiting for input. The session stops filling its output at
//             limits::output_pending_max bytes (between two messages), so a FETCH of a
//             whole mailbox streams instead of being built in memory first.
//   close     flush take_output() and close the connection.
// The account and mailboxes are reached through the injected backend_opener (backend.hpp)
// on the caller's thread inside next_event().
// Answers: BAD for syntax and commands in the wrong state (tagged when the tag is known,
// else untagged), NO for refused operations; after errors_max BADs "* BYE" and close. A
// literal over the reader limits is refused (tagged NO [TOOBIG] or BAD); a refused {N+}
// literal cannot be skipped: "* BYE" and close. LOGIN and AUTHENTICATE PLAIN are refused
// before TLS unless allow_plaintext_auth (LOGINDISABLED is then advertised). Untagged
// EXPUNGE/EXISTS/FETCH for changes made by others are sent before tagged answers, never
// EXPUNGE during FETCH, STORE or SEARCH (RFC 9051 §7.5.1). Never throws; no I/O of its own.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/imap/backend.hpp"
#include "reference-server/imap/command_reader.hpp"

namespace mailsim::sasl {
class credential_store;
}  // namespace mailsim::sasl

namespace mailsim::imap {

struct options {
  std::string hostname = "localhost";
  std::string greeting_text = "IMAP mailsim ready";
  bool tls_available = false;         // STARTTLS may be offered
  bool tls_active = false;            // implicit TLS (port 993)
  bool allow_plaintext_auth = false;  // LOGIN and PLAIN without TLS
  std::vector<std::string> auth_mechanisms = {"SCRAM-SHA-256", "PLAIN"};
};

struct limits {
  reader_limits reader;
  std::size_t errors_max = 20;          // BADs before "* BYE" and close
  std::size_t auth_failures_max = 3;    // failed logins before "* BYE" and close
  // The n-th failed login is answered after n x this, and no command is read meanwhile
  // (slows password guessing). 0 here; the server passes its limits.auth_failure_delay.
  core::duration_ms auth_failure_delay{0};
  // Before login the only literals are credentials (LOGIN, AUTHENTICATE, ID): a larger one is
  // refused (NO [TOOBIG]; a {N+} closes), so a stranger cannot make the server hold
  // message-sized literals; reader.literal_bytes_max applies from login on.
  std::size_t unauthenticated_literal_bytes_max = 64 * 1024;
  core::duration_ms idle_poll_interval{500};  // IDLE: how often the mailbox is synced
  // A FETCH pauses (event_kind::write) once this much output waits to be written; one
  // message's response may go past it.
  std::size_t output_pending_max = 256 * 1024;
  // RFC 9051 §5.4: at least 30 minutes once authenticated; shorter before.
  core::duration_ms autologout_authenticated{30 * 60 * 1000};
  core::duration_ms autologout_unauthenticated{60 * 1000};
};

struct deps {
  const core::clock* clock = nullptr;                   // required
  core::random_source* random = nullptr;                // required (SCRAM nonces)
  const sasl::credential_store* credentials = nullptr;  // required
  backend_opener* backends = nullptr;                   // required
};

enum class event_kind { need_more, auth, starttls, write, close };

struct stats {
  std::size_t commands = 0;
  std::size_t errors = 0;  // BAD answers
  std::size_t auth_failures = 0;
  std::size_t messages_fetched = 0;  // FETCH responses carrying body data
  std::size_t messages_appended = 0;
};

class session {
 public:
  session(options opts, limits lim, deps d);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Queues the greeting "* OK [CAPABILITY ...] <greeting_text>". Call once, first.
  void start();

  void feed(std::string_view bytes);
  void feed_eof();

  event_kind next_event();
  std::string take_output();
  bool has_output() const;  // output that may be written now (not held back)

  // The autologout time, or the next IDLE poll when idling in the selected state.
  std::optional<core::time_point> next_deadline() const;
  void on_timeout(core::time_point now);

  void tls_started();
  void run_auth();

  // The server is stopping: "* BYE" and close.
  void shutdown();

  bool closed() const;
  const std::optional<std::string>& user() const { return user_; }
  const struct stats& stats() const { return stats_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string output_;
  std::optional<std::string> user_;
  struct stats stats_;
};

}  // namespace mailsim::imap
