#include "simulator/engine/scheduler.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mailsim::sim {

const char* to_string(run_status status) {
  switch (status) {
    case run_status::idle:
      return "idle";
    case run_status::reached:
      return "reached";
    case run_status::step_limit:
      return "step_limit";
    case run_status::stopped:
      return "stopped";
    case run_status::reentrant:
      return "reentrant";
  }
  return "unknown";
}

scheduler::scheduler(core::time_point start, scheduler_limits limits)
    : clock_(start), limits_(limits) {}

core::timer_id scheduler::schedule(core::time_point at, std::function<void()> callback) {
  return add(at, event_callback(std::move(callback)));
}

core::timer_id scheduler::add(core::time_point at, event_callback callback) {
  // The past is now: the clock never goes backwards, and the id keeps FIFO order among
  // everything that falls due at the same time.
  at = std::max(at, now());
  std::uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= pending_max) {
      throw std::length_error("scheduler: more than " + std::to_string(pending_max) +
                              " events pending at once");
    }
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    slot_ids_.push_back(0);
  }
  const core::timer_id id = next_sequence_++ << slot_bits | slot;
  slots_[slot] = std::move(callback);
  slot_ids_[slot] = id;
  heap_.push_back(entry{at, id});
  std::push_heap(heap_.begin(), heap_.end(), after);
  return id;
}

// Frees the slot and hands back its callback: the caller drops or runs it once the books
// are straight, so that whatever its captures do on destruction (cancel, schedule) finds
// them so.
event_callback scheduler::release(core::timer_id slot) {
  event_callback callback = std::move(slots_[slot]);
  slot_ids_[slot] = 0;
  free_slots_.push_back(static_cast<std::uint32_t>(slot));
  return callback;
}

void scheduler::cancel(core::timer_id id) {
  const core::timer_id slot = id & slot_mask;
  if (id == 0 || slot >= slot_ids_.size() || slot_ids_[slot] != id) return;
  const event_callback dropped = release(slot);
  ++cancelled_in_heap_;
  drop_cancelled();
}

void scheduler::pop_heap_top() {
  std::pop_heap(heap_.begin(), heap_.end(), after);
  heap_.pop_back();
}

// Keeps the top live, and the heap from filling with cancelled entries (timers re-armed on
// every exchange leave one each): past half of it, they are swept out at once.
void scheduler::drop_cancelled() {
  while (!heap_.empty() && !live(heap_.front())) {
    pop_heap_top();
    --cancelled_in_heap_;
  }
  if (cancelled_in_heap_ > 1024 && cancelled_in_heap_ > heap_.size() / 2) {
    std::erase_if(heap_, [this](const entry& e) { return !live(e); });
    std::make_heap(heap_.begin(), heap_.end(), after);
    cancelled_in_heap_ = 0;
  }
}

std::optional<core::time_point> scheduler::next_time() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().at;
}

// Takes the earliest event out before running it, so that the callback may schedule and
// cancel freely (even its own id, which is already gone).
void scheduler::run_front() {
  const entry e = heap_.front();
  pop_heap_top();
  event_callback callback = release(e.id & slot_mask);
  drop_cancelled();
  clock_.now_ = std::max(clock_.now_, e.at);
  ++steps_total_;
  callback();
}

run_report scheduler::run(std::optional<core::time_point> limit) {
  run_report report;
  if (running_) {
    report.status = run_status::reentrant;
    return report;
  }
  running_ = true;
  stop_requested_ = false;
  for (;;) {
    if (heap_.empty() || (limit && heap_.front().at > *limit)) {
      report.status = limit ? run_status::reached : run_status::idle;
      if (limit) clock_.now_ = std::max(clock_.now_, *limit);
      break;
    }
    if (report.steps >= limits_.steps_per_run_max) {
      report.status = run_status::step_limit;
      break;
    }
    ++report.steps;
    run_front();
    if (stop_requested_) {
      report.status = run_status::stopped;
      break;
    }
  }
  running_ = false;
  stop_requested_ = false;
  return report;
}

run_report scheduler::run_until(core::time_point limit) {
  return run(limit);
}

run_report scheduler::run_until_idle() {
  return run(std::nullopt);
}

bool scheduler::run_one() {
  if (running_ || heap_.empty()) return false;
  running_ = true;
  run_front();
  running_ = false;
  stop_requested_ = false;
  return true;
}

}  // namespace mailsim::sim
