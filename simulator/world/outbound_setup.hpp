// mailsim::sim outbound set-up — what every simulated outbound MTA (a sender, sender.hpp; a
// provider's accept-then-bounce engine, receiver_message.cpp) sets up alike around the
// reference server's queue::delivery_engine. Header-only: both live in different libraries
// (mailsim_sim_senders, mailsim_sim_receivers), neither of which links the other.
//
// Contract:
// - families_reaching(ips): the address families a host with these local addresses can
//   reach — ipv4_only, ipv6_only, or ipv4_first when it has both. Asking for the others
//   (AAAA records for an IPv4-only host) would cost a lookup per route that could never be
//   used. Unparseable addresses are skipped.
// - virtual_engine_deps(...): engine dependencies on the scheduler's clock and timers. Its
//   report sink accepts every report without sending it (the simulated MTAs deliver none of
//   their own reports) and answers on a later scheduler turn, never inside the engine's call,
//   and not at all once `alive` has expired (the owner is gone).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "simulator/engine/scheduler.hpp"

namespace mailsim::sim::world {

inline queue::address_families families_reaching(const std::vector<std::string>& ips) {
  bool v4 = false, v6 = false;
  for (const std::string& ip : ips) {
    const auto parsed = core::parse_ip(ip);
    if (parsed && parsed->v6) v6 = true;
    if (parsed && !parsed->v6) v4 = true;
  }
  if (v4 && v6) return queue::address_families::ipv4_first;
  return v6 ? queue::address_families::ipv6_only : queue::address_families::ipv4_only;
}

inline queue::engine_deps virtual_engine_deps(scheduler& sched, core::resolver* dns,
                                              core::random_source& random,
                                              core::transport& transport, queue::spool& spool,
                                              std::weak_ptr<bool> alive) {
  queue::engine_deps deps;
  deps.clock = &sched.clock();
  deps.random = &random;
  deps.timers = &sched;
  deps.resolver = dns;
  deps.transport = &transport;
  deps.queue = &spool;
  scheduler* on = &sched;
  deps.reports = [on, alive = std::move(alive)](queue::dsn_message, std::function<void(bool)> done) {
    on->post([alive, done = std::move(done)] {
      if (!alive.expired()) done(true);
    });
  };
  return deps;
}

}  // namespace mailsim::sim::world
