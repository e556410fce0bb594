// mailsim::queue retry schedules — when to try a deferred recipient again, when to give up,
// and when a "delayed" notification is due.
//
// Contract: pure functions of (profile, queued_at, attempts made, last attempt time): no
// clock, no state, no I/O. The deliverer records each attempt in the spool (spool.hpp) and
// asks next_attempt() for the next instant. RFC 5321 §4.5.4.1 asks for configurable retry
// intervals and give-up time; the profiles below are the configurable shapes.
//
// Profiles (times are offsets from queued_at, the message's arrival in the queue):
// - postfix_like (the default) — Postfix's qmgr rule (qmgr_active.c, Postfix ≥ 2.4
//   defaults): after a failed attempt at age a, the next attempt comes after
//   clamp(a, min_backoff = 300 s, max_backoff = 4000 s). The wait equals the message's age,
//   so the age doubles at each retry until the cap: a recipient deferred 7 times is tried at
//   0, 300, 600, 1200, 2400, 4800, 8800, 12800 s (then every 4000 s); lifetime 5 days
//   (maximal_queue_lifetime). Postfix then rounds each instant up to its next deferred-queue
//   scan (queue_run_delay, 300 s); this profile does not, the scan being an artefact of
//   Postfix's queue manager rather than a schedule.
// - exim_like — Exim's default retry rule "F,2h,15m; G,16h,1h,1.5; F,4d,6h": every 15 min
//   while the message is younger than 2 h, then gaps growing geometrically from 1 h by ×1.5
//   (each gap = max(1 h, previous gap × 1.5)) while younger than 16 h, then every 6 h;
//   lifetime 4 days. The rule is chosen by the age at the failed attempt, as Exim does.
// - fixed — one interval until the lifetime (default lifetime 5 days).
// - list — explicit offsets from queued_at (e.g. 1m, 5m, 30m, 2h); lifetime defaults to the
//   last offset. A longer lifetime repeats the last gap (last offset minus the one before it,
//   or the only offset) until it ends.
// exim_like, fixed and list define a nominal schedule of instants; a retry goes to the first
// instant after the last attempt, so a late attempt (the deliverer was busy, the host was
// down) does not cause a burst of catch-up attempts. postfix_like, like Postfix, measures
// from the actual last attempt.
//
// Expiry: a recipient expires when an attempt fails at or after queued_at + lifetime (like
// Postfix, which bounces after the first failed attempt past maximal_queue_lifetime; a
// lifetime of 0 bounces after the first failure). The deliverer then fails the recipient
// with status 4.4.7 (expired_status) and Action: failed in the DSN: RFC 3463 §3.5 defines
// X.4.7 "Delivery time expired" as "useful only as a persistent transient error", and §3.1
// defines 4.X.X as a condition whose "persistence … has caused abandonment" of the
// delivery; RFC 3464 §2.3.3 reports the outcome as failed.
//
// Delay warning: a "delayed" DSN (RFC 3464 Action: delayed) is due once, delay_warning after
// queueing (default 4 h; std::nullopt switches it off), if the recipient is still pending
// then and the warning comes before the lifetime ends. Postfix's default is off
// (delay_warning_time = 0h); Sendmail and Exchange use 4 h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"

namespace mailsim::queue {

inline constexpr std::string_view expired_status = "4.4.7";

enum class retry_kind { postfix_like, exim_like, fixed, list };

// One Exim-style rule: applies to failures at an age below `until`.
struct retry_phase {
  core::duration_ms until{0};
  core::duration_ms interval{0};  // the gap, or the smallest gap when geometric
  // Per mille: 1000 keeps the gap fixed; 1500 multiplies the previous gap by 1.5 each time
  // (integer arithmetic, so that every platform computes the same instants).
  std::uint32_t factor_permille = 1000;

  bool operator==(const retry_phase&) const = default;
};

struct retry_profile {
  retry_kind kind = retry_kind::postfix_like;
  core::duration_ms lifetime{5LL * 24 * 3600 * 1000};
  std::optional<core::duration_ms> delay_warning = core::duration_ms{4LL * 3600 * 1000};
  // postfix_like
  core::duration_ms min_backoff{300'000};
  core::duration_ms max_backoff{4'000'000};
  // exim_like and fixed; a fixed profile is one phase whose `until` is the lifetime. Past the
  // last phase's `until`, the last phase goes on until the lifetime ends.
  std::vector<retry_phase> phases;
  // list: strictly increasing, all > 0.
  std::vector<core::duration_ms> offsets;

  bool operator==(const retry_profile&) const = default;
};

retry_profile postfix_like_profile();
retry_profile exim_like_profile();
retry_profile fixed_profile(core::duration_ms interval,
                            core::duration_ms lifetime = core::duration_ms{5LL * 24 * 3600 * 1000});
// `lifetime` defaults to the last offset.
retry_profile list_profile(std::vector<core::duration_ms> offsets,
                           std::optional<core::duration_ms> lifetime = std::nullopt);

struct retry_decision {
  bool expired = false;
  core::time_point next_attempt_at{};  // when not expired; always after last_attempt_at
};

// attempts_made == 0: the first attempt is due at queued_at. Otherwise the recipient's last
// attempt (made at last_attempt_at) failed transiently: expired, or the next instant.
retry_decision next_attempt(const retry_profile& profile, core::time_point queued_at,
                            std::uint32_t attempts_made, core::time_point last_attempt_at);

// When the "delayed" DSN is due, or nullopt when the profile sends none.
std::optional<core::time_point> delay_warning_at(const retry_profile& profile,
                                                 core::time_point queued_at);

// The profile of each destination domain, and the one for every other domain.
struct retry_policy {
  retry_profile fallback = postfix_like_profile();
  std::map<std::string, retry_profile, std::less<>> per_domain;  // lower-case domain → profile

  const retry_profile& for_domain(std::string_view domain) const;
};

// Profile specs, as written in configuration and scenario files:
//   postfix[:option,...]              options min=, max=, lifetime=, warn=
//   exim[:option,...]                 options lifetime=, warn=
//   fixed:<interval>[,option,...]     options lifetime=, warn=
//   list:<offset>,...[,option,...]    options lifetime=, warn=
// Durations: one or more <digits><unit> parts, largest unit first, units ms, s, m, h, d
// (the grammar of docs/configuration.md, e.g. 90s, 10m, 1h30m, 2d). warn=off (or 0) sends no
// delay warning. Examples: "postfix", "exim", "fixed:10m,lifetime=2d", "list:1m,5m,30m,2h".
struct retry_profile_parse {
  std::optional<retry_profile> value;
  std::string error;  // what was expected, when value is empty
};
retry_profile_parse parse_retry_profile(std::string_view spec);

// The spec of a profile; parse_retry_profile(format_retry_profile(p)).value == p for every
// profile that parse_retry_profile can produce.
std::string format_retry_profile(const retry_profile& profile);

}  // namespace mailsim::queue
