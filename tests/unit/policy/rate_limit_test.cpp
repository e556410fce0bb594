// Rate windows: limits per address, subnet and recipient, when a limit frees, that refused
// attempts do not count, bounded keys.
#include "reference-server/policy/rate_limit.hpp"

#include <gtest/gtest.h>

namespace mailsim::policy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const core::time_point t0 = core::from_epoch_ms(1'700'000'000'000);

core::ip_address ip(const char* text) {
  return *core::parse_ip(text);
}

rate_limiter limiter(std::vector<rate_rule> rules, std::size_t keys_max = 50'000) {
  rate_options o;
  o.rules = std::move(rules);
  o.keys_max = keys_max;
  return rate_limiter(std::move(o));
}

rate_rule conn_per_ip(std::uint32_t max, seconds window = seconds{60}) {
  return make_rate_rule("conn_ip", rate_event::connection, rate_scope::ip, window, max);
}

TEST(RateLimit, NoRulesNeverLimit) {
  rate_limiter r = limiter({});
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0).over);
  EXPECT_EQ(r.size(), 0u);
}

TEST(RateLimit, ConnectionsPastTheMaxAreRefusedWith421) {
  rate_limiter r = limiter({conn_per_ip(3)});
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0).over);
  rate_verdict v = r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  EXPECT_TRUE(v.over);
  EXPECT_EQ(v.rule, "conn_ip");
  EXPECT_EQ(v.count, 3u);
  EXPECT_EQ(v.max, 3u);
  EXPECT_EQ(v.reply.code, 421);
  EXPECT_EQ(v.reply.enhanced, "4.7.0");
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.2"), t0).over);
}

TEST(RateLimit, FreesExactlyWhenReportedAndRefusalsDoNotCount) {
  rate_limiter r = limiter({conn_per_ip(2)});
  r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  rate_verdict v = r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  ASSERT_TRUE(v.frees_at.has_value());
  EXPECT_GT(*v.frees_at, t0 + seconds{50});  // the window slides in 6 s steps
  EXPECT_LE(*v.frees_at, t0 + seconds{60});
  for (int i = 0; i < 5; ++i)  // hammering while over pushes nothing further out
    EXPECT_TRUE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{i}).over);
  EXPECT_TRUE(
      r.check_and_count(rate_event::connection, ip("192.0.2.1"), *v.frees_at - milliseconds{1})
          .over);
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), *v.frees_at).over);
}

TEST(RateLimit, WindowSlidesEventsLeaveOneByOne) {
  rate_limiter r = limiter({conn_per_ip(2)});
  r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{30});
  rate_verdict v = r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{45});
  ASSERT_TRUE(v.over);
  EXPECT_LE(*v.frees_at, t0 + seconds{60});  // when the first one leaves, not the second
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{61}).over);
  EXPECT_TRUE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{62}).over);
}

TEST(RateLimit, SubnetRulesShareTheSlash24) {
  rate_limiter r = limiter(
      {make_rate_rule("msg_net", rate_event::message, rate_scope::subnet, seconds{3600}, 2)});
  EXPECT_FALSE(r.check_and_count(rate_event::message, ip("192.0.2.1"), t0).over);
  EXPECT_FALSE(r.check_and_count(rate_event::message, ip("192.0.2.99"), t0).over);
  rate_verdict v = r.check_and_count(rate_event::message, ip("192.0.2.200"), t0);
  EXPECT_TRUE(v.over);
  EXPECT_EQ(v.reply.code, 450);
  EXPECT_EQ(v.reply.enhanced, "4.7.1");
  EXPECT_FALSE(r.check_and_count(rate_event::message, ip("192.0.3.1"), t0).over);
}

TEST(RateLimit, Ipv6SubnetIsTheSlash64) {
  rate_limiter r = limiter(
      {make_rate_rule("conn_net", rate_event::connection, rate_scope::subnet, seconds{60}, 1)});
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("2001:db8:0:1::1"), t0).over);
  EXPECT_TRUE(r.check_and_count(rate_event::connection, ip("2001:db8:0:1::2"), t0).over);
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("2001:db8:0:2::1"), t0).over);
}

TEST(RateLimit, RecipientRulesKeyOnTheRecipientAddress) {
  rate_limiter r = limiter(
      {make_rate_rule("rcpt_min", rate_event::recipient, rate_scope::recipient, seconds{60}, 1)});
  EXPECT_FALSE(r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0, "Bob@x.example").over);
  rate_verdict v =
      r.check_and_count(rate_event::recipient, ip("198.51.100.1"), t0, "bob@x.example");
  EXPECT_TRUE(v.over);
  EXPECT_EQ(v.reply.code, 450);
  EXPECT_EQ(v.reply.enhanced, "4.2.1");
  EXPECT_FALSE(r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0, "eve@x.example").over);
  // No recipient given: the rule does not apply.
  EXPECT_FALSE(r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0).over);
}

TEST(RateLimit, EventsOnlyCountUnderTheirOwnRules) {
  rate_limiter r = limiter({conn_per_ip(1)});
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(r.check_and_count(rate_event::message, ip("192.0.2.1"), t0).over);
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0).over);
}

TEST(RateLimit, FirstTrippingRuleIsReportedAndNothingIsCounted) {
  rate_limiter r = limiter(
      {make_rate_rule("rcpt_ip", rate_event::recipient, rate_scope::ip, seconds{60}, 10),
       make_rate_rule("rcpt_net", rate_event::recipient, rate_scope::subnet, seconds{60}, 1),
       make_rate_rule("rcpt_ip_2", rate_event::recipient, rate_scope::ip, seconds{60}, 1)});
  EXPECT_FALSE(r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0).over);
  rate_verdict v = r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0);
  EXPECT_EQ(v.rule, "rcpt_net");
  EXPECT_EQ(r.current("rcpt_ip", ip("192.0.2.1"), t0), 1u);
}

TEST(RateLimit, BatchLargerThanTheMaxNeverFits) {
  rate_limiter r =
      limiter({make_rate_rule("rcpt_ip", rate_event::recipient, rate_scope::ip, seconds{60}, 5)});
  rate_verdict v = r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0, {}, 6);
  EXPECT_TRUE(v.over);
  EXPECT_FALSE(v.frees_at.has_value());
  EXPECT_FALSE(r.check_and_count(rate_event::recipient, ip("192.0.2.1"), t0, {}, 5).over);
}

TEST(RateLimit, ZeroMaxForbidsTheEvent) {
  rate_limiter r = limiter({conn_per_ip(0)});
  rate_verdict v = r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  EXPECT_TRUE(v.over);
  EXPECT_FALSE(v.frees_at.has_value());
}

TEST(RateLimit, KeysAreBoundedLeastRecentFirst) {
  rate_limiter r = limiter({conn_per_ip(1)}, 2);
  r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0);
  r.check_and_count(rate_event::connection, ip("192.0.2.2"), t0);
  r.check_and_count(rate_event::connection, ip("192.0.2.3"), t0);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.evictions(), 1u);
  EXPECT_FALSE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0).over);  // forgotten
  EXPECT_TRUE(r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0).over);
}

TEST(RateLimit, CurrentCountsWithoutChangingAnything) {
  rate_limiter r = limiter({conn_per_ip(10, seconds{3600})});
  for (int i = 0; i < 4; ++i)
    r.check_and_count(rate_event::connection, ip("192.0.2.1"), t0 + seconds{i * 60});
  EXPECT_EQ(r.current("conn_ip", ip("192.0.2.1"), t0 + seconds{300}), 4u);
  EXPECT_EQ(r.current("conn_ip", ip("192.0.2.1"), t0 + seconds{7200}), 0u);
  EXPECT_EQ(r.current("nope", ip("192.0.2.1"), t0), 0u);
  EXPECT_EQ(r.current("conn_ip", ip("192.0.2.9"), t0), 0u);
}

TEST(RateLimit, DefaultRepliesPerEvent) {
  EXPECT_EQ(default_rate_reply(rate_event::connection, rate_scope::ip).code, 421);
  EXPECT_EQ(default_rate_reply(rate_event::error, rate_scope::ip).code, 421);
  EXPECT_EQ(default_rate_reply(rate_event::message, rate_scope::subnet).enhanced, "4.7.1");
  EXPECT_EQ(default_rate_reply(rate_event::recipient, rate_scope::ip).enhanced, "4.7.1");
  EXPECT_EQ(default_rate_reply(rate_event::recipient, rate_scope::recipient).enhanced, "4.2.1");
}

}  // namespace
}  // namespace mailsim::policy
