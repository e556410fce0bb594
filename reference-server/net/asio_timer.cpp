#include "reference-server/net/asio_timer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>
#include <utility>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"

namespace mailsim::net {

namespace asio = boost::asio;

// Shared with the pending wait's handler, which holds it weakly: after the service is gone
// the handler finds nothing and returns.
struct asio_timer_service::state : std::enable_shared_from_this<state> {
  explicit state(asio::io_context& io) : timer(io) {}

  using key = std::pair<core::time_point, core::timer_id>;  // (at, id): FIFO for equal times

  asio::steady_timer timer;
  std::map<key, std::function<void()>> entries;
  std::unordered_map<core::timer_id, core::time_point> at_of;
  core::timer_id next_id = 1;
  bool armed = false;
  core::time_point armed_at{};  // the `at` the steady timer waits for
  bool stopped = false;

  void arm();
  void on_fire();
};

void asio_timer_service::state::arm() {
  if (entries.empty() || stopped) return;
  const core::time_point first = entries.begin()->first.first;
  if (armed && armed_at <= first) return;  // already waiting for this one or an earlier one
  // Re-arming cancels the current wait; its handler then sees operation_aborted, which the
  // fresh wait below supersedes.
  const core::duration_ms delay = std::max(first - system_clock{}.now(), core::duration_ms{0});
  timer.expires_after(delay);
  armed = true;
  armed_at = first;
  timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: re-armed (a new wait is pending) or the service is gone
    if (auto self = weak.lock()) self->on_fire();
  });
}

void asio_timer_service::state::on_fire() {
  armed = false;
  // Whatever the system clock says now, the entry this wait was armed for is due.
  const core::time_point limit = std::max(system_clock{}.now(), armed_at);
  // Entries scheduled by the callbacks below wait for the next turn of the io_context, so a
  // callback that reschedules itself at "now" cannot starve everything else.
  const core::timer_id last_id = next_id - 1;
  auto self = shared_from_this();  // a callback may destroy the service
  for (auto it = entries.begin(); it != entries.end() && !stopped;) {
    if (it->first.first > limit) break;
    if (it->first.second > last_id) {
      ++it;
      continue;
    }
    auto callback = std::move(it->second);
    at_of.erase(it->first.second);
    entries.erase(it);
    callback();
    it = entries.begin();  // the callback may have changed the map
  }
  arm();
}

asio_timer_service::asio_timer_service(asio::io_context& io)
    : state_(std::make_shared<state>(io)) {}

asio_timer_service::~asio_timer_service() {
  state_->stopped = true;
  state_->entries.clear();
  state_->at_of.clear();
  state_->timer.cancel();
}

core::timer_id asio_timer_service::schedule(core::time_point at, std::function<void()> callback) {
  const core::timer_id id = state_->next_id++;
  state_->entries.emplace(state::key{at, id}, std::move(callback));
  state_->at_of.emplace(id, at);
  state_->arm();
  return id;
}

void asio_timer_service::cancel(core::timer_id id) {
  auto it = state_->at_of.find(id);
  if (it == state_->at_of.end()) return;
  state_->entries.erase(state::key{it->second, id});
  state_->at_of.erase(it);
  // The steady timer may stay armed for a cancelled entry: when it fires it finds nothing
  // due and re-arms for the next one.
}

std::size_t asio_timer_service::pending() const { return state_->entries.size(); }

}  // namespace mailsim::net
