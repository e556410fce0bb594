// AUTH (RFC 5034) with PLAIN and SCRAM-SHA-256, and STLS (RFC 2595).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/client.hpp"
#include "tests/unit/pop3/session_harness.hpp"

namespace mailsim::pop3::test {
namespace {

using mailsim::test::printable;

std::string plain(std::string_view user, std::string_view password) {
  std::string raw;
  raw += '\0';
  raw += user;
  raw += '\0';
  raw += password;
  return core::base64_encode(raw);
}

constexpr std::string_view opened = "+OK maildrop has 2 messages (66 octets)\r\n";

TEST(pop3_auth, PlainWithInitialResponse) {
  session_run run =
      run_every_split("AUTH PLAIN " + plain("alice@example.test", "secret") + "\r\nSTAT\r\n");
  EXPECT_EQ(replies(run), printable(std::string(opened) + "+OK 2 66\r\n"));
}

TEST(pop3_auth, PlainWithContinuation) {
  session_run run = run_session("auth plain\r\n" + plain("alice@example.test", "secret") + "\r\n");
  EXPECT_EQ(replies(run), printable("+ \r\n" + std::string(opened)));
}

TEST(pop3_auth, EmptyInitialResponseIsAnEmptyMessage) {
  // RFC 5034 §4: "=" is a zero-length response, not "no response": PLAIN gets it and
  // fails (no challenge), and the failure counts toward auth_failures_max.
  harness_config config;
  config.lim.auth_failures_max = 2;
  session_run run = run_session("AUTH PLAIN =\r\nAUTH PLAIN =\r\nNOOP\r\n", config);
  EXPECT_EQ(replies(run), printable("-ERR [AUTH] Authentication failed\r\n"
                                    "-ERR [AUTH] Authentication failed\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_auth, EmptyInitialResponseThenAValidLogin) {
  session_run run = run_every_split("AUTH PLAIN =\r\nAUTH PLAIN " +
                                    plain("alice@example.test", "secret") + "\r\nSTAT\r\n");
  EXPECT_EQ(replies(run), printable("-ERR [AUTH] Authentication failed\r\n" +
                                    std::string(opened) + "+OK 2 66\r\n"));
}

TEST(pop3_auth, WrongPassword) {
  session_run run = run_session("AUTH PLAIN " + plain("alice@example.test", "nope") + "\r\n");
  EXPECT_EQ(replies(run), printable("-ERR [AUTH] Authentication failed\r\n"));
}

TEST(pop3_auth, FailuresThroughAuthCountTowardTheLimit) {
  harness_config config;
  config.lim.auth_failures_max = 2;
  std::string bad = "AUTH PLAIN " + plain("alice@example.test", "nope") + "\r\n";
  session_run run = run_session(bad + "USER alice@example.test\r\nPASS nope\r\nNOOP\r\n", config);
  EXPECT_EQ(replies(run), printable("-ERR [AUTH] Authentication failed\r\n+OK send PASS\r\n"
                                    "-ERR [AUTH] Authentication failed\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_auth, ClientCancels) {
  session_run run = run_session("AUTH PLAIN\r\n*\r\nNOOP\r\n");
  EXPECT_EQ(replies(run), printable("+ \r\n-ERR authentication cancelled\r\n"
                                    "-ERR command not valid in this state\r\n"));
}

TEST(pop3_auth, BadBase64) {
  session_run run = run_session("AUTH PLAIN !!!\r\nAUTH PLAIN\r\nnot base64\r\n");
  EXPECT_EQ(replies(run), printable("-ERR invalid base64 data\r\n+ \r\n"
                                    "-ERR invalid base64 data\r\n"));
}

TEST(pop3_auth, UnsupportedMechanism) {
  session_run run = run_session("AUTH CRAM-MD5\r\nAUTH\r\nAUTH PLAIN a b\r\n");
  EXPECT_EQ(replies(run),
            printable("-ERR unsupported authentication mechanism\r\n"
                      "+OK list of SASL mechanisms follows\r\nSCRAM-SHA-256\r\nPLAIN\r\n.\r\n"
                      "-ERR syntax error\r\n"));
}

TEST(pop3_auth, ConfiguredButUnimplementedMechanismIsNotOffered) {
  harness_config config;
  config.opts.auth_mechanisms = {"plain", "X-NOPE", "PLAIN"};
  session_run run = run_session("AUTH\r\nAUTH X-NOPE\r\n", config);
  EXPECT_EQ(replies(run), printable("+OK list of SASL mechanisms follows\r\nPLAIN\r\n.\r\n"
                                    "-ERR unsupported authentication mechanism\r\n"));
}

TEST(pop3_auth, OverlongResponseEndsTheExchange) {
  harness_config config;
  config.lim.line_bytes_max = 40;
  session_run run = run_session("AUTH PLAIN\r\n" + std::string(60, 'A') + "\r\nNOOP\r\n", config);
  EXPECT_EQ(replies(run), printable("+ \r\n-ERR line too long\r\n"
                                    "-ERR command not valid in this state\r\n"));
}

// A full SCRAM-SHA-256 exchange with the client mechanism of reference-server/sasl, run
// step by step: the client's answers depend on the server's challenges.
TEST(pop3_auth, ScramSha256) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  drain(s, run);
  core::splitmix_random client_random(99);
  auto client =
      sasl::make_client_mechanism("SCRAM-SHA-256", "alice@example.test", "secret", client_random);
  ASSERT_NE(client, nullptr);
  auto first = client->initial_response();
  ASSERT_TRUE(first.has_value());
  s.feed("AUTH SCRAM-SHA-256 " + core::base64_encode(*first) + "\r\n");
  for (int round = 0; round < 4 && !s.user(); ++round) {
    run.output.clear();
    drain(s, run);
    if (run.output.rfind("+ ", 0) != 0) break;
    auto challenge = core::base64_decode(run.output.substr(2, run.output.size() - 4));
    ASSERT_TRUE(challenge.has_value());
    sasl::client_step_result step = client->step(*challenge);
    ASSERT_NE(step.state, sasl::client_step_result::status::error) << step.reason;
    s.feed(step.state == sasl::client_step_result::status::done
               ? std::string("\r\n")
               : core::base64_encode(step.data) + "\r\n");
  }
  EXPECT_TRUE(client->complete());
  EXPECT_EQ(run.output, opened);
  ASSERT_TRUE(s.user().has_value());
  EXPECT_EQ(*s.user(), "alice@example.test");
}

TEST(pop3_auth, AuthEventWaitsForRunAuth) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  s.start();
  s.feed(std::string(login) + "STAT\r\n");
  EXPECT_EQ(s.next_event(), event_kind::auth);
  EXPECT_FALSE(s.next_deadline().has_value());  // the server's time, not the peer's
  EXPECT_EQ(s.next_event(), event_kind::auth);  // asked again until run_auth()
  s.run_auth();
  EXPECT_EQ(s.next_event(), event_kind::need_more);
  EXPECT_EQ(s.take_output(), std::string(greeting) + std::string(login_reply) + "+OK 2 66\r\n");
}

TEST(pop3_stls, FlowDropsPipelinedBytes) {
  fixture f;
  harness_config config;
  config.opts.tls_available = true;
  config.opts.allow_plaintext_auth = false;
  session s(config.opts, config.lim, f.make_deps());
  s.start();
  s.feed("STLS\r\nUSER alice@example.test\r\n");
  EXPECT_EQ(s.next_event(), event_kind::stls);
  EXPECT_EQ(s.take_output(), std::string(greeting) + "+OK Begin TLS negotiation\r\n");
  s.feed("PASS secret\r\n");  // before the handshake: dropped
  EXPECT_EQ(s.next_event(), event_kind::need_more);
  EXPECT_FALSE(s.next_deadline().has_value());
  s.tls_started();
  EXPECT_TRUE(s.next_deadline().has_value());
  s.feed("PASS secret\r\nCAPA\r\n");
  EXPECT_EQ(s.next_event(), event_kind::need_more);
  std::string out = s.take_output();
  EXPECT_EQ(out.substr(0, 24), "-ERR send USER first\r\n+O");
  EXPECT_EQ(out.find("STLS"), std::string::npos);
  EXPECT_NE(out.find("USER\r\n"), std::string::npos);
  EXPECT_NE(out.find("SASL SCRAM-SHA-256 PLAIN\r\n"), std::string::npos);
}

TEST(pop3_stls, ForgetsUserGivenBeforeTls) {
  harness_config config;
  config.opts.tls_available = true;
  fixture f;
  session_run run =
      run_session(f, {"USER alice@example.test\r\n", "STLS\r\n", "PASS secret\r\n"}, config);
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n+OK Begin TLS negotiation\r\n"
                                    "-ERR send USER first\r\n"));
  EXPECT_EQ(run.tls_handshakes, 1);
}

TEST(pop3_stls, LoginAfterTls) {
  harness_config config;
  config.opts.tls_available = true;
  config.opts.allow_plaintext_auth = false;
  fixture f;
  session_run run = run_session(f, {"STLS\r\n", login}, config);
  EXPECT_EQ(replies(run), printable("+OK Begin TLS negotiation\r\n" + std::string(login_reply)));
}

TEST(pop3_stls, RefusedWhenUnavailableOrActive) {
  session_run run = run_session("STLS\r\n");
  EXPECT_EQ(replies(run), printable("-ERR STLS not available\r\n"));
  harness_config config;
  config.opts.tls_available = true;
  config.opts.tls_active = true;
  run = run_session("STLS\r\nSTLS x\r\n", config);
  EXPECT_EQ(replies(run), printable("-ERR TLS already active\r\n-ERR syntax error\r\n"));
}

TEST(pop3_stls, OnlyOnce) {
  harness_config config;
  config.opts.tls_available = true;
  fixture f;
  session_run run = run_session(f, {"STLS\r\n", "STLS\r\n"}, config);
  EXPECT_EQ(replies(run), printable("+OK Begin TLS negotiation\r\n-ERR TLS already active\r\n"));
}

TEST(pop3_stls, EofDuringHandshakeCloses) {
  fixture f;
  harness_config config;
  config.opts.tls_available = true;
  session s(config.opts, config.lim, f.make_deps());
  s.start();
  s.feed("STLS\r\n");
  EXPECT_EQ(s.next_event(), event_kind::stls);
  s.feed_eof();
  EXPECT_EQ(s.next_event(), event_kind::close);
}

// A failed login is answered after auth_failure_delay x failures; commands sent meanwhile
// wait for it, and the answers keep their order.
TEST(pop3_auth, FailedLoginsAreAnsweredLate) {
  fixture f;
  harness_config config;
  config.lim.auth_failure_delay = std::chrono::seconds(1);
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  drain(s, run);
  s.feed("USER alice@example.test\r\nPASS wrong\r\nNOOP\r\n");
  drain(s, run);
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n"));
  EXPECT_FALSE(s.has_output());
  ASSERT_TRUE(s.next_deadline());
  EXPECT_EQ(*s.next_deadline() - f.clock.now(), std::chrono::seconds(1));
  f.clock.advance(std::chrono::milliseconds(999));
  s.on_timeout(f.clock.now());
  drain(s, run);
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n"));
  f.clock.advance(std::chrono::milliseconds(1));
  s.on_timeout(f.clock.now());
  drain(s, run);
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                    "-ERR command not valid in this state\r\n"))
      << "NOOP before login is refused, after the held answer";
  // The second failure waits twice as long.
  run.output.clear();
  s.feed("USER alice@example.test\r\nPASS wrong\r\n");
  drain(s, run);
  EXPECT_EQ(*s.next_deadline() - f.clock.now(), std::chrono::seconds(2));
  // A stopping server sends what it held at once.
  s.shutdown();
  drain(s, run);
  run.output += s.take_output();
  EXPECT_NE(run.output.find("-ERR [AUTH] Authentication failed\r\n"), std::string::npos);
  EXPECT_TRUE(s.closed());
}

}  // namespace
}  // namespace mailsim::pop3::test
