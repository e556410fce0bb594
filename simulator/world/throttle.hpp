// mailsim::sim::world throttle — a receiving provider's rate windows (messages per sending
// IP, per sending /24, per sender domain, per recipient mailbox) and the escalation from
// "try later" to "go away" when a sender keeps hammering.
//
// Contract: the windows are policy::rate_limiter's sliding, bucketed windows (reused, not
// rewritten): check_message() is asked once per transaction (at MAIL FROM) and counts it
// against per_ip, per_net24 and per_domain; check_recipient() once per recipient (at RCPT)
// against per_recipient. A refused attempt counts nothing. An attempt over a limit is a
// deferral, unless the same sending IP has already earned `deferrals_before_reject`
// deferrals inside the tripped rule's window (counted from its first deferral there): then
// it is a rejection, and it stays so until that window has passed (Gmail 421 4.7.28 →
// 550 5.7.28, Yahoo TSS04 → TSS06, receiver-behaviour.md §8). deferrals_before_reject 0
// never escalates. `now` is passed in and must not go backwards; no clock, no randomness,
// no iteration over hashed containers (lookups only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/policy/rate_limit.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

struct throttle_verdict {
  enum class action { pass, defer, reject };
  action what = action::pass;
  std::string rule;           // the window that tripped: "per_ip", "per_net24", "per_domain", ...
  std::size_t deferrals = 0;  // deferrals of this IP in the window, this one included

  bool passed() const { return what == action::pass; }
};

class throttle {
 public:
  // keys_max bounds each window table (least recently used keys are forgotten first, which
  // favours the sender, never blocks it wrongly).
  explicit throttle(const throttle_spec& spec, std::size_t keys_max = 200'000);

  // Any limit set at all.
  bool enabled() const { return enabled_; }

  // One transaction from `client` (text form `ip`) with this MAIL FROM domain.
  throttle_verdict check_message(const core::ip_address& client, const std::string& ip,
                                 std::string_view sender_domain, core::time_point now);
  // One recipient of a transaction from `client`.
  throttle_verdict check_recipient(const core::ip_address& client, const std::string& ip,
                                   std::string_view recipient, core::time_point now);

 private:
  struct strikes {
    std::int64_t first_ms = 0;
    std::size_t count = 0;
  };
  throttle_verdict over(const std::string& ip, const std::string& rule, core::time_point now);
  core::duration_ms window_of(const std::string& rule) const;

  throttle_spec spec_;
  bool enabled_ = false;
  std::unique_ptr<policy::rate_limiter> client_;      // per_ip, per_net24
  std::unique_ptr<policy::rate_limiter> domain_;      // per_domain
  std::unique_ptr<policy::rate_limiter> recipient_;   // per_recipient
  std::unordered_map<std::string, strikes> strikes_;  // by IP; looked up, never iterated
};

}  // namespace mailsim::sim::world
