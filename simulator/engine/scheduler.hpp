// mailsim::sim scheduler — the simulator's discrete-event loop and its virtual clock.
//
// Contract: one thread, no OS clock. The scheduler is the world's core::timer_service and
// its clock() the world's core::clock, so the reference server's engines run on it
// unchanged. Time is virtual: run_until() and run_until_idle() jump from one event to the
// next, so idle time costs nothing.
// - Order is total and stable: events run by (time, scheduling order). Events due at the
//   same time run first-in first-out, whether they were scheduled for that time or post()ed
//   at it (core/timer.hpp asks for this). An event scheduled in the past runs at the current
//   time, after the events already due then: the clock never goes backwards.
// - While an event runs, the clock stands at the event's time.
// - Callbacks are never run from inside schedule(), post() or cancel(). A run_*() call from
//   inside a callback runs nothing and reports run_status::reentrant.
// - cancel() of an id that already ran, was cancelled or was never issued does nothing; ids
//   are never reused. Destroying the scheduler drops every pending event uncalled.
// - At most pending_max (2^24) events wait at once; one more makes schedule() throw
//   std::length_error. (An id carries the slot its callback waits in: no lookup table.)
// - Every run_*() call stops after limits.steps_per_run_max callbacks (run_status::step_limit)
//   instead of hanging on a world that never quiets down; the remaining events stay queued.
// Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/timer.hpp"
#include "simulator/engine/event_callback.hpp"

namespace mailsim::sim {

// 2023-11-14T22:13:20Z: the default start of a run. Any start works (clock.hpp).
inline constexpr core::time_point default_start{core::duration_ms{1'700'000'000'000}};

// The clock a scheduler moves. Reading it is all anyone else can do.
class virtual_clock final : public core::clock {
 public:
  explicit virtual_clock(core::time_point start) : now_(start) {}
  core::time_point now() const override { return now_; }

 private:
  friend class scheduler;
  core::time_point now_;
};

struct scheduler_limits {
  // Callbacks one run_*() call may run before it gives up with run_status::step_limit.
  std::uint64_t steps_per_run_max = 100'000'000;
};

enum class run_status {
  idle,        // no event is left
  reached,     // run_until(): the clock stands at the limit; later events stay queued
  step_limit,  // steps_per_run_max callbacks ran; the rest stays queued
  stopped,     // a callback called stop()
  reentrant,   // called from inside a callback: nothing ran
};

const char* to_string(run_status status);

struct run_report {
  run_status status = run_status::idle;
  std::uint64_t steps = 0;  // callbacks run by this call
};

class scheduler final : public core::timer_service {
 public:
  explicit scheduler(core::time_point start = default_start, scheduler_limits limits = {});
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  const core::clock& clock() const { return clock_; }
  core::time_point now() const { return clock_.now(); }
  const scheduler_limits& limits() const { return limits_; }

  // core::timer_service
  core::timer_id schedule(core::time_point at, std::function<void()> callback) override;
  void cancel(core::timer_id id) override;
  // The same for any callable: it is kept in place (event_callback.hpp) instead of in a
  // std::function of its own. The simulator's own components schedule through this one.
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>,
                                                               std::function<void()>>>>
  core::timer_id schedule(core::time_point at, F&& callback) {
    return add(at, event_callback(std::forward<F>(callback)));
  }

  // Runs `callback` at now + delay (a later turn of the loop when delay is 0).
  template <class F>
  core::timer_id schedule_after(core::duration_ms delay, F&& callback) {
    return add(now() + std::max(delay, core::duration_ms{0}),
               event_callback(std::forward<F>(callback)));
  }
  template <class F>
  core::timer_id post(F&& callback) {
    return add(now(), event_callback(std::forward<F>(callback)));
  }

  // Runs every event due by `limit`, then sets the clock to `limit` (if later) when no
  // callback stopped the run and no step limit was hit.
  run_report run_until(core::time_point limit);
  run_report run_for(core::duration_ms d) { return run_until(now() + d); }
  // Runs events, jumping the clock from one to the next, until none is left. A world with
  // periodic activity is never idle: bound it with run_until() instead.
  run_report run_until_idle();
  // Runs the next event, if any, moving the clock to its time. False: none, or re-entrant.
  bool run_one();
  // Asks the run_*() call in progress to return after the current callback.
  void stop() { stop_requested_ = true; }

  std::size_t pending() const { return slots_.size() - free_slots_.size(); }
  static constexpr std::size_t pending_max = std::size_t{1} << 24;
  std::optional<core::time_point> next_time() const;
  std::uint64_t steps_total() const { return steps_total_; }

 private:
  // A waiting event in the heap: its time and id (a sequence number above the slot's bits,
  // so that ids order events due at the same time first-in first-out).
  struct entry {
    core::time_point at;
    core::timer_id id;
  };
  static constexpr int slot_bits = 24;
  static constexpr core::timer_id slot_mask = (core::timer_id{1} << slot_bits) - 1;

  run_report run(std::optional<core::time_point> limit);
  void run_front();
  static bool after(const entry& a, const entry& b) {
    return a.at != b.at ? a.at > b.at : a.id > b.id;
  }
  bool live(const entry& e) const { return slot_ids_[e.id & slot_mask] == e.id; }
  core::timer_id add(core::time_point at, event_callback callback);
  event_callback release(core::timer_id slot);
  void pop_heap_top();
  void drop_cancelled();

  virtual_clock clock_;
  scheduler_limits limits_;
  // A min-heap by (at, id). A cancelled event's entry stays until it comes to the top (or
  // until cancelled entries outnumber the live ones): the top is always live.
  std::vector<entry> heap_;
  std::vector<event_callback> slots_;      // the callbacks, by slot
  std::vector<core::timer_id> slot_ids_;      // the id waiting in each slot; 0: free
  std::vector<std::uint32_t> free_slots_;
  std::size_t cancelled_in_heap_ = 0;
  core::timer_id next_sequence_ = 1;
  std::uint64_t steps_total_ = 0;
  bool running_ = false;
  bool stop_requested_ = false;
};

}  // namespace mailsim::sim
