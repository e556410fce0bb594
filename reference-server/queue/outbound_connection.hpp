// mailsim::queue outbound connection — one SMTP client connection of the delivery engine.
//
// Contract: internal to the queue module (delivery_engine.cpp). It walks a list of targets
// (the route plan's addresses, best first): connects through core::transport, runs an
// smtp::client_session over the stream, and moves on to the next target when the connect
// fails or the session ends before it was ready (a 4xx/5xx greeting, EHLO refused, TLS
// required but unavailable, a failed handshake). Once ready, it reports to its owner, who
// hands it one job at a time (send()) or tells it to quit(). It reports each transaction's
// result, and its end once (on_finished); after that the owner destroys it. Its deadlines
// (the client session's RFC 5321 timeouts, idle keep) run on the injected timer service.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/core/timer.hpp"
#include "reference-server/core/transport.hpp"
#include "reference-server/smtp/client_session.hpp"
#include "reference-server/smtp/envelope.hpp"

namespace mailsim::queue {

// Recipients of one message for one destination, sent in one transaction.
struct delivery_job {
  std::string id;
  std::string domain;
  std::vector<std::size_t> recipients;  // indices into queued_message::recipients
  int pool = -1;                        // source pool index, -1: none
};

struct connection_target {
  std::string host;  // MX or static route host name, for logs, SNI and TLS name checks
  std::string address;
  std::uint16_t port = 25;
};

// How a connection ended.
struct connection_end {
  bool was_ready = false;      // it reached ready_for_transaction at least once
  smtp::close_reason reason = smtp::close_reason::none;
  std::optional<smtp::reply> answer;  // the server reply that ended it, if any
  std::error_code error;              // the transport's reason, if the stream failed
  std::string detail;                 // for logs and DSN diagnostics
  connection_target last;             // the target it ended on
};

class outbound_connection;

class connection_owner {
 public:
  virtual ~connection_owner() = default;
  virtual void on_connecting(outbound_connection& c, const connection_target& t) = 0;
  virtual void on_target_failed(outbound_connection& c, const connection_end& why) = 0;
  // Ready for a transaction: call send() or quit(), now or later.
  virtual void on_ready(outbound_connection& c) = 0;
  virtual void on_result(outbound_connection& c, delivery_job job,
                         const smtp::transaction_result& result) = 0;
  // Last call; `unfinished` is the job in flight when the connection died without a result.
  virtual void on_finished(outbound_connection& c, const connection_end& end,
                           std::optional<delivery_job> unfinished) = 0;
};

struct connection_setup {
  std::vector<connection_target> targets;  // in order; at least one
  std::string local_address;               // source address, or "" for any
  smtp::client_options client;
  smtp::client_limits limits;
  core::duration_ms connect_timeout{30'000};
  core::duration_ms tls_timeout{60'000};
  core::tls_verify tls_verify = core::tls_verify::none;  // under tls_policy::required
};

struct connection_deps {
  const core::clock* clock = nullptr;
  core::random_source* random = nullptr;
  core::timer_service* timers = nullptr;
  core::transport* transport = nullptr;
};

class outbound_connection final : private core::stream_handler {
 public:
  outbound_connection(connection_setup setup, connection_deps deps, connection_owner& owner);
  ~outbound_connection() override;
  outbound_connection(const outbound_connection&) = delete;
  outbound_connection& operator=(const outbound_connection&) = delete;

  void open();  // connects to the first target
  // Sends one message; only while ready() and idle. `message` is copied by the session.
  void send(delivery_job job, const smtp::envelope& env, std::string_view message);
  void quit();

  bool ready() const;      // greeted and idle: can take a job
  bool busy() const { return job_.has_value(); }
  bool finished() const { return finished_; }
  int pool() const { return pool_; }
  void set_pool(int pool) { pool_ = pool; }
  std::size_t transactions() const { return transactions_; }
  const connection_target& target() const { return setup_.targets[target_index_]; }
  // The address it binds to (connection_setup::local_address); "" for the system's choice.
  const std::string& local_address() const { return setup_.local_address; }
  const smtp::server_capabilities& capabilities() const;

 private:
  // core::stream_handler
  void on_connected() override;
  void on_data(std::string_view bytes) override;
  void on_tls_ready(const core::tls_result& result) override;
  void on_closed(std::error_code reason) override;

  void connect_current();
  void pump();  // flushes output, handles events, re-arms the deadline
  void handle(const smtp::client_event& ev);
  void flush();
  void arm_deadline();
  void on_deadline();
  void session_over(connection_end end);
  void finish(connection_end end);

  connection_setup setup_;
  connection_deps deps_;
  connection_owner& owner_;
  std::size_t target_index_ = 0;
  std::unique_ptr<core::stream> stream_;
  std::unique_ptr<smtp::client_session> session_;
  std::optional<delivery_job> job_;
  bool ready_ = false;
  bool was_ready_ = false;
  bool finished_ = false;
  bool in_pump_ = false;
  int pool_ = -1;
  std::size_t transactions_ = 0;
  core::timer_id deadline_timer_ = 0;
  std::optional<core::time_point> deadline_at_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mailsim::queue
