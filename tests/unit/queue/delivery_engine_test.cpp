// The delivery engine end to end in memory: a fake DNS, scripted SMTP receivers on a memory
// network, a memory spool and a manual clock. Each test drives the engine as the server
// does (enqueue, wake) and checks what the receivers got, what the spool holds, the
// instants of the attempts, and the reports the sender receives (parsed back).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "tests/support/fake_resolver.hpp"
#include "tests/support/manual_loop.hpp"
#include "tests/support/memory_transport.hpp"
#include "tests/support/scripted_smtp_peer.hpp"

namespace mailsim::queue {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using test::smtp_action;
using test::smtp_step;

smtp::path path_of(const std::string& text) {
  smtp::address_options options;
  options.allow_null = true;
  smtp::path_parse p = smtp::parse_path("<" + text + ">", options);
  EXPECT_TRUE(p.value) << text << ": " << p.error;
  return p.value.value_or(smtp::path{});
}

struct world {
  test::manual_loop loop;
  test::fake_resolver dns{loop};
  test::memory_transport net{loop};
  core::splitmix_random random{7};
  memory_spool queue{{}, loop.clock(), random};
  engine_settings settings;
  std::vector<dsn_message> reports;
  std::vector<engine_event> events;
  std::unique_ptr<delivery_engine> engine;

  world() {
    settings.hostname = "out.sender.test";
    settings.retry.fallback.delay_warning.reset();
  }

  // A receiving host: MX record, address and an SMTP peer listening on port 25.
  void host(const std::string& domain, std::uint16_t pref, const std::string& name,
            const std::string& address, test::scripted_smtp_peer* peer) {
    dns.add_mx(domain, pref, name);
    dns.add(name, core::rr_type::a, address);
    if (peer != nullptr) net.listen({address, 25}, *peer);
  }

  void start() {
    engine_deps deps;
    deps.clock = &loop.clock();
    deps.random = &random;
    deps.timers = &loop;
    deps.resolver = &dns;
    deps.transport = &net;
    deps.queue = &queue;
    deps.reports = [this](dsn_message m, std::function<void(bool)> done) {
      reports.push_back(std::move(m));
      loop.post([done] { done(true); });
    };
    deps.events = [this](const engine_event& e) { events.push_back(e); };
    engine = std::make_unique<delivery_engine>(settings, deps);
    engine->start();
  }

  std::string send(const std::string& from, const std::vector<std::string>& to,
                   const std::string& notify = "", const std::string& message_class = "") {
    enqueue_request r;
    r.message_class = message_class;
    r.envelope.reverse_path = from.empty() ? smtp::path{true, {}, false} : path_of(from);
    for (const std::string& t : to) {
      smtp::recipient rc;
      rc.address = path_of(t);
      if (notify == "never") rc.notify = {true, true, false, false, false};
      if (notify == "success") rc.notify = {true, false, true, false, false};
      if (notify == "delay") rc.notify = {true, false, false, true, true};
      r.envelope.recipients.push_back(rc);
    }
    static const std::string body = "From: a@sender.test\r\nSubject: hi\r\n\r\nHello.\r\n";
    r.message = body;
    auto res = queue.enqueue(std::span<const enqueue_request>(&r, 1));
    EXPECT_TRUE(res[0].ok()) << res[0].error.message();
    if (engine) engine->wake();
    return res[0].id;
  }

  void run_for(core::duration_ms d) { loop.advance(d); }
  bool settled() const { return queue.message_count() == 0; }

  std::vector<core::time_point> attempt_times() const {
    std::vector<core::time_point> out;
    for (const auto& a : net.attempts()) out.push_back(a.at);
    return out;
  }
  std::size_t count(engine_event::kind k) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.what == k ? 1 : 0;
    return n;
  }
};

reported_dsn parse_report(const dsn_message& m) {
  dsn_parse_result p = parse_dsn(m.bytes);
  EXPECT_TRUE(p.value) << p.detail;
  return p.value.value_or(reported_dsn{});
}

TEST(DeliveryEngine, DeliversToTheBestMxAndRemovesTheMessage) {
  world w;
  test::scripted_smtp_peer best("mx1.dest.test"), backup("mx2.dest.test");
  w.host("dest.test", 20, "mx2.dest.test", "192.0.2.2", &backup);
  w.host("dest.test", 10, "mx1.dest.test", "192.0.2.1", &best);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test", "carol@dest.test"});
  w.run_for(seconds(10));
  ASSERT_EQ(best.accepted_messages().size(), 1u);
  const auto got = best.accepted_messages()[0];
  EXPECT_EQ(got.mail_from, "alice@sender.test");
  EXPECT_EQ(got.recipients, (std::vector<std::string>{"bob@dest.test", "carol@dest.test"}));
  EXPECT_NE(got.content.find("Hello."), std::string::npos);
  EXPECT_EQ(got.helo, "out.sender.test");
  EXPECT_TRUE(backup.messages().empty());
  EXPECT_TRUE(w.settled());
  EXPECT_TRUE(w.reports.empty());
  EXPECT_EQ(w.count(engine_event::kind::relayed), 2u);  // the peer offers no DSN
}

TEST(DeliveryEngine, FallsBackToTheNextMxWhenTheFirstRefusesOrGreets4xx) {
  for (bool refuse : {true, false}) {
    world w;
    test::scripted_smtp_peer first("mx1.dest.test"), second("mx2.dest.test");
    w.host("dest.test", 10, "mx1.dest.test", "192.0.2.1", refuse ? nullptr : &first);
    w.host("dest.test", 20, "mx2.dest.test", "192.0.2.2", &second);
    first.on(smtp_step::greeting, smtp_action::reply("421 4.3.2 busy"));
    w.start();
    w.send("alice@sender.test", {"bob@dest.test"});
    w.run_for(seconds(10));
    EXPECT_EQ(second.accepted_messages().size(), 1u) << "refuse=" << refuse;
    EXPECT_TRUE(w.settled());
    ASSERT_GE(w.net.attempts().size(), 2u);
    EXPECT_EQ(w.net.attempts()[0].remote.address, "192.0.2.1");
  }
}

TEST(DeliveryEngine, DeferredSevenTimesThenAcceptedAtThePostfixInstants) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  for (std::size_t n = 1; n <= 7; ++n) {
    mx.on_transaction(n, smtp_step::rcpt, smtp_action::reply("450 4.2.0 greylisted"));
  }
  w.start();
  const core::time_point t0 = w.loop.now();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.run_for(hours(5));
  ASSERT_EQ(mx.accepted_messages().size(), 1u);
  std::vector<std::int64_t> offsets;
  for (core::time_point t : w.attempt_times()) {
    offsets.push_back(std::chrono::duration_cast<seconds>(t - t0).count());
  }
  EXPECT_EQ(offsets, (std::vector<std::int64_t>{0, 300, 600, 1200, 2400, 4800, 8800, 12800}));
  EXPECT_EQ(w.count(engine_event::kind::deferred), 7u);
  EXPECT_TRUE(w.settled());
}

TEST(DeliveryEngine, ExpiryFailsWith447AndTheSenderGetsAReport) {
  world w;
  w.settings.retry.fallback = fixed_profile(minutes(10), hours(1));
  w.settings.retry.fallback.delay_warning.reset();
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on(smtp_step::rcpt, smtp_action::reply("451 4.3.0 try later"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.run_for(hours(2));
  ASSERT_EQ(w.reports.size(), 1u);
  EXPECT_TRUE(w.settled());
  reported_dsn r = parse_report(w.reports[0]);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].action, dsn_action::failed);
  EXPECT_EQ(r.recipients[0].status, "4.4.7");
  EXPECT_EQ(r.recipients[0].final_recipient.value, "bob@dest.test");
  ASSERT_TRUE(r.recipients[0].diagnostic);
  EXPECT_NE(r.recipients[0].diagnostic->value.find("451"), std::string::npos);
  EXPECT_EQ(w.reports[0].recipient.to_string(), "alice@sender.test");
  EXPECT_EQ(w.net.attempts().size(), 7u);  // 0, 10, …, 60 min: the 60-min failure expires it
}

TEST(DeliveryEngine, PermanentRefusalBouncesAtOnceWithTheRemoteReply) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on_recipient("nobody@dest.test", smtp_action::reply("550 5.1.1 no such user"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"nobody@dest.test", "bob@dest.test"});
  w.run_for(seconds(30));
  ASSERT_EQ(mx.accepted_messages().size(), 1u);
  EXPECT_EQ(mx.accepted_messages()[0].recipients, std::vector<std::string>{"bob@dest.test"});
  ASSERT_EQ(w.reports.size(), 1u);
  reported_dsn r = parse_report(w.reports[0]);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].status, "5.1.1");
  ASSERT_TRUE(r.recipients[0].remote_mta);
  EXPECT_EQ(r.recipients[0].remote_mta->value, "mx.dest.test");
  EXPECT_EQ(w.net.attempts().size(), 1u);
  EXPECT_TRUE(w.settled());
}

TEST(DeliveryEngine, RoutingFailuresBounceOrDeferWithoutConnecting) {
  world w;
  w.dns.add_mx("nullmx.test", 0, "");
  w.dns.fail("broken.test", core::dns_status::servfail);
  w.start();
  w.send("alice@sender.test", {"a@nullmx.test"});
  w.send("alice@sender.test", {"b@nowhere.test"});
  const std::string deferred = w.send("alice@sender.test", {"c@broken.test"});
  w.run_for(seconds(30));
  EXPECT_TRUE(w.net.attempts().empty());
  ASSERT_EQ(w.reports.size(), 2u);
  std::vector<std::string> statuses;
  for (const auto& m : w.reports) statuses.push_back(parse_report(m).recipients.at(0).status);
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<std::string>{"5.1.10", "5.1.2"}));
  const queued_message* m = w.queue.find(deferred);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->recipients[0].status.state, recipient_state::pending);
  EXPECT_EQ(m->recipients[0].status.status, "4.4.3");
}

TEST(DeliveryEngine, NeverABounceForABounceOrForNotifyNever) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on(smtp_step::rcpt, smtp_action::reply("550 5.1.1 no"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("", {"a@dest.test"});
  w.send("alice@sender.test", {"b@dest.test"}, "never");
  w.run_for(seconds(30));
  EXPECT_TRUE(w.reports.empty());
  EXPECT_TRUE(w.settled());
  EXPECT_EQ(w.count(engine_event::kind::failed), 2u);
}

TEST(DeliveryEngine, ReusesOneConnectionUpToItsMessageLimit) {
  world w;
  w.settings.default_destination.messages_per_connection = 2;
  w.settings.default_destination.connections_max = 1;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  for (int i = 0; i < 5; ++i) w.send("alice@sender.test", {"bob@dest.test"});
  w.run_for(minutes(1));
  EXPECT_EQ(mx.accepted_messages().size(), 5u);
  EXPECT_EQ(mx.connections_opened(), 3u);
  EXPECT_EQ(mx.quits(), 3u);
  EXPECT_TRUE(w.settled());
}

TEST(DeliveryEngine, ThrottleReplyPausesTheDestination) {
  world w;
  w.settings.default_destination.throttle_pause = minutes(7);
  w.settings.default_destination.connections_max = 1;
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on_transaction(1, smtp_step::mail, smtp_action::reply("421 4.7.28 rate limited"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  const core::time_point t0 = w.loop.now();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.send("alice@sender.test", {"carol@dest.test"});
  w.run_for(hours(1));
  EXPECT_EQ(mx.accepted_messages().size(), 2u);
  EXPECT_EQ(w.count(engine_event::kind::throttled), 1u);
  auto times = w.attempt_times();
  ASSERT_GE(times.size(), 2u);
  EXPECT_GE(times[1] - t0, minutes(7));
}

// Greylisting defers one triplet, not the destination: the other recipient's message
// goes through at once, and nothing is paused.
TEST(DeliveryEngine, GreylistingDefersOnlyItsRecipient) {
  world w;
  w.settings.default_destination.connections_max = 1;
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on_transaction(1, smtp_step::rcpt, smtp_action::reply("451 4.7.1 Greylisted"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.send("alice@sender.test", {"carol@dest.test"});
  w.run_for(minutes(1));
  EXPECT_EQ(mx.accepted_messages().size(), 1u);
  EXPECT_EQ(w.count(engine_event::kind::throttled), 0u);
}

TEST(DeliveryEngine, ARecipientDeferredAtOneDomainIsRetriedWhileTheOtherIsDone) {
  world w;
  test::scripted_smtp_peer dest("mx.dest.test"), other("mx.other.test");
  other.on_transaction(1, smtp_step::rcpt, smtp_action::reply("451 4.7.1 Greylisted"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &dest);
  w.host("other.test", 10, "mx.other.test", "192.0.2.2", &other);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test", "carol@other.test", "dan@dest.test"});
  w.run_for(seconds(10));
  EXPECT_EQ(w.engine->jobs_in_progress(), 0u);  // every job recorded, none left in flight
  EXPECT_EQ(dest.accepted_messages().size(), 1u);
  EXPECT_EQ(w.count(engine_event::kind::deferred), 1u);
  EXPECT_FALSE(w.settled());
  w.run_for(hours(1));  // the deferred recipient is due again and nothing holds it back
  ASSERT_EQ(other.accepted_messages().size(), 1u);
  EXPECT_EQ(other.accepted_messages()[0].recipients, std::vector<std::string>{"carol@other.test"});
  EXPECT_EQ(w.engine->jobs_in_progress(), 0u);
  EXPECT_TRUE(w.settled());
}

TEST(DeliveryEngine, MessagesPerMinuteSpreadsTransactions) {
  world w;
  w.settings.default_destination.messages_per_minute = 2;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  for (int i = 0; i < 5; ++i) w.send("alice@sender.test", {"bob@dest.test"});
  w.run_for(seconds(59));
  EXPECT_EQ(mx.accepted_messages().size(), 2u);
  w.run_for(seconds(60));
  EXPECT_EQ(mx.accepted_messages().size(), 4u);
  w.run_for(minutes(2));
  EXPECT_EQ(mx.accepted_messages().size(), 5u);
}

TEST(DeliveryEngine, SourcePoolAddressIsWhatTheReceiverSees) {
  world w;
  w.settings.source_pools = {{"sender.test", {"127.0.0.9"}}, {"*", {"127.0.0.8"}}};
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.send("eve@other.test", {"bob@dest.test"});
  w.run_for(minutes(1));
  ASSERT_EQ(mx.accepted_messages().size(), 2u);
  std::vector<std::string> seen;
  for (const auto& m : mx.accepted_messages()) seen.push_back(m.mail_from + " " + m.client_address);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"alice@sender.test 127.0.0.9",
                                            "eve@other.test 127.0.0.8"}));
  // The events of each attempt name the address it left from.
  std::vector<std::string> sources;
  for (const engine_event& e : w.events) {
    // (relayed: the scripted peer does not offer DSN)
    if (e.what == engine_event::kind::connecting || e.what == engine_event::kind::relayed) {
      sources.push_back(std::string(event_name(e.what)) + " " + e.source);
    }
  }
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(sources, (std::vector<std::string>{"connecting 127.0.0.8", "connecting 127.0.0.9",
                                               "relayed 127.0.0.8", "relayed 127.0.0.9"}));
}

TEST(DeliveryEngine, EventsOfAnAttemptWithoutAPoolNameNoSource) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test"});
  w.run_for(minutes(1));
  ASSERT_EQ(w.count(engine_event::kind::relayed), 1u);
  for (const engine_event& e : w.events) EXPECT_EQ(e.source, "") << event_name(e.what);
}

// A class pool wins over the sender's domain pool (case-insensitively), and is never the
// pool of a message without that class; an unknown or invalid class falls back to the
// domain rules, "*" included.
TEST(DeliveryEngine, SourcePoolByClassThenBySenderDomain) {
  world w;
  w.settings.source_pools = {{"sender.test", {"127.0.0.9"}, ""},
                             {"*", {"127.0.0.8"}, ""},
                             {"", {"127.0.0.7"}, "bulk"},
                             {"", {"127.0.0.6"}, "Transactional"}};
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  const std::string bulk = w.send("alice@sender.test", {"bulk@dest.test"}, "", "BULK");
  w.send("eve@other.test", {"transactional@dest.test"}, "", "transactional");
  w.send("alice@sender.test", {"unknown-class@dest.test"}, "", "nosuchpool");
  w.send("eve@other.test", {"invalid-class@dest.test"}, "", "not a name");
  w.send("alice@sender.test", {"domain@dest.test"});
  w.send("eve@other.test", {"star@dest.test"});
  const queued_message* queued = w.queue.find(bulk);
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(queued->message_class, "BULK");  // stored as given
  w.run_for(minutes(1));
  ASSERT_EQ(mx.accepted_messages().size(), 6u);
  std::vector<std::string> seen;
  for (const auto& m : mx.accepted_messages()) {
    seen.push_back(m.recipients.at(0) + " " + m.client_address);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"bulk@dest.test 127.0.0.7",
                                            "domain@dest.test 127.0.0.9",
                                            "invalid-class@dest.test 127.0.0.8",
                                            "star@dest.test 127.0.0.8",
                                            "transactional@dest.test 127.0.0.6",
                                            "unknown-class@dest.test 127.0.0.9"}));
}

TEST(DeliveryEngine, RequiredTlsDefersWhenNotOfferedAndSendsWhenItIs) {
  world w;
  destination_settings strict;
  strict.starttls = smtp::tls_policy::required;
  w.settings.destinations["plain.test"] = strict;
  w.settings.destinations["tls.test"] = strict;
  test::scripted_smtp_peer plain("mx.plain.test"), tls("mx.tls.test");
  plain.set_extensions({"PIPELINING", "8BITMIME"});
  w.host("plain.test", 10, "mx.plain.test", "192.0.2.1", &plain);
  w.host("tls.test", 10, "mx.tls.test", "192.0.2.2", &tls);
  w.start();
  const std::string held = w.send("alice@sender.test", {"bob@plain.test"});
  w.send("alice@sender.test", {"bob@tls.test"});
  w.run_for(seconds(30));
  EXPECT_TRUE(plain.messages().empty());
  ASSERT_EQ(tls.accepted_messages().size(), 1u);
  EXPECT_TRUE(tls.accepted_messages()[0].tls);
  const queued_message* m = w.queue.find(held);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->recipients[0].status.status, "4.7.4");
}

TEST(DeliveryEngine, DsnCapableServerGetsNotifyAndNoRelayedReport) {
  world w;
  test::scripted_smtp_peer with_dsn("mx.dsn.test"), without("mx.old.test");
  with_dsn.set_extensions({"PIPELINING", "DSN", "8BITMIME"});
  w.host("dsn.test", 10, "mx.dsn.test", "192.0.2.1", &with_dsn);
  w.host("old.test", 10, "mx.old.test", "192.0.2.2", &without);
  w.start();
  w.send("alice@sender.test", {"a@dsn.test"}, "success");
  w.send("alice@sender.test", {"b@old.test"}, "success");
  w.run_for(seconds(30));
  bool notify_passed = false;
  for (const auto& c : with_dsn.commands()) notify_passed |= c.find("NOTIFY=SUCCESS") != std::string::npos;
  EXPECT_TRUE(notify_passed);
  ASSERT_EQ(w.reports.size(), 1u);
  reported_dsn r = parse_report(w.reports[0]);
  EXPECT_EQ(r.recipients.at(0).action, dsn_action::relayed);
  EXPECT_EQ(r.recipients.at(0).final_recipient.value, "b@old.test");
}

TEST(DeliveryEngine, Utf8AddressToAServerWithoutSmtputf8Bounces567) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  enqueue_request r;
  r.envelope.reverse_path = path_of("alice@sender.test");
  r.envelope.smtputf8 = true;
  smtp::recipient rc;
  rc.address = path_of("josé@dest.test");
  r.envelope.recipients.push_back(rc);
  const std::string body = "Subject: x\r\n\r\nx\r\n";
  r.message = body;
  ASSERT_TRUE(w.queue.enqueue(std::span<const enqueue_request>(&r, 1))[0].ok());
  w.engine->wake();
  w.run_for(seconds(30));
  EXPECT_TRUE(mx.messages().empty());
  ASSERT_EQ(w.reports.size(), 1u);
  EXPECT_EQ(parse_report(w.reports[0]).recipients.at(0).status, "5.6.7");
}

TEST(DeliveryEngine, DelayWarningGoesOutOnceWhenAsked) {
  world w;
  w.settings.retry.fallback = fixed_profile(hours(1), hours(10));
  w.settings.retry.fallback.delay_warning = hours(4);
  test::scripted_smtp_peer mx("mx.dest.test");
  mx.on(smtp_step::rcpt, smtp_action::reply("450 4.2.0 later"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.start();
  w.send("alice@sender.test", {"bob@dest.test"}, "delay");
  w.run_for(hours(8));
  ASSERT_EQ(w.reports.size(), 1u);
  reported_dsn r = parse_report(w.reports[0]);
  EXPECT_EQ(r.recipients.at(0).action, dsn_action::delayed);
  EXPECT_TRUE(r.recipients.at(0).will_retry_until.has_value());
  w.run_for(hours(3));
  ASSERT_EQ(w.reports.size(), 2u);  // then the failure at expiry
  EXPECT_EQ(parse_report(w.reports[1]).recipients.at(0).action, dsn_action::failed);
}

TEST(DeliveryEngine, AfterARestartOwedReportsGoOutAndPendingMailIsSent) {
  world w;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  const std::string id = w.send("alice@sender.test", {"bob@dest.test", "x@dest.test"});
  // A failure recorded before the crash, its report not yet made.
  recipient_status failed = w.queue.find(id)->recipients[1].status;
  failed.state = recipient_state::failed;
  failed.status = "5.1.1";
  failed.attempts = 1;
  ASSERT_FALSE(w.queue.update(state_update{id, {{1, failed}}}));
  w.queue.recover();
  w.start();
  w.run_for(seconds(30));
  ASSERT_EQ(mx.accepted_messages().size(), 1u);
  EXPECT_EQ(mx.accepted_messages()[0].recipients, std::vector<std::string>{"bob@dest.test"});
  ASSERT_EQ(w.reports.size(), 1u);
  EXPECT_TRUE(w.settled());
}

TEST(DeliveryEngine, ConnectionsPerDestinationStayWithinTheLimit) {
  world w;
  w.settings.default_destination.connections_max = 3;
  test::scripted_smtp_peer mx("mx.dest.test");
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.net.listen({"192.0.2.1", 25}, mx, {seconds(5)});
  w.start();
  for (int i = 0; i < 20; ++i) w.send("alice@sender.test", {"bob@dest.test"});
  w.loop.run_until_idle();
  EXPECT_EQ(w.net.attempts().size(), 3u);
  w.run_for(minutes(5));
  EXPECT_EQ(mx.accepted_messages().size(), 20u);
  EXPECT_EQ(mx.connections_opened(), 3u);
  EXPECT_TRUE(w.settled());
}

// A server that keeps sending meets ever more domains: a destination it is done with (no
// job, no connection, its route plan due for renewal) is dropped, and mail to it later is
// planned and sent afresh.
TEST(DeliveryEngine, DestinationsNoLongerNeededAreForgotten) {
  world w;
  constexpr int domains = 30;
  std::vector<std::unique_ptr<test::scripted_smtp_peer>> peers;
  for (int i = 0; i < domains; ++i) {
    const std::string domain = "d" + std::to_string(i) + ".test";
    peers.push_back(std::make_unique<test::scripted_smtp_peer>("mx." + domain));
    w.host(domain, 10, "mx." + domain, "192.0.2." + std::to_string(i + 1), peers.back().get());
  }
  w.start();
  for (int i = 0; i < domains; ++i) {
    w.send("alice@sender.test", {"bob@d" + std::to_string(i) + ".test"});
  }
  w.run_for(minutes(1));
  EXPECT_TRUE(w.settled());
  EXPECT_EQ(w.engine->stats().destinations, static_cast<std::size_t>(domains));
  w.run_for(minutes(5));
  w.send("alice@sender.test", {"carol@d0.test"});
  w.loop.run_until_idle();  // the wake: a sweep, then the new job
  EXPECT_EQ(w.engine->stats().destinations, 1u);
  w.run_for(minutes(1));
  EXPECT_TRUE(w.settled());
  EXPECT_EQ(peers[0]->accepted_messages().size(), 2u);
}

// What a destination must remember outlives its jobs: a pause asked for by the receiver
// holds for a retry that comes due before it ends, through sweeps of idle destinations.
TEST(DeliveryEngine, APausedDestinationIsKeptUntilThePauseEnds) {
  world w;
  w.settings.default_destination.throttle_pause = minutes(30);
  w.settings.retry.fallback.min_backoff = minutes(10);
  test::scripted_smtp_peer mx("mx.dest.test"), other("mx.other.test");
  mx.on_transaction(1, smtp_step::mail, smtp_action::reply("421 4.7.28 rate limited"));
  w.host("dest.test", 10, "mx.dest.test", "192.0.2.1", &mx);
  w.host("other.test", 10, "mx.other.test", "192.0.2.2", &other);
  w.start();
  const core::time_point t0 = w.loop.now();
  w.send("alice@sender.test", {"bob@dest.test"});  // deferred; its retry is due at 10 min
  w.run_for(minutes(6));
  w.send("alice@sender.test", {"carol@other.test"});  // its wake sweeps idle destinations
  w.run_for(minutes(2));
  w.send("alice@sender.test", {"carol@other.test"});
  w.run_for(hours(1));
  EXPECT_EQ(mx.accepted_messages().size(), 1u);
  EXPECT_EQ(other.accepted_messages().size(), 2u);
  std::vector<core::time_point> to_dest;
  for (const auto& a : w.net.attempts()) {
    if (a.remote.address == "192.0.2.1") to_dest.push_back(a.at);
  }
  ASSERT_EQ(to_dest.size(), 2u);
  EXPECT_GE(to_dest[1] - t0, minutes(30));
  EXPECT_TRUE(w.settled());
}

}  // namespace
}  // namespace mailsim::queue
