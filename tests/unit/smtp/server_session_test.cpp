// Server session transcripts: every input is fed whole, split at every byte boundary, and
// byte by byte, and must give the same replies and messages each time.
#include "reference-server/smtp/server_session.hpp"

#include <gtest/gtest.h>

#include "tests/unit/smtp/session_harness.hpp"

namespace mailsim::smtp {
namespace {

using test::harness_config;
using test::run_every_split;
using mailsim::test::printable;

harness_config default_config() {
  harness_config c;
  c.options.hostname = "mx.test";
  c.options.greeting_text = "ESMTP";
  return c;
}

const std::string greeting = "220 mx.test ESMTP\r\n";
const std::string ehlo_reply =
    "250-mx.test greets c.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 DSN\r\n";

TEST(server_session, one_message_with_dot_stuffing) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n"
      "Subject: hi\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n",
      default_config());
  EXPECT_EQ(printable(run.output),
            printable(greeting + ehlo_reply +
                      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
                      "250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n"));
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].content, "Subject: hi\r\n\r\n.leading dot\r\n");
  EXPECT_EQ(run.messages[0].env.reverse_path.box.local_part, "a");
  ASSERT_EQ(run.messages[0].env.recipients.size(), 1u);
  EXPECT_EQ(run.messages[0].env.recipients[0].address.box.domain, "mx.test");
  EXPECT_TRUE(run.closed);
}

TEST(server_session, helo_gives_a_plain_250) {
  auto run = run_every_split("HELO c.test\r\nQUIT\r\n", default_config());
  EXPECT_EQ(printable(run.output), printable(greeting + "250 mx.test\r\n221 2.0.0 Bye\r\n"));
}

TEST(server_session, two_transactions_on_one_connection) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\none\r\n.\r\n"
      "MAIL FROM:<>\r\nRCPT TO:<c@mx.test>\r\nRCPT TO:<d@mx.test>\r\nDATA\r\ntwo\r\n.\r\n",
      default_config());
  ASSERT_EQ(run.messages.size(), 2u);
  EXPECT_EQ(run.messages[0].content, "one\r\n");
  EXPECT_EQ(run.messages[1].content, "two\r\n");
  EXPECT_TRUE(run.messages[1].env.reverse_path.null);
  EXPECT_EQ(run.messages[1].env.recipients.size(), 2u);
}

TEST(server_session, empty_message_and_message_start_counts_as_line_start) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n.\r\n",
      default_config());
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].content, "");
}

// SMTP smuggling (CVE-2023-51766 and relatives): a fake end of data followed by a second
// transaction must never produce a second message.
const std::vector<std::string> smuggling_ends = {
    "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\n.\r", ".\n", "\r\n.\r\r\n",
};

std::string smuggle(const std::string& fake_end) {
  return "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n"
         "Subject: real\r\n\r\nbody" + fake_end +
         "MAIL FROM:<admin@bank.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n"
         "Subject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n";
}

TEST(server_session, smuggling_is_refused_by_default) {
  for (const auto& fake_end : smuggling_ends) {
    auto run = run_every_split(smuggle(fake_end), default_config());
    EXPECT_TRUE(run.messages.empty()) << printable(fake_end);
    EXPECT_NE(run.output.find("554 5.5.2 Error: bare CR or LF in message data\r\n"),
              std::string::npos) << printable(fake_end);
    EXPECT_EQ(std::count(run.events.begin(), run.events.end(), server_event_kind::message), 0);
    EXPECT_EQ(run.output.find("2.1.0 Ok", run.output.find("354")), std::string::npos)
        << "a smuggled MAIL was executed after " << printable(fake_end);
  }
}

TEST(server_session, smuggling_stays_one_message_when_normalizing) {
  auto config = default_config();
  config.options.bare_newlines = bare_newline_policy::normalize;
  for (const auto& fake_end : smuggling_ends) {
    auto run = run_every_split(smuggle(fake_end), config);
    ASSERT_EQ(run.messages.size(), 1u) << printable(fake_end);
    EXPECT_NE(run.messages[0].content.find("Subject: smuggled"), std::string::npos);
    EXPECT_EQ(run.messages[0].content.find('\n'), run.messages[0].content.find("\r\n") + 1);
  }
}

TEST(server_session, pipelined_burst_gets_replies_in_order) {
  auto config = default_config();
  std::string input = "EHLO c.test\r\n";
  for (int i = 0; i < 3; ++i) {
    input += "MAIL FROM:<a@c.test>\r\nRCPT TO:<x@mx.test>\r\nRCPT TO:<y@mx.test>\r\nDATA\r\nm\r\n.\r\n";
  }
  input += "NOOP\r\nRSET\r\nQUIT\r\n";
  auto run = run_every_split(input, config);
  EXPECT_EQ(run.messages.size(), 3u);
  std::string one = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
                    "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n";
  EXPECT_EQ(printable(run.output), printable(greeting + ehlo_reply + one + one + one +
                                             "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"));
}

struct error_case {
  std::string name;
  std::string input;
  std::string expected_reply;  // must appear in the output
};

TEST(server_session, error_paths_answer_with_the_right_codes) {
  const std::string tx = "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\n";
  const std::vector<error_case> cases = {
      {"unknown", "EHLO c.test\r\nFOO\r\n", "500 5.5.1 Error: command not recognized\r\n"},
      {"mail_before_helo", "MAIL FROM:<a@c.test>\r\n", "503 5.5.1 Error: send HELO/EHLO first\r\n"},
      {"rcpt_before_mail", "EHLO c.test\r\nRCPT TO:<b@mx.test>\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
      {"data_before_mail", "EHLO c.test\r\nDATA\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
      {"data_without_rcpt", tx + "DATA\r\n", "554 5.5.1 Error: no valid recipients\r\n"},
      {"nested_mail", tx + "MAIL FROM:<a@c.test>\r\n", "503 5.5.1 Error: nested MAIL command\r\n"},
      {"mail_syntax", "EHLO c.test\r\nMAIL FROM:a b c\r\n", "501 5.5.4"},
      {"unknown_param", "EHLO c.test\r\nMAIL FROM:<a@c.test> FOO=1\r\n", "555 5.5.4 Error: unsupported parameter FOO\r\n"},
      {"params_need_ehlo", "HELO c.test\r\nMAIL FROM:<a@c.test> SIZE=10\r\n", "555 5.5.4"},
      {"size_too_big", "EHLO c.test\r\nMAIL FROM:<a@c.test> SIZE=999999999999\r\n", "552 5.3.4"},
      {"utf8_without_smtputf8", "EHLO c.test\r\nMAIL FROM:<\xc3\xa9@c.test>\r\n", "553 5.6.7"},
      {"binarymime_needs_bdat", "EHLO c.test\r\nMAIL FROM:<a@c.test> BODY=BINARYMIME\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n", "503 5.5.1 Error: BDAT required for this transaction\r\n"},
      {"bad_notify", tx + "RCPT TO:<b@mx.test> NOTIFY=NEVER,SUCCESS\r\n", "501 5.5.4 Error: bad NOTIFY value\r\n"},
      {"line_too_long", "EHLO c.test\r\nNOOP " + std::string(3000, 'x') + "\r\nNOOP\r\n", "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n"},
      {"bare_cr_in_command", "EHLO c.test\r\nNO\rOP\r\n", "500 5.5.2 Error: bare CR in command\r\n"},
      {"starttls_not_offered", "EHLO c.test\r\nSTARTTLS\r\n", "502 5.5.1"},
      {"auth_not_enabled", "EHLO c.test\r\nAUTH PLAIN\r\n", "502 5.5.1 Error: authentication not enabled\r\n"},
      {"vrfy_disabled", "VRFY someone\r\n", "252 2.5.0"},
      {"expn", "EXPN list\r\n", "502 5.5.1"},
      {"help", "HELP\r\n", "214-2.0.0 Commands"},
  };
  for (const auto& c : cases) {
    auto run = run_every_split(c.input, default_config());
    EXPECT_NE(run.output.find(c.expected_reply), std::string::npos)
        << c.name << ": got " << printable(run.output);
  }
}

TEST(server_session, too_many_errors_closes_with_421) {
  auto config = default_config();
  config.lim.errors_max = 3;
  auto run = run_every_split("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n", config);
  EXPECT_EQ(printable(run.output),
            printable(greeting + "500 5.5.1 Error: command not recognized\r\n"
                                 "500 5.5.1 Error: command not recognized\r\n"
                                 "500 5.5.1 Error: command not recognized\r\n"
                                 "421 4.7.0 mx.test Error: too many errors\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(server_session, too_many_recipients_gives_452_and_keeps_the_first_ones) {
  auto config = default_config();
  config.lim.recipients_max = 2;
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\n"
      "RCPT TO:<d@mx.test>\r\nDATA\r\nx\r\n.\r\n",
      config);
  EXPECT_NE(run.output.find("452 4.5.3 Error: too many recipients\r\n"), std::string::npos);
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].env.recipients.size(), 2u);
}

TEST(server_session, message_too_big_is_read_to_the_end_then_refused) {
  auto config = default_config();
  config.lim.message_bytes_max = 10;
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n"
      "0123456789abcdef\r\n.\r\nNOOP\r\n",
      config);
  EXPECT_TRUE(run.messages.empty());
  EXPECT_NE(run.output.find("552 5.3.4 Error: message exceeds fixed maximum message size\r\n"
                            "250 2.0.0 Ok\r\n"),
            std::string::npos);
}

TEST(server_session, bdat_chunks_make_one_message) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test> BODY=BINARYMIME\r\nRCPT TO:<b@mx.test>\r\n"
      "BDAT 7\r\nab\r\n.\r\nBDAT 3 LAST\r\nxyzQUIT\r\n",
      default_config());
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].content, "ab\r\n.\r\nxyz");  // no unstuffing, no end detection
  EXPECT_NE(run.output.find("250 2.0.0 7 octets received\r\n250 2.0.0 Ok: queued\r\n221"),
            std::string::npos);
}

TEST(server_session, refused_bdat_chunk_is_skipped_not_executed) {
  auto run = run_every_split(
      "EHLO c.test\r\nBDAT 25 LAST\r\nMAIL FROM:<evil@c.test>\r\nNOOP\r\n", default_config());
  EXPECT_NE(run.output.find("503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n"),
            std::string::npos) << printable(run.output);
  EXPECT_EQ(run.output.find("2.1.0"), std::string::npos);
}

TEST(server_session, bdat_over_the_size_limit_is_skipped_and_refused) {
  auto config = default_config();
  config.lim.message_bytes_max = 5;
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nBDAT 6 LAST\r\n123456NOOP\r\n",
      config);
  EXPECT_TRUE(run.messages.empty());
  EXPECT_NE(run.output.find("552 5.3.4 Error: message exceeds fixed maximum message size\r\n"
                            "250 2.0.0 Ok\r\n"),
            std::string::npos);
}

TEST(server_session, dsn_and_utf8_parameters_are_kept_with_the_envelope) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<\xc3\xa9l\xc3\xa8ve@c.test> SMTPUTF8 BODY=8BITMIME RET=HDRS "
      "ENVID=QQ+2B1 SIZE=100\r\nRCPT TO:<b@mx.test> NOTIFY=SUCCESS,DELAY "
      "ORCPT=rfc822;b+40mx.test\r\nRCPT TO:<c@mx.test> NOTIFY=NEVER\r\nDATA\r\nx\r\n.\r\n",
      default_config());
  ASSERT_EQ(run.messages.size(), 1u);
  const envelope& env = run.messages[0].env;
  EXPECT_TRUE(env.smtputf8);
  EXPECT_TRUE(env.reverse_path.box.utf8);
  EXPECT_EQ(env.body, body_type::eight_bit_mime);
  EXPECT_EQ(env.ret, dsn_ret::headers);
  EXPECT_EQ(env.envid, "QQ+2B1");
  EXPECT_EQ(env.declared_size, 100u);
  ASSERT_EQ(env.recipients.size(), 2u);
  EXPECT_TRUE(env.recipients[0].notify.success && env.recipients[0].notify.delay);
  EXPECT_FALSE(env.recipients[0].notify.failure);
  EXPECT_EQ(env.recipients[0].orcpt, "rfc822;b+40mx.test");
  EXPECT_TRUE(env.recipients[1].notify.never);
}

TEST(server_session, policy_refusals_are_sent_as_given) {
  auto config = default_config();
  // The first recipient is accepted, every later one refused.
  config.policy = [](server_event_kind kind, const server_session& s) {
    if (kind == server_event_kind::rcpt && !s.current_envelope().recipients.empty()) {
      return decision::refuse(make_reply(550, "5.1.1", "No such user"));
    }
    return decision::accept();
  };
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<nobody@mx.test>\r\n"
      "DATA\r\nx\r\n.\r\n",
      config);
  EXPECT_NE(run.output.find("250 2.1.5 Ok\r\n550 5.1.1 No such user\r\n354"), std::string::npos);
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].env.recipients.size(), 1u);
}

TEST(server_session, refused_connection_is_closed_after_the_reply) {
  auto config = default_config();
  config.policy = [](server_event_kind kind, const server_session&) {
    return kind == server_event_kind::connect
               ? decision::refuse(make_reply(554, "5.7.1", "No service for you"))
               : decision::accept();
  };
  auto run = run_every_split("EHLO c.test\r\n", config);
  EXPECT_EQ(printable(run.output), printable("554 5.7.1 No service for you\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(server_session, starttls_drops_pipelined_commands_and_resets_state) {
  auto config = default_config();
  config.options.tls_available = true;
  // One piece: the injected command arrives in the same read as STARTTLS, before the
  // handshake (bytes after a handshake are the client's own, and legitimate).
  auto run = test::run_session({"EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<injected@c.test>\r\n"},
                               config);
  EXPECT_EQ(run.tls_handshakes, 1);
  EXPECT_EQ(run.output.find("2.1.0"), std::string::npos) << printable(run.output);
  EXPECT_NE(run.output.find("220 2.0.0 Ready to start TLS\r\n"), std::string::npos);
}

TEST(server_session, after_tls_the_client_must_greet_again_and_starttls_is_gone) {
  auto config = default_config();
  config.options.tls_available = true;
  test::manual_session m(config);
  server_session& s = m.s;
  s.feed("EHLO c.test\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::helo);
  s.submit(decision::accept());
  s.feed("STARTTLS\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::starttls);
  EXPECT_EQ(s.next_event().kind, server_event_kind::waiting);
  s.take_output();
  s.tls_started();
  s.feed("MAIL FROM:<a@c.test>\r\nEHLO c.test\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::helo);
  EXPECT_NE(s.take_output().find("503 5.5.1"), std::string::npos);
  s.submit(decision::accept());
  std::string ehlo = s.take_output();
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_TRUE(s.current_envelope().tls);
}

TEST(server_session, submission_requires_tls_then_auth) {
  auto config = default_config();
  config.options.tls_available = true;
  config.options.require_tls = true;
  config.options.require_auth = true;
  auto run = run_every_split("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\n", config);
  EXPECT_NE(run.output.find("530 5.7.0 Must issue a STARTTLS command first\r\n"), std::string::npos);
  config.options.tls_active = true;
  run = run_every_split("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\n", config);
  EXPECT_NE(run.output.find("530 5.7.0 Authentication required\r\n"), std::string::npos);
}

TEST(server_session, idle_timeout_closes_with_421) {
  auto config = default_config();
  test::manual_session m(config);
  server_session& s = m.s;
  core::manual_clock& clock = m.clock;
  EXPECT_EQ(s.next_event().kind, server_event_kind::need_more);
  auto deadline = s.next_deadline();
  ASSERT_TRUE(deadline.has_value());
  EXPECT_EQ(*deadline - clock.now(), std::chrono::minutes(5));  // RFC 5321 §4.5.3.2.7
  clock.set(*deadline);
  s.on_timeout(clock.now());
  EXPECT_NE(s.take_output().find("421 4.4.2 mx.test Error: timeout exceeded\r\n"),
            std::string::npos);
  EXPECT_EQ(s.next_event().kind, server_event_kind::close);
}

// Slowloris: a client that trickles a command one byte at a time must still time out; the
// deadline restarts only when a whole line has arrived.
TEST(server_session, a_trickled_line_does_not_postpone_the_timeout) {
  auto config = default_config();
  test::manual_session m(config);
  server_session& s = m.s;
  core::manual_clock& clock = m.clock;
  EXPECT_EQ(s.next_event().kind, server_event_kind::need_more);
  const auto deadline = *s.next_deadline();
  for (int i = 0; i < 400; ++i) {  // one byte a second, never a whole line
    clock.advance(std::chrono::seconds(1));
    s.feed("x");
    EXPECT_EQ(s.next_event().kind, server_event_kind::need_more);
    if (clock.now() >= *s.next_deadline()) break;
  }
  EXPECT_EQ(*s.next_deadline(), deadline);
  s.on_timeout(clock.now());
  EXPECT_NE(s.take_output().find("421 4.4.2"), std::string::npos);
  EXPECT_EQ(s.next_event().kind, server_event_kind::close);
}

TEST(server_session, a_whole_line_restarts_the_timeout) {
  auto config = default_config();
  test::manual_session m(config);
  server_session& s = m.s;
  core::manual_clock& clock = m.clock;
  EXPECT_EQ(s.next_event().kind, server_event_kind::need_more);
  s.take_output();
  clock.advance(std::chrono::minutes(4));
  s.feed("NOOP\r\n");
  while (s.next_event().kind != server_event_kind::need_more) {
  }
  EXPECT_EQ(*s.next_deadline() - clock.now(), std::chrono::minutes(5));
}

TEST(server_session, eof_in_data_drops_the_message) {
  auto run = run_every_split(
      "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\npartial",
      default_config());
  EXPECT_TRUE(run.messages.empty());
  EXPECT_TRUE(run.closed);
}

TEST(server_session, no_reply_to_a_message_before_the_decision) {
  auto config = default_config();
  test::manual_session m(config);
  server_session& s = m.s;
  s.feed("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\nx\r\n.\r\n");
  for (auto ev = s.next_event(); ev.kind != server_event_kind::message; ev = s.next_event()) {
    s.submit(decision::accept());
  }
  std::string before = s.take_output();
  EXPECT_EQ(before.find("Ok: queued"), std::string::npos);
  EXPECT_EQ(s.next_event().kind, server_event_kind::waiting);
  EXPECT_FALSE(s.next_deadline().has_value());  // the store's time is not the peer's idle time
  s.submit(decision::accept_with(make_reply(250, "2.0.0", "Ok: queued as X1")));
  EXPECT_EQ(s.take_output(), "250 2.0.0 Ok: queued as X1\r\n");
}

}  // namespace
}  // namespace mailsim::smtp

namespace mailsim::smtp {
namespace {

// RFC 2920 §3.1: a pipelining client sends RCPTs and DATA before it sees the MAIL reply;
// the 503s that follow a refused MAIL are this server's doing and must not cost the client
// its connection through errors_max.
TEST(server_session, errors_after_a_refused_mail_do_not_count_toward_the_limit) {
  auto config = default_config();
  config.lim.errors_max = 3;
  config.policy = [](server_event_kind kind, const server_session&) {
    return kind == server_event_kind::mail ? decision::refuse(make_reply(550, "5.7.1", "No"))
                                           : decision::accept();
  };
  std::string group = "MAIL FROM:<a@c.test>\r\n";
  for (int i = 0; i < 5; ++i) group += "RCPT TO:<b@mx.test>\r\n";
  group += "DATA\r\n";
  auto run = run_every_split("EHLO c.test\r\n" + group + group + "NOOP\r\n", config);
  EXPECT_FALSE(run.closed && run.output.find("421") != std::string::npos) << printable(run.output);
  EXPECT_NE(run.output.find("250 2.0.0 Ok\r\n"), std::string::npos);
}

TEST(server_session, data_after_refused_recipients_does_not_count_either) {
  auto config = default_config();
  config.lim.errors_max = 2;
  config.policy = [](server_event_kind kind, const server_session&) {
    return kind == server_event_kind::rcpt ? decision::refuse(make_reply(550, "5.1.1", "No"))
                                           : decision::accept();
  };
  std::string tx = "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\nRSET\r\n";
  auto run = run_every_split("EHLO c.test\r\n" + tx + tx + tx + "NOOP\r\n", config);
  EXPECT_EQ(run.output.find("421"), std::string::npos) << printable(run.output);
}

}  // namespace
}  // namespace mailsim::smtp
