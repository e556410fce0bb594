// mailsim::policy rate windows — how many connections, messages, recipients or errors a
// client (its address, or its /24 / IPv6 /64) or a recipient address may cause per window.
//
// Contract: check_and_count() looks at every rule for the event, for the client's address,
// its subnet and (for recipient rules) the recipient address; when one more event (or n)
// would pass a rule's max it reports the first such rule in rule order, with when it frees
// (the earliest time the event would fit, or never when n > max), and counts nothing: a
// refused attempt does not push the window further out. Otherwise it counts the event
// under every rule and reports not over. No clock is read: `now` is passed in and must not
// go backwards (if it does, events count in the newest bucket).
// Windows are bucketed: each rule's window is split into `buckets` equal steps and slides
// one step at a time, so memory per key is fixed (about 4 bytes × buckets per rule) and
// an event leaves the window between window − window/buckets and window after it happened.
// Keys are bounded (keys_max, least recently used evicted first and counted); an evicted
// key starts again from zero, which favours the client, never blocks it wrongly.
// Defaults: no rules — Postfix's anvil rate limits are all off by default, with a 60 s
// window (receiver-behaviour.md §8); make_rate_rule() gives each rule the reply of its kind:
// connections and errors 421 4.7.0 (the session closes; Gmail's and Postfix's answer),
// messages and recipients per client 450 4.7.1, per recipient address 450 4.2.1 (Gmail's
// per-recipient rate reply), all from receiver-behaviour.md §1.1, §8.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/policy/common.hpp"
#include "reference-server/policy/lru_table.hpp"

namespace mailsim::policy {

enum class rate_event { connection, message, recipient, error };
enum class rate_scope { ip, subnet, recipient };

const char* to_string(rate_event e);
const char* to_string(rate_scope s);

struct rate_rule {
  std::string name;  // "connections_per_ip_60s": reported when the rule trips
  rate_event event = rate_event::connection;
  rate_scope scope = rate_scope::ip;
  std::chrono::seconds window{60};  // Postfix anvil_rate_time_unit (§8)
  std::uint32_t max = 0;            // events allowed per window
  reply_spec reply;
};

reply_spec default_rate_reply(rate_event event, rate_scope scope);
rate_rule make_rate_rule(std::string name, rate_event event, rate_scope scope,
                         std::chrono::seconds window, std::uint32_t max);

struct rate_options {
  std::vector<rate_rule> rules;
  unsigned ipv4_prefix = 24;  // the /24 the reputation literature keys on (§1.1, §1.6)
  unsigned ipv6_prefix = 64;
  std::size_t keys_max = 50'000;
  unsigned buckets = 10;  // steps per window (at least 1)
};

struct rate_verdict {
  bool over = false;
  std::string rule;         // the rule that tripped
  std::uint32_t count = 0;  // events already in that rule's window
  std::uint32_t max = 0;
  std::optional<core::time_point> frees_at;  // nullopt: the event can never fit
  reply_spec reply;
};

class rate_limiter {
 public:
  explicit rate_limiter(rate_options options);

  rate_verdict check_and_count(rate_event event, const core::ip_address& client,
                               core::time_point now, std::string_view recipient = {},
                               std::uint32_t n = 1);
  // Events in the window of rule `name` for this client (or recipient) at `now`; 0 for an
  // unknown rule or key. Changes nothing.
  std::uint32_t current(std::string_view name, const core::ip_address& client, core::time_point now,
                        std::string_view recipient = {}) const;

  std::size_t size() const { return keys_.size(); }
  std::size_t evictions() const { return keys_.evictions(); }
  const rate_options& options() const { return options_; }

 private:
  struct window {
    std::int64_t newest = -1;  // index of the newest bucket (now_ms / bucket_ms)
    std::vector<std::uint32_t> counts;
  };
  struct key_state {
    std::vector<window> windows;  // one per rule of options_.rules (unused ones stay empty)
  };

  std::string key_of(rate_scope scope, const core::ip_address& client,
                     std::string_view recipient) const;
  std::int64_t bucket_ms(const rate_rule& rule) const;

  rate_options options_;
  lru_table<key_state> keys_;
};

}  // namespace mailsim::policy
