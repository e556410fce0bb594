// mailsim::server outbound service — the queue and the delivery engine of mailsim-server.
//
// Contract: owns the durable spool (queue::file_spool), the resolver (net::unbound_resolver),
// the transport (net::asio_transport), the timers and the queue::delivery_engine, all on one
// outbound thread with its own io_context, so that DNS, remote SMTP sessions and the spool's
// fsyncs never stall the inbound listeners. The inbound side calls enqueue() from its own
// thread; the result comes back through `post_inbound`, and only a result that says ok may
// turn into a 250 (the message is durable in the spool then). Reports (DSNs) made by the
// engine go to the local Maildir store through the delivery worker when the original sender
// is a local user, and into the spool (MAIL FROM:<>) when not; a report for an unknown local
// sender is dropped and logged. stop() lets the engine close its sessions and joins.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "reference-server/config/config.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/queue/spool.hpp"
#include "reference-server/store/directory.hpp"

namespace mailsim::server {

class delivery_worker;
class event_log;

// The resolver the configuration asks for (dns: section): forwarders, records of its own, or
// the system's resolv.conf. Outbound delivery, the inbound checks and the diagnostic
// commands all resolve through it.
net::unbound_options unbound_options_of(const config::dns_config& dns);

struct outbound_deps {
  const config::server_config& cfg;
  const store::directory& directory;
  delivery_worker& local;  // the Maildir group-commit worker (thread-safe submit)
  event_log& log;
  // Runs a callback on the inbound loop (where enqueue()'s callers live).
  std::function<void(std::function<void()>)> post_inbound;
};

class outbound_service {
 public:
  explicit outbound_service(outbound_deps deps);
  ~outbound_service();  // stop()
  outbound_service(const outbound_service&) = delete;
  outbound_service& operator=(const outbound_service&) = delete;

  // Opens and recovers the spool, builds the resolver and transport, starts the thread.
  // Returns an error text, or "" when running.
  std::string start();
  // Thread-safe. `request.message` must stay valid until `done` has run; `done` runs on the
  // inbound loop. Requests that arrive together share one durability barrier.
  void enqueue(queue::enqueue_request request, std::function<void(queue::enqueue_result)> done);
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::server
