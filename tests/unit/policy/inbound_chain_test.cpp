// policy::inbound_session over a fake resolver and a manual loop: each stage's verdict, the
// asynchronous paths (an answer arriving later), and no callback after the session is gone.
#include "reference-server/policy/inbound_chain.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "tests/support/fake_resolver.hpp"
#include "tests/support/manual_loop.hpp"

namespace mailsim::policy {
namespace {

core::ip_address ip(const char* text) { return *core::parse_ip(text); }

constexpr std::string_view plain_message =
    "From: news@good.test\r\nTo: a@example.test\r\nSubject: hello\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@good.test>\r\n\r\nbody\r\n";

class inbound_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dns_.add("good.test", core::rr_type::txt, "v=spf1 ip4:192.0.2.1 -all");
    dns_.add("_dmarc.good.test", core::rr_type::txt, "v=DMARC1; p=reject");
    dns_.add("quarantine.test", core::rr_type::txt, "v=spf1 ip4:192.0.2.1 -all");
    dns_.add("_dmarc.quarantine.test", core::rr_type::txt, "v=DMARC1; p=quarantine");
    dns_.add("9.2.0.192.bl.test", core::rr_type::a, "127.0.0.2");
  }

  void start(inbound_settings settings) {
    settings.authserv_id = "mx.example.test";
    std::string error;
    state_ = inbound_state::create(std::move(settings),
                                   std::make_shared<const auth::public_suffix_list>(), dns_,
                                   loop_.clock(), random_, error);
    ASSERT_TRUE(state_) << error;
  }

  static inbound_settings with_dnsbl() {
    inbound_settings s;
    dnsbl_rule rule;
    rule.list.zone = "bl.test";
    s.dnsbl.push_back(rule);
    return s;
  }

  // Runs a stage to its verdict, from the immediate answer or from the loop.
  template <typename V, typename Start>
  V run(Start start) {
    std::optional<V> later;
    std::optional<V> now = start([&later](V v) { later = std::move(v); });
    if (now) return *now;
    EXPECT_FALSE(later.has_value()) << "done ran inside the call";
    loop_.run_until_idle();
    EXPECT_TRUE(later.has_value());
    return later.value_or(V{});
  }

  stage_verdict mail(inbound_session& s, const char* from) {
    return run<stage_verdict>([&](auto done) { return s.on_mail(from, done); });
  }
  stage_verdict rcpt(inbound_session& s, const char* to) {
    return run<stage_verdict>([&](auto done) { return s.on_rcpt(to, done); });
  }
  message_verdict data(inbound_session& s, std::string_view message) {
    return run<message_verdict>([&](auto done) { return s.on_message(message, done); });
  }

  test::manual_loop loop_;
  test::fake_resolver dns_{loop_};
  core::splitmix_random random_{7};
  std::unique_ptr<inbound_state> state_;
};

TEST_F(inbound_fixture, spf_pass_then_dmarc_pass_headers_and_inbox) {
  start({});
  inbound_session s(*state_, ip("192.0.2.1"));
  ASSERT_TRUE(s.on_connect().value().accepted());
  s.on_helo("client.good.test");
  EXPECT_TRUE(mail(s, "bounce@good.test").accepted());
  EXPECT_TRUE(rcpt(s, "a@example.test").accepted());
  message_verdict v = data(s, plain_message);
  EXPECT_FALSE(v.reply.has_value());
  EXPECT_EQ(v.folder, "");
  EXPECT_NE(v.header.find("Authentication-Results: mx.example.test;"), std::string::npos);
  EXPECT_NE(v.header.find("spf=pass smtp.mailfrom=good.test"), std::string::npos);
  EXPECT_NE(v.header.find("dmarc=pass"), std::string::npos);
  EXPECT_NE(v.header.find("X-Spam-Status: No"), std::string::npos);
  EXPECT_FALSE(v.rewritten.has_value());
  ASSERT_EQ(state_->dmarc_reports().size(), 1u);
}

TEST_F(inbound_fixture, spf_fail_is_refused_with_5_7_23) {
  start({});
  inbound_session s(*state_, ip("198.51.100.7"));
  stage_verdict v = mail(s, "someone@good.test");
  ASSERT_TRUE(v.reply.has_value());
  EXPECT_EQ(v.reply->code, 550);
  EXPECT_EQ(v.reply->enhanced, "5.7.23");
  EXPECT_FALSE(v.disconnect);
}

TEST_F(inbound_fixture, spf_temperror_defers_only_when_configured) {
  dns_.fail("good.test", core::dns_status::servfail);
  inbound_settings settings;
  settings.spf.on_temperror = check_action::defer;
  start(settings);
  inbound_session s(*state_, ip("192.0.2.1"));
  stage_verdict v = mail(s, "bounce@good.test");
  ASSERT_TRUE(v.reply.has_value());
  EXPECT_EQ(v.reply->code, 451);
  EXPECT_EQ(v.reply->enhanced, "4.7.24");
}

TEST_F(inbound_fixture, dmarc_reject_and_quarantine) {
  start({});
  inbound_session s(*state_, ip("192.0.2.1"));
  ASSERT_TRUE(mail(s, "bounce@quarantine.test").accepted());
  // From good.test (p=reject) while SPF passed for quarantine.test: not aligned.
  message_verdict v = data(s, plain_message);
  ASSERT_TRUE(v.reply.has_value());
  EXPECT_EQ(v.reply->code, 550);
  EXPECT_EQ(v.reply->enhanced, "5.7.26");
  std::string quarantined(plain_message);
  quarantined.replace(quarantined.find("news@good.test"), 14, "news@quarantine.test");
  ASSERT_TRUE(mail(s, "bounce@good.test").accepted());
  message_verdict q = data(s, quarantined);
  EXPECT_FALSE(q.reply.has_value());
  EXPECT_EQ(q.folder, "Junk");
}

TEST_F(inbound_fixture, rcpt_waits_for_the_dnsbl_answer_and_names_the_list) {
  dns_.set_delay(core::duration_ms(50));
  start(with_dnsbl());
  inbound_session s(*state_, ip("192.0.2.9"));
  ASSERT_TRUE(s.on_connect().value().accepted());
  std::optional<stage_verdict> later;
  auto now = s.on_rcpt("a@example.test", [&later](stage_verdict v) { later = std::move(v); });
  ASSERT_FALSE(now.has_value());  // the lookup is still out
  loop_.advance(core::duration_ms(100));
  ASSERT_TRUE(later.has_value() && later->reply.has_value());
  EXPECT_EQ(later->reply->code, 554);
  EXPECT_NE(later->reply->text().find("bl.test"), std::string::npos);
}

TEST_F(inbound_fixture, score_only_lists_do_not_refuse) {
  inbound_settings settings = with_dnsbl();
  settings.dnsbl[0].on_listed = check_action::accept;
  start(settings);
  inbound_session s(*state_, ip("192.0.2.9"));
  ASSERT_TRUE(s.on_connect().value().accepted());
  loop_.run_until_idle();
  EXPECT_TRUE(rcpt(s, "a@example.test").accepted());
}

TEST_F(inbound_fixture, greylisting_defers_then_passes_after_the_delay) {
  inbound_settings settings;
  settings.spf.enabled = false;
  settings.greylisting = true;
  start(settings);
  inbound_session s(*state_, ip("192.0.2.1"));
  ASSERT_TRUE(mail(s, "bounce@good.test").accepted());
  stage_verdict first = rcpt(s, "a@example.test");
  ASSERT_TRUE(first.reply.has_value());
  EXPECT_EQ(first.reply->code, 450);
  EXPECT_EQ(first.reply->enhanced, "4.2.0");
  loop_.advance(std::chrono::seconds(301));
  EXPECT_TRUE(rcpt(s, "a@example.test").accepted());
}

TEST_F(inbound_fixture, connection_rate_closes_with_421) {
  inbound_settings settings;
  settings.rate.rules.push_back(make_rate_rule("conn", rate_event::connection, rate_scope::ip,
                                               std::chrono::seconds(60), 1));
  start(settings);
  inbound_session first(*state_, ip("192.0.2.1"));
  EXPECT_TRUE(first.on_connect().value().accepted());
  inbound_session second(*state_, ip("192.0.2.1"));
  stage_verdict v = second.on_connect().value();
  ASSERT_TRUE(v.reply.has_value());
  EXPECT_EQ(v.reply->code, 421);
  EXPECT_TRUE(v.disconnect);
}

TEST_F(inbound_fixture, forged_results_in_our_name_are_removed) {
  start({});
  inbound_session s(*state_, ip("192.0.2.1"));
  ASSERT_TRUE(mail(s, "bounce@good.test").accepted());
  const std::string forged =
      "Authentication-Results: MX.example.test; dmarc=pass\r\n" + std::string(plain_message);
  message_verdict v = data(s, forged);
  ASSERT_TRUE(v.rewritten.has_value());
  EXPECT_EQ(*v.rewritten, plain_message);
}

TEST_F(inbound_fixture, no_callback_after_the_session_is_gone) {
  dns_.set_delay(core::duration_ms(50));
  start(with_dnsbl());
  bool called = false;
  {
    inbound_session s(*state_, ip("192.0.2.1"));
    ASSERT_TRUE(s.on_connect().has_value());
    EXPECT_FALSE(s.on_mail("bounce@good.test", [&called](stage_verdict) { called = true; }));
  }
  loop_.advance(core::duration_ms(500));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace mailsim::policy
