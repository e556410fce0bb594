// mailsim::sim::world faults — the spec's faults switched on and off on the world's DNS and
// network at their virtual times.
//
// Contract: check_faults() validates every fault of a filled spec (known kind, answer and
// effect; a target that names an MX host, an address or a provider domain; a positive
// length) and throws std::invalid_argument naming the fault's file:line. schedule_faults()
// installs them, relative to `run_start`, each active in [at, at + length):
// - dns → sim_resolver::add_fault on the name and its subtree (servfail, timeout, nxdomain);
// - host_down / network → virtual_network::add_fault on every address of the target, with
//   the effect refuse, blackhole, stall, reset or loss (probability `loss`), named
//   "f<k>-<address>" in the trace.
// No randomness; the network and resolver own the timing.
#pragma once

#include "reference-server/core/clock.hpp"
#include "simulator/dns/sim_resolver.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

void check_faults(const world_spec& spec);
void schedule_faults(const world_spec& spec, core::time_point run_start,
                     dns::sim_resolver& resolver, network::virtual_network& net);

}  // namespace mailsim::sim::world
