// mailsim::sim::world provider — a simulated receiving mail provider: its domains, MX hosts,
// mailbox population and stateful behaviour, answering SMTP on the virtual network.
//
// Contract: each MX host listens on <address>:25 of the virtual network; every accepted
// connection runs the reference server's smtp::server_session (reference-server/smtp),
// unchanged, driven by the scheduler (deadlines via next_deadline/on_timeout). The provider
// is the session's policy: it answers connect, HELO, MAIL, RCPT and the message from its
// state — mailbox states, throttles and escalation (throttle.hpp), greylisting,
// per-connection and per-IP limits, tarpitting, DNSBL lookups through the world resolver
// (client IP at connect, MAIL FROM domain at MAIL),
// SPF/DKIM/DMARC requirements (reference-server/auth through policy), content score → INBOX
// or Junk, sender reputation (reputation.hpp; keyed by the verified DKIM d= at the end of
// DATA, see docs/receiver-profiles.md) — and writes what it did to the recorder
// (accepted/deferred/rejected counters per day and IP; placement, trap hits and complaints
// on the message's record, found by the Message-ID <mN@…> and the recipient).
// Time comes from the scheduler, randomness from named streams ("provider/<name>/…"), so a
// run is reproducible. Never reads the OS clock or real randomness.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/core/resolver.hpp"
#include "reference-server/policy/dnsbl.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

// What a provider needs from the world. All references outlive the provider.
struct world_services {
  scheduler* sched = nullptr;
  const random_streams* streams = nullptr;
  trace* tr = nullptr;  // may be null
  network::virtual_network* net = nullptr;
  core::resolver* dns = nullptr;
  metrics::recorder* record = nullptr;
  // A trap address received a message from `ip` whose MAIL FROM domain is `domain` (empty
  // for the null sender); DNSBL operators count these, by IP or by domain.
  std::function<void(const std::string& ip, const std::string& domain, core::time_point at)>
      trap_hit;
  // A user of this provider marked a message from `ip` (MAIL FROM domain `domain`) as spam.
  std::function<void(const std::string& ip, const std::string& domain, core::time_point at)>
      complaint;
  // The kind (ip or domain) of each DNSBL zone the world runs. A zone a provider consults
  // that is not here is asked as an IP list. IP lists are asked at connect with the client
  // address; domain lists at MAIL with the MAIL FROM domain (RFC 5782 §2.3).
  std::vector<policy::dnsbl_list> dnsbl_lists;
  // At most this many accept-then-bounce reports wait for their delay or sit in the
  // provider's outbound spool; a bounce beyond it is traced and gets no report.
  std::size_t bounces_pending_max = 10'000;
};

struct mx_host {
  std::string name;
  std::uint16_t preference = 10;
  std::string address;
};

// One generated address and its state (metrics::message_record::kind names).
struct mailbox_entry {
  std::string address;
  std::string kind;
};

class provider {
 public:
  // `spec` has its MX names and addresses filled in by the world; the profile named by
  // spec.profile supplies every behaviour the spec leaves unset (profiles.hpp).
  provider(const provider_spec& spec, world_services services);
  ~provider();
  provider(const provider&) = delete;
  provider& operator=(const provider&) = delete;

  const std::string& name() const;
  const std::vector<std::string>& domains() const;
  const std::vector<mx_host>& mx_hosts() const;
  // Every generated address of every domain, in a fixed order.
  const std::vector<mailbox_entry>& population() const;
  // The state of an address at one of this provider's domains (catch-all: "catch_all"),
  // nullopt when the domain is not this provider's.
  std::optional<std::string> kind_of(const std::string& address) const;

  // Starts listening on every MX host's address, port 25.
  void start();
  // Stops listening and closes open sessions (end of run).
  void stop();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
