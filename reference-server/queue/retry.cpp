#include "reference-server/queue/retry.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "reference-server/core/duration.hpp"

namespace mailsim::queue {
namespace {

using ms = core::duration_ms;

constexpr std::int64_t second_ms = 1000;
constexpr std::int64_t minute_ms = 60 * second_ms;
constexpr std::int64_t hour_ms = 60 * minute_ms;
constexpr std::int64_t day_ms = 24 * hour_ms;

// Durations in specs stop at 100 years: far beyond any sensible lifetime, and small enough
// that sums and geometric gaps of them stay far from 64-bit overflow.
constexpr std::int64_t duration_max_ms = std::int64_t{100} * 365 * day_ms;

// ---- durations ------------------------------------------------------------------------
// core::parse_duration's grammar (docs/configuration.md), bounded by duration_max_ms.

std::optional<ms> parse_duration(std::string_view text) {
  const std::optional<ms> d = core::parse_duration(text);
  if (!d || d->count() > duration_max_ms) return std::nullopt;
  return d;
}

using core::format_duration;

// ---- schedules ------------------------------------------------------------------------

std::int64_t age_ms(core::time_point queued_at, core::time_point at) {
  return std::max<std::int64_t>(0, (at - queued_at).count());
}

const retry_phase& phase_at(const std::vector<retry_phase>& phases, std::int64_t t) {
  for (const auto& phase : phases) {
    if (t < phase.until.count()) return phase;
  }
  return phases.back();  // the last rule goes on until the lifetime ends
}

// The first nominal instant after `age`: the phases are walked from age 0 as if every
// attempt had been made on time. Fixed phases are crossed in one step each.
std::int64_t next_in_phases(const std::vector<retry_phase>& phases, std::int64_t age) {
  std::int64_t t = 0;
  std::int64_t previous_gap = 0;
  while (t <= age) {
    const retry_phase& phase = phase_at(phases, t);
    const std::int64_t interval = std::max<std::int64_t>(1, phase.interval.count());
    if (phase.factor_permille <= 1000) {
      // Steps from t: t + interval, t + 2·interval …; a step belongs to this phase while the
      // instant it is taken from is below `until` (the last phase has no end).
      std::int64_t steps = (age - t) / interval + 1;
      const bool last = &phase == &phases.back() || t >= phase.until.count();
      if (!last) {
        const std::int64_t in_phase = (phase.until.count() - t + interval - 1) / interval;
        steps = std::min(steps, in_phase);
      }
      t += steps * interval;
      previous_gap = interval;
    } else {
      // Exim's G rule: the gap grows from the previous one, never below the phase's interval.
      const std::int64_t grown = previous_gap / 1000 * phase.factor_permille +
                                 previous_gap % 1000 * phase.factor_permille / 1000;
      previous_gap = std::max(interval, grown);
      t += previous_gap;
    }
  }
  return t;
}

std::int64_t next_in_list(const retry_profile& profile, std::int64_t age) {
  const auto& offsets = profile.offsets;
  if (offsets.empty()) return age + 1;
  for (const auto offset : offsets) {
    if (offset.count() > age) return offset.count();
  }
  // Past the list: the last gap repeats until the lifetime ends.
  const std::int64_t last = offsets.back().count();
  const std::int64_t gap = std::max<std::int64_t>(
      1, offsets.size() > 1 ? last - offsets[offsets.size() - 2].count() : last);
  return last + ((age - last) / gap + 1) * gap;
}

}  // namespace

retry_profile postfix_like_profile() {
  return retry_profile{};
}

retry_profile exim_like_profile() {
  retry_profile out;
  out.kind = retry_kind::exim_like;
  out.lifetime = ms{4 * day_ms};
  out.phases = {{ms{2 * hour_ms}, ms{15 * minute_ms}, 1000},
                {ms{16 * hour_ms}, ms{hour_ms}, 1500},
                {ms{4 * day_ms}, ms{6 * hour_ms}, 1000}};
  return out;
}

retry_profile fixed_profile(core::duration_ms interval, core::duration_ms lifetime) {
  retry_profile out;
  out.kind = retry_kind::fixed;
  out.lifetime = lifetime;
  out.phases = {{lifetime, interval, 1000}};
  return out;
}

retry_profile list_profile(std::vector<core::duration_ms> offsets,
                           std::optional<core::duration_ms> lifetime) {
  retry_profile out;
  out.kind = retry_kind::list;
  out.lifetime = lifetime.value_or(offsets.empty() ? ms{0} : offsets.back());
  out.offsets = std::move(offsets);
  return out;
}

retry_decision next_attempt(const retry_profile& profile, core::time_point queued_at,
                            std::uint32_t attempts_made, core::time_point last_attempt_at) {
  if (attempts_made == 0) return {false, queued_at};
  const std::int64_t age = age_ms(queued_at, last_attempt_at);
  if (age >= profile.lifetime.count()) return {true, {}};
  switch (profile.kind) {
    case retry_kind::postfix_like: {
      // qmgr_active.c: delay = clamp(now - arrival_time, minimal, maximal backoff).
      const std::int64_t low = std::max<std::int64_t>(1, profile.min_backoff.count());
      const std::int64_t high = std::max(low, profile.max_backoff.count());
      return {false, last_attempt_at + ms{std::clamp(age, low, high)}};
    }
    case retry_kind::exim_like:
    case retry_kind::fixed:
      if (profile.phases.empty()) break;
      return {false, queued_at + ms{next_in_phases(profile.phases, age)}};
    case retry_kind::list:
      return {false, queued_at + ms{next_in_list(profile, age)}};
  }
  // A profile without its schedule (phases or offsets missing): retry at the minimum backoff.
  return {false, last_attempt_at + std::max(profile.min_backoff, ms{1})};
}

std::optional<core::time_point> delay_warning_at(const retry_profile& profile,
                                                 core::time_point queued_at) {
  if (!profile.delay_warning || *profile.delay_warning >= profile.lifetime) return std::nullopt;
  return queued_at + *profile.delay_warning;
}

const retry_profile& retry_policy::for_domain(std::string_view domain) const {
  const auto found = per_domain.find(domain);
  return found == per_domain.end() ? fallback : found->second;
}

// ---- specs ------------------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_items(std::string_view text) {
  std::vector<std::string_view> out;
  while (true) {
    const auto comma = text.find(',');
    out.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string bad_duration(std::string_view text) {
  return quoted(text) + " is not a duration (expected e.g. 90s, 10m, 1h30m, 2d)";
}

// What a spec says before it becomes a profile.
struct spec_items {
  std::vector<ms> durations;  // bare items, in order
  std::optional<ms> lifetime;
  std::optional<std::optional<ms>> warn;  // outer: given; inner: nullopt = off
  std::optional<ms> min;
  std::optional<ms> max;
};

// Reads "key=value" options and bare durations; `keys` names the options the kind takes.
std::string read_items(std::string_view kind, std::string_view body,
                       std::span<const std::string_view> keys, spec_items& out) {
  for (const auto item : split_items(body)) {
    if (item.empty()) return "empty item in " + quoted(body);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      const auto d = parse_duration(item);
      if (!d) return bad_duration(item);
      out.durations.push_back(*d);
      continue;
    }
    const auto key = trim(item.substr(0, equals));
    const auto value = trim(item.substr(equals + 1));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string expected;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        expected += (i == 0 ? "" : i + 1 == keys.size() ? " or " : ", ");
        expected += std::string(keys[i]) + "=";
      }
      return "unknown option " + quoted(key) + " for " + std::string(kind) + ": expected " +
             expected;
    }
    if (key == "warn" && value == "off") {
      out.warn = std::optional<ms>{};
      continue;
    }
    const auto d = parse_duration(value);
    if (!d) return std::string(key) + "=: " + bad_duration(value);
    if (key == "lifetime") out.lifetime = d;
    if (key == "warn") out.warn = d->count() == 0 ? std::optional<ms>{} : d;
    if (key == "min") out.min = d;
    if (key == "max") out.max = d;
  }
  return {};
}

void apply_common(const spec_items& items, retry_profile& profile) {
  if (items.lifetime) profile.lifetime = *items.lifetime;
  if (items.warn) profile.delay_warning = *items.warn;
}

constexpr std::array<std::string_view, 4> postfix_keys = {"min", "max", "lifetime", "warn"};
constexpr std::array<std::string_view, 2> common_keys = {"lifetime", "warn"};

std::string make_postfix(const spec_items& items, retry_profile& out) {
  if (!items.durations.empty()) return "postfix takes only options (min=, max=, lifetime=, warn=)";
  out = postfix_like_profile();
  apply_common(items, out);
  if (items.min) out.min_backoff = *items.min;
  if (items.max) out.max_backoff = *items.max;
  if (out.min_backoff.count() <= 0) return "postfix: min= must be above 0";
  if (out.max_backoff < out.min_backoff) return "postfix: max= must not be below min=";
  return {};
}

std::string make_exim(const spec_items& items, retry_profile& out) {
  if (!items.durations.empty()) return "exim takes only options (lifetime=, warn=)";
  out = exim_like_profile();
  apply_common(items, out);
  return {};
}

std::string make_fixed(const spec_items& items, retry_profile& out) {
  if (items.durations.size() != 1) return "fixed needs one interval, e.g. \"fixed:10m\"";
  if (items.durations[0].count() <= 0) return "fixed: the interval must be above 0";
  out = fixed_profile(items.durations[0]);
  apply_common(items, out);
  out.phases[0].until = out.lifetime;
  return {};
}

std::string make_list(const spec_items& items, retry_profile& out) {
  if (items.durations.empty()) return "list needs offsets, e.g. \"list:1m,5m,30m,2h\"";
  for (std::size_t i = 0; i < items.durations.size(); ++i) {
    const ms previous = i == 0 ? ms{0} : items.durations[i - 1];
    if (items.durations[i] <= previous) {
      return "list offsets must grow, each above the one before (and above 0): " +
             quoted(format_duration(items.durations[i])) + " after " +
             quoted(format_duration(previous));
    }
  }
  out = list_profile(items.durations, items.lifetime);
  apply_common(items, out);
  if (out.lifetime < out.offsets.back()) {
    return "list: lifetime " + format_duration(out.lifetime) + " ends before the last offset " +
           format_duration(out.offsets.back());
  }
  return {};
}

}  // namespace

retry_profile_parse parse_retry_profile(std::string_view spec) {
  spec = trim(spec);
  const auto colon = spec.find(':');
  const auto kind = spec.substr(0, colon);
  const bool has_body = colon != std::string_view::npos;
  const auto body = has_body ? spec.substr(colon + 1) : std::string_view{};
  retry_profile_parse out;
  spec_items items;
  retry_profile profile;
  std::string error;
  if (kind == "postfix" || kind == "exim") {
    const bool postfix = kind == "postfix";
    const auto keys = postfix ? std::span<const std::string_view>(postfix_keys)
                              : std::span<const std::string_view>(common_keys);
    if (has_body) error = read_items(kind, body, keys, items);
    if (error.empty()) error = postfix ? make_postfix(items, profile) : make_exim(items, profile);
  } else if (kind == "fixed" || kind == "list") {
    if (!has_body || trim(body).empty()) {
      error = kind == "fixed" ? "fixed needs an interval, e.g. \"fixed:10m\""
                              : "list needs offsets, e.g. \"list:1m,5m,30m,2h\"";
    } else {
      error = read_items(kind, body, common_keys, items);
      if (error.empty()) {
        error = kind == "fixed" ? make_fixed(items, profile) : make_list(items, profile);
      }
    }
  } else {
    error = "unknown retry profile " + quoted(kind) +
            ": expected postfix, exim, fixed:<interval> or list:<offset>,...";
  }
  if (!error.empty()) {
    out.error = "retry profile " + quoted(spec) + ": " + error;
    return out;
  }
  out.value = std::move(profile);
  return out;
}

std::string format_retry_profile(const retry_profile& profile) {
  std::string out;
  std::vector<std::string> items;
  const retry_profile defaults = [&] {
    switch (profile.kind) {
      case retry_kind::postfix_like:
        return postfix_like_profile();
      case retry_kind::exim_like:
        return exim_like_profile();
      case retry_kind::fixed:
        return fixed_profile(profile.phases.empty() ? ms{0} : profile.phases[0].interval);
      case retry_kind::list:
        return list_profile(profile.offsets);
    }
    return retry_profile{};
  }();
  switch (profile.kind) {
    case retry_kind::postfix_like:
      out = "postfix";
      if (profile.min_backoff != defaults.min_backoff)
        items.push_back("min=" + format_duration(profile.min_backoff));
      if (profile.max_backoff != defaults.max_backoff)
        items.push_back("max=" + format_duration(profile.max_backoff));
      break;
    case retry_kind::exim_like:
      out = "exim";
      break;
    case retry_kind::fixed:
      out = "fixed";
      items.push_back(format_duration(defaults.phases[0].interval));
      break;
    case retry_kind::list:
      out = "list";
      for (const auto offset : profile.offsets) items.push_back(format_duration(offset));
      break;
  }
  if (profile.lifetime != defaults.lifetime)
    items.push_back("lifetime=" + format_duration(profile.lifetime));
  if (profile.delay_warning != defaults.delay_warning) {
    items.push_back("warn=" + (profile.delay_warning ? format_duration(*profile.delay_warning)
                                                     : std::string("off")));
  }
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? ":" : ",") + items[i];
  return out;
}

}  // namespace mailsim::queue
