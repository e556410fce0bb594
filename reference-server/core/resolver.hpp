// mailsim::core resolver — the injected DNS.
//
// Contract: asynchronous. resolve() returns at once; the callback runs later on the caller's
// event loop with one answer. NXDOMAIN, NODATA, SERVFAIL and timeout are distinct outcomes,
// because mail routing treats them differently (RFC 5321 §5.1: NXDOMAIN bounces, SERVFAIL
// defers). Real: libunbound on the io_context (reference-server/net, outbound issue).
// Simulated: the world's zone model. Tests: a fake resolver in tests/support.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mailsim::core {

enum class rr_type : std::uint16_t { a = 1, cname = 5, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

enum class dns_status {
  ok,        // at least one record of the asked type
  nodata,    // the name exists, no record of this type
  nxdomain,  // the name does not exist
  servfail,  // the server failed (temporary)
  timeout,   // no answer in time (temporary)
};

struct mx_record {
  std::uint16_t preference = 0;
  std::string exchange;  // lower-case, no trailing dot
};

struct dns_answer {
  dns_status status = dns_status::servfail;
  // Text form of each record: addresses for A/AAAA, names for PTR/CNAME, the concatenated
  // character-strings for TXT. MX answers fill `mx` instead.
  std::vector<std::string> records;
  std::vector<mx_record> mx;
  std::uint32_t ttl_s = 0;
};

class resolver {
 public:
  virtual ~resolver() = default;
  virtual void resolve(const std::string& name, rr_type type,
                       std::function<void(const dns_answer&)> on_answer) = 0;
};

}  // namespace mailsim::core
