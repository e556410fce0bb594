// mailsim::sim::world bounce sink — where a sender's mail comes back: the SMTP server of a
// sender domain, so that accept-then-bounce reports (receiver_message.cpp) travel back over
// the virtual network and reach the sender.
//
// Contract: listens on <address>:25 for each of `addresses` (the world gives the sender's
// IPs; its DNS publishes MX <domain> → the sender's HELO name, whose A records are those
// IPs). Every connection runs the reference server's smtp::server_session, driven like a
// provider's (receiver_session, receiver_impl.hpp). It accepts any MAIL FROM and RCPT TO
// addresses at `domain` (others: 550 5.7.1), and reads each message with the reference
// server's queue::parse_dsn. A report is matched, per failed recipient, to the recorder's
// record of (original message, Final-Recipient): the message number is that of the
// Message-ID <mN@…> in the returned header section. A match sets bounce_returned; a report
// or recipient that matches nothing, and a message that is no report, are counted and
// traced, never fatal. Trace source: "sink/<domain>". Time from the scheduler, randomness
// from the stream "sink/<domain>"; never the OS clock.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reference-server/queue/dsn.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/network/network.hpp"

namespace mailsim::sim::world {

struct bounce_sink_deps {
  scheduler* sched = nullptr;
  const random_streams* streams = nullptr;
  trace* tr = nullptr;  // may be null
  network::virtual_network* net = nullptr;
  metrics::recorder* record = nullptr;  // may be null: nothing is matched
  // Sees every report read, with the MAIL FROM it came with ("<>" for the null sender).
  std::function<void(const std::string& reverse_path, const queue::reported_dsn&)> on_report;
};

struct bounce_sink_stats {
  std::size_t messages = 0;     // accepted over SMTP
  std::size_t reports = 0;      // of those, read as delivery-status reports
  std::size_t not_reports = 0;  // of those, not reports (parse_dsn said why)
  std::size_t matched = 0;      // failed recipients matched to a record
  std::size_t unmatched = 0;    // failed recipients (or reports) that matched no record
};

class bounce_sink {
 public:
  // `domain`: the sender domain whose mail it takes; `hostname`: its greeting and EHLO name.
  bounce_sink(std::string domain, std::string hostname, std::vector<std::string> addresses,
              bounce_sink_deps deps);
  ~bounce_sink();
  bounce_sink(const bounce_sink&) = delete;
  bounce_sink& operator=(const bounce_sink&) = delete;

  const std::string& domain() const;
  // Starts listening on every address, port 25 (an address already taken is traced).
  void start();
  // Stops listening and closes open sessions (end of run).
  void stop();
  const bounce_sink_stats& stats() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
