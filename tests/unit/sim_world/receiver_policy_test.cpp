// A simulated provider's limits and policies over the virtual network: greylisting,
// throttles with escalation, per-connection and per-IP limits, recipients per message,
// tarpitting, protocol errors, DNSBLs, idle timeouts, stop(), and a reproducible trace.
#include <gtest/gtest.h>

#include "simulator/dns/sim_resolver.hpp"
#include "simulator/dns/zone_model.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

using core::duration_ms;

std::vector<std::string> mail_to(const std::string& rcpt) {
  return {"EHLO c.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n", "RCPT TO:<" + rcpt + ">\r\n",
          "QUIT\r\n"};
}

TEST(ReceiverPolicy, GreylistingDefersFirstSightAndPassesARetryAfterTheDelay) {
  provider_spec spec = spec_of("postfix-default");
  greylist_spec g;
  g.enabled = true;
  g.delay = duration_ms{300'000};
  spec.greylist = g;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  auto first = w.talk(mail_to(rcpt));
  ASSERT_GE(first.size(), 4u);
  EXPECT_EQ(first[3].substr(0, 9), "451 4.7.1");
  auto early = w.talk(mail_to(rcpt));  // one minute later: too early
  EXPECT_EQ(early[3].substr(0, 9), "451 4.7.1");
  w.sched.run_for(duration_ms{300'000});
  auto later = w.talk(mail_to(rcpt));
  EXPECT_EQ(later[3].substr(0, 3), "250");
  EXPECT_EQ(w.count_reply("451 4.7.1"), 2u);
  EXPECT_TRUE(w.traced("451 4.7.1 greylisted (first-seen)") ||
              w.traced("451 4.7.1 greylisted (first_seen)"));
}

TEST(ReceiverPolicy, GreylistRetryWindowAndPassLifetimeComeFromTheSpec) {
  provider_spec spec = spec_of("postfix-default");
  greylist_spec g;
  g.enabled = true;
  g.delay = duration_ms{60'000};
  g.retry_window = duration_ms{10 * 60'000};
  g.pass_lifetime = duration_ms{3'600'000};
  spec.greylist = g;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  const auto rcpt_code = [&] {
    return w.talk(mail_to(rcpt), client_ip, duration_ms{1'000})[3].substr(0, 3);
  };
  EXPECT_EQ(rcpt_code(), "451");
  w.sched.run_for(duration_ms{11 * 60'000});
  EXPECT_EQ(rcpt_code(), "451");  // retried after the window: starts over
  w.sched.run_for(duration_ms{2 * 60'000});
  EXPECT_EQ(rcpt_code(), "250");
  w.sched.run_for(duration_ms{30 * 60'000});
  EXPECT_EQ(rcpt_code(), "250");  // known, within the pass lifetime
  w.sched.run_for(duration_ms{2 * 3'600'000});
  EXPECT_EQ(rcpt_code(), "451");  // idle past the lifetime: a stranger again
}

TEST(ReceiverPolicy, StrictGreylistProfileKeysOnTheExactAddress) {
  small_world w(spec_of("strict-greylist"));
  const std::string rcpt = address_of(*w.receiver, "valid");
  EXPECT_EQ(w.talk(mail_to(rcpt))[3].substr(0, 9), "451 4.7.1");
  w.sched.run_for(duration_ms{26 * 60'000});
  // Another address of the same /24 is a new triplet under exact keys.
  EXPECT_EQ(w.talk(mail_to(rcpt), "192.0.2.11")[3].substr(0, 9), "451 4.7.1");
  EXPECT_EQ(w.talk(mail_to(rcpt))[3].substr(0, 3), "250");
}

TEST(ReceiverPolicy, ThrottleDefersThenEscalatesToRejection) {
  provider_spec spec = spec_of("gmail-like");
  throttle_spec t;
  t.per_ip = {2, duration_ms{3'600'000}};
  t.deferrals_before_reject = 2;
  spec.throttle = t;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  std::vector<std::string> mails;
  for (int i = 0; i < 5; ++i) {
    auto r = w.talk(mail_to(rcpt));
    ASSERT_GE(r.size(), 3u);
    mails.push_back(r[2].substr(0, 10));
  }
  EXPECT_EQ(mails[0].substr(0, 3), "250");
  EXPECT_EQ(mails[1].substr(0, 3), "250");
  EXPECT_EQ(mails[2], "421 4.7.28");
  EXPECT_EQ(mails[3], "421 4.7.28");
  EXPECT_EQ(mails[4], "550 5.7.28");
  EXPECT_EQ(w.count_reply("421 4.7.28"), 2u);
  EXPECT_EQ(w.count_reply("550 5.7.28"), 1u);
  EXPECT_TRUE(w.traced("per_ip after 2 deferrals"));
}

TEST(ReceiverPolicy, GmailLikeLimitsMailPerRecipientPerMinute) {
  small_world w(spec_of("gmail-like"));
  const std::string rcpt = address_of(*w.receiver, "valid");
  std::vector<std::string> script = {"EHLO c.sim\r\n"};
  for (int i = 0; i < 61; ++i) {
    script.push_back("MAIL FROM:<a@sender.sim>\r\n");
    script.push_back("RCPT TO:<" + rcpt + ">\r\n");
    script.push_back("RSET\r\n");
  }
  const auto r = w.talk(script);
  ASSERT_EQ(r.size(), 2u + 61 * 3);              // greeting, EHLO, then MAIL, RCPT, RSET each
  EXPECT_EQ(r[3 * 59 + 3].substr(0, 3), "250");  // the 60th RCPT
  EXPECT_EQ(r[3 * 60 + 3].substr(0, 9), "450 4.2.1");
  EXPECT_EQ(w.count_reply("450 4.2.1"), 1u);
}

TEST(ReceiverPolicy, EveryMxHostAnswersWithItsOwnName) {
  provider_spec spec = spec_of("postfix-default");
  spec.mx.push_back(mx_spec{"", 20, "198.51.100.26"});
  small_world w(spec);
  ASSERT_EQ(w.receiver->mx_hosts().size(), 2u);
  EXPECT_EQ(w.receiver->mx_hosts()[1].name, "mx2.dest.sim");
  auto transport = w.net.make_transport({client_ip});
  struct greeting final : core::stream_handler {
    std::string text;
    void on_connected() override {}
    void on_data(std::string_view b) override { text += b; }
    void on_tls_ready(const core::tls_result&) override {}
    void on_closed(std::error_code) override {}
  } h;
  auto stream = transport->connect({{"198.51.100.26", 25}, {}, duration_ms{1'000}}, h);
  w.sched.run_for(duration_ms{1'000});
  EXPECT_EQ(h.text, "220 mx2.dest.sim ESMTP Postfix\r\n");
  EXPECT_EQ(w.receiver->kind_of("u000001@elsewhere.sim"), std::nullopt);
  EXPECT_EQ(w.receiver->kind_of("u000001@DEST.sim"), "valid");
}

TEST(ReceiverPolicy, MessagesPerConnectionEndWith421) {
  provider_spec spec = spec_of("postfix-default");
  spec.messages_per_connection = 1;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  auto script = one_message({rcpt}, 1);
  script.pop_back();  // no QUIT: a second transaction
  script.push_back("MAIL FROM:<a@sender.sim>\r\n");
  line_client c(w.net, client_ip, script);
  w.sched.run_for(duration_ms{60'000});
  ASSERT_EQ(c.replies.size(), 7u);
  EXPECT_EQ(c.replies[6].substr(0, 9), "421 4.7.0");
  EXPECT_TRUE(c.closed);
}

TEST(ReceiverPolicy, YahooLikeClosesSilentlyAfterItsMessageCap) {
  provider_spec spec = spec_of("yahoo-like");
  spec.messages_per_connection = 1;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  auto script = one_message({rcpt}, 1);
  script.pop_back();
  script.push_back("MAIL FROM:<a@sender.sim>\r\n");
  line_client c(w.net, client_ip, script);
  w.sched.run_for(duration_ms{60'000});
  EXPECT_EQ(c.replies.size(), 6u);  // no answer to the second MAIL
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(w.traced("silent close after 1 messages"));
}

// A pipelining client sends its next MAIL right behind the message: the 250 for the
// message must still reach it before the silent close.
TEST(ReceiverPolicy, SilentCloseStillSendsTheAnswersAlreadyGiven) {
  provider_spec spec = spec_of("yahoo-like");
  spec.messages_per_connection = 1;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  line_client c(w.net, client_ip,
                {"EHLO c.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n", "RCPT TO:<" + rcpt + ">\r\n",
                 "DATA\r\n", message_text(1) + "MAIL FROM:<a@sender.sim>\r\n"});
  w.sched.run_for(duration_ms{60'000});
  ASSERT_EQ(c.replies.size(), 6u);
  EXPECT_EQ(c.replies[5].substr(0, 3), "250");
  EXPECT_TRUE(c.closed);
}

TEST(ReceiverPolicy, ConnectionsPerIpAreRefusedAtConnect) {
  provider_spec spec = spec_of("postfix-default");
  spec.connections_per_ip = 1;
  small_world w(spec);
  line_client first(w.net, client_ip, {"EHLO c.sim\r\n"});
  line_client second(w.net, client_ip, {"EHLO c.sim\r\n"});
  line_client other(w.net, "192.0.2.99", {"EHLO c.sim\r\n"});
  w.sched.run_for(duration_ms{1'000});
  ASSERT_FALSE(first.replies.empty());
  EXPECT_EQ(first.replies[0].substr(0, 3), "220");
  ASSERT_FALSE(second.replies.empty());
  EXPECT_EQ(second.replies[0].substr(0, 9), "421 4.7.0");
  EXPECT_TRUE(second.closed);
  EXPECT_EQ(other.replies[0].substr(0, 3), "220");
}

TEST(ReceiverPolicy, RecipientsPerMessageAreCapped) {
  provider_spec spec = spec_of("postfix-default");
  spec.recipients_per_message = 2;
  small_world w(spec);
  auto r =
      w.talk({"EHLO c.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n", "RCPT TO:<u000001@dest.sim>\r\n",
              "RCPT TO:<u000002@dest.sim>\r\n", "RCPT TO:<u000003@dest.sim>\r\n", "QUIT\r\n"});
  ASSERT_GE(r.size(), 6u);
  EXPECT_EQ(r[4].substr(0, 3), "250");
  EXPECT_EQ(r[5].substr(0, 9), "452 4.5.3");
}

TEST(ReceiverPolicy, TarpitDelaysEveryReply) {
  provider_spec spec = spec_of("postfix-default");
  spec.tarpit = duration_ms{5'000};
  small_world w(spec);
  line_client c(w.net, client_ip, {"EHLO c.sim\r\n", "QUIT\r\n"});
  // Connect 20 ms, greeting 5 s + 10 ms: nothing before that.
  w.sched.run_for(duration_ms{5'000});
  EXPECT_TRUE(c.replies.empty());
  w.sched.run_for(duration_ms{100});
  ASSERT_EQ(c.replies.size(), 1u);
  w.sched.run_for(duration_ms{4'800});
  EXPECT_EQ(c.replies.size(), 1u);  // the EHLO answer waits its own 5 s
  w.sched.run_for(duration_ms{30'000});
  EXPECT_EQ(c.replies.size(), 3u);
  EXPECT_TRUE(c.closed);
}

TEST(ReceiverPolicy, TooManyProtocolErrorsClose) {
  provider_spec spec = spec_of("postfix-default");
  spec.errors_max = 3;
  small_world w(spec);
  auto r = w.talk({"BOGUS\r\n", "BOGUS\r\n", "BOGUS\r\n", "BOGUS\r\n"});
  ASSERT_EQ(r.size(), 5u);  // 220, three 500s, and the 421 right after the third
  EXPECT_EQ(r[4].substr(0, 9), "421 4.7.0");
  EXPECT_TRUE(w.traced("net c1 close server") || w.traced("close server"));
  EXPECT_EQ(w.count_reply("500 5.5.1"), 3u);
  EXPECT_EQ(w.count_reply("421 4.7.0"), 1u);
}

TEST(ReceiverPolicy, IdleClientsTimeOut) {
  small_world w(spec_of("postfix-default"));
  line_client c(w.net, client_ip, {});
  w.sched.run_for(duration_ms{6 * 60'000});
  ASSERT_EQ(c.replies.size(), 2u);
  EXPECT_EQ(c.replies[1].substr(0, 9), "421 4.4.2");
  EXPECT_TRUE(c.closed);
}

TEST(ReceiverPolicy, StopAnswers421AndStopsListening) {
  small_world w(spec_of("postfix-default"));
  line_client c(w.net, client_ip, {"EHLO c.sim\r\n"});
  w.sched.run_for(duration_ms{1'000});
  w.receiver->stop();
  w.sched.run_for(duration_ms{1'000});
  ASSERT_EQ(c.replies.size(), 3u);
  EXPECT_EQ(c.replies[2].substr(0, 9), "421 4.3.2");
  EXPECT_TRUE(c.closed);
  line_client late(w.net, client_ip, {"EHLO c.sim\r\n"});
  w.sched.run_for(duration_ms{1'000});
  EXPECT_TRUE(late.replies.empty());
  EXPECT_TRUE(late.closed);  // connection refused
}

// Lets the world exist before the resolver, which needs the world's scheduler.
struct forwarding_resolver final : core::resolver {
  core::resolver* to = nullptr;
  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> cb) override {
    to->resolve(name, type, std::move(cb));
  }
};

TEST(ReceiverPolicy, ListedClientsAreRefusedAtConnectNamingTheZone) {
  dns::zone_model model;
  model.add_zone("bl.sim");
  model.add_a(dns::dnsbl_name("192.0.2.66", "bl.sim"), "127.0.0.2");
  provider_spec spec = spec_of("postfix-default");
  spec.dnsbls = {"bl.sim"};
  forwarding_resolver fwd;
  small_world w(spec, 1, &fwd);
  std::string error;
  auto resolver = dns::sim_resolver::create(w.sched, &w.tr, model, {}, error);
  ASSERT_TRUE(resolver) << error;
  fwd.to = resolver.get();
  auto listed = w.talk({"EHLO c.sim\r\n"}, "192.0.2.66");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0],
            "554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using bl.sim");
  auto clean = w.talk({"QUIT\r\n"}, "192.0.2.67");
  ASSERT_GE(clean.size(), 1u);
  EXPECT_EQ(clean[0].substr(0, 3), "220");
  EXPECT_EQ(w.count_reply("554 5.7.1"), 1u);
  EXPECT_TRUE(w.traced("connect from 192.0.2.66: 554 5.7.1 listed in bl.sim"));
}

TEST(ReceiverPolicy, RequiredSpfRefusesSendersWhoseSpfDoesNotPass) {
  dns::zone_model model;
  model.add_zone("sim");
  model.add_txt("sender.sim", "v=spf1 ip4:192.0.2.10 -all");
  provider_spec spec = spec_of("postfix-default");
  auth_requirements require;
  require.spf_pass = true;
  spec.require = require;
  forwarding_resolver fwd;
  small_world w(spec, 1, &fwd);
  std::string error;
  auto resolver = dns::sim_resolver::create(w.sched, &w.tr, model, {}, error);
  ASSERT_TRUE(resolver) << error;
  fwd.to = resolver.get();
  const std::string rcpt = address_of(*w.receiver, "valid");
  const auto good = w.talk(mail_to(rcpt), "192.0.2.10");
  ASSERT_GE(good.size(), 3u);
  EXPECT_EQ(good[2].substr(0, 3), "250");
  const auto bad = w.talk(mail_to(rcpt), "192.0.2.99");
  ASSERT_GE(bad.size(), 3u);
  EXPECT_EQ(bad[2], "550 5.7.23 <sender.sim>: SPF validation failed for client [192.0.2.99]");
  const auto none =
      w.talk({"EHLO c.sim\r\n", "MAIL FROM:<a@nospf.sim>\r\n", "QUIT\r\n"}, "192.0.2.10");
  ASSERT_GE(none.size(), 3u);
  EXPECT_EQ(none[2].substr(0, 10), "550 5.7.23");
  EXPECT_TRUE(w.traced("mail a@sender.sim from 192.0.2.99: 550 5.7.23 spf fail"));
}

TEST(ReceiverPolicy, RequiredPtrRefusesClientsWithoutForwardConfirmedReverseDns) {
  dns::zone_model model;
  model.add_zone("sim");
  model.add_zone("2.0.192.in-addr.arpa");
  // 192.0.2.10 → mail.sender.sim → 192.0.2.10: confirmed. 192.0.2.20 → a name that points
  // elsewhere: not confirmed. 192.0.2.30: no PTR at all.
  model.add({dns::dnsbl_name("192.0.2.10", "in-addr.arpa"), core::rr_type::ptr, 300,
             "mail.sender.sim", 0});
  model.add({dns::dnsbl_name("192.0.2.20", "in-addr.arpa"), core::rr_type::ptr, 300,
             "liar.sender.sim", 0});
  model.add_a("mail.sender.sim", "192.0.2.10");
  model.add_a("liar.sender.sim", "192.0.2.99");
  provider_spec spec = spec_of("gmail-like");
  auth_requirements require;
  require.ptr_required = true;
  spec.require = require;
  forwarding_resolver fwd;
  small_world w(spec, 1, &fwd);
  std::string error;
  auto resolver = dns::sim_resolver::create(w.sched, &w.tr, model, {}, error);
  ASSERT_TRUE(resolver) << error;
  fwd.to = resolver.get();
  const auto greeting = [&](const char* ip) {
    const auto r = w.talk({"QUIT\r\n"}, ip, duration_ms{5'000});
    return r.empty() ? std::string("none") : r[0].substr(0, 10);
  };
  EXPECT_EQ(greeting("192.0.2.10").substr(0, 3), "220");
  EXPECT_EQ(greeting("192.0.2.20"), "550 5.7.25");
  EXPECT_EQ(greeting("192.0.2.30"), "550 5.7.25");
  EXPECT_TRUE(w.traced("connect from 192.0.2.30: 550 5.7.25 fcrdns fail"));
}

std::string run_transcript(std::uint64_t seed) {
  provider_spec spec = spec_of("gmail-like", 50);
  spec.mailboxes.unknown.count = 5;
  spec.mailboxes.pristine_traps = 3;
  spec.complaint_rate = 0.3;
  small_world w(spec, seed);
  for (std::uint64_t m = 1; m <= 20; ++m) {
    const std::string rcpt = w.receiver->population()[m * 2].address;
    w.expect_record(m, rcpt);
    w.talk(one_message({rcpt}, m), m % 2 ? client_ip : "192.0.2.77", duration_ms{10'000});
  }
  w.sched.run_for(duration_ms{2 * 3'600'000});
  return w.sink.text();
}

TEST(ReceiverPolicy, SameSeedSameTranscript) {
  const std::string a = run_transcript(5);
  EXPECT_EQ(a, run_transcript(5));
  EXPECT_NE(a.find("gmail-like deliver"), std::string::npos);
}

}  // namespace
}  // namespace mailsim::sim::world::test

namespace mailsim::sim::world::test {
namespace {

// Many messages over few connections: every one is accepted, placed and counted, and the
// run stays cheap (no per-message timers or tables left behind).
TEST(ReceiverPolicy, ManyMessagesOverReusedConnections) {
  provider_spec spec = spec_of("gmail-like", 1000);
  spec.complaint_rate = 0.0;
  small_world w(spec);
  w.tr.remove_sink(w.sink);  // no trace: the fast path
  std::uint64_t number = 1;
  for (int c = 0; c < 20; ++c) {
    std::vector<std::string> script = {"EHLO c.sim\r\n"};
    for (int m = 0; m < 100; ++m, ++number) {
      const std::string rcpt = "u" +
                               std::string(6 - std::to_string(number % 1000 + 1).size(), '0') +
                               std::to_string(number % 1000 + 1) + "@dest.sim";
      w.expect_record(number, rcpt);
      script.push_back("MAIL FROM:<a@sender.sim>\r\n");
      script.push_back("RCPT TO:<" + rcpt + ">\r\n");
      script.push_back("DATA\r\n");
      script.push_back(message_text(number));
    }
    script.push_back("QUIT\r\n");
    w.talk(script, client_ip, core::duration_ms{3'600'000});
  }
  EXPECT_EQ(w.totals().accepted, 2000u);
  EXPECT_EQ(w.totals().connections, 20u);
  std::size_t placed = 0;
  for (const auto& r : w.record.records()) placed += r.placed != metrics::placement::none;
  EXPECT_EQ(placed, 2000u);
  w.sched.run_until_idle();
  EXPECT_EQ(w.sched.pending(), 0u);
}

}  // namespace
}  // namespace mailsim::sim::world::test
