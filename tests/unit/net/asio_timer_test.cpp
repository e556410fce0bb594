// Tests of net::asio_timer_service on a real io_context: order, cancellation, callbacks that
// schedule or cancel, and destruction with timers pending. Delays are a few milliseconds;
// the tests check order and what ran, never how long it took.
#include "reference-server/net/asio_timer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"

namespace mailsim::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class asio_timer_test : public ::testing::Test {
 protected:
  core::time_point in(core::duration_ms d) const { return clock_.now() + d; }
  // Runs the io_context until it has nothing left to do (bounded, as a guard against hangs).
  void run() {
    io_.restart();
    io_.run_for(20s);
  }

  asio::io_context io_;
  system_clock clock_;
};

TEST_F(asio_timer_test, timers_run_in_time_order_and_equal_times_in_scheduling_order) {
  asio_timer_service timers(io_);
  std::vector<int> ran;
  const core::time_point same = in(15ms);
  timers.schedule(in(30ms), [&] { ran.push_back(3); });
  timers.schedule(in(5ms), [&] { ran.push_back(1); });
  timers.schedule(same, [&] { ran.push_back(2); });
  timers.schedule(same, [&] { ran.push_back(22); });
  timers.schedule(same, [&] { ran.push_back(222); });
  EXPECT_EQ(timers.pending(), 5u);
  run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 22, 222, 3}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(asio_timer_test, a_timer_never_runs_before_its_time_nor_inside_schedule) {
  asio_timer_service timers(io_);
  std::vector<core::time_point> seen;
  const core::time_point due = in(20ms);
  timers.schedule(due, [&] { seen.push_back(clock_.now()); });
  timers.schedule(in(-1h), [&] { seen.push_back(core::time_point{}); });  // long past
  EXPECT_TRUE(seen.empty()) << "never re-entrant from schedule()";
  run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], core::time_point{}) << "the past one runs first";
  EXPECT_GE(seen[1], due);
}

TEST_F(asio_timer_test, cancel_stops_timers_including_from_a_callback) {
  asio_timer_service timers(io_);
  std::vector<int> ran;
  core::timer_id later = 0;
  timers.schedule(in(1ms), [&] {
    ran.push_back(1);
    timers.cancel(later);
  });
  later = timers.schedule(in(10ms), [&] { ran.push_back(2); });
  const auto first = timers.schedule(in(0ms), [&] { ran.push_back(0); });
  timers.cancel(first);
  timers.cancel(first);  // twice: harmless
  timers.cancel(999);    // never issued: harmless
  timers.schedule(in(20ms), [&] { ran.push_back(3); });
  run();
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

TEST_F(asio_timer_test, a_callback_may_schedule_more) {
  asio_timer_service timers(io_);
  std::vector<int> ran;
  timers.schedule(in(1ms), [&] {
    ran.push_back(1);
    timers.schedule(in(0ms), [&] { ran.push_back(3); });  // due at once, runs on a later turn
    timers.schedule(in(-1s), [&] { ran.push_back(2); });
  });
  run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST_F(asio_timer_test, an_earlier_timer_scheduled_later_still_runs_first) {
  asio_timer_service timers(io_);
  std::vector<int> ran;
  timers.schedule(in(40ms), [&] { ran.push_back(2); });
  timers.schedule(in(2ms), [&] { ran.push_back(1); });  // re-arms the wait
  run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST_F(asio_timer_test, destroying_the_service_cancels_everything) {
  auto timers = std::make_unique<asio_timer_service>(io_);
  int ran = 0;
  timers->schedule(in(5ms), [&] { ++ran; });
  timers->schedule(in(0ms), [&] { ++ran; });
  timers.reset();
  run();
  EXPECT_EQ(ran, 0);
}

TEST_F(asio_timer_test, a_callback_may_destroy_the_service) {
  auto timers = std::make_unique<asio_timer_service>(io_);
  std::vector<int> ran;
  const core::time_point same = in(2ms);
  timers->schedule(same, [&] {
    ran.push_back(1);
    timers.reset();
  });
  timers->schedule(same, [&] { ran.push_back(2); });
  run();
  EXPECT_EQ(ran, (std::vector<int>{1}));
}

}  // namespace
}  // namespace mailsim::net
