// mailsim::sim::world DNSBL operator — owns one DNSBL zone of the world's DNS and lists
// sending IPs (kind ip) or sender MAIL FROM domains (kind domain, like Spamhaus DBL) by
// rule: `trap_hits` spam-trap hits (or `complaints` complaints) inside `window` list the
// subject (RFC 5782 A record 127.0.0.2 and a TXT reason at the reversed IP, §2.1, or at the
// domain, §2.3, under the zone);
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

  // A trap hit / complaint about mail from `ip` with MAIL FROM domain `domain` (empty: the
  // null sender). An IP list counts it against the IP, a domain list against the domain.
  void trap_hit(const std::string& ip, const std::string& domain, core::time_point at);
  void complaint(const std::string& ip, const std::string& domain, core::time_point at);
  // Whether `subject` (an IP, or a domain for a domain list) is listed now.
  bool listed(const std::string& subject) const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
