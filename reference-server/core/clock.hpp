// mailsim::core clock — the injected source of "now".
//
// Contract: protocol, policy, store and simulator code never reads the OS clock; it is
// handed a clock (or a time_point). The real implementation lives in reference-server/net
// (system_clock); the simulator and the tests provide virtual or manual clocks.
// Time is milliseconds since the Unix epoch, so that a virtual clock can start at any date.
#pragma once

#include <chrono>
#include <cstdint>

namespace mailsim::core {

using duration_ms = std::chrono::milliseconds;
using time_point = std::chrono::time_point<std::chrono::system_clock, duration_ms>;

// Milliseconds since the epoch, for logs and file names.
inline std::int64_t epoch_ms(time_point t) { return t.time_since_epoch().count(); }
inline time_point from_epoch_ms(std::int64_t ms) { return time_point{duration_ms{ms}}; }

class clock {
 public:
  virtual ~clock() = default;
  // The current time. Must never go backwards.
  virtual time_point now() const = 0;
};

// A clock that only moves when told to: for unit tests and single-step simulation.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = from_epoch_ms(1'700'000'000'000)) : now_(start) {}
  time_point now() const override { return now_; }
  void advance(duration_ms d) { now_ += d; }
  void set(time_point t) { now_ = t; }

 private:
  time_point now_;
};

}  // namespace mailsim::core
