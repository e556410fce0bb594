#include "simulator/engine/scheduler.hpp"

#include <algorithm>

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
  // The past is now: the clock never goes backwards, and the id keeps FIFO order among
  // everything that falls due at the same time.
  at = std::max(at, now());
  const core::timer_id id = next_id_++;
  events_.emplace(key{at, id}, std::move(callback));
  due_.emplace(id, at);
  return id;
}

void scheduler::cancel(core::timer_id id) {
  auto it = due_.find(id);
  if (it == due_.end()) return;
  events_.erase(key{it->second, id});
  due_.erase(it);
}

core::timer_id scheduler::schedule_after(core::duration_ms delay, std::function<void()> callback) {
  return schedule(now() + std::max(delay, core::duration_ms{0}), std::move(callback));
}

std::optional<core::time_point> scheduler::next_time() const {
  if (events_.empty()) return std::nullopt;
  return events_.begin()->first.first;
}

// Takes the earliest event out before running it, so that the callback may schedule and
// cancel freely (even its own id, which is already gone).
void scheduler::run_front() {
  auto it = events_.begin();
  const key k = it->first;
  auto callback = std::move(it->second);
  events_.erase(it);
  due_.erase(k.second);
  clock_.now_ = std::max(clock_.now_, k.first);
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
    if (events_.empty() || (limit && events_.begin()->first.first > *limit)) {
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
  if (running_ || events_.empty()) return false;
  running_ = true;
  run_front();
  running_ = false;
  stop_requested_ = false;
  return true;
}

}  // namespace mailsim::sim
