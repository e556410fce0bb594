// mailsim::core timer service — the injected way to be called back later.
//
// Contract: a callback runs at or after `at`, on the caller's event loop, never re-entrantly
// from schedule(). Callbacks due at the same `at` run in the order they were scheduled.
// A cancelled callback never runs. Cancelling an id that already ran (or was never issued)
// is harmless; ids are never reused.
// Destroying the service cancels every timer: no callback runs after the destruction.
// Implementations: Asio steady timers in reference-server/net, the simulator's scheduler.
#pragma once

#include <cstdint>
#include <functional>

#include "reference-server/core/clock.hpp"

namespace mailsim::core {

using timer_id = std::uint64_t;

class timer_service {
 public:
  virtual ~timer_service() = default;
  virtual timer_id schedule(time_point at, std::function<void()> callback) = 0;
  virtual void cancel(timer_id id) = 0;
};

}  // namespace mailsim::core
