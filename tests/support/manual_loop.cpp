#include "tests/support/manual_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace mailsim::test {

namespace {

// Marks a run_*() call in progress: a nested call is a test bug (it would run callbacks
// re-entrantly, which no real event loop does).
class run_guard {
 public:
  run_guard(bool& running, std::size_t& steps) : running_(running), ok_(!running) {
    if (!ok_) {
      ADD_FAILURE() << "manual_loop: run_*() called from inside a callback";
      return;
    }
    running_ = true;
    steps = 0;
  }
  ~run_guard() {
    if (ok_) running_ = false;
  }
  run_guard(const run_guard&) = delete;
  run_guard& operator=(const run_guard&) = delete;
  bool ok() const { return ok_; }

 private:
  bool& running_;
  bool ok_;
};

}  // namespace

core::timer_id manual_loop::schedule(core::time_point at, std::function<void()> callback) {
  const core::timer_id id = next_id_++;
  timers_.emplace(key{at, id}, std::move(callback));
  timer_at_.emplace(id, at);
  return id;
}

void manual_loop::cancel(core::timer_id id) {
  auto it = timer_at_.find(id);
  if (it == timer_at_.end()) return;
  timers_.erase(key{it->second, id});
  timer_at_.erase(it);
}

void manual_loop::post(std::function<void()> fn) { posted_.push_back(std::move(fn)); }

std::optional<core::time_point> manual_loop::next_timer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

bool manual_loop::count_step() {
  if (++steps_ <= step_limit_) return true;
  ADD_FAILURE() << "manual_loop: more than " << step_limit_
                << " callbacks without becoming idle (a callback that reposts itself?)";
  posted_.clear();
  timers_.clear();
  timer_at_.clear();
  return false;
}

bool manual_loop::run_one_posted() {
  if (posted_.empty() || !count_step()) return false;
  auto fn = std::move(posted_.front());
  posted_.pop_front();
  fn();
  return true;
}

// Runs the earliest timer if it is due by `limit`, with the clock set to its time.
bool manual_loop::run_one_timer(core::time_point limit) {
  if (timers_.empty()) return false;
  auto it = timers_.begin();
  const core::time_point at = it->first.first;
  if (at > limit || !count_step()) return false;
  auto fn = std::move(it->second);
  timer_at_.erase(it->first.second);
  timers_.erase(it);
  if (at > clock_.now()) clock_.set(at);
  fn();
  return true;
}

std::size_t manual_loop::run_until_idle() {
  run_guard guard(running_, steps_);
  if (!guard.ok()) return 0;
  for (;;) {
    while (run_one_posted()) {
    }
    if (!run_one_timer(clock_.now())) break;
  }
  return steps_;
}

std::size_t manual_loop::run_until(core::time_point t) {
  run_guard guard(running_, steps_);
  if (!guard.ok()) return 0;
  for (;;) {
    while (run_one_posted()) {
    }
    if (!run_one_timer(std::max(t, clock_.now()))) break;
  }
  if (t > clock_.now()) clock_.set(t);
  return steps_;
}

bool manual_loop::run_until_true(const std::function<bool()>& done, core::duration_ms max_wait) {
  run_guard guard(running_, steps_);
  if (!guard.ok()) return false;
  const core::time_point limit = clock_.now() + max_wait;
  for (;;) {
    if (done()) return true;
    if (run_one_posted()) continue;
    if (!run_one_timer(limit)) return done();
  }
}

}  // namespace mailsim::test
