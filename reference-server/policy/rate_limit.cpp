#include "reference-server/policy/rate_limit.hpp"

#include <algorithm>

namespace mailsim::policy {
namespace {

std::int64_t newest_or(std::int64_t newest, std::int64_t idx) {
  return std::max(newest, idx);
}

// The first bucket still inside the window at bucket index `idx`.
std::int64_t oldest_in_window(std::int64_t newest, std::int64_t idx, unsigned buckets) {
  std::int64_t lo = std::max(newest - buckets + 1, newest_or(newest, idx) - buckets + 1);
  return std::max<std::int64_t>(lo, 0);
}

}  // namespace

const char* to_string(rate_event e) {
  switch (e) {
    case rate_event::connection:
      return "connection";
    case rate_event::message:
      return "message";
    case rate_event::recipient:
      return "recipient";
    case rate_event::error:
      return "error";
  }
  return "connection";
}

const char* to_string(rate_scope s) {
  switch (s) {
    case rate_scope::ip:
      return "ip";
    case rate_scope::subnet:
      return "subnet";
    case rate_scope::recipient:
      return "recipient";
  }
  return "ip";
}

reply_spec default_rate_reply(rate_event event, rate_scope scope) {
  const char* who = scope == rate_scope::subnet ? "your network" : "your host";
  switch (event) {
    case rate_event::connection:
      return {421, "4.7.0", std::string("Too many connections from ") + who + ", try again later"};
    case rate_event::error:
      return {421, "4.7.0", std::string("Too many errors from ") + who + ", try again later"};
    case rate_event::message:
      return {450, "4.7.1", std::string("Too many messages from ") + who + ", try again later"};
    case rate_event::recipient:
      break;
  }
  if (scope == rate_scope::recipient)
    return {450, "4.2.1", "The recipient is receiving mail too fast, try again later"};
  return {450, "4.7.1", std::string("Too many recipients from ") + who + ", try again later"};
}

rate_rule make_rate_rule(std::string name, rate_event event, rate_scope scope,
                         std::chrono::seconds window, std::uint32_t max) {
  return {std::move(name), event, scope, window, max, default_rate_reply(event, scope)};
}

rate_limiter::rate_limiter(rate_options options)
    : options_(std::move(options)), keys_(options_.keys_max) {
  options_.buckets = std::max(1u, options_.buckets);
}

std::string rate_limiter::key_of(rate_scope scope, const core::ip_address& client,
                                 std::string_view recipient) const {
  switch (scope) {
    case rate_scope::ip:
      return "i " + network_key(client, 32, 128);
    case rate_scope::subnet:
      return "s " + network_key(client, options_.ipv4_prefix, options_.ipv6_prefix);
    case rate_scope::recipient:
      break;
  }
  return recipient.empty() ? std::string() : "r " + to_lower(recipient);
}

std::int64_t rate_limiter::bucket_ms(const rate_rule& rule) const {
  std::int64_t window_ms = std::chrono::duration_cast<core::duration_ms>(rule.window).count();
  return std::max<std::int64_t>(1, window_ms / options_.buckets);
}

namespace {

std::uint32_t sum_at(const std::vector<std::uint32_t>& counts, std::int64_t newest,
                     std::int64_t idx, unsigned buckets) {
  if (counts.empty()) return 0;
  std::uint64_t sum = 0;
  for (std::int64_t j = oldest_in_window(newest, idx, buckets); j <= newest; ++j)
    sum += counts[static_cast<std::size_t>(j % buckets)];
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, 0xffffffffu));
}

// The time (ms) from which `n` more events fit under `max`, as old buckets leave the window.
std::optional<std::int64_t> frees_ms(const std::vector<std::uint32_t>& counts, std::int64_t newest,
                                     std::int64_t idx, unsigned buckets, std::int64_t step_ms,
                                     std::uint32_t max, std::uint32_t n) {
  if (n > max) return std::nullopt;
  std::uint64_t left = sum_at(counts, newest, idx, buckets);
  for (std::int64_t j = oldest_in_window(newest, idx, buckets); j <= newest; ++j) {
    left -= counts[static_cast<std::size_t>(j % buckets)];
    if (left + n <= max) return (j + buckets) * step_ms;
  }
  return newest_or(newest, idx) * step_ms;  // not reached: all buckets gone leaves n <= max
}

void add(std::vector<std::uint32_t>& counts, std::int64_t& newest, std::int64_t idx,
         unsigned buckets, std::uint32_t n) {
  if (counts.empty()) counts.assign(buckets, 0);
  if (newest < 0) newest = idx;
  std::int64_t steps = std::min<std::int64_t>(idx - newest, buckets);
  for (std::int64_t k = 1; k <= steps; ++k)
    counts[static_cast<std::size_t>((newest + k) % buckets)] = 0;
  newest = std::max(newest, idx);
  std::uint32_t& c = counts[static_cast<std::size_t>(newest % buckets)];
  c = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{c} + n, 0xffffffffu));
}

}  // namespace

rate_verdict rate_limiter::check_and_count(rate_event event, const core::ip_address& client,
                                           core::time_point now, std::string_view recipient,
                                           std::uint32_t n) {
  std::int64_t now_ms = core::epoch_ms(now);
  const unsigned b = options_.buckets;
  // First every rule is checked without touching the table, then (when none trips) counted:
  // an insertion may evict another key, so no pointer is held across insertions.
  for (std::size_t r = 0; r < options_.rules.size(); ++r) {
    const rate_rule& rule = options_.rules[r];
    std::string key = key_of(rule.scope, client, recipient);
    if (rule.event != event || key.empty()) continue;
    const key_state* st = keys_.peek(key);
    const window* w = st != nullptr && r < st->windows.size() ? &st->windows[r] : nullptr;
    std::int64_t step = bucket_ms(rule), idx = now_ms / step;
    std::uint32_t count = w != nullptr ? sum_at(w->counts, w->newest, idx, b) : 0;
    if (std::uint64_t{count} + n <= rule.max) continue;
    rate_verdict v{true, rule.name, count, rule.max, std::nullopt, rule.reply};
    std::optional<std::int64_t> at =
        w != nullptr ? frees_ms(w->counts, w->newest, idx, b, step, rule.max, n)
                     : (n > rule.max ? std::nullopt : std::optional<std::int64_t>(now_ms));
    if (at) v.frees_at = core::from_epoch_ms(std::max(*at, now_ms));
    return v;
  }
  for (std::size_t r = 0; r < options_.rules.size(); ++r) {
    const rate_rule& rule = options_.rules[r];
    std::string key = key_of(rule.scope, client, recipient);
    if (rule.event != event || key.empty()) continue;
    key_state* st = keys_.find(key);
    if (st == nullptr) st = &keys_.insert(key, key_state{});
    if (st->windows.size() < options_.rules.size()) st->windows.resize(options_.rules.size());
    window& w = st->windows[r];
    add(w.counts, w.newest, now_ms / bucket_ms(rule), b, n);
  }
  return {};
}

std::uint32_t rate_limiter::current(std::string_view name, const core::ip_address& client,
                                    core::time_point now, std::string_view recipient) const {
  for (std::size_t r = 0; r < options_.rules.size(); ++r) {
    const rate_rule& rule = options_.rules[r];
    if (rule.name != name) continue;
    const key_state* st = keys_.peek(key_of(rule.scope, client, recipient));
    if (st == nullptr || r >= st->windows.size()) return 0;
    const window& w = st->windows[r];
    return sum_at(w.counts, w.newest, core::epoch_ms(now) / bucket_ms(rule), options_.buckets);
  }
  return 0;
}

}  // namespace mailsim::policy
