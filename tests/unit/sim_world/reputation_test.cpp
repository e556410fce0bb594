// The reputation book (reputation.hpp): warm-up caps, good and bad days, scores and
// verdicts, the worst of IP, network and domain, the history window and its day counting.
#include "simulator/world/reputation.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsim::sim::world {
namespace {

using core::duration_ms;
using action = reputation_verdict::action;

const core::time_point start = core::from_epoch_ms(1'700'000'000'000);
constexpr duration_ms hour{3600'000};
constexpr duration_ms day{24 * 3600'000};

const std::string ip = "192.0.2.10";
const std::string domain = "sender.test";

// Most tests check the score on the day's own traffic: the book judges today as well, and
// rejects below 0.25 (1.7x a signal's line).
reputation_settings same_day() {
  reputation_settings s;
  s.completed_days_only = false;
  s.reject_below = 0.25;
  return s;
}

reputation_settings capped(std::size_t cap) {
  reputation_settings s = same_day();
  s.new_ip_daily_cap = cap;
  return s;
}

void accept_n(reputation_book& book, std::size_t n, core::time_point at,
              const std::string& from = ip, const std::string& dom = domain) {
  for (std::size_t i = 0; i < n; ++i) book.note_accepted(from, dom, at);
}

TEST(Reputation, NewIpMaySendItsFirstDayCapThenIsDeferred) {
  reputation_book book(capped(100), start);
  EXPECT_EQ(book.daily_cap(ip, start), 100u);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(book.check(ip, domain, start + hour).what, action::accept) << i;
    book.note_accepted(ip, domain, start + hour);
  }
  const reputation_verdict v = book.check(ip, domain, start + hour);
  EXPECT_EQ(v.what, action::defer);
  EXPECT_EQ(v.reason, "daily cap 100 reached");
  // Another IP of the same network has its own cap.
  EXPECT_EQ(book.check("192.0.2.11", domain, start + hour).what, action::accept);
}

TEST(Reputation, NoCapWhenZero) {
  reputation_book book(capped(0), start);
  accept_n(book, 10'000, start);
  EXPECT_EQ(book.daily_cap(ip, start), 0u);
  EXPECT_EQ(book.check(ip, domain, start).what, action::accept);
}

TEST(Reputation, CapGrowsOnlyAfterGoodActiveDays) {
  reputation_settings s = capped(100);
  s.cap_growth = 1.5;
  reputation_book book(s, start);
  accept_n(book, 100, start);
  EXPECT_EQ(book.daily_cap(ip, start + day), 150u);
  accept_n(book, 150, start + day);
  EXPECT_EQ(book.check(ip, domain, start + day).what, action::defer);
  EXPECT_EQ(book.daily_cap(ip, start + 2 * day), 225u);
  // Days 2 and 3 idle: no growth for them.
  EXPECT_EQ(book.daily_cap(ip, start + 4 * day), 225u);
  accept_n(book, 10, start + 4 * day);
  EXPECT_EQ(book.daily_cap(ip, start + 5 * day), 337u);
}

struct bad_day_case {
  const char* name;
  std::size_t accepted;
  std::size_t unknown;
  std::size_t traps;
  std::size_t complaints;
};

TEST(Reputation, BadDayStopsGrowthAndLowersScore) {
  const bad_day_case cases[] = {
      {"bounce rate", 100, 6, 0, 0},     // 5.7 % > 5 %
      {"complaint rate", 100, 0, 0, 1},  // 1 % > 0.3 %
      {"trap hit", 100, 0, 1, 0},        // 1 ≥ trap_hits_bad 1
  };
  for (const bad_day_case& c : cases) {
    reputation_book book(capped(200), start);
    accept_n(book, c.accepted, start);
    for (std::size_t i = 0; i < c.unknown; ++i) book.note_unknown_recipient(ip, domain, start);
    for (std::size_t i = 0; i < c.traps; ++i) book.note_trap_hit(ip, domain, start);
    for (std::size_t i = 0; i < c.complaints; ++i) book.note_complaint(ip, domain, start);
    EXPECT_EQ(book.daily_cap(ip, start + day), 200u) << c.name;
    EXPECT_LT(book.score(ip, start + day), 1.0) << c.name;
  }
  // Just at the lines is still a good day.
  reputation_book book(capped(200), start);
  accept_n(book, 95, start);
  for (int i = 0; i < 5; ++i) book.note_unknown_recipient(ip, domain, start);
  EXPECT_EQ(book.daily_cap(ip, start + day), 400u);
}

TEST(Reputation, SmallSamplesAreNotJudgedAsRates) {
  reputation_book book(same_day(), start);
  book.note_unknown_recipient(ip, domain, start);  // 1 of 1: not yet a 100 % bounce rate
  EXPECT_NEAR(book.score(ip, start), 0.8, 1e-9);
  EXPECT_EQ(book.check(ip, domain, start).what, action::accept);
  EXPECT_FALSE(book.check(ip, domain, start).junk);
}

TEST(Reputation, VerdictsFollowTheScore) {
  reputation_book book(same_day(), start);
  book.note_trap_hit(ip, "", start);  // ratio 0.5: score 0.8
  reputation_verdict v = book.check(ip, "", start);
  EXPECT_EQ(v.what, action::accept);
  EXPECT_FALSE(v.junk);
  EXPECT_NEAR(v.score, 0.8, 1e-9);
  EXPECT_TRUE(v.reason.empty());

  book.note_trap_hit(ip, "", start);  // ratio 1: score 0.5 < junk_below 0.6
  v = book.check(ip, "", start);
  EXPECT_EQ(v.what, action::accept);
  EXPECT_TRUE(v.junk);
  EXPECT_NEAR(v.score, 0.5, 1e-9);
  EXPECT_EQ(v.reason, "score 0.50 of 192.0.2.10");

  book.note_trap_hit(ip, "", start);
  book.note_trap_hit(ip, "", start);  // ratio 2: score 0.2 < reject_below 0.25
  v = book.check(ip, "", start);
  EXPECT_EQ(v.what, action::reject);
  EXPECT_NEAR(v.score, 0.2, 1e-9);
  EXPECT_EQ(v.reason, "score 0.20 of 192.0.2.10");
}

TEST(Reputation, ScoreWeighsBouncesAndComplaintsOnVolume) {
  reputation_book book(same_day(), start);
  accept_n(book, 950, start);
  for (int i = 0; i < 50; ++i) book.note_unknown_recipient(ip, domain, start);  // 5 %
  EXPECT_NEAR(book.score(ip, start), 0.5, 1e-9);
  for (int i = 0; i < 95; ++i) book.note_complaint(ip, domain, start);  // 10 % ≫ 0.3 %
  EXPECT_LT(book.score(ip, start), 0.01);
  EXPECT_EQ(book.check(ip, domain, start).what, action::reject);
}

TEST(Reputation, TrapHitsCountPerDayWithTraffic) {
  reputation_book book(same_day(), start);
  // A steady sender that hits a trap every fifth day: 6 hits over 30 active days.
  for (int d = 0; d < 30; ++d) {
    accept_n(book, 100, start + d * day);
    if (d % 5 == 0) book.note_trap_hit(ip, domain, start + d * day);
  }
  EXPECT_NEAR(book.score(ip, start + 29 * day), 1.0 / (1.0 + 0.2 * 0.2), 1e-9);
  // One that hits two every day is over its line every day.
  reputation_book bad(same_day(), start);
  for (int d = 0; d < 30; ++d) {
    accept_n(bad, 100, start + d * day);
    for (int i = 0; i < 2; ++i) bad.note_trap_hit(ip, domain, start + d * day);
  }
  EXPECT_EQ(bad.check(ip, domain, start + 29 * day).what, action::reject);
}

TEST(Reputation, WorstOfIpNetworkAndDomainDecides) {
  reputation_book book(same_day(), start);
  for (int i = 0; i < 2; ++i) book.note_trap_hit(ip, "other.test", start);
  // A neighbour in the same /24, with a clean domain, is judged by its network.
  reputation_verdict v = book.check("192.0.2.77", "clean.test", start);
  EXPECT_TRUE(v.junk);
  EXPECT_EQ(v.reason, "score 0.50 of 192.0.2.0/24");
  EXPECT_NEAR(book.score("192.0.2.0/24", start), 0.5, 1e-9);
  EXPECT_NEAR(book.score("192.0.2.200/24", start), 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(book.score("192.0.2.77", start), 1.0);
  // An address elsewhere signing for the tainted domain is judged by the domain.
  v = book.check("198.51.100.1", "Other.TEST", start);
  EXPECT_TRUE(v.junk);
  EXPECT_EQ(v.reason, "score 0.50 of other.test");
  // Nobody else is touched.
  v = book.check("198.51.100.1", "clean.test", start);
  EXPECT_FALSE(v.junk);
  EXPECT_EQ(v.what, action::accept);
  EXPECT_DOUBLE_EQ(book.score("clean.test", start), 1.0);
}

// The book remembers the keys of the names it was given; thousands of names later (the
// memory is emptied past 4096), the history is still found by the same names whatever
// their case, and a name that is no address still counts as itself.
TEST(Reputation, ManyNamesKeepTheirHistory) {
  reputation_book book(capped(50), start);
  for (int i = 0; i < 2; ++i) book.note_trap_hit(ip, "Tainted.TEST", start);
  book.note_accepted("mx-not-an-ip", "", start);
  for (int n = 0; n < 5000; ++n) {
    const std::string other =
        "10." + std::to_string(n / 250) + "." + std::to_string(n % 250) + ".1";
    book.note_accepted(other, "d" + std::to_string(n) + ".test", start);
    ASSERT_EQ(book.check(other, "d" + std::to_string(n) + ".test", start).what, action::accept);
  }
  reputation_verdict v = book.check(ip, "clean.test", start);
  EXPECT_TRUE(v.junk);
  EXPECT_EQ(v.reason, "score 0.50 of 192.0.2.10");
  v = book.check("198.51.100.1", "tainted.test", start);
  EXPECT_EQ(v.reason, "score 0.50 of tainted.test");
  EXPECT_EQ(book.daily_cap(ip, start), 50u);  // a trap hit is not an accepted message
  EXPECT_EQ(book.daily_cap("mx-not-an-ip", start), 50u);
  accept_n(book, 49, start, "mx-not-an-ip", "");
  EXPECT_EQ(book.check("mx-not-an-ip", "", start).what, action::defer);
}

TEST(Reputation, Ipv6AddressesShareTheirSlash64) {
  reputation_book book(same_day(), start);
  for (int i = 0; i < 2; ++i) book.note_trap_hit("2001:db8:1:2::5", "", start);
  EXPECT_TRUE(book.check("2001:DB8:1:2::99", "", start).junk);
  EXPECT_NEAR(book.score("2001:db8:1:2::/64", start), 0.5, 1e-9);
  EXPECT_FALSE(book.check("2001:db8:1:3::5", "", start).junk);
}

TEST(Reputation, HistoryOlderThanTheWindowIsForgotten) {
  reputation_settings s = same_day();
  s.history_days = 30;
  reputation_book book(s, start);
  for (int i = 0; i < 4; ++i) book.note_trap_hit(ip, domain, start);
  book.note_trap_hit(ip, domain, start + 10 * day);
  EXPECT_EQ(book.check(ip, domain, start + 29 * day).what, action::reject);  // 5 hits
  // Day 30: day 0 has left the window; the hit of day 10 stays until day 40.
  EXPECT_NEAR(book.score(ip, start + 30 * day), 0.8, 1e-9);
  EXPECT_NEAR(book.score(domain, start + 39 * day), 0.8, 1e-9);
  EXPECT_DOUBLE_EQ(book.score(ip, start + 40 * day), 1.0);
}

TEST(Reputation, RunningTotalsMatchTheWindowOverALongRun) {
  reputation_settings s = same_day();
  s.history_days = 7;
  reputation_book book(s, start);
  // Every day 98 accepted and 2 unknown; every tenth day also 8 more unknown.
  for (int d = 0; d < 365; ++d) {
    const core::time_point t = start + d * day + hour;
    accept_n(book, 98, t);
    const int unknown = d % 10 == 0 ? 10 : 2;
    for (int i = 0; i < unknown; ++i) book.note_unknown_recipient(ip, domain, t);
  }
  // Days 358..364 are in the window; day 360 is a tenth day: 686 accepted, 22 unknown.
  const double rate = 22.0 / 708.0 / 0.05;
  EXPECT_NEAR(book.score(ip, start + 364 * day), 1.0 / (1.0 + rate * rate), 1e-9);
}

// Days noted out of order (a caller's clock is its own) land on their own day: the same
// scores as in order, and the same days leave the window.
TEST(Reputation, DaysNotedOutOfOrderCountOnTheirDay) {
  reputation_book in_order(same_day(), start), shuffled(same_day(), start);
  const int order[] = {2, 0, 1, 0};
  for (int d : {0, 0, 1, 2}) in_order.note_trap_hit(ip, domain, start + d * day);
  for (int d : order) shuffled.note_trap_hit(ip, domain, start + d * day);
  accept_n(in_order, 10, start + 2 * day);
  accept_n(shuffled, 10, start + 2 * day);
  EXPECT_LT(shuffled.score(ip, start + 2 * day), 1.0);
  for (int d : {2, 29, 30, 31, 32}) {  // in time order: the book forgets as it reads
    const core::time_point t = start + d * day;
    EXPECT_DOUBLE_EQ(in_order.score(ip, t), shuffled.score(ip, t)) << "day " << d;
    EXPECT_EQ(in_order.check(ip, domain, t).reason, shuffled.check(ip, domain, t).reason);
  }
  EXPECT_DOUBLE_EQ(shuffled.score(ip, start + 32 * day), 1.0);  // every day has left
}

TEST(Reputation, DaysCountFromTheStartOnVirtualTime) {
  const core::time_point late_start = start + 23 * hour;  // any time of day
  reputation_book book(capped(10), late_start);
  accept_n(book, 10, late_start);
  EXPECT_EQ(book.daily_cap(ip, late_start + day - duration_ms{1}), 10u);
  EXPECT_EQ(book.check(ip, domain, late_start + day - duration_ms{1}).what, action::defer);
  EXPECT_EQ(book.daily_cap(ip, late_start + day), 20u);
  EXPECT_EQ(book.check(ip, domain, late_start + day).what, action::accept);
}

TEST(Reputation, NoHistoryStillCountsToday) {
  reputation_settings s = capped(5);
  s.history_days = 0;
  reputation_book book(s, start);
  accept_n(book, 5, start);
  EXPECT_EQ(book.check(ip, domain, start).what, action::defer);
  for (int i = 0; i < 4; ++i) book.note_trap_hit(ip, domain, start);
  EXPECT_NEAR(book.score(ip, start + hour), 0.2, 1e-9);
  EXPECT_DOUBLE_EQ(book.score(ip, start + day), 1.0);
}

TEST(Reputation, AnIpIdleLongerThanTheWindowWarmsUpAgain) {
  reputation_settings s = capped(100);
  s.history_days = 30;
  reputation_book book(s, start);
  accept_n(book, 100, start);
  accept_n(book, 200, start + day);
  EXPECT_EQ(book.daily_cap(ip, start + 2 * day), 400u);
  accept_n(book, 1, start + 2 * day);
  // A look on an idle day does not count as activity.
  EXPECT_EQ(book.daily_cap(ip, start + 10 * day), 800u);
  EXPECT_EQ(book.daily_cap(ip, start + 31 * day), 800u);  // day 2 is still in the window
  EXPECT_EQ(book.daily_cap(ip, start + 32 * day), 100u);  // it has left: new again
  accept_n(book, 100, start + 32 * day);
  EXPECT_EQ(book.check(ip, domain, start + 32 * day).what, action::defer);
}

}  // namespace
}  // namespace mailsim::sim::world

namespace mailsim::sim::world {
namespace {

// By default (as providers do) the score is recomputed once a day: a bad day costs from the
// next day on, and the verdicts of the day itself are still those of the days before.
TEST(Reputation, ByDefaultOnlyCompletedDaysAreJudged) {
  reputation_book book(reputation_settings{}, start);
  for (int i = 0; i < 4; ++i) book.note_trap_hit(ip, "", start);
  reputation_verdict v = book.check(ip, "", start + hour);
  EXPECT_EQ(v.what, reputation_verdict::action::accept);
  EXPECT_FALSE(v.junk);
  v = book.check(ip, "", start + day);
  EXPECT_EQ(v.what, reputation_verdict::action::accept);  // score 0.2: Junk, not rejected
  EXPECT_TRUE(v.junk);
  EXPECT_NEAR(v.score, 0.2, 1e-9);
}

}  // namespace
}  // namespace mailsim::sim::world
