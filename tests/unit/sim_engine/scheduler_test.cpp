#include "simulator/engine/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mailsim::sim {
namespace {

using core::duration_ms;

TEST(Scheduler, StartsAtTheGivenTime) {
  scheduler s(core::from_epoch_ms(5'000));
  EXPECT_EQ(core::epoch_ms(s.now()), 5'000);
  EXPECT_EQ(core::epoch_ms(s.clock().now()), 5'000);
  EXPECT_EQ(s.pending(), 0u);
}

TEST(Scheduler, RunsEventsInTimeOrder) {
  scheduler s;
  std::string order;
  s.schedule_after(duration_ms{30}, [&] { order += 'c'; });
  s.schedule_after(duration_ms{10}, [&] { order += 'a'; });
  s.schedule_after(duration_ms{20}, [&] { order += 'b'; });
  s.run_until_idle();
  EXPECT_EQ(order, "abc");
}

TEST(Scheduler, EqualTimesRunFirstInFirstOut) {
  scheduler s;
  std::string order;
  const auto t = s.now() + duration_ms{10};
  s.schedule(t, [&] { order += '1'; });
  s.schedule(t, [&] { order += '2'; });
  s.schedule(t, [&] {
    order += '3';
    s.post([&] { order += '5'; });  // posted at t: after everything already due at t
  });
  s.schedule(t, [&] { order += '4'; });
  s.run_until_idle();
  EXPECT_EQ(order, "12345");
}

TEST(Scheduler, PostedAndScheduledAtNowShareOneQueue) {
  scheduler s;
  std::string order;
  s.post([&] { order += 'a'; });
  s.schedule(s.now(), [&] { order += 'b'; });
  s.post([&] { order += 'c'; });
  s.run_until_idle();
  EXPECT_EQ(order, "abc");
}

TEST(Scheduler, ThePastRunsNowWithoutMovingTheClockBack) {
  scheduler s;
  s.run_for(duration_ms{100});
  const auto t = s.now();
  core::time_point seen{};
  s.schedule(t - duration_ms{50}, [&] { seen = s.now(); });
  s.run_until_idle();
  EXPECT_EQ(seen, t);
}

TEST(Scheduler, TheClockStandsAtTheEventWhileItRuns) {
  scheduler s;
  const auto start = s.now();
  std::vector<std::int64_t> seen;
  s.schedule_after(duration_ms{7}, [&] { seen.push_back((s.now() - start).count()); });
  s.schedule_after(duration_ms{3'600'000}, [&] { seen.push_back((s.now() - start).count()); });
  s.run_until_idle();
  EXPECT_EQ(seen, (std::vector<std::int64_t>{7, 3'600'000}));
}

TEST(Scheduler, CancelledEventsDoNotRun) {
  scheduler s;
  bool ran = false;
  const auto id = s.schedule_after(duration_ms{5}, [&] { ran = true; });
  s.cancel(id);
  EXPECT_EQ(s.pending(), 0u);
  s.run_until_idle();
  EXPECT_FALSE(ran);
}

TEST(Scheduler, CancelFromACallbackStopsALaterEvent) {
  scheduler s;
  bool later_ran = false;
  core::timer_id later = 0;
  s.schedule_after(duration_ms{1}, [&] { s.cancel(later); });
  later = s.schedule_after(duration_ms{1}, [&] { later_ran = true; });
  s.run_until_idle();
  EXPECT_FALSE(later_ran);
}

TEST(Scheduler, CancellingSpentOrUnknownIdsIsHarmless) {
  scheduler s;
  int runs = 0;
  const auto id = s.post([&] { ++runs; });
  s.run_until_idle();
  s.cancel(id);
  s.cancel(987654);
  const auto next = s.post([&] { ++runs; });
  EXPECT_NE(next, id);  // ids are never reused
  s.run_until_idle();
  EXPECT_EQ(runs, 2);
}

TEST(Scheduler, AnIdWhoseSlotServesAnotherEventCancelsNothing) {
  scheduler s;
  int runs = 0;
  const auto first = s.post([&] { runs += 100; });
  s.cancel(first);
  const auto second = s.post([&] { ++runs; });  // waits where the first one waited
  EXPECT_NE(second, first);
  s.cancel(first);
  EXPECT_EQ(s.pending(), 1u);
  s.run_until_idle();
  EXPECT_EQ(runs, 1);
}

TEST(Scheduler, ManyCancelledEventsLeaveTheOthersInOrder) {
  // Enough cancellations to sweep the heap more than once, between events of equal times.
  scheduler s;
  std::vector<int> ran;
  std::vector<core::timer_id> ids;
  std::vector<std::pair<std::int64_t, int>> expected;  // (due, index) of the survivors
  for (int i = 0; i < 6000; ++i) {
    const std::int64_t due = (i * 7919) % 50;
    ids.push_back(s.schedule_after(duration_ms{due}, [&ran, i] { ran.push_back(i); }));
    if (i % 5 == 0) expected.emplace_back(due, i);
  }
  for (int i = 0; i < 6000; ++i) {
    if (i % 5 != 0) s.cancel(ids[i]);
  }
  EXPECT_EQ(s.pending(), expected.size());
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  s.run_until_idle();
  ASSERT_EQ(ran.size(), expected.size());
  for (std::size_t k = 0; k < ran.size(); ++k) EXPECT_EQ(ran[k], expected[k].second) << k;
  EXPECT_EQ(s.pending(), 0u);
}

TEST(Scheduler, ACallbackDroppedOnCancelMayScheduleAndCancel) {
  // A callback's captures may act on the scheduler when they are destroyed.
  scheduler s;
  int runs = 0;
  struct on_drop {
    scheduler* s = nullptr;
    int* runs = nullptr;
    ~on_drop() {
      if (s != nullptr) s->post([r = runs] { ++*r; });
    }
  };
  auto guard = std::make_shared<on_drop>();
  guard->s = &s;
  guard->runs = &runs;
  const auto id = s.post([g = std::move(guard)] {});
  s.cancel(id);
  s.run_until_idle();
  EXPECT_EQ(runs, 1);
}

TEST(Scheduler, RunUntilStopsAtTheLimitAndMovesTheClockThere) {
  scheduler s;
  const auto start = s.now();
  std::string order;
  s.schedule(start + duration_ms{10}, [&] { order += 'a'; });
  s.schedule(start + duration_ms{20}, [&] { order += 'b'; });
  s.schedule(start + duration_ms{21}, [&] { order += 'c'; });
  const auto report = s.run_until(start + duration_ms{20});
  EXPECT_EQ(order, "ab");  // an event exactly at the limit runs
  EXPECT_EQ(report.status, run_status::reached);
  EXPECT_EQ(report.steps, 2u);
  EXPECT_EQ(s.now(), start + duration_ms{20});
  EXPECT_EQ(s.pending(), 1u);
  EXPECT_EQ(s.next_time(), start + duration_ms{21});
}

TEST(Scheduler, RunUntilAnEarlierTimeDoesNotMoveTheClockBack) {
  scheduler s;
  s.run_for(duration_ms{100});
  const auto t = s.now();
  s.run_until(t - duration_ms{50});
  EXPECT_EQ(s.now(), t);
}

TEST(Scheduler, RunUntilIdleSkipsIdleTime) {
  scheduler s;
  const auto start = s.now();
  s.schedule(start + duration_ms{30LL * 24 * 3'600'000}, [] {});
  const auto report = s.run_until_idle();
  EXPECT_EQ(report.status, run_status::idle);
  EXPECT_EQ(s.now(), start + duration_ms{30LL * 24 * 3'600'000});
}

TEST(Scheduler, StepLimitEndsARunThatNeverQuietsDown) {
  scheduler s(default_start, scheduler_limits{100});
  std::function<void()> again = [&] { s.post(again); };
  s.post(again);
  const auto report = s.run_until_idle();
  EXPECT_EQ(report.status, run_status::step_limit);
  EXPECT_EQ(report.steps, 100u);
  EXPECT_EQ(s.pending(), 1u);                                      // the rest stays queued
  EXPECT_EQ(s.run_until(s.now()).status, run_status::step_limit);  // each run has its budget
}

TEST(Scheduler, ARunFromInsideACallbackIsRefused) {
  scheduler s;
  run_status nested = run_status::idle;
  bool inner_ran = false;
  s.post([&] { nested = s.run_until_idle().status; });
  s.post([&] { inner_ran = true; });
  s.run_one();
  EXPECT_EQ(nested, run_status::reentrant);
  EXPECT_FALSE(inner_ran);
}

TEST(Scheduler, StopEndsTheRunAfterTheCurrentCallback) {
  scheduler s;
  std::string order;
  s.post([&] {
    order += 'a';
    s.stop();
  });
  s.post([&] { order += 'b'; });
  EXPECT_EQ(s.run_until_idle().status, run_status::stopped);
  EXPECT_EQ(order, "a");
  s.run_until_idle();
  EXPECT_EQ(order, "ab");
}

TEST(Scheduler, RunOneRunsTheNextEventAndMovesTheClock) {
  scheduler s;
  const auto start = s.now();
  int runs = 0;
  s.schedule(start + duration_ms{4}, [&] { ++runs; });
  s.schedule(start + duration_ms{9}, [&] { ++runs; });
  EXPECT_TRUE(s.run_one());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(s.now(), start + duration_ms{4});
  EXPECT_TRUE(s.run_one());
  EXPECT_FALSE(s.run_one());
  EXPECT_EQ(s.steps_total(), 2u);
}

TEST(Scheduler, DestroyingTheSchedulerDropsPendingEventsUncalled) {
  bool ran = false;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    scheduler s;
    s.post([&ran, token] { ran = true; });
    token.reset();
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired());  // the callback itself was destroyed
}

// Callables kept in place, on the heap (too large), move-only and mutable ones all run once
// and are destroyed when run, cancelled or dropped.
TEST(Scheduler, KeepsCallablesOfEveryShapeAndDestroysThemOnce) {
  auto token = std::make_shared<int>(0);
  std::string order;
  {
    scheduler s;
    std::array<char, 200> big{};
    big[199] = 'b';
    s.post([token, &order, big] { order += big[199]; });                     // on the heap
    s.post([token, &order, owned = std::make_unique<char>('u')] { order += *owned; });
    s.post([token, &order, n = 0]() mutable { order += static_cast<char>('0' + ++n); });
    std::function<void()> wrapped = [token, &order] { order += 'f'; };
    s.post(wrapped);  // a std::function takes the timer_service path
    const core::timer_id dropped = s.post([token, &order, big] { order += big[0]; });
    const core::timer_id small = s.post([token, &order] { order += 'y'; });
    EXPECT_EQ(token.use_count(), 8);  // token, `wrapped` and six callables
    s.cancel(dropped);
    s.cancel(small);
    EXPECT_EQ(token.use_count(), 6);  // cancelled callables are gone at once
    s.run_until_idle();
    EXPECT_EQ(order, "bu1f");
    EXPECT_EQ(token.use_count(), 2);  // `wrapped` is the one left
    s.post([token] {});
    s.schedule_after(duration_ms{5}, [token, &order, big] { order += big[0]; });
  }
  EXPECT_EQ(token.use_count(), 1);  // the scheduler dropped the ones left pending
}

TEST(EventCallback, MovesLeaveTheSourceEmpty) {
  int calls = 0;
  event_callback small([&calls] { ++calls; });
  std::array<int, 64> large{};
  event_callback big([&calls, large] { calls += 10 + large[0]; });
  event_callback moved = std::move(small);
  EXPECT_FALSE(static_cast<bool>(small));  // NOLINT(bugprone-use-after-move): checked on purpose
  moved();
  event_callback other;
  other = std::move(big);
  EXPECT_FALSE(static_cast<bool>(big));  // NOLINT(bugprone-use-after-move)
  other();
  EXPECT_EQ(calls, 11);
  other.reset();
  EXPECT_FALSE(static_cast<bool>(other));
}

TEST(Scheduler, IsAUsableTimerServiceAndClock) {
  scheduler s;
  core::timer_service& timers = s;
  const core::clock& clock = s.clock();
  core::time_point fired{};
  timers.schedule(clock.now() + duration_ms{250}, [&] { fired = clock.now(); });
  s.run_until_idle();
  EXPECT_EQ(fired, default_start + duration_ms{250});
}

}  // namespace
}  // namespace mailsim::sim
