// mailsim::net unbound resolver — core::resolver on libunbound, driven by an Asio io_context.
//
// Contract: resolve() hands the query to libunbound (ub_resolve_async) and returns at once;
// libunbound works in its own thread and signals answers on a pipe (ub_fd), which is
// watched on the io_context and drained with ub_process. The caller's callback then runs
// on the io_context, once per query, never from inside resolve(). A query that has no
// answer within `timeout` is cancelled (ub_cancel) and answered `timeout`; a late answer is
// dropped. Destroying the resolver with queries in flight is safe: their callbacks never
// run. Use one resolver from one thread, the one that runs the io_context, and destroy it
// before the io_context. While queries are in flight the resolver keeps the io_context
// busy (the pipe watch and one timer per query); with none, it holds no work, so
// io_context::run() returns once every answer has been delivered.
//
// Where the answers come from (see mode_of()):
//   forwarders  every query goes to the given servers ("ip" or "ip@port", RFC 1035 port 53
//               by default); libunbound never recurses by itself and never validates
//               DNSSEC (no trust anchor). local_zones and local_data, if any, answer their
//               names first, unbound-style.
//   embedded    no network at all: the answers come from local_zones and local_data only.
//               The root is a "static" zone, so the world is exactly the data: a name with
//               no record is NXDOMAIN, a name with records of other types only is NODATA
//               (RFC 2308 §1). Declare ". refuse" in local_zones to get REFUSED (servfail)
//               for names outside the declared zones instead. Outgoing queries are
//               forbidden (do-not-query-address 0.0.0.0/0 and ::/0), so a zone that would
//               pass a query on ("transparent") answers servfail rather than reaching the
//               internet.
//   system      the servers of resolv.conf and the names of /etc/hosts.
// In every mode Unbound's built-in special-use zones (RFC 6761 test./invalid., RFC 6303
// reverse zones, home.arpa., onion.), except localhost., are replaced: in embedded mode by
// zones of the root's type (answered from the data like any other name, without Unbound's
// placeholder SOA), otherwise by "transparent" zones (passed on to the forwarders, which
// serve the lab's *.test names and 127.x/192.0.2.x reverse names). Without this,
// libunbound would answer NXDOMAIN itself for every .test name.
//
// Results (core::dns_answer):
//   rcode NOERROR with records  ok; `records` in the order served (A/AAAA as text, RFC
//                               5952 for IPv6; PTR/CNAME names; TXT character-strings
//                               concatenated per record), or `mx` for MX.
//   rcode NOERROR, no records   nodata.
//   rcode NXDOMAIN              nxdomain. Also a name that is not a DNS name (an empty
//                               label, a label over 63 octets, more than 253 octets):
//                               it cannot exist (RFC 1035 §2.3.4).
//   any other rcode, a libunbound error, or rdata that does not parse    servfail.
//   no answer within `timeout`  timeout.
// Names in answers are lower case, without the trailing dot; the root name is "" (a null
// MX, RFC 7505, has preference 0 and exchange ""). Bytes that are not printable, and "."
// or "\" inside a label, are written as RFC 1035 §5.1 escapes (\DDD, \., \\).
// ttl_s: for ok, the TTL libunbound reports for the answer; for nodata and nxdomain, the
// negative-caching TTL from the SOA in the authority section, min(SOA TTL, SOA MINIMUM)
// (RFC 2308 §5), or 0 when there is no SOA; 0 for servfail and timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reference-server/core/resolver.hpp"

namespace boost::asio {
class io_context;
}

namespace mailsim::net {

enum class resolver_mode { forwarders, embedded, system };

struct unbound_options {
  // "ip" or "ip@port", IPv4 or IPv6 (no brackets): "127.0.0.1@5353", "::1@53", "192.0.2.1".
  std::vector<std::string> forwarders;
  // Unbound local-zone lines, "name type", e.g. "example.test. static",
  // "blocked.test. refuse". Types (unbound.conf(5) local-zone): static, transparent,
  // typetransparent, redirect, refuse, deny, always_transparent, always_refuse,
  // always_nxdomain, always_nodata, always_deny, always_null. One line per zone name.
  // In process, "deny" is reported at once as servfail (libunbound has no one to not
  // answer); a daemon's "deny" makes its clients time out.
  std::vector<std::string> local_zones;
  // Records in zone-file form, "name TTL IN TYPE rdata", e.g.
  // "example.test. 300 IN MX 10 mx.example.test.". Quote TXT strings: 'x. IN TXT "a" "b"'.
  // Records of one name and type are served in the order given.
  std::vector<std::string> local_data;
  // Only in system mode.
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts = "/etc/hosts";
  // 10 s: glibc's stub resolver waits 5 s per attempt and tries twice (resolv.conf(5)
  // "timeout:5", "attempts:2"), so a lookup gives up no sooner than the host's own MTA
  // would; a timeout is a temporary failure, and the queue retries later anyway.
  std::chrono::milliseconds timeout{10'000};
};

// forwarders when any are given; otherwise embedded when any local zone or record is
// given; otherwise system.
resolver_mode mode_of(const unbound_options& options);

class unbound_resolver final : public core::resolver {
 public:
  // Builds the libunbound context. On failure returns nullptr and sets `error` to a
  // sentence naming the bad item, e.g. "local_data 'x. 60 IN A 1.2.3': not a valid
  // record; ..." or "forwarders 'localhost': expected an IP address ...".
  static std::unique_ptr<unbound_resolver> create(boost::asio::io_context& io,
                                                  const unbound_options& options,
                                                  std::string& error);
  ~unbound_resolver() override;
  unbound_resolver(const unbound_resolver&) = delete;
  unbound_resolver& operator=(const unbound_resolver&) = delete;

  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> on_answer) override;

  // Queries handed to libunbound and not yet answered or timed out.
  std::size_t in_flight() const;

 private:
  struct impl;
  explicit unbound_resolver(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::net
