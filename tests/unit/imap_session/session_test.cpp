// The IMAP session's states, authentication, framing and error paths.
#include <gtest/gtest.h>

#include <chrono>

#include "reference-server/core/base64.hpp"
#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(imap_session_state, GreetingAdvertisesPreLoginCapabilities) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.greeting(),
            "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL- SASL-IR ID ENABLE IDLE STARTTLS "
            "AUTH=SCRAM-SHA-256 AUTH=PLAIN] IMAP mailsim ready\r\n");
}

TEST(imap_session_state, LoginDisabledWithoutTls) {
  fixture f;
  harness_config config;
  config.opts.allow_plaintext_auth = false;
  client c(f, config);
  EXPECT_TRUE(contains(c.greeting(), " LOGINDISABLED"));
  EXPECT_FALSE(contains(c.greeting(), "AUTH=PLAIN"));
  EXPECT_EQ(c.send("a LOGIN alice@example.test secret\r\n"),
            "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
            "connections\r\n");
  EXPECT_EQ(c.send("b AUTHENTICATE PLAIN\r\n"),
            "b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
            "connections\r\n");
  // After STARTTLS the same login works, and pipelined bytes after STARTTLS are dropped.
  EXPECT_EQ(c.send("c STARTTLS\r\nd NOOP\r\n"), "c OK Begin TLS negotiation now\r\n");
  std::string caps = c.send("e CAPABILITY\r\n");
  EXPECT_FALSE(contains(caps, "LOGINDISABLED"));
  EXPECT_FALSE(contains(caps, "STARTTLS"));
  EXPECT_TRUE(contains(caps, "AUTH=PLAIN"));
  EXPECT_TRUE(contains(c.send("f LOGIN alice@example.test secret\r\n"), "f OK [CAPABILITY"));
}

TEST(imap_session_state, StarttlsRefusedWhenActiveOrUnavailable) {
  fixture f;
  harness_config config;
  config.opts.tls_available = false;
  client c(f, config);
  EXPECT_EQ(c.send("a STARTTLS\r\n"), "a BAD TLS is not available\r\n");
  c.login();
  EXPECT_EQ(c.send("b STARTTLS\r\n"), "b BAD command not valid in this state\r\n");
}

TEST(imap_session_state, CommandsCheckTheState) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a SELECT INBOX\r\n"), "a BAD command not valid in this state\r\n");
  EXPECT_EQ(c.send("b FETCH 1 FLAGS\r\n"), "b BAD command not valid in this state\r\n");
  EXPECT_EQ(c.send("c NOOP\r\n"), "c OK NOOP completed\r\n");
  c.login();
  EXPECT_EQ(c.send("d LOGIN alice@example.test secret\r\n"),
            "d BAD command not valid in this state\r\n");
  EXPECT_EQ(c.send("e CLOSE\r\n"), "e BAD command not valid in this state\r\n");
  EXPECT_EQ(c.send("f EXPUNGE\r\n"), "f BAD command not valid in this state\r\n");
  EXPECT_EQ(c.send("g LOGOUT\r\n"), "* BYE logging out\r\ng OK LOGOUT completed\r\n");
  EXPECT_TRUE(c.closed());
}

// RFC 3501 §6.4.1: CHECK is a selected-state command of IMAP4rev1 (which is advertised);
// it answers like NOOP, with the updates other sessions caused.
TEST(imap_session_state, CheckOnlyInTheSelectedState) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a CHECK\r\n"), "a BAD command not valid in this state\r\n");
  c.login();
  EXPECT_EQ(c.send("b CHECK\r\n"), "b BAD command not valid in this state\r\n");
  c.send("c SELECT INBOX\r\n");
  EXPECT_EQ(c.send("d CHECK\r\n"), "d OK CHECK completed\r\n");
  f.store.deliver(std::string(alice), "INBOX", plain_message());
  EXPECT_EQ(c.send("e check\r\n"), "* 3 EXISTS\r\ne OK CHECK completed\r\n");
  c.send("f UNSELECT\r\n");
  EXPECT_EQ(c.send("g CHECK\r\n"), "g BAD command not valid in this state\r\n");
  EXPECT_EQ(c.raw().stats().errors, 3U);
}

TEST(imap_session_auth, LoginFailureAndLimit) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a LOGIN alice@example.test wrong\r\n"),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(c.send("b LOGIN nobody@example.test secret\r\n"),
            "b NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(c.send("c LOGIN \"alice@example.test\" x\r\n"),
            "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
            "* BYE too many authentication failures\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.raw().stats().auth_failures, 3U);
}

TEST(imap_session_auth, AuthenticatePlainWithContinuation) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  std::string response = core::base64_encode(std::string("\0alice@example.test\0secret", 26));
  std::string out = c.send(response + "\r\n");
  EXPECT_TRUE(contains(out, "a OK [CAPABILITY IMAP4rev1")) << out;
  EXPECT_EQ(c.raw().user(), std::optional<std::string>("alice@example.test"));
}

TEST(imap_session_auth, AuthenticateWithInitialResponse) {
  fixture f;
  client c(f);
  std::string ir = core::base64_encode(std::string("\0alice@example.test\0secret", 26));
  EXPECT_TRUE(contains(c.send("a AUTHENTICATE PLAIN " + ir + "\r\n"), "a OK [CAPABILITY"));
}

TEST(imap_session_auth, AuthenticateCancelAndBadBase64) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(c.send("*\r\n"), "a BAD AUTHENTICATE cancelled\r\n");
  EXPECT_EQ(c.send("b AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(c.send("!!!\r\n"), "b BAD invalid base64 data\r\n");
  EXPECT_EQ(c.send("c AUTHENTICATE CRAM-MD5\r\n"),
            "c NO Unsupported authentication mechanism\r\n");
  EXPECT_EQ(c.send("d NOOP\r\n"), "d OK NOOP completed\r\n");
}

// RFC 4959 §3: "=" is a zero-length initial response. PLAIN gets the empty message and
// fails at once: no "+ " continuation, and the failure counts.
TEST(imap_session_auth, EmptyInitialResponseFailsWithoutAContinuation) {
  fixture f;
  harness_config config;
  config.lim.auth_failures_max = 2;
  client c(f, config);
  EXPECT_EQ(c.send("a AUTHENTICATE PLAIN =\r\n"),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(c.raw().stats().auth_failures, 1U);
  EXPECT_EQ(c.raw().stats().errors, 0U);
  EXPECT_EQ(c.send("b NOOP\r\n"), "b OK NOOP completed\r\n");
  EXPECT_EQ(c.send("c authenticate plain =\r\n"),
            "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
            "* BYE too many authentication failures\r\n");
  EXPECT_TRUE(c.closed());
}

TEST(imap_session_auth, EmptyInitialResponseThenValidLogin) {
  std::string ir = core::base64_encode(std::string("\0alice@example.test\0secret", 26));
  session_run run = run_every_split("a AUTHENTICATE PLAIN =\r\nb AUTHENTICATE PLAIN " + ir +
                                    "\r\nc SELECT INBOX\r\n");
  EXPECT_TRUE(contains(run.output, "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"))
      << run.output;
  EXPECT_FALSE(contains(run.output, "+ ")) << run.output;
  EXPECT_TRUE(contains(run.output, "b OK [CAPABILITY")) << run.output;
  EXPECT_TRUE(contains(run.output, "c OK [READ-WRITE] SELECT completed")) << run.output;
}

TEST(imap_session_auth, AuthenticateScram) {
  fixture f;
  client c(f);
  std::string first = c.send("a AUTHENTICATE SCRAM-SHA-256 " +
                             core::base64_encode("n,,n=alice@example.test,r=clientnonce") +
                             "\r\n");
  ASSERT_EQ(first.rfind("+ ", 0), 0U) << first;
  // A wrong proof fails the exchange with NO, and the session goes on.
  auto server_first = core::base64_decode(first.substr(2, first.size() - 4));
  ASSERT_TRUE(server_first);
  std::string nonce = server_first->substr(2, server_first->find(',') - 2);
  std::string out = c.send(core::base64_encode("c=biws,r=" + nonce + ",p=AAAA") + "\r\n");
  EXPECT_TRUE(contains(out, "a NO [AUTHENTICATIONFAILED]") || contains(out, "a BAD")) << out;
  EXPECT_FALSE(c.closed());
}

TEST(imap_session_auth, AccountThatCannotOpenStaysUnauthenticated) {
  fixture f;
  f.store.fail_account_open = true;
  client c(f);
  EXPECT_EQ(c.login(), "L1 NO [UNAVAILABLE] unable to open the mailbox store\r\n");
  EXPECT_EQ(c.send("a SELECT INBOX\r\n"), "a BAD command not valid in this state\r\n");
  f.store.fail_account_open = false;
  EXPECT_TRUE(contains(c.login(), "L1 OK [CAPABILITY"));
  EXPECT_EQ(c.raw().stats().commands, 3U);
}

TEST(imap_session_commands, EnableAndId) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN\r\n"),
            "* ENABLED CONDSTORE UTF8=ACCEPT\r\na OK ENABLE completed\r\n");
  EXPECT_EQ(c.send("b ENABLE CONDSTORE\r\n"), "* ENABLED\r\nb OK ENABLE completed\r\n");
  EXPECT_EQ(c.send("c ID (\"name\" \"test\")\r\n"),
            "* ID (\"name\" \"mailsim\" \"vendor\" \"mailsim\")\r\nc OK ID completed\r\n");
}

TEST(imap_session_errors, SyntaxErrorsAreBadAndCounted) {
  fixture f;
  harness_config config;
  config.lim.errors_max = 3;
  client c(f, config);
  std::string out = c.send("a FROB\r\n");
  EXPECT_EQ(out.rfind("a BAD ", 0), 0U) << out;
  out = c.send("\r\n");
  EXPECT_EQ(out.rfind("* BAD ", 0), 0U) << out;
  out = c.send("b LOGIN\r\n");
  EXPECT_TRUE(contains(out, "b BAD ")) << out;
  EXPECT_TRUE(contains(out, "* BYE too many errors, closing connection\r\n")) << out;
  EXPECT_TRUE(c.closed());
}

TEST(imap_session_literals, ContinuationThenCommand) {
  fixture f;
  client c(f);
  EXPECT_EQ(c.send("a LOGIN {18}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(c.send("alice@example.test"), "");
  EXPECT_TRUE(contains(c.send(" {6}\r\n"), "+ Ready for literal data\r\n"));
  EXPECT_TRUE(contains(c.send("secret\r\n"), "a OK [CAPABILITY"));
}

TEST(imap_session_literals, NonSynchronizingLiteralNeedsNoContinuation) {
  fixture f;
  client c(f);
  EXPECT_TRUE(contains(c.send("a LOGIN {18+}\r\nalice@example.test secret\r\n"), "a OK ["));
}

TEST(imap_session_literals, OversizedLiteralIsRefused) {
  fixture f;
  harness_config config;
  config.lim.reader.literal_bytes_max = 100;
  client c(f, config);
  c.login();
  EXPECT_EQ(c.send("a APPEND INBOX {1000}\r\n"), "a NO [TOOBIG] literal too large\r\n");
  EXPECT_EQ(c.send("b NOOP\r\n"), "b OK NOOP completed\r\n");
}

TEST(imap_session_literals, LiteralsBeforeLoginAreCredentialSized) {
  fixture f;
  harness_config config;
  config.lim.unauthenticated_literal_bytes_max = 100;
  client c(f, config);
  // A stranger cannot make the session hold a message-sized literal...
  EXPECT_EQ(c.send("a LOGIN {1000}\r\n"), "a NO [TOOBIG] literal too large\r\n");
  EXPECT_TRUE(contains(c.send("b LOGIN {18}\r\n"), "+ "));
  EXPECT_TRUE(contains(c.send("alice@example.test secret\r\n"), "b OK ["));
  // ...and after login the reader's own limit applies.
  EXPECT_TRUE(contains(c.send("c APPEND INBOX {1000}\r\n"), "+ "));
}

TEST(imap_session_literals, OversizedNonSyncLiteralCloses) {
  fixture f;
  client c(f);
  c.login();
  std::string out = c.send("a APPEND INBOX {5000+}\r\n");
  EXPECT_TRUE(contains(out, "* BYE ")) << out;
  EXPECT_TRUE(c.closed());
}

TEST(imap_session_split, ByteSplitInputGivesTheSameTranscript) {
  const std::string input =
      "z AUTHENTICATE PLAIN\r\n*\r\n"
      "a LOGIN alice@example.test secret\r\n"
      "b SELECT INBOX\r\n"
      "i IDLE\r\nDONE\r\n"
      "c FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"
      "d APPEND INBOX {5}\r\nhello\r\n"
      "e STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"
      "f EXPUNGE\r\n"
      "g LOGOUT\r\n";
  session_run run = run_every_split(input);
  EXPECT_TRUE(run.closed);
  EXPECT_TRUE(contains(run.output, "g OK LOGOUT completed\r\n")) << run.output;
  EXPECT_TRUE(contains(run.output, "* 1 EXPUNGE\r\n")) << run.output;
  EXPECT_TRUE(contains(run.output, "z BAD AUTHENTICATE cancelled\r\n")) << run.output;
  EXPECT_TRUE(contains(run.output, "+ idling\r\ni OK IDLE terminated\r\n")) << run.output;
}

TEST(imap_session_timeouts, AutologoutBeforeAndAfterLogin) {
  fixture f;
  harness_config config;
  client c(f, config);
  auto deadline = c.raw().next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline - f.clock.now(), config.lim.autologout_unauthenticated);
  c.login();
  deadline = c.raw().next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline - f.clock.now(), core::duration_ms(30 * 60 * 1000));
  c.raw().on_timeout(*deadline - core::duration_ms(1));
  EXPECT_FALSE(c.raw().closed());
  c.raw().on_timeout(*deadline);
  EXPECT_EQ(c.pump(), "* BYE autologout; idle for too long\r\n");
  EXPECT_TRUE(c.raw().closed());
}

TEST(imap_session_timeouts, AutologoutWhileIdling) {
  fixture f;
  client c(f);
  c.login();
  c.send("s SELECT INBOX\r\n");
  EXPECT_EQ(c.send("i IDLE\r\n"), "+ idling\r\n");
  // Polls do not count as activity: after 30 minutes of polling the client is logged out.
  for (int poll = 0; poll < 3600 && !c.raw().closed(); ++poll) {
    f.clock.advance(core::duration_ms(500));
    c.raw().on_timeout(f.clock.now());
  }
  EXPECT_TRUE(c.raw().closed());
  EXPECT_EQ(c.pump(), "* BYE autologout; idle for too long\r\n");
}

TEST(imap_session_timeouts, ShutdownSaysBye) {
  fixture f;
  client c(f);
  c.raw().shutdown();
  EXPECT_EQ(c.pump(), "* BYE server shutting down\r\n");
  EXPECT_TRUE(c.closed());
}

// A failed login is answered after auth_failure_delay x failures; a command pipelined
// behind it is read only then.
TEST(imap_session, FailedLoginsAreAnsweredLate) {
  fixture f;
  harness_config config;
  config.lim.auth_failure_delay = std::chrono::seconds(2);
  client c(f, config);
  EXPECT_EQ(c.send("a LOGIN alice@example.test wrong\r\nb NOOP\r\n"), "");
  ASSERT_TRUE(c.raw().next_deadline());
  EXPECT_EQ(*c.raw().next_deadline() - f.clock.now(), std::chrono::seconds(2));
  f.clock.advance(std::chrono::seconds(2));
  c.raw().on_timeout(f.clock.now());
  EXPECT_EQ(c.pump(),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\nb OK NOOP completed\r\n");
  EXPECT_EQ(c.send("c LOGIN alice@example.test wrong\r\n"), "");
  EXPECT_EQ(*c.raw().next_deadline() - f.clock.now(), std::chrono::seconds(4));
  // The peer leaving meanwhile ends the session without waiting, and without the answer:
  // leaving is no way around the delay.
  c.raw().feed_eof();
  EXPECT_EQ(c.raw().next_event(), event_kind::close);
  EXPECT_EQ(c.raw().take_output(), "");
}

// Input sent while a failed login is held is not buffered without bound: past 64 KiB the
// session closes (without the held answer).
TEST(imap_session, FloodWhileAFailedLoginIsHeldCloses) {
  fixture f;
  harness_config config;
  config.lim.auth_failure_delay = std::chrono::seconds(1);
  client c(f, config);
  EXPECT_EQ(c.send("a LOGIN alice@example.test wrong\r\n"), "");
  const std::string noise(8 * 1024, 'x');
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(c.raw().closed());
  for (int i = 0; i < 9 && !c.raw().closed(); ++i) c.raw().feed(noise);
  EXPECT_TRUE(c.raw().closed());
  EXPECT_EQ(c.raw().next_event(), event_kind::close);
  EXPECT_EQ(c.raw().take_output(), "");
}

}  // namespace
}  // namespace mailsim::imap::test
