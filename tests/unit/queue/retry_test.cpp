#include "reference-server/queue/retry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mailsim::queue {
namespace {

using core::duration_ms;
using core::time_point;

constexpr std::int64_t s = 1000;
constexpr std::int64_t minute = 60 * s;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;

const time_point queued = core::from_epoch_ms(1'700'000'000'000);

time_point at(std::int64_t offset_ms) {
  return queued + duration_ms{offset_ms};
}

// Offsets (ms from queueing) of every attempt when each attempt is made exactly when due
// and fails transiently, until the profile gives up; the last one is the attempt after
// which the recipient expired.
std::vector<std::int64_t> attempts_until_expiry(const retry_profile& profile,
                                                std::size_t max = 1000) {
  std::vector<std::int64_t> out;
  std::uint32_t made = 0;
  time_point last{};
  while (out.size() < max) {
    const auto decision = next_attempt(profile, queued, made, last);
    if (decision.expired) return out;
    out.push_back((decision.next_attempt_at - queued).count());
    last = decision.next_attempt_at;
    ++made;
  }
  return out;
}

std::vector<std::int64_t> first(const std::vector<std::int64_t>& all, std::size_t n) {
  return {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.size()))};
}

TEST(retry, first_attempt_is_due_at_queueing) {
  for (const auto& profile :
       {postfix_like_profile(), exim_like_profile(), fixed_profile(duration_ms{10 * minute}),
        list_profile({duration_ms{minute}})}) {
    const auto decision = next_attempt(profile, queued, 0, time_point{});
    EXPECT_FALSE(decision.expired);
    EXPECT_EQ(decision.next_attempt_at, queued);
  }
}

TEST(retry, postfix_waits_as_long_as_the_message_is_old) {
  // qmgr_active.c: delay = clamp(age, 300 s, 4000 s) after each failed attempt.
  const auto times = attempts_until_expiry(postfix_like_profile());
  EXPECT_EQ(first(times, 8), (std::vector<std::int64_t>{0, 300 * s, 600 * s, 1200 * s, 2400 * s,
                                                        4800 * s, 8800 * s, 12800 * s}));
  // Then every 4000 s: the first instant at or past 5 days fails the recipient.
  for (std::size_t i = 6; i < times.size(); ++i) EXPECT_EQ(times[i] - times[i - 1], 4000 * s);
  EXPECT_LT(times[times.size() - 2], 5 * day);
  EXPECT_GE(times.back(), 5 * day);
  EXPECT_EQ(times.size(), 113u);  // 4800 + 4000·107 = 432,800 s is the first past 432,000 s
}

TEST(retry, postfix_measures_from_the_actual_attempt) {
  const auto profile = postfix_like_profile();
  // An attempt that came late (the deliverer was busy) waits as long as the message's age.
  EXPECT_EQ(next_attempt(profile, queued, 1, at(700 * s)).next_attempt_at, at(1400 * s));
  // An age below the minimum still waits the minimum; the cap holds for old messages.
  EXPECT_EQ(next_attempt(profile, queued, 1, at(10 * s)).next_attempt_at, at(310 * s));
  EXPECT_EQ(next_attempt(profile, queued, 9, at(2 * day)).next_attempt_at, at(2 * day + 4000 * s));
}

TEST(retry, exim_follows_its_default_rule) {
  const auto times = attempts_until_expiry(exim_like_profile());
  // F,2h,15m: every 15 minutes up to two hours.
  std::vector<std::int64_t> expected;
  for (int i = 0; i <= 8; ++i) expected.push_back(i * 15 * minute);
  // G,16h,1h,1.5: 1 h, then ×1.5 each time while younger than 16 h.
  for (const std::int64_t t :
       {3 * hour, 4 * hour + 30 * minute, 6 * hour + 45 * minute, 10 * hour + 7 * minute + 30 * s,
        15 * hour + 11 * minute + 15 * s, 22 * hour + 46 * minute + 52 * s + 500}) {
    expected.push_back(t);
  }
  ASSERT_GE(times.size(), expected.size() + 1);
  EXPECT_EQ(first(times, expected.size()), expected);
  // F,4d,6h: every 6 hours, until the 4-day lifetime.
  for (std::size_t i = expected.size(); i < times.size(); ++i) {
    EXPECT_EQ(times[i] - times[i - 1], 6 * hour) << i;
  }
  EXPECT_LT(times[times.size() - 2], 4 * day);
  EXPECT_GE(times.back(), 4 * day);
}

TEST(retry, schedules_skip_instants_missed_by_a_late_attempt) {
  const auto exim = exim_like_profile();
  // Tried at 40 min instead of 30: the next instant of the schedule, not a burst.
  EXPECT_EQ(next_attempt(exim, queued, 3, at(40 * minute)).next_attempt_at, at(45 * minute));
  // Exactly on an instant: the following one.
  EXPECT_EQ(next_attempt(exim, queued, 3, at(45 * minute)).next_attempt_at, at(60 * minute));
  const auto fixed = fixed_profile(duration_ms{10 * minute}, duration_ms{2 * day});
  EXPECT_EQ(next_attempt(fixed, queued, 2, at(25 * minute)).next_attempt_at, at(30 * minute));
  EXPECT_EQ(next_attempt(fixed, queued, 200, at(day + 1)).next_attempt_at, at(day + 10 * minute));
}

TEST(retry, fixed_retries_at_its_interval_until_the_lifetime) {
  const auto times =
      attempts_until_expiry(fixed_profile(duration_ms{10 * minute}, duration_ms{hour}));
  EXPECT_EQ(times, (std::vector<std::int64_t>{0, 10 * minute, 20 * minute, 30 * minute, 40 * minute,
                                              50 * minute, 60 * minute}));
}

TEST(retry, list_tries_at_its_offsets_and_expires_after_the_last) {
  const auto profile = list_profile({duration_ms{minute}, duration_ms{5 * minute},
                                     duration_ms{30 * minute}, duration_ms{2 * hour}});
  EXPECT_EQ(profile.lifetime, duration_ms{2 * hour});
  EXPECT_EQ(attempts_until_expiry(profile),
            (std::vector<std::int64_t>{0, minute, 5 * minute, 30 * minute, 2 * hour}));
}

TEST(retry, list_with_a_longer_lifetime_repeats_its_last_gap) {
  const auto profile =
      list_profile({duration_ms{10 * minute}, duration_ms{30 * minute}}, duration_ms{90 * minute});
  EXPECT_EQ(attempts_until_expiry(profile),
            (std::vector<std::int64_t>{0, 10 * minute, 30 * minute, 50 * minute, 70 * minute,
                                       90 * minute}));
}

TEST(retry, a_zero_lifetime_gives_up_after_the_first_failure) {
  auto profile = postfix_like_profile();
  profile.lifetime = duration_ms{0};
  EXPECT_EQ(attempts_until_expiry(profile), (std::vector<std::int64_t>{0}));
}

TEST(retry, delay_warning_is_due_once_before_the_lifetime) {
  EXPECT_EQ(delay_warning_at(postfix_like_profile(), queued), at(4 * hour));
  auto off = postfix_like_profile();
  off.delay_warning.reset();
  EXPECT_EQ(delay_warning_at(off, queued), std::nullopt);
  // A warning at or after the end of the lifetime would come with the bounce: none.
  const auto short_list = list_profile({duration_ms{minute}, duration_ms{2 * hour}});
  EXPECT_EQ(delay_warning_at(short_list, queued), std::nullopt);
}

TEST(retry, policy_picks_the_profile_of_the_destination) {
  retry_policy policy;
  policy.per_domain.emplace("greylist.test", exim_like_profile());
  EXPECT_EQ(policy.for_domain("greylist.test").kind, retry_kind::exim_like);
  EXPECT_EQ(policy.for_domain("other.test").kind, retry_kind::postfix_like);
}

TEST(retry_spec, parses_each_kind) {
  const auto postfix = parse_retry_profile("postfix");
  ASSERT_TRUE(postfix.value) << postfix.error;
  EXPECT_EQ(*postfix.value, postfix_like_profile());
  const auto exim = parse_retry_profile("exim");
  ASSERT_TRUE(exim.value) << exim.error;
  EXPECT_EQ(*exim.value, exim_like_profile());
  const auto fixed = parse_retry_profile("fixed:10m,lifetime=2d");
  ASSERT_TRUE(fixed.value) << fixed.error;
  EXPECT_EQ(*fixed.value, fixed_profile(duration_ms{10 * minute}, duration_ms{2 * day}));
  const auto list = parse_retry_profile("list:1m,5m,30m,2h");
  ASSERT_TRUE(list.value) << list.error;
  EXPECT_EQ(*list.value, list_profile({duration_ms{minute}, duration_ms{5 * minute},
                                       duration_ms{30 * minute}, duration_ms{2 * hour}}));
}

TEST(retry_spec, parses_options) {
  const auto parsed = parse_retry_profile(" postfix:min=1m, max=1h30m ,lifetime=3d,warn=off ");
  ASSERT_TRUE(parsed.value) << parsed.error;
  EXPECT_EQ(parsed.value->min_backoff, duration_ms{minute});
  EXPECT_EQ(parsed.value->max_backoff, duration_ms{90 * minute});
  EXPECT_EQ(parsed.value->lifetime, duration_ms{3 * day});
  EXPECT_EQ(parsed.value->delay_warning, std::nullopt);
  const auto warn = parse_retry_profile("exim:warn=30m");
  ASSERT_TRUE(warn.value) << warn.error;
  EXPECT_EQ(warn.value->delay_warning, duration_ms{30 * minute});
  const auto list = parse_retry_profile("list:10m,30m,lifetime=90m");
  ASSERT_TRUE(list.value) << list.error;
  EXPECT_EQ(list.value->lifetime, duration_ms{90 * minute});
}

TEST(retry_spec, errors_say_what_was_expected) {
  const struct {
    const char* spec;
    const char* expected;
  } cases[] = {
      {"", "expected postfix, exim, fixed:<interval> or list:<offset>,..."},
      {"sendmail", "unknown retry profile \"sendmail\""},
      {"fixed", "fixed needs an interval, e.g. \"fixed:10m\""},
      {"fixed:", "fixed needs an interval"},
      {"fixed:10m,20m", "fixed needs one interval"},
      {"fixed:0", "the interval must be above 0"},
      {"fixed:10x", "\"10x\" is not a duration (expected e.g. 90s, 10m, 1h30m, 2d)"},
      {"fixed:10M", "\"10M\" is not a duration"},
      {"fixed:30s1m", "\"30s1m\" is not a duration"},
      {"list", "list needs offsets"},
      {"list:5m,1m", "list offsets must grow"},
      {"list:1m,1m", "list offsets must grow"},
      {"list:1m,2h,lifetime=1h", "lifetime 1h ends before the last offset 2h"},
      {"list:1m,,2m", "empty item"},
      {"postfix:10m", "postfix takes only options"},
      {"postfix:min=0", "min= must be above 0"},
      {"postfix:min=1h,max=10m", "max= must not be below min="},
      {"postfix:speed=2",
       "unknown option \"speed\" for postfix: expected min=, max=, lifetime= or warn="},
      {"exim:min=1m", "unknown option \"min\" for exim: expected lifetime= or warn="},
      {"exim:lifetime=forever", "lifetime=: \"forever\" is not a duration"},
      {"fixed:99999999999d", "is not a duration"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_retry_profile(c.spec);
    EXPECT_FALSE(parsed.value) << c.spec;
    EXPECT_NE(parsed.error.find(c.expected), std::string::npos) << c.spec << " → " << parsed.error;
    EXPECT_EQ(parsed.error.rfind("retry profile \"", 0), 0u) << parsed.error;
  }
}

TEST(retry_spec, format_gives_a_spec_that_parses_back) {
  for (const char* spec : {"postfix", "exim", "fixed:10m", "list:1m,5m,30m,2h",
                           "postfix:min=1m,max=1h,lifetime=3d,warn=off", "exim:lifetime=5d",
                           "fixed:1h30m,lifetime=2d,warn=6h", "list:10m,30m,lifetime=1h30m"}) {
    const auto parsed = parse_retry_profile(spec);
    ASSERT_TRUE(parsed.value) << spec << ": " << parsed.error;
    EXPECT_EQ(format_retry_profile(*parsed.value), spec);
    const auto again = parse_retry_profile(format_retry_profile(*parsed.value));
    ASSERT_TRUE(again.value) << again.error;
    EXPECT_EQ(*again.value, *parsed.value);
  }
}

}  // namespace
}  // namespace mailsim::queue
