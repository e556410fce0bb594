// mailsim::queue routing plan — where to send the mail of one destination domain
// (RFC 5321 §5.1 "Locating the target host", RFC 7505 null MX).
//
// Contract: plan_route() asks the injected resolver (core::resolver) and answers once,
// through the callback, with a route_plan: deliver to these hosts in this order, defer (try
// again later), or bounce. It never reads the OS clock or real randomness and opens no
// socket. The callback runs on the resolver's callback path (the caller's event loop), or
// before plan_route() returns when no lookup is needed (a static route to addresses, an
// address literal). The resolver and the random source must outlive the plan (until the
// callback has run); the options are copied.
//
// How a plan is made, in this order:
// 1. Static routes ("transport map"): options.routes[domain], else options.routes["*"] (a
//    relay host for every domain), gives fixed hosts and ports, in the order written; a
//    host that is a name has its A/AAAA looked up (no MX lookup, like Postfix's "[host]").
// 2. An address literal "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3) is the one
//    host; no DNS. A literal that does not parse bounces with 5.1.2.
// 3. MX lookup (§5.1):
//    - NXDOMAIN → bounce 5.1.2 "bad destination system address" (RFC 3463 §3.2);
//    - SERVFAIL or timeout → defer 4.4.3 "directory server failure" (RFC 3463 §3.5);
//    - NODATA → the implicit MX: the domain itself, preference 0;
//    - null MX → bounce 5.1.10 (RFC 7505 §4.1 and its IANA registration). RFC 7505 §3
//      defines the null MX as the only MX record of a domain, preference 0 and exchange "."
//      (the resolver gives "" once the trailing dot is dropped; "." is accepted too), and
//      says a domain that has one "MUST NOT advertise any other MX RR". When it does
//      anyway, the set is not a null MX: the "." record is merely unusable (the root has no
//      address) and is skipped, and the other exchanges are used (§5.1: only when none of
//      the MX records is usable is it an error);
//    - otherwise the exchanges sorted by preference, in random order among equal
//      preferences (§5.1 "MUST randomize them to spread the load"; the injected random
//      source makes this deterministic under a seed), the same name listed twice kept
//      once at its best preference, at most mx_hosts_max of them. An exchange that is a
//      CNAME is followed by the resolver's A/AAAA lookups (§5.1 forbids such MX data, but
//      every MTA follows it).
// 4. A and AAAA of every host, in parallel, as `families` asks. A host whose lookups give
//    NXDOMAIN or NODATA is skipped; SERVFAIL or timeout is remembered. Addresses keep the
//    resolver's order within a family; the families follow `families` (IPv6 first by
//    default, as RFC 6724's default policy table and Postfix 2.8's smtp_address_preference
//    did; Postfix ≥ 3.0 picks at random). At most addresses_max addresses in all, taken in
//    host order (Postfix smtp_mx_address_limit = 5); hosts left without one are dropped.
// 5. Loop check (§5.1: "… MUST discard all MX records with preference values equal to or
//    greater than its own"): the best preference among the hosts that are us — by name
//    (local_names, before the host limit) or by address (local_addresses, after the
//    lookups) — drops every host at that preference or worse. Nothing left → bounce 5.4.6
//    "routing loop detected". Static routes are taken as configured, without this check.
// 6. Hosts with addresses → deliver. None: if a lookup failed temporarily, defer 4.4.3 (the
//    answer may exist, RFC 5321 §5.1 "if a temporary error is returned, the message MUST be
//    queued and retried later"); otherwise bounce 5.4.4 "unable to route", which RFC 3463
//    §3.5 defines for exactly this ("the necessary routing information was unavailable from
//    the directory server … A DNS lookup returning only an SOA … is one example"). Postfix
//    does the same (bounce 5.4.4 "Host or domain name not found", defer on a temporary error).
// The delivery engine tries the hosts, and each host's addresses, in order, moving on after a
// connection failure or a 4xx greeting.
//
// What it leaves out: IDNA (a U-label domain is asked as written), MX-to-address-literal data,
// Postfix's smtp_balance_inet_protocols (the address limit may keep one family only), DANE
// and MTA-STS (a later policy layer on top of this plan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/random.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::queue {

enum class address_families { ipv6_first, ipv4_first, ipv6_only, ipv4_only };

// One host of a static route: a name, an IPv4 address or an IPv6 address, and a port
// (0: route_options::port).
struct route_target {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const route_target&) const = default;
};

struct route_options {
  std::uint16_t port = 25;  // the IANA smtp port; tests and static routes use others
  address_families families = address_families::ipv6_first;
  std::size_t mx_hosts_max = 5;              // 0: no limit
  std::size_t addresses_max = 5;             // 0: no limit
  std::vector<std::string> local_names;      // our own host names, for the loop check
  std::vector<std::string> local_addresses;  // our own addresses, for the loop check
  // Static routes: lower-case domain (or "*") → hosts, e.g. "example.test" → 127.0.0.2:2525.
  std::map<std::string, std::vector<route_target>, std::less<>> routes;
};

enum class route_kind { deliver, defer, bounce };

struct route_host {
  std::string name;              // the exchange, the static route's host, or the address literal
  std::uint16_t preference = 0;  // MX preference; static routes count 0, 1, 2 … in order
  std::uint16_t port = 25;
  std::vector<std::string> addresses;  // canonical text (core::to_string(ip_address))
};

struct route_plan {
  route_kind kind = route_kind::defer;
  std::string status;             // RFC 3463 code for defer and bounce ("4.4.3", "5.1.10" …)
  std::string diagnostic;         // human text: why, or notes on hosts that were skipped
  std::vector<route_host> hosts;  // deliver only: in the order to try
  bool static_route = false;      // the hosts came from route_options::routes
};

using route_callback = std::function<void(route_plan)>;

void plan_route(std::string_view domain, core::resolver& resolver, core::random_source& random,
                const route_options& options, route_callback done);

// Parses a static route's host list for configuration: comma-separated items, each
// "host", "host:port", "[address]" or "[address]:port"; an IPv6 address needs brackets when
// a port follows ("[::1]:2525"), and "[IPv6:…]" is accepted too. Returns nullopt and sets
// `error` to what was expected.
std::optional<std::vector<route_target>> parse_route_targets(std::string_view text,
                                                             std::string& error);

}  // namespace mailsim::queue
