// spf_checker, the driver over core::resolver: answers at once when no lookup is needed,
// otherwise calls `done` exactly once from the resolver's callbacks (never from inside the
// call), asks each question once, and survives its own destruction mid-check.
#include <gtest/gtest.h>

#include <optional>

#include "reference-server/auth/spf.hpp"
#include "tests/support/fake_resolver.hpp"
#include "tests/support/manual_loop.hpp"

namespace mailsim::auth {
namespace {

spf_request request(const char* ip, const char* mail_from, const char* helo) {
  spf_request r;
  r.ip = *core::parse_ip(ip);
  r.mail_from = mail_from;
  r.helo = helo;
  return r;
}

class SpfChecker : public ::testing::Test {
 protected:
  SpfChecker() : dns(loop) {
    dns.add("example.org", core::rr_type::txt, "v=spf1 mx include:_spf.example.net -all");
    dns.add_mx("example.org", 10, "mx1.example.org");
    dns.add_mx("example.org", 20, "mx2.example.org");
    dns.add("mx1.example.org", core::rr_type::a, "198.51.100.1");
    dns.add("mx2.example.org", core::rr_type::a, "198.51.100.2");
    dns.add("_spf.example.net", core::rr_type::txt, "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add("helo.example.org", core::rr_type::txt, "v=spf1 a -all");
    dns.add("helo.example.org", core::rr_type::a, "192.0.2.7");
  }

  test::manual_loop loop;
  test::fake_resolver dns;
};

TEST_F(SpfChecker, CallsDoneOnceFromTheLoop) {
  spf_checker checker(dns);
  int calls = 0;
  std::optional<spf_outcome> got;
  std::optional<spf_outcome> now = checker.check_mail_from(
      request("192.0.2.1", "a@example.org", "helo.example.org"), [&](spf_outcome o) {
        ++calls;
        got = std::move(o);
      });
  EXPECT_FALSE(now.has_value());
  EXPECT_EQ(calls, 0);  // never from inside the call
  loop.run_until_idle();
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->result, spf_result::pass);
  EXPECT_EQ(got->mechanism, "include:_spf.example.net");
  // TXT, MX, two A (in one batch), the included TXT: each asked once.
  EXPECT_EQ(dns.query_count(), 5u);
  EXPECT_EQ(dns.query_count("mx1.example.org", core::rr_type::a), 1u);
}

TEST_F(SpfChecker, HeloIdentity) {
  spf_checker checker(dns);
  std::optional<spf_outcome> got;
  EXPECT_FALSE(checker
                   .check_helo(request("192.0.2.7", "a@example.org", "helo.example.org"),
                               [&](spf_outcome o) { got = std::move(o); })
                   .has_value());
  loop.run_until_idle();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->result, spf_result::pass);
  EXPECT_EQ(got->identity, "helo");
  EXPECT_EQ(got->domain, "helo.example.org");
}

TEST_F(SpfChecker, NoLookupNeededAnswersAtOnce) {
  spf_checker checker(dns);
  bool called = false;
  std::optional<spf_outcome> now = checker.check_mail_from(request("192.0.2.1", "", "localhost"),
                                                           [&](spf_outcome) { called = true; });
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->result, spf_result::none);
  loop.run_until_idle();
  EXPECT_FALSE(called);
  EXPECT_EQ(dns.query_count(), 0u);
}

TEST_F(SpfChecker, TheCheckerMayGoAwayFirst) {
  std::optional<spf_outcome> got;
  {
    spf_checker checker(dns);
    (void)checker.check_mail_from(request("198.51.100.2", "a@example.org", "h.example.org"),
                                  [&](spf_outcome o) { got = std::move(o); });
  }
  loop.run_until_idle();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->result, spf_result::pass);
  EXPECT_EQ(got->mechanism, "mx");
}

TEST_F(SpfChecker, OutcomesAreTheSameWithoutTheRecordCache) {
  spf_options uncached;
  uncached.record_cache_entries = 0;
  spf_checker with_cache(dns), without(dns, uncached);
  for (const char* ip : {"192.0.2.1", "198.51.100.2", "203.0.113.9", "192.0.2.1"}) {
    std::optional<spf_outcome> a, b;
    const spf_request r = request(ip, "a@example.org", "h.example.org");
    (void)with_cache.check_mail_from(r, [&](spf_outcome o) { a = std::move(o); });
    (void)without.check_mail_from(r, [&](spf_outcome o) { b = std::move(o); });
    loop.run_until_idle();
    ASSERT_TRUE(a && b) << ip;
    EXPECT_EQ(a->result, b->result) << ip;
    EXPECT_EQ(a->mechanism, b->mechanism) << ip;
    EXPECT_EQ(a->explanation, b->explanation) << ip;
    EXPECT_EQ(a->dns_lookups, b->dns_lookups) << ip;
  }
}

TEST_F(SpfChecker, SlowAndFailingAnswers) {
  dns.set_delay("mx2.example.org", core::duration_ms(5'000));
  dns.fail("_spf.example.net", core::dns_status::timeout);
  spf_checker checker(dns);
  std::optional<spf_outcome> got;
  (void)checker.check_mail_from(request("192.0.2.1", "a@example.org", "h.example.org"),
                                [&](spf_outcome o) { got = std::move(o); });
  loop.run_until_idle();
  EXPECT_FALSE(got.has_value());  // mx2 is still on its way
  loop.advance(core::duration_ms(5'000));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->result, spf_result::temperror);
  EXPECT_NE(got->problem.find("_spf.example.net"), std::string::npos) << got->problem;
}

}  // namespace
}  // namespace mailsim::auth
