// mailsim::core output_hold — a session's output held back until a time.
//
// Why: the answer to a failed login is sent late (and later with each failure) so that
// guessing passwords over one connection is slow, as Dovecot's auth_failure_delay and
// mailsim's SMTP AUTH do. A sans-IO session appends its answers to one output string; when
// it holds, the bytes from a given offset on stay in that string until the time has come,
// while what came before may still be written. The session also stops reading commands
// while it holds, so later answers cannot overtake the held one.
//
// Contract: hold() marks everything appended to `output` from `offset` on as held until
// `until`; release_if_due() ends the hold once `now` reached it. take() returns (and
// removes) the part of the output that may be written now. discard() drops the held part
// (the peer left or misbehaved: it must not get the answer early). accept_input() counts
// what the peer sends meanwhile: past input_max_bytes the session should close rather than
// buffer it. Header-only, no clock of its own: the session passes the times.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "reference-server/core/clock.hpp"

namespace mailsim::core {

class output_hold {
 public:
  static constexpr std::size_t input_max_bytes = 64 * 1024;

  void hold(std::size_t offset, time_point until) {
    if (!until_) {
      ready_ = offset;
      input_bytes_ = 0;
    }
    until_ = until;
  }
  bool active() const { return until_.has_value(); }
  std::optional<time_point> until() const { return until_; }

  // True when the hold ended now.
  bool release_if_due(time_point now) {
    if (!until_ || now < *until_) return false;
    until_.reset();
    return true;
  }
  void clear() { until_.reset(); }
  void discard(std::string& output) {
    if (until_) output.resize(ready_);
    until_.reset();
  }
  bool accept_input(std::size_t bytes) {
    input_bytes_ += bytes;
    return input_bytes_ <= input_max_bytes;
  }

  bool has_ready(const std::string& output) const {
    return until_ ? ready_ > 0 : !output.empty();
  }
  std::string take(std::string& output) {
    if (!until_) return std::exchange(output, {});
    std::string ready = output.substr(0, ready_);
    output.erase(0, ready_);
    ready_ = 0;
    return ready;
  }

 private:
  std::optional<time_point> until_;
  std::size_t ready_ = 0;  // bytes of the output before the held part
  std::size_t input_bytes_ = 0;  // fed while holding
};

}  // namespace mailsim::core
