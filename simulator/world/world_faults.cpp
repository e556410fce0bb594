#include "simulator/world/world_faults.hpp"

#include <optional>
#include <string>

#include "simulator/world/world_dns.hpp"

namespace mailsim::sim::world {
namespace {

std::optional<dns::fault_kind> dns_answer(const std::string& answer) {
  if (answer == "servfail") return dns::fault_kind::servfail;
  if (answer == "timeout") return dns::fault_kind::timeout;
  if (answer == "nxdomain") return dns::fault_kind::nxdomain;
  return std::nullopt;
}

std::optional<network::fault_kind> net_effect(const std::string& effect) {
  if (effect == "refuse") return network::fault_kind::refuse;
  if (effect == "blackhole") return network::fault_kind::blackhole;
  if (effect == "stall") return network::fault_kind::stall;
  if (effect == "reset") return network::fault_kind::reset;
  if (effect == "loss") return network::fault_kind::loss;
  return std::nullopt;
}

void check_one(const world_spec& spec, const fault_spec& f) {
  if (f.length.count() <= 0) spec_error(f.where, "a fault needs a positive length ('for')");
  if (f.at.count() < 0) spec_error(f.where, "a fault cannot start before the run");
  if (f.what == fault_spec::kind::dns) {
    if (!dns::is_dns_name(dns::normalize_name(f.name))) {
      spec_error(f.where, "dns fault name '" + f.name + "' is not a DNS name");
    }
    if (!dns_answer(f.answer)) {
      spec_error(f.where, "unknown dns fault answer '" + f.answer +
                              "' (expected servfail, timeout or nxdomain)");
    }
    return;
  }
  if (!net_effect(f.effect)) {
    spec_error(f.where, "unknown fault effect '" + f.effect +
                            "' (expected refuse, blackhole, stall, reset or loss)");
  }
  if (f.effect == "loss" && (f.loss < 0 || f.loss > 1)) {
    spec_error(f.where, "fault loss must lie in [0, 1]");
  }
  if (target_addresses(spec, f.target).empty()) {
    spec_error(f.where, "fault target '" + f.target +
                            "' is no MX host, address or provider domain of the world");
  }
}

}  // namespace

void check_faults(const world_spec& spec) {
  for (const fault_spec& f : spec.faults) check_one(spec, f);
}

void schedule_faults(const world_spec& spec, core::time_point run_start,
                     dns::sim_resolver& resolver, network::virtual_network& net) {
  for (std::size_t k = 0; k < spec.faults.size(); ++k) {
    const fault_spec& f = spec.faults[k];
    const core::time_point from = run_start + f.at;
    const core::time_point to = from + f.length;
    if (f.what == fault_spec::kind::dns) {
      resolver.add_fault({dns::normalize_name(f.name), true, *dns_answer(f.answer), from, to});
      continue;
    }
    for (const std::string& address : target_addresses(spec, f.target)) {
      network::fault n;
      n.name = "f" + std::to_string(k + 1) + "-" + address;
      n.kind = *net_effect(f.effect);
      n.address = address;
      n.loss = f.loss;
      net.add_fault(n, from, to);
    }
  }
}

}  // namespace mailsim::sim::world
