// Fuzz target: the queue's configuration specs — retry profiles (reference-server/queue/
// retry.hpp parse_retry_profile) and static route host lists (routing.hpp
// parse_route_targets). No header byte: every input (up to 64 KiB) goes to both parsers,
// which are cheap. Checked beyond the sanitizers:
// - retry: a refusal has an error; an accepted profile formats to a spec that parses back
//   to the same profile (retry.hpp's round-trip contract), and its schedule moves forward:
//   each next attempt comes after the last one, up to 64 attempts or expiry.
// - routes: a refusal has an error; an accepted list is not empty, its ports are 0 or
//   1..65535 and its hosts are not empty, and written back as "host:port" items (IPv6 in
//   brackets) it parses to the same list.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/queue/retry.hpp"
#include "reference-server/queue/routing.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;
constexpr std::uint32_t attempts_max = 64;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "queue_specs property violated: %s\n", what);
  std::abort();
}

void check_retry(std::string_view spec) {
  const queue::retry_profile_parse r = queue::parse_retry_profile(spec);
  if (!r.value) {
    require(!r.error.empty(), "a refused profile without an error");
    return;
  }
  const std::string formatted = queue::format_retry_profile(*r.value);
  const queue::retry_profile_parse again = queue::parse_retry_profile(formatted);
  if (!again.value || !(*again.value == *r.value)) {
    std::fprintf(stderr, "spec \"%s\" formats as \"%s\"\n", std::string(spec).c_str(),
                 formatted.c_str());
  }
  require(again.value && *again.value == *r.value, "format/parse round trip changed the profile");

  const core::time_point queued_at = core::from_epoch_ms(1'700'000'000'000);
  core::time_point last = queued_at;
  for (std::uint32_t attempts = 1; attempts <= attempts_max; ++attempts) {
    const queue::retry_decision d = queue::next_attempt(*r.value, queued_at, attempts, last);
    if (d.expired) break;
    require(d.next_attempt_at > last, "the next attempt is not after the last one");
    last = d.next_attempt_at;
  }
  (void)queue::delay_warning_at(*r.value, queued_at);
}

std::string format_targets(const std::vector<queue::route_target>& targets) {
  std::string out;
  for (const queue::route_target& t : targets) {
    if (!out.empty()) out += ',';
    const bool v6 = t.host.find(':') != std::string::npos;
    out += v6 ? "[" + t.host + "]" : t.host;
    if (t.port != 0) out += ":" + std::to_string(t.port);
  }
  return out;
}

void check_routes(std::string_view text) {
  std::string error;
  const auto targets = queue::parse_route_targets(text, error);
  if (!targets) {
    require(!error.empty(), "refused route targets without an error");
    return;
  }
  require(!targets->empty(), "an accepted route list is empty");
  for (const queue::route_target& t : *targets) {
    require(!t.host.empty(), "a route target without a host");
  }
  const std::string formatted = format_targets(*targets);
  std::string again_error;
  const auto again = queue::parse_route_targets(formatted, again_error);
  if (!again || *again != *targets) {
    std::fprintf(stderr, "targets \"%s\" format as \"%s\" (%s)\n", std::string(text).c_str(),
                 formatted.c_str(), again_error.c_str());
  }
  require(again && *again == *targets, "route targets do not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_retry(text);
  check_routes(text);
  return 0;
}
