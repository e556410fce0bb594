// mailsim::sim::world DNS assembly — fills in the names and addresses a world spec leaves
// empty, checks that no address or domain is used twice, and writes the world's zone model.
//
// Contract: pure functions of the spec, no I/O, no randomness. Defaults:
// - a sender without a name is named after its domain; without a HELO name it says
//   mail.<domain>; without IPs it gets one address 192.0.2.<k> (k: its 1-based index, the
//   first free one when that is taken);
// - a provider without MX hosts gets one, mx1.<first domain>, preference 10; an MX host
//   without a name is mx<k>.<first domain>; without an address it gets 10.<p>.0.<k>
//   (p: the provider's 1-based index; k: the host's), moved to the next free k when an
//   address of the spec already uses it, so generated addresses never collide.
// Zones (zone_model, "static"): each provider domain (MX records for every MX host of the
// provider, A records of the hosts), each sender domain (A of its HELO name for every IP,
// SPF TXT — the spec's or "v=spf1 ip4:<ip> ... -all" —, DMARC TXT at _dmarc.<domain> when
// given), PTR records in in-addr.arpa / ip6.arpa for the sender IPs when ptr is set. A name
// outside every declared zone (an MX host named in another domain) gets a zone of its own.
// Each sender domain that is not a provider's gets an MX record (preference 10) naming the
// sender's HELO name, whose A/AAAA records are its IPs: the way back for reports
// (bounce_sink.hpp); an SPF record of the spec's own with an `mx` mechanism therefore
// matches the sender's IPs. Records carry a TTL of one hour. DNSBL zones are added by
// their operators (dnsbl_operator::add_to), not here.
// Errors throw std::invalid_argument whose text starts with the spec's "file:line".
#pragma once

#include <string>
#include <vector>

#include "simulator/dns/zone_model.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

// "scenario.yaml:12" (or "world" when the spec has no location): the prefix of errors.
std::string where_text(const source_ref& where);
[[noreturn]] void spec_error(const source_ref& where, const std::string& sentence);

// Fills the defaults above in place and checks the spec's names and addresses: a domain at
// two providers, an address used twice (MX hosts and sender IPs), an address that is not an
// IP literal, a provider or sender without a domain. Throws std::invalid_argument.
void fill_defaults(world_spec& spec);

// The world's zone model from a filled spec.
dns::zone_model build_zone_model(const world_spec& spec);

// The way back to one sender domain: the MX host its records name and the addresses its
// bounce sink listens on (the IPs of every sender with that domain).
struct bounce_route {
  std::string domain;
  std::string host;
  std::vector<std::string> addresses;
};

// The sender domains without an MX of their own (not a provider's domain), in the spec's
// order, one each; from a filled spec.
std::vector<bounce_route> bounce_routes(const world_spec& spec);

// Every address of the provider's MX hosts whose name, address or provider domain is
// `target`, in the spec's order; empty when nothing matches.
std::vector<std::string> target_addresses(const world_spec& spec, const std::string& target);

}  // namespace mailsim::sim::world
