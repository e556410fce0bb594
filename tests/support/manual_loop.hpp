// Test double: a deterministic single-threaded event loop with a manual clock.
//
// Contract: post() queues a callback; schedule() (core::timer_service) queues one for a
// time. Nothing runs until the test says so: run_until_idle() runs every posted callback
// and every timer already due, advance()/run_until() move the clock forward and run what
// falls due in time order, the clock standing at each timer's time while it runs. Order is
// total and stable: posted callbacks first-in first-out; timers by (time, scheduling order);
// whatever a timer posts runs before the next timer. The clock never goes backwards.
// A loop that never becomes idle (a callback that posts itself forever) fails the current
// test after step_limit callbacks instead of hanging. Single-threaded; never re-entrant: a
// callback that calls run_*() fails the test.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/timer.hpp"

namespace mailsim::test {

class manual_loop final : public core::timer_service {
 public:
  explicit manual_loop(core::time_point start = core::from_epoch_ms(1'700'000'000'000))
      : clock_(start) {}
  manual_loop(const manual_loop&) = delete;
  manual_loop& operator=(const manual_loop&) = delete;

  const core::clock& clock() const { return clock_; }
  core::time_point now() const { return clock_.now(); }

  // core::timer_service
  core::timer_id schedule(core::time_point at, std::function<void()> callback) override;
  void cancel(core::timer_id id) override;

  // Runs `fn` on a later turn of the loop (at the current time).
  void post(std::function<void()> fn);

  // Runs posted callbacks and due timers until there are none; the clock does not move.
  // Returns how many callbacks ran.
  std::size_t run_until_idle();
  // Moves the clock to `t` (if later), running everything that falls due on the way.
  std::size_t run_until(core::time_point t);
  std::size_t advance(core::duration_ms d) { return run_until(now() + d); }
  // Runs until `done()` holds, jumping from timer to timer, but not past now() + max_wait.
  // Returns done(): false when the loop ran dry or the time was up first. The clock stays
  // at the last timer that ran (it is not moved to the limit).
  bool run_until_true(const std::function<bool()>& done, core::duration_ms max_wait);

  // When the earliest timer is due, if any.
  std::optional<core::time_point> next_timer() const;
  std::size_t timers_pending() const { return timers_.size(); }
  std::size_t posted_pending() const { return posted_.size(); }

  void set_step_limit(std::size_t limit) { step_limit_ = limit; }

 private:
  using key = std::pair<core::time_point, core::timer_id>;

  bool run_one_posted();
  bool run_one_timer(core::time_point limit);
  bool count_step();

  core::manual_clock clock_;
  std::deque<std::function<void()>> posted_;
  std::map<key, std::function<void()>> timers_;
  std::unordered_map<core::timer_id, core::time_point> timer_at_;
  core::timer_id next_id_ = 1;
  std::size_t step_limit_ = 1'000'000;
  std::size_t steps_ = 0;  // in the current run_*() call
  bool running_ = false;
};

}  // namespace mailsim::test
