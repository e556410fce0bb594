// mailsim::sim::world DNSBL operator — owns one DNSBL zone of the world's DNS and lists
// sending IPs by rule: `trap_hits` spam-trap hits (or `complaints` complaints) inside
// `window` list the IP (RFC 5782 A record 127.0.0.2 and a TXT reason under the zone);
// `expire_after` without a new hit delists it. Every receiver that consults the zone sees
// the listing as soon as it exists (subject to the DNS cache TTLs the operator sets:
// the records carry a short TTL, `ttl_s`).
//
// Contract: counts on virtual time; changes the DNS through sim_resolver::update_model();
// writes listed()/delisted() to the recorder and one trace line per change (source
// "dnsbl"). No I/O, no randomness.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "simulator/dns/sim_resolver.hpp"
#include "simulator/dns/zone_model.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

class dnsbl_operator {
 public:
  dnsbl_operator(const dnsbl_spec& spec, scheduler& sched, trace* tr,
                 metrics::recorder& record, std::uint32_t ttl_s = 60);
  ~dnsbl_operator();
  dnsbl_operator(const dnsbl_operator&) = delete;
  dnsbl_operator& operator=(const dnsbl_operator&) = delete;

  const std::string& zone() const;
  // Declares the zone and the IPs listed from the start (before the resolver is created).
  void add_to(dns::zone_model& model) const;
  // The world's resolver, once created; changes go through it.
  void attach(dns::sim_resolver& resolver);

  void trap_hit(const std::string& ip, core::time_point at);
  void complaint(const std::string& ip, core::time_point at);
  bool listed(const std::string& ip) const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
