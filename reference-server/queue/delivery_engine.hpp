// mailsim::queue delivery engine — takes what the spool holds to the destination servers.
//
// Contract: one object per sending MTA, single-threaded, driven by the injected world: a
// clock, a random source, a timer service, a resolver and a transport (core/*.hpp). The
// reference server runs it on Asio (reference-server/net) and the simulator on its virtual
// loop; nothing here does I/O of its own except through the spool. Every call and every
// callback happens on that one loop.
//
// What it does, per destination domain (the part after '@' of each pending recipient):
// - When recipients fall due (spool::due), they are grouped by message and domain into jobs
//   of at most client_limits::recipients_max recipients, and queued on their destination.
// - A destination opens connections as its jobs need them, up to connections_max, each to
//   the route plan's hosts and addresses in order (routing.hpp), moving on after a refused
//   or timed-out connect or a greeting that is not 220. A connection runs the sans-IO
//   smtp::client_session (STARTTLS per destination policy, PIPELINING, SIZE, 8BITMIME,
//   SMTPUTF8 checks, DSN parameters passed on) and sends job after job over it — connection
//   reuse — up to messages_per_connection, then QUITs. An idle connection is closed.
// - Outcomes are written to the spool before anything else happens (at-least-once): a 2xx
//   makes the recipient delivered (the server offered DSN: it now owes the reports) or
//   relayed (it did not: a "relayed" report is due when NOTIFY=SUCCESS, RFC 3461 §5.2.2);
//   a 5xx fails it; a 4xx or a local failure defers it to the retry profile's next instant,
//   or fails it with 4.4.7 once the lifetime is over (retry.hpp). A route plan that bounces
//   fails the domain's recipients; one that defers defers them.
// - A 421 reply, or a transient X.7.28 ("mail flood detected": a rate limit), throttles the
//   destination: no new connection or transaction for throttle_pause; the jobs waiting on
//   it wait, and the recipient that met it is deferred as usual. Other transient X.7.x
//   replies (greylisting's 451 4.7.1) defer only their recipient.
// - messages_per_minute caps how many transactions start per destination in any 60 s.
// - Reports (dsn.hpp): failures, delay warnings (once, retry profile's delay_warning) and
//   relayed reports, one report per message and moment, handed to the dsn sink; the
//   recipient's dsn_sent / delay_warning_sent flag is written once the sink has made the
//   report durable. After a crash, a final recipient without dsn_sent gets its report again.
// - A message whose recipients are all final and reported is removed from the spool.
// What it must not do: read the OS clock, real randomness, or the network except through
// the injected interfaces; retry a 5xx; report to a null reverse path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/core/resolver.hpp"
#include "reference-server/core/timer.hpp"
#include "reference-server/core/transport.hpp"
#include "reference-server/queue/dsn.hpp"
#include "reference-server/queue/retry.hpp"
#include "reference-server/queue/routing.hpp"
#include "reference-server/queue/spool.hpp"
#include "reference-server/smtp/client_session.hpp"

namespace mailsim::queue {

// Per destination domain. Defaults follow Postfix where it has one (named beside them).
struct destination_settings {
  std::size_t connections_max = 20;          // default_destination_concurrency_limit
  std::size_t messages_per_connection = 100;  // then QUIT and open a new one (0: no limit)
  std::size_t messages_per_minute = 0;        // transactions started per 60 s (0: no limit)
  core::duration_ms throttle_pause{5 * 60 * 1000};  // after a 421 or a 4.7.28
  smtp::tls_policy starttls = smtp::tls_policy::opportunistic;  // smtp_tls_security_level=may
  core::tls_verify tls_verify = core::tls_verify::none;  // checked when starttls = required
};

// A source-address pool: mail leaves from these local addresses, in turn. A pool is chosen
// by message class or by sender domain (one of the two is set):
// - a message with a class (queued_message::message_class) takes the first pool whose
//   `message_class` equals it, ignoring case — as PowerMTA's X-Virtual-MTA picks a VMTA;
// - any other message (no class, or a class no pool names) takes the first pool whose
//   `sender_domain` is its reverse-path domain, else the first with `sender_domain` "*";
//   pools with a `message_class` are not candidates then. No pool: the system's choice.
struct source_pool {
  std::string sender_domain;  // lower-case domain or "*"; "" in a class pool
  std::vector<std::string> addresses;
  // "" in a sender-domain pool. Initialised, so that {domain, addresses} still compiles
  // without a missing-initializer warning.
  std::string message_class{};
};

struct engine_settings {
  std::string hostname = "localhost";  // EHLO name and Reporting-MTA
  route_options routing;
  retry_policy retry;
  destination_settings default_destination;
  std::map<std::string, destination_settings, std::less<>> destinations;  // lower-case domain
  std::vector<source_pool> source_pools;
  smtp::client_options client;  // helo_name and starttls are set per connection
  smtp::client_limits client_limits;
  core::duration_ms connect_timeout{30'000};                  // smtp_connect_timeout
  core::duration_ms idle_keep{2'000};                         // smtp_connection_cache_time_limit
  std::size_t connections_total_max = 100;                    // default_process_limit
  core::duration_ms tls_handshake_timeout{60'000};            // smtp_starttls_timeout 300s; shorter
  dsn_policy dsn;
  dsn_options dsn_content;
};

// What happened, for logs and reports.
struct engine_event {
  enum class kind {
    connecting,         // host, address, source
    connect_failed,     // host, address, source, detail
    session_closed,     // host, address, source, detail (close reason)
    delivered,          // id, recipient, host, source, reply
    relayed,            // id, recipient, host, source, reply (no DSN extension there)
    deferred,           // id, recipient, status, reply or detail, next attempt; source
    failed,             // id, recipient, status, reply or detail; source
    throttled,          // domain, until
    report_queued,      // id, detail: the action(s) reported
    removed,            // id: every recipient final and reported
    spool_error,        // id, detail
  };
  kind what = kind::connecting;
  std::string id;
  std::string domain;
  std::string recipient;
  std::string host;
  std::string address;
  // The local address the attempt's connection was bound to (its source pool's pick); ""
  // when none was bound (the system's choice) or the attempt made no connection (a DNS
  // failure, a queue read error).
  std::string source;
  std::string status;
  std::string detail;  // the reply as text, or a local reason
  std::optional<core::time_point> at;  // deferred: next attempt; throttled: until
};

std::string_view event_name(engine_event::kind k);

// Takes one report; calls `done(true)` once it is durable (queued or delivered), or
// `done(false)`, possibly later, on the engine's loop.
using dsn_sink = std::function<void(dsn_message report, std::function<void(bool)> done)>;

struct engine_deps {
  const core::clock* clock = nullptr;
  core::random_source* random = nullptr;
  core::timer_service* timers = nullptr;
  core::resolver* resolver = nullptr;
  core::transport* transport = nullptr;
  spool* queue = nullptr;
  dsn_sink reports;                                 // required
  std::function<void(const engine_event&)> events;  // optional
};

struct engine_stats {
  std::size_t connections_open = 0;
  std::size_t connections_made = 0;
  std::size_t transactions = 0;
  std::size_t delivered = 0;  // delivered + relayed recipients
  std::size_t deferred = 0;
  std::size_t failed = 0;
  std::size_t reports = 0;
  // Destinations the engine keeps state for (jobs, connections, a route plan, a pause or a
  // rate window). One that no longer holds any is dropped within minutes, so this stays
  // near the number of domains mail is going to, not every domain ever sent to.
  std::size_t destinations = 0;
};

class delivery_engine {
 public:
  delivery_engine(engine_settings settings, engine_deps deps);
  ~delivery_engine();
  delivery_engine(const delivery_engine&) = delete;
  delivery_engine& operator=(const delivery_engine&) = delete;

  // Starts work on what the spool holds (call after spool::recover()).
  void start();
  // A message was enqueued: look at the spool again now.
  void wake();
  // Stops opening connections and closes the open ones (QUIT when idle); in-flight outcomes
  // are still recorded if they arrive.
  void stop();

  const engine_stats& stats() const;
  // Jobs queued or in flight (for tests and the idle check of tools).
  std::size_t jobs_in_progress() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::queue
