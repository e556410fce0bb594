// Fuzz target: the expectation language of a scenario's `expect:` list
// (simulator/metrics/expect.hpp). The input is one expectation, up to 4 KiB. It is checked
// for syntax, then evaluated over a small fixed recorder (records of every fate, placement
// and kind, receiver-side series with replies, and a listing), so that the filter matching,
// distribution functions, ratios and the listed() form run as well as the parser.
// Checks beyond the sanitizers: check_expectation and evaluate_expectation agree on syntax
// (a syntax error is never a pass, is always an evaluation error, and its column lies within
// the text or just past it); a pass has a measured value and no error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "simulator/metrics/expect.hpp"
#include "simulator/metrics/recorder.hpp"

namespace {

using namespace mailsim;
using sim::metrics::fate;
using sim::metrics::placement;

constexpr std::size_t input_max_bytes = 4096;
const core::time_point run_start = core::from_epoch_ms(1'700'000'000'000);

core::time_point at_s(std::int64_t seconds) { return run_start + core::duration_ms{seconds * 1000}; }

// One record per (message, recipient); the arguments are the fields filters look at.
sim::metrics::message_record make_record(std::uint64_t message, const char* sender,
                                         const char* provider, const char* domain,
                                         const char* kind, fate outcome, placement placed,
                                         int code, const char* status, std::int64_t delay_s) {
  sim::metrics::message_record r;
  r.message = message;
  r.sender = sender;
  r.from = std::string("news@") + sender + ".example";
  r.recipient = "user" + std::to_string(message) + "@" + domain;
  r.domain = domain;
  r.provider = provider;
  r.kind = kind;
  r.queued_at = at_s(static_cast<std::int64_t>(message) * 60);
  if (outcome != fate::pending) r.final_at = r.queued_at + core::duration_ms{delay_s * 1000};
  r.outcome = outcome;
  r.placed = placed;
  r.code = code;
  r.status = status;
  r.ip = message % 2 == 0 ? "198.51.100.10" : "198.51.100.11";
  r.attempts = static_cast<std::uint32_t>(1 + message % 4);
  r.deferrals = r.attempts - 1;
  r.trap_hit = placed == placement::trap;
  r.complained = message == 3;
  r.bounce_returned = placed == placement::bounce_later;
  return r;
}

void add_records(sim::metrics::recorder& rec) {
  rec.add(make_record(1, "shop", "gmail-like", "gmail.sim", "valid", fate::delivered,
                      placement::inbox, 250, "2.0.0", 1));
  rec.add(make_record(2, "shop", "gmail-like", "gmail.sim", "valid", fate::delivered,
                      placement::junk, 250, "2.0.0", 600));
  rec.add(make_record(3, "shop", "yahoo-like", "yahoo.sim", "valid", fate::delivered,
                      placement::inbox, 250, "2.0.0", 7200));
  rec.add(make_record(4, "news", "yahoo-like", "yahoo.sim", "unknown", fate::bounced,
                      placement::none, 550, "5.1.1", 2));
  rec.add(make_record(5, "news", "outlook-like", "outlook.sim", "full", fate::expired,
                      placement::none, 452, "4.4.7", 5 * 86400));
  rec.add(make_record(6, "news", "gmail-like", "gmail.sim", "pristine_trap", fate::delivered,
                      placement::trap, 250, "2.0.0", 30));
  rec.add(make_record(7, "news", "outlook-like", "outlook.sim", "bounce_later",
                      fate::delivered, placement::bounce_later, 250, "2.0.0", 45));
  rec.add(make_record(8, "shop", "", "gmial.sim", "typo", fate::pending, placement::none, 0,
                      "", 0));
}

void add_series(sim::metrics::recorder& rec) {
  using sim::metrics::counter;
  rec.count("gmail-like", "198.51.100.10", at_s(10), counter::connection);
  rec.count("gmail-like", "198.51.100.10", at_s(11), counter::accepted, "250 2.0.0");
  rec.count("yahoo-like", "198.51.100.11", at_s(90'000), counter::deferred, "421 4.7.28");
  rec.count("yahoo-like", "198.51.100.11", at_s(90'001), counter::rejected, "550 5.7.1");
  rec.count("gmail-like", "198.51.100.10", at_s(12), counter::trap_hit);
  rec.count("outlook-like", "198.51.100.11", at_s(13), counter::complaint);
}

const sim::metrics::recorder& sample() {
  static const sim::metrics::recorder rec = [] {
    sim::metrics::recorder r(run_start);
    add_records(r);
    add_series(r);
    r.listed("zen.dnsbl.sim", "198.51.100.10", at_s(3600), "3 trap hits in 24h");
    r.delisted("zen.dnsbl.sim", "198.51.100.10", at_s(3 * 86400));
    return r;
  }();
  return rec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_max_bytes) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto syntax = sim::metrics::check_expectation(text);
  const sim::metrics::expect_result result = sim::metrics::evaluate_expectation(text, sample());
  if (syntax) {
    // A syntax error is an evaluation error too, and never a pass.
    if (result.passed || result.error.empty()) std::abort();
    if (syntax->column == 0 || syntax->column > size + 1) std::abort();
  } else if (result.passed && !result.error.empty()) {
    std::abort();
  }
  if (result.passed && result.measured.empty()) std::abort();
  return 0;
}
