// mailsim::sim::world — a whole simulated world built from a world_spec: the DNS (zone model
// + sim_resolver), the virtual network, the receiving providers (receiver.hpp), the DNSBL
// operators, the senders (each the reference server's queue::delivery_engine over a memory
// spool, unchanged, on the virtual clock, leaving from its IPs), the senders' bounce sinks
// (bounce_sink.hpp: where accept-then-bounce reports come back) and the workload that feeds
// them; faults switched on and off at their times.
//
// Contract: construction checks the spec (names that must exist, duplicate domains or
// addresses) and throws std::invalid_argument with a sentence naming the spec's file:line
// when it is inconsistent — the scenario runner reports it. start() schedules everything on
// the scheduler; the caller runs the scheduler; finish() stops the engines at the end. What
// happened goes to the recorder: one record per (message, recipient) when the workload
// enqueues it, its attempts, deferrals and final outcome from the engine's events.
// Deterministic: same spec + same seed → same transcript.
#pragma once

#include <memory>

#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

struct world_stats {
  std::size_t enqueued = 0;       // (message, recipient) records added
  std::size_t connections = 0;    // SMTP connections opened by the senders
  std::size_t dns_queries = 0;
};

class world {
 public:
  world(const world_spec& spec, scheduler& sched, const random_streams& streams, trace* tr,
        metrics::recorder& record);
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  // Loads the DNS, starts the listeners and engines, schedules the workload and faults.
  void start();
  // The run is over: stop engines and listeners. Pending records stay pending.
  void finish();
  world_stats stats() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
