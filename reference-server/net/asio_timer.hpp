// mailsim::net Asio timer service — core::timer_service on a boost::asio::io_context.
//
// Contract: the core::timer_service contract (reference-server/core/timer.hpp). `at` is
// system time (core's time_point); it becomes a delay from the system clock's now when the
// timer becomes the earliest one, and that delay is waited on the steady clock, so a step of
// the system clock moves only timers not yet armed. Callbacks run from the io_context,
// in (at, scheduling order); a callback may schedule, cancel, or destroy the service.
// One steady timer serves every entry, so thousands of timers cost one Asio timer.
// Not thread-safe: use it from the io_context's thread. The io_context must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "reference-server/core/timer.hpp"

namespace boost::asio {
class io_context;
}

namespace mailsim::net {

class asio_timer_service final : public core::timer_service {
 public:
  explicit asio_timer_service(boost::asio::io_context& io);
  ~asio_timer_service() override;
  asio_timer_service(const asio_timer_service&) = delete;
  asio_timer_service& operator=(const asio_timer_service&) = delete;

  core::timer_id schedule(core::time_point at, std::function<void()> callback) override;
  void cancel(core::timer_id id) override;

  // Timers scheduled and not yet run or cancelled.
  std::size_t pending() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace mailsim::net
