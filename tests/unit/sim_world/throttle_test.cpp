// Throttle windows per IP, /24, sender domain and recipient, and the escalation to 5xx.
#include <gtest/gtest.h>

#include "simulator/world/throttle.hpp"

namespace mailsim::sim::world {
namespace {

using core::duration_ms;
using action = throttle_verdict::action;

const core::time_point t0{duration_ms{1'700'000'000'000}};

core::ip_address ip(const char* text) {
  return *core::parse_ip(text);
}

TEST(Throttle, NoLimitsNoThrottle) {
  throttle t(throttle_spec{});
  EXPECT_FALSE(t.enabled());
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0).passed());
  }
}

TEST(Throttle, PerIpWindowDefersAndFreesLater) {
  throttle_spec s;
  s.per_ip = {2, duration_ms{60'000}};
  throttle t(s);
  EXPECT_TRUE(t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0).passed());
  EXPECT_TRUE(t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0).passed());
  const throttle_verdict v = t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0);
  EXPECT_EQ(v.what, action::defer);
  EXPECT_EQ(v.rule, "per_ip");
  EXPECT_TRUE(t.check_message(ip("192.0.2.2"), "192.0.2.2", "s.sim", t0).passed());
  EXPECT_TRUE(
      t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0 + duration_ms{61'000}).passed());
}

TEST(Throttle, PerNet24CountsTheWholeSubnet) {
  throttle_spec s;
  s.per_net24 = {2, duration_ms{60'000}};
  throttle t(s);
  EXPECT_TRUE(t.check_message(ip("192.0.2.1"), "192.0.2.1", "", t0).passed());
  EXPECT_TRUE(t.check_message(ip("192.0.2.2"), "192.0.2.2", "", t0).passed());
  EXPECT_EQ(t.check_message(ip("192.0.2.3"), "192.0.2.3", "", t0).rule, "per_net24");
  EXPECT_TRUE(t.check_message(ip("192.0.3.1"), "192.0.3.1", "", t0).passed());
}

TEST(Throttle, PerDomainCountsTheSenderDomainAcrossIps) {
  throttle_spec s;
  s.per_domain = {1, duration_ms{60'000}};
  s.per_ip = {10, duration_ms{60'000}};
  throttle t(s);
  EXPECT_TRUE(t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", t0).passed());
  EXPECT_EQ(t.check_message(ip("198.51.100.1"), "198.51.100.1", "s.sim", t0).rule, "per_domain");
  EXPECT_TRUE(t.check_message(ip("198.51.100.1"), "198.51.100.1", "other.sim", t0).passed());
}

TEST(Throttle, PerRecipient) {
  throttle_spec s;
  s.per_recipient = {1, duration_ms{60'000}};
  throttle t(s);
  EXPECT_TRUE(t.check_recipient(ip("192.0.2.1"), "192.0.2.1", "u1@d.sim", t0).passed());
  EXPECT_EQ(t.check_recipient(ip("192.0.2.9"), "192.0.2.9", "U1@d.sim", t0).rule, "per_recipient");
  EXPECT_TRUE(t.check_recipient(ip("192.0.2.1"), "192.0.2.1", "u2@d.sim", t0).passed());
}

TEST(Throttle, HammeringEscalatesToRejectionUntilTheWindowPasses) {
  throttle_spec s;
  s.per_ip = {1, duration_ms{60'000}};
  s.deferrals_before_reject = 2;
  throttle t(s);
  const auto send = [&](core::time_point at) {
    return t.check_message(ip("192.0.2.1"), "192.0.2.1", "s.sim", at).what;
  };
  EXPECT_EQ(send(t0), action::pass);
  EXPECT_EQ(send(t0 + duration_ms{1'000}), action::defer);
  EXPECT_EQ(send(t0 + duration_ms{2'000}), action::defer);
  EXPECT_EQ(send(t0 + duration_ms{3'000}), action::reject);
  EXPECT_EQ(send(t0 + duration_ms{4'000}), action::reject);
  EXPECT_EQ(send(t0 + duration_ms{200'000}), action::pass);  // window over, strikes gone
}

}  // namespace
}  // namespace mailsim::sim::world
