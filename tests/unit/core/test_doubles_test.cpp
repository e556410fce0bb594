// Tests of the shared test doubles in tests/support: the manual loop, the fake resolver, the
// memory transport and the scripted SMTP peer. Later tests trust them, so they are held to
// the same contracts as the real implementations.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/fake_resolver.hpp"
#include "tests/support/manual_loop.hpp"
#include "tests/support/memory_transport.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/scripted_smtp_peer.hpp"

namespace mailsim::test {
namespace {

using namespace std::chrono_literals;
using core::duration_ms;

// --- manual_loop --------------------------------------------------------------------------

TEST(manual_loop, runs_nothing_until_asked_then_posts_in_order) {
  manual_loop loop;
  std::vector<int> ran;
  loop.post([&] { ran.push_back(1); });
  loop.post([&] {
    ran.push_back(2);
    loop.post([&] { ran.push_back(4); });
  });
  loop.post([&] { ran.push_back(3); });
  EXPECT_TRUE(ran.empty());
  EXPECT_EQ(loop.run_until_idle(), 4u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4}));
}

TEST(manual_loop, timers_run_in_time_then_scheduling_order_with_the_clock_at_their_time) {
  manual_loop loop;
  const core::time_point t0 = loop.now();
  std::vector<std::pair<int, core::time_point>> ran;
  auto note = [&](int n) { return [&ran, &loop, n] { ran.emplace_back(n, loop.now()); }; };
  loop.schedule(t0 + 30ms, note(3));
  loop.schedule(t0 + 10ms, note(1));
  loop.schedule(t0 + 20ms, note(2));
  loop.schedule(t0 + 20ms, note(22));  // same time: after the one scheduled first
  loop.run_until_idle();
  EXPECT_TRUE(ran.empty()) << "nothing is due before the clock moves";
  loop.advance(25ms);
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[0], std::make_pair(1, t0 + 10ms));
  EXPECT_EQ(ran[1], std::make_pair(2, t0 + 20ms));
  EXPECT_EQ(ran[2], std::make_pair(22, t0 + 20ms));
  EXPECT_EQ(loop.now(), t0 + 25ms);
  EXPECT_EQ(loop.next_timer(), t0 + 30ms);
  loop.advance(5ms);
  ASSERT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran[3].first, 3);
}

TEST(manual_loop, what_a_timer_posts_runs_before_the_next_timer) {
  manual_loop loop;
  std::vector<std::string> ran;
  loop.schedule(loop.now() + 1ms, [&] {
    ran.push_back("timer1");
    loop.post([&] { ran.push_back("posted"); });
  });
  loop.schedule(loop.now() + 1ms, [&] { ran.push_back("timer2"); });
  loop.advance(1ms);
  EXPECT_EQ(ran, (std::vector<std::string>{"timer1", "posted", "timer2"}));
}

TEST(manual_loop, cancel_stops_a_timer_even_from_another_callback) {
  manual_loop loop;
  std::vector<int> ran;
  core::timer_id second = 0;
  loop.schedule(loop.now() + 1ms, [&] {
    ran.push_back(1);
    loop.cancel(second);
  });
  second = loop.schedule(loop.now() + 2ms, [&] { ran.push_back(2); });
  const auto third = loop.schedule(loop.now() + 3ms, [&] { ran.push_back(3); });
  loop.cancel(third);
  loop.cancel(third);   // twice: harmless
  loop.cancel(12345);   // never issued: harmless
  loop.advance(10ms);
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_EQ(loop.timers_pending(), 0u);
}

TEST(manual_loop, a_timer_in_the_past_runs_now_and_the_clock_never_goes_back) {
  manual_loop loop;
  const core::time_point t0 = loop.now();
  std::optional<core::time_point> seen;
  loop.schedule(t0 - 1h, [&] { seen = loop.now(); });
  loop.run_until_idle();
  EXPECT_EQ(seen, t0);
  loop.run_until(t0 - 1s);
  EXPECT_EQ(loop.now(), t0);
}

TEST(manual_loop, run_until_true_jumps_from_timer_to_timer_and_stops_when_done) {
  manual_loop loop;
  const core::time_point t0 = loop.now();
  int fired = 0;
  for (int i = 1; i <= 5; ++i) loop.schedule(t0 + i * 1min, [&] { ++fired; });
  EXPECT_TRUE(loop.run_until_true([&] { return fired == 3; }, 1h));
  EXPECT_EQ(loop.now(), t0 + 3min);
  EXPECT_FALSE(loop.run_until_true([&] { return fired == 10; }, 1min));
  EXPECT_EQ(fired, 4) << "only the timer within the minute ran";
  EXPECT_FALSE(loop.run_until_true([&] { return fired == 10; }, 1h));
  EXPECT_EQ(fired, 5);
}

TEST(manual_loop, a_loop_that_never_idles_fails_the_test_instead_of_hanging) {
  manual_loop loop;
  loop.set_step_limit(100);
  std::function<void()> again = [&] { loop.post(again); };
  loop.post(again);
  EXPECT_NONFATAL_FAILURE(loop.run_until_idle(), "without becoming idle");
  EXPECT_EQ(loop.posted_pending(), 0u);
}

TEST(manual_loop, running_the_loop_from_a_callback_fails_the_test) {
  manual_loop loop;
  loop.post([&] { loop.run_until_idle(); });
  EXPECT_NONFATAL_FAILURE(loop.run_until_idle(), "from inside a callback");
}

// --- fake_resolver ------------------------------------------------------------------------

struct answers {
  std::vector<core::dns_answer> got;
  std::function<void(const core::dns_answer&)> sink() {
    return [this](const core::dns_answer& a) { got.push_back(a); };
  }
};

TEST(fake_resolver, answers_from_the_table_through_the_loop) {
  manual_loop loop;
  fake_resolver dns(loop);
  dns.add("mx1.example.test", core::rr_type::a, "192.0.2.1");
  dns.add("mx1.example.test", core::rr_type::a, "192.0.2.2");
  dns.add_mx("Example.TEST.", 20, "MX2.example.test.");
  dns.add_mx("example.test", 10, "mx1.example.test");
  answers a;
  dns.resolve("MX1.Example.Test.", core::rr_type::a, a.sink());
  dns.resolve("example.test", core::rr_type::mx, a.sink());
  dns.resolve("mx1.example.test", core::rr_type::aaaa, a.sink());
  dns.resolve("nowhere.test", core::rr_type::a, a.sink());
  EXPECT_TRUE(a.got.empty()) << "never answers from inside resolve()";
  loop.run_until_idle();
  ASSERT_EQ(a.got.size(), 4u);
  EXPECT_EQ(a.got[0].status, core::dns_status::ok);
  EXPECT_EQ(a.got[0].records, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(a.got[1].status, core::dns_status::ok);
  ASSERT_EQ(a.got[1].mx.size(), 2u);
  EXPECT_EQ(a.got[1].mx[0].preference, 20);
  EXPECT_EQ(a.got[1].mx[0].exchange, "mx2.example.test");
  EXPECT_EQ(a.got[2].status, core::dns_status::nodata);
  EXPECT_EQ(a.got[3].status, core::dns_status::nxdomain);
  EXPECT_EQ(dns.query_count(), 4u);
  EXPECT_EQ(dns.query_count("mx1.example.test", core::rr_type::a), 1u);
  EXPECT_EQ(dns.query_count("mx1.example.test", core::rr_type::aaaa), 1u);
}

TEST(fake_resolver, failures_per_name_and_delays) {
  manual_loop loop;
  fake_resolver dns(loop);
  dns.add("example.test", core::rr_type::mx, "ignored");
  dns.fail("example.test", core::dns_status::servfail);
  dns.fail("slow.test", core::dns_status::timeout);
  dns.set_delay("slow.test", 5s);
  answers a;
  dns.resolve("example.test", core::rr_type::mx, a.sink());
  dns.resolve("slow.test", core::rr_type::a, a.sink());
  loop.run_until_idle();
  ASSERT_EQ(a.got.size(), 1u);
  EXPECT_EQ(a.got[0].status, core::dns_status::servfail);
  loop.advance(4999ms);
  EXPECT_EQ(a.got.size(), 1u);
  loop.advance(1ms);
  ASSERT_EQ(a.got.size(), 2u);
  EXPECT_EQ(a.got[1].status, core::dns_status::timeout);

  dns.clear_failure("example.test");
  dns.resolve("example.test", core::rr_type::mx, a.sink());
  loop.run_until_idle();
  ASSERT_EQ(a.got.size(), 3u);
  EXPECT_EQ(a.got[2].status, core::dns_status::ok);
  dns.remove("example.test");
  dns.resolve("example.test", core::rr_type::mx, a.sink());
  loop.run_until_idle();
  EXPECT_EQ(a.got.back().status, core::dns_status::nxdomain);
  EXPECT_EQ(dns.queries()[1].name, "slow.test");
}

// --- memory_transport ---------------------------------------------------------------------

using recorder = recording_handler;  // tests/support/recording_handler.hpp


// A peer that greets, echoes and records.
struct echo_peer : memory_peer {
  std::vector<std::string> events;
  std::string received;
  memory_connection* conn = nullptr;

  void on_open(memory_connection& c) override {
    events.push_back("open");
    conn = &c;
    c.write("hello\r\n");
  }
  void on_bytes(memory_connection& c, std::string_view bytes) override {
    received += bytes;
    c.write(bytes);
  }
  void on_tls(memory_connection&) override { events.push_back("tls"); }
  void on_close(memory_connection&) override { events.push_back("close"); }
};

class memory_transport_test : public ::testing::Test {
 protected:
  memory_transport_test() { net.listen(server, peer); }

  std::unique_ptr<core::stream> connect(recorder& r, core::endpoint local = {}) {
    return net.connect({server, std::move(local)}, r);
  }

  manual_loop loop;
  memory_transport net{loop};
  echo_peer peer;
  core::endpoint server{"192.0.2.25", 25};
};

TEST_F(memory_transport_test, connects_and_carries_bytes_both_ways) {
  recorder r;
  auto s = connect(r, {"198.51.100.7", 0});
  s->write("ping\r\n");  // before on_connected: waits for the connection
  EXPECT_TRUE(r.events.empty()) << "never re-entrant from connect() or write()";
  loop.run_until_idle();
  EXPECT_EQ(r.events, (std::vector<std::string>{"connected", "data", "data"}));
  EXPECT_EQ(r.data, "hello\r\nping\r\n");
  EXPECT_EQ(peer.received, "ping\r\n");
  ASSERT_NE(peer.conn, nullptr);
  EXPECT_EQ(peer.conn->client().address, "198.51.100.7");
  EXPECT_EQ(peer.conn->server(), server);
  EXPECT_EQ(peer.conn->id(), 1u);
  EXPECT_TRUE(peer.conn->open());
  EXPECT_EQ(net.open_connections(), 1u);
  const auto attempts = net.attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].result, std::error_code{});
  EXPECT_EQ(attempts[0].local.address, "198.51.100.7");
}

TEST_F(memory_transport_test, without_a_local_address_the_client_is_loopback) {
  recorder r4, r6;
  auto s4 = connect(r4);
  net.listen({"2001:db8::25", 25}, peer);
  auto s6 = net.connect({{"2001:DB8:0::25", 25}, {}}, r6);  // canonical forms match
  loop.run_until_idle();
  ASSERT_EQ(net.connections().size(), 2u);
  EXPECT_EQ(net.connections()[0]->client().address, "127.0.0.1");
  EXPECT_EQ(net.connections()[1]->client().address, "::1");
  EXPECT_NE(net.connections()[0]->client().port, 0);
}

TEST_F(memory_transport_test, refused_invalid_and_foreign_addresses_fail_through_the_loop) {
  net.set_local_addresses({"127.0.0.2"});
  recorder refused, invalid, mixed, foreign, bound;
  auto a = net.connect({{"192.0.2.99", 25}, {}}, refused);
  auto b = net.connect({{"not-an-ip", 25}, {}}, invalid);
  auto c = net.connect({server, {"::1", 0}}, mixed);
  auto d = net.connect({server, {"127.0.0.3", 0}}, foreign);
  auto e = net.connect({server, {"127.0.0.2", 0}}, bound);
  EXPECT_FALSE(refused.closed || invalid.closed || mixed.closed || foreign.closed);
  loop.run_until_idle();
  EXPECT_EQ(refused.closed, std::make_error_code(std::errc::connection_refused));
  EXPECT_EQ(invalid.closed, std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(mixed.closed, std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(foreign.closed, std::make_error_code(std::errc::address_not_available));
  EXPECT_EQ(bound.events.front(), "connected");
  EXPECT_EQ(refused.events, (std::vector<std::string>{"closed"}));
  EXPECT_EQ(net.attempts()[0].result, std::make_error_code(std::errc::connection_refused));
}

TEST_F(memory_transport_test, unlisten_refuses_later_connects) {
  net.unlisten(server);
  recorder r;
  auto s = connect(r);
  loop.run_until_idle();
  EXPECT_EQ(r.closed, std::make_error_code(std::errc::connection_refused));
}

TEST_F(memory_transport_test, a_blackhole_times_out_on_the_loop_clock) {
  net.listen(server, peer, {.blackhole = true});
  recorder r;
  const core::time_point t0 = loop.now();
  auto s = net.connect({server, {}, 30s}, r);
  EXPECT_TRUE(loop.run_until_true([&] { return r.closed.has_value(); }, 1h));
  EXPECT_EQ(r.closed, std::make_error_code(std::errc::timed_out));
  EXPECT_EQ(loop.now(), t0 + 30s);
  EXPECT_TRUE(peer.events.empty());
}

TEST_F(memory_transport_test, a_slow_accept_connects_late_or_times_out) {
  net.listen(server, peer, {.connect_delay = 2s});
  recorder slow, impatient;
  auto a = net.connect({server, {}, 5s}, slow);
  auto b = net.connect({server, {}, 1s}, impatient);
  loop.advance(1999ms);
  EXPECT_TRUE(slow.events.empty());
  EXPECT_EQ(impatient.closed, std::make_error_code(std::errc::timed_out));
  loop.advance(1ms);
  EXPECT_EQ(slow.events.front(), "connected");
  EXPECT_EQ(peer.events, (std::vector<std::string>{"open"})) << "the impatient one never arrived";
  loop.advance(1h);
  EXPECT_FALSE(slow.closed) << "the connect timeout ends with the connect";
}

TEST_F(memory_transport_test, client_close_flushes_then_tells_the_peer_and_nothing_more) {
  recorder r;
  auto s = connect(r);
  loop.run_until_idle();
  s->write("QUIT\r\n");
  s->close();
  s->write("dropped\r\n");
  loop.run_until_idle();
  EXPECT_EQ(peer.received, "QUIT\r\n");
  EXPECT_EQ(peer.events.back(), "close");
  EXPECT_EQ(r.events, (std::vector<std::string>{"connected", "data"})) << "no call after close()";
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(memory_transport_test, destroying_the_stream_tells_the_peer_and_never_the_handler) {
  auto r = std::make_unique<recorder>();
  auto s = connect(*r);
  loop.run_until_idle();
  peer.conn->write("late\r\n");  // in flight when the stream goes
  s.reset();
  r.reset();  // the handler may go with the stream
  loop.run_until_idle();
  EXPECT_EQ(peer.events.back(), "close");
}

TEST_F(memory_transport_test, the_peer_closes_or_resets_after_its_bytes) {
  recorder a, b;
  auto sa = connect(a);
  loop.run_until_idle();
  peer.conn->write("221 bye\r\n");
  peer.conn->close();
  peer.conn->write("dropped");
  auto sb = connect(b);
  loop.run_until_idle();
  EXPECT_EQ(a.data, "hello\r\n221 bye\r\n");
  EXPECT_EQ(a.closed, std::error_code{});
  sa->write("after close\r\n");
  loop.run_until_idle();
  EXPECT_EQ(peer.received, "") << "bytes to a closed peer are dropped";
  peer.conn->reset();
  loop.run_until_idle();
  EXPECT_EQ(b.closed, std::make_error_code(std::errc::connection_reset));
  EXPECT_EQ(std::count(peer.events.begin(), peer.events.end(), "close"), 0)
      << "the peer's own close is not reported to it";
}

TEST_F(memory_transport_test, start_tls_upgrades_and_reports) {
  recorder r;
  auto s = connect(r);
  loop.run_until_idle();
  s->start_tls({"mx.example.test", core::tls_verify::hostname});
  s->write("secret\r\n");
  loop.run_until_idle();
  ASSERT_TRUE(r.tls);
  EXPECT_TRUE(r.tls->verified());
  EXPECT_EQ(r.tls->protocol, "TLSv1.3");
  EXPECT_TRUE(peer.conn->tls_active());
  EXPECT_EQ(peer.conn->server_name(), "mx.example.test");
  EXPECT_EQ(peer.events, (std::vector<std::string>{"open", "tls"}));
  EXPECT_EQ(r.events, (std::vector<std::string>{"connected", "data", "tls", "data"}));
  EXPECT_EQ(r.data, "hello\r\nsecret\r\n");
}

TEST_F(memory_transport_test, clear_text_after_start_tls_is_dropped) {
  recorder r;
  auto s = connect(r);
  loop.run_until_idle();
  s->start_tls({"mx.example.test"});
  peer.conn->write("injected\r\n");  // arrives after the client asked for TLS
  loop.run_until_idle();
  EXPECT_EQ(r.data, "hello\r\n");
  EXPECT_TRUE(r.tls);
}

struct tls_case {
  const char* name;
  memory_listen_options listener;
  core::tls_verify verify;
  std::optional<std::error_code> error;  // empty: the handshake succeeds
  bool trusted;
  bool matched;
};

class memory_tls_test : public memory_transport_test,
                        public ::testing::WithParamInterface<tls_case> {};

TEST_P(memory_tls_test, verification_follows_the_mode) {
  const tls_case& c = GetParam();
  net.listen(server, peer, c.listener);
  recorder r;
  auto s = connect(r);
  loop.run_until_idle();
  s->start_tls({"mx.example.test", c.verify});
  loop.run_until_idle();
  if (c.error) {
    EXPECT_EQ(r.closed, *c.error);
    EXPECT_FALSE(r.tls);
    EXPECT_EQ(peer.events.back(), "close");
    return;
  }
  ASSERT_TRUE(r.tls);
  EXPECT_EQ(r.tls->chain_trusted, c.trusted);
  EXPECT_EQ(r.tls->name_matched, c.matched);
  EXPECT_EQ(r.tls->detail.empty(), c.trusted && c.matched);
  EXPECT_FALSE(r.closed);
}

const memory_listen_options untrusted{.tls_trusted = false};
const memory_listen_options wrong_name{.tls_name_matches = false};
const memory_listen_options no_tls{.tls_available = false};
const std::error_code untrusted_error = core::transport_errc::tls_untrusted;
const std::error_code mismatch_error = core::transport_errc::tls_name_mismatch;
const std::error_code failed_error = core::transport_errc::tls_handshake_failed;

INSTANTIATE_TEST_SUITE_P(
    modes, memory_tls_test,
    ::testing::Values(
        tls_case{"none_untrusted", untrusted, core::tls_verify::none, {}, false, true},
        tls_case{"trusted_untrusted", untrusted, core::tls_verify::trusted, untrusted_error, false, false},
        tls_case{"trusted_wrong_name", wrong_name, core::tls_verify::trusted, {}, true, false},
        tls_case{"hostname_wrong_name", wrong_name, core::tls_verify::hostname, mismatch_error, false, false},
        tls_case{"hostname_good", {}, core::tls_verify::hostname, {}, true, true},
        tls_case{"none_unavailable", no_tls, core::tls_verify::none, failed_error, false, false}),
    [](const ::testing::TestParamInfo<tls_case>& p) { return std::string(p.param.name); });

TEST_F(memory_transport_test, start_tls_twice_or_too_early_ends_the_stream) {
  recorder early, twice;
  auto a = connect(early);
  a->start_tls({});
  auto b = connect(twice);
  loop.run_until_idle();
  EXPECT_EQ(early.closed, std::make_error_code(std::errc::operation_not_permitted));
  b->start_tls({});
  b->start_tls({});
  loop.run_until_idle();
  EXPECT_EQ(twice.closed, std::make_error_code(std::errc::operation_not_permitted));
  EXPECT_FALSE(twice.tls);
  EXPECT_EQ(peer.events.back(), "close");
}

TEST_F(memory_transport_test, a_handler_may_destroy_its_stream_from_a_callback) {
  recorder r;
  auto s = connect(r);
  r.on_data_hook = [&] { s.reset(); };
  loop.run_until_idle();
  EXPECT_EQ(r.events, (std::vector<std::string>{"connected", "data"}));
  EXPECT_EQ(peer.events.back(), "close");
}

// --- scripted_smtp_peer -------------------------------------------------------------------

// A minimal SMTP client by hand: writes lines, collects reply lines.
class scripted_peer_test : public ::testing::Test {
 protected:
  scripted_peer_test() { net.listen(mx, smtp); }

  std::unique_ptr<core::stream> open(recorder& r, core::endpoint local = {}) {
    auto s = net.connect({mx, std::move(local)}, r);
    loop.run_until_idle();
    return s;
  }
  // Sends `lines` in one write and runs the loop; returns the bytes answered since.
  std::string say(core::stream& s, recorder& r, const std::string& lines) {
    const std::size_t before = r.data.size();
    s.write(lines);
    loop.run_until_idle();
    return r.data.substr(before);
  }

  manual_loop loop;
  memory_transport net{loop};
  scripted_smtp_peer smtp{"mx.example.test"};
  core::endpoint mx{"192.0.2.25", 25};
};

TEST_F(scripted_peer_test, takes_a_pipelined_transaction_and_records_it) {
  recorder r;
  auto s = open(r, {"127.0.0.9", 0});
  EXPECT_EQ(r.data, "220 mx.example.test ESMTP scripted\r\n");
  EXPECT_EQ(say(*s, r, "EHLO client.test\r\n"),
            "250-mx.example.test greets client.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250-SIZE 10485760\r\n250 STARTTLS\r\n");
  const std::string replies = say(
      *s, r,
      "MAIL FROM:<a@client.test> SIZE=40\r\nRCPT TO:<b@example.test>\r\n"
      "RCPT TO:<c@example.test>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\n");
  EXPECT_EQ(replies,
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
  EXPECT_EQ(say(*s, r, "QUIT\r\n"), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(r.closed, std::error_code{}) << "the peer closes after QUIT";
  ASSERT_EQ(smtp.messages().size(), 1u);
  const smtp_received_message& m = smtp.messages()[0];
  EXPECT_TRUE(m.accepted());
  EXPECT_EQ(m.client_address, "127.0.0.9");
  EXPECT_EQ(m.helo, "client.test");
  EXPECT_EQ(m.mail_from, "a@client.test");
  EXPECT_EQ(m.mail_parameters, "SIZE=40");
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"b@example.test", "c@example.test"}));
  EXPECT_EQ(m.content, "Subject: x\r\n\r\n.dot\r\n");
  EXPECT_FALSE(m.tls);
  EXPECT_EQ(smtp.commands().size(), 6u);
  EXPECT_EQ(smtp.quits(), 1u);
  EXPECT_EQ(smtp.client_closes(), 0u);
}

TEST_F(scripted_peer_test, replies_per_transaction_recipient_and_connection) {
  smtp.on_transaction(1, smtp_step::mail, smtp_action::reply("451 4.3.0 try later"));
  smtp.on_recipient("Bad@Example.test", smtp_action::reply("550 5.1.1 no such user"));
  smtp.on_transaction(3, smtp_step::data_end, smtp_action::reply("554 5.7.1 spam"));
  recorder r;
  auto s = open(r);
  say(*s, r, "EHLO c\r\n");
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\n"), "451 4.3.0 try later\r\n");
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\nRCPT TO:<bad@example.test>\r\n"
                       "RCPT TO:<good@example.test>\r\nDATA\r\nhi\r\n.\r\n"),
            "250 2.1.0 Ok\r\n550 5.1.1 no such user\r\n250 2.1.5 Ok\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 2\r\n");
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\nRCPT TO:<x@example.test>\r\nDATA\r\nhi\r\n.\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "554 5.7.1 spam\r\n");
  ASSERT_EQ(smtp.messages().size(), 2u);
  EXPECT_EQ(smtp.messages()[0].recipients, (std::vector<std::string>{"good@example.test"}));
  EXPECT_FALSE(smtp.messages()[1].accepted());
  EXPECT_EQ(smtp.accepted_messages().size(), 1u);
  EXPECT_EQ(smtp.transactions_started(), 3u);
}

TEST_F(scripted_peer_test, a_421_greeting_on_the_first_connection_only) {
  smtp.on_connection(1, smtp_step::greeting, smtp_action::reply("421 4.3.2 busy"));
  recorder first, second;
  auto a = open(first);
  EXPECT_EQ(first.data, "421 4.3.2 busy\r\n");
  EXPECT_EQ(first.closed, std::error_code{});
  auto b = open(second);
  EXPECT_EQ(second.data, "220 mx.example.test ESMTP scripted\r\n");
  EXPECT_EQ(smtp.connections_opened(), 2u);
}

TEST_F(scripted_peer_test, a_554_greeting_answers_only_quit) {
  smtp.on(smtp_step::greeting, smtp_action::reply("554 5.7.1 go away"));
  recorder r;
  auto s = open(r);
  EXPECT_EQ(say(*s, r, "EHLO c\r\n"), "503 5.5.1 No service, only QUIT\r\n");
  EXPECT_EQ(say(*s, r, "QUIT\r\n"), "221 2.0.0 Bye\r\n");
}

TEST_F(scripted_peer_test, drop_closes_without_a_reply_and_silent_never_answers) {
  smtp.on_connection(1, smtp_step::data, smtp_action::drop());
  smtp.on_connection(2, smtp_step::rcpt, smtp_action::silent());
  recorder a, b;
  auto sa = open(a);
  EXPECT_EQ(say(*sa, a, "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@y>\r\nDATA\r\n"),
            "250 mx.example.test\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
  EXPECT_EQ(a.closed, std::error_code{});
  auto sb = open(b);
  EXPECT_EQ(say(*sb, b, "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@y>\r\nNOOP\r\n"),
            "250 mx.example.test\r\n250 2.1.0 Ok\r\n");
  loop.advance(1h);
  EXPECT_FALSE(b.closed);
  sb->close();
  loop.run_until_idle();
  EXPECT_EQ(smtp.client_closes(), 1u);
  EXPECT_TRUE(smtp.messages().empty());
}

TEST_F(scripted_peer_test, starttls_forgets_the_session_and_hides_the_keyword) {
  recorder r;
  auto s = open(r);
  say(*s, r, "EHLO c\r\n");
  EXPECT_EQ(say(*s, r, "STARTTLS\r\nMAIL FROM:<injected@x>\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  s->start_tls({"mx.example.test", core::tls_verify::hostname});
  loop.run_until_idle();
  ASSERT_TRUE(r.tls);
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\n"), "503 5.5.1 Bad sequence of commands\r\n")
      << "EHLO again after TLS (RFC 3207 §4.2)";
  const std::string ehlo = say(*s, r, "EHLO c\r\n");
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  say(*s, r, "MAIL FROM:<a@c>\r\nRCPT TO:<b@d>\r\nDATA\r\nx\r\n.\r\n");
  ASSERT_EQ(smtp.messages().size(), 1u);
  EXPECT_TRUE(smtp.messages()[0].tls);
  EXPECT_EQ(std::count(smtp.commands().begin(), smtp.commands().end(), "MAIL FROM:<injected@x>"), 0);
}

TEST_F(scripted_peer_test, sequence_errors_and_unknown_commands) {
  recorder r;
  auto s = open(r);
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\n"), "503 5.5.1 Bad sequence of commands\r\n");
  say(*s, r, "EHLO c\r\n");
  EXPECT_EQ(say(*s, r, "RCPT TO:<b@d>\r\n"), "503 5.5.1 Need MAIL first\r\n");
  EXPECT_EQ(say(*s, r, "MAIL FROM:<a@c>\r\nDATA\r\n"),
            "250 2.1.0 Ok\r\n554 5.5.1 No valid recipients\r\n");
  EXPECT_EQ(say(*s, r, "RSET\r\nVRFY x\r\n"), "250 2.0.0 Ok\r\n500 5.5.2 Command unrecognized\r\n");
}

}  // namespace
}  // namespace mailsim::test
