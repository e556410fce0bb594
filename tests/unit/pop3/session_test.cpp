// The POP3 session: greeting, state rules, TRANSACTION commands, errors and limits.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/pop3/session_harness.hpp"

namespace mailsim::pop3::test {
namespace {

using mailsim::test::printable;

std::string after_login(std::string_view commands) {
  return std::string(login) + std::string(commands);
}

// The replies that follow the login replies.
std::string transaction_replies(const session_run& run) {
  std::string all = replies(run);
  std::string head = printable(login_reply);
  EXPECT_EQ(all.substr(0, head.size()), head);
  return all.substr(std::min(all.size(), head.size()));
}

TEST(pop3_session, GreetsAndQuitsInAuthorization) {
  session_run run = run_session("QUIT\r\n");
  EXPECT_EQ(printable(run.output), printable("+OK POP3 mailsim ready\r\n"
                                             "+OK pop.example.test POP3 server signing off\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_session, UserPassOpensTheMaildrop) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed(login);
  drain(s, run);
  EXPECT_EQ(printable(run.output), printable(std::string(greeting) + std::string(login_reply)));
  ASSERT_TRUE(s.user().has_value());
  EXPECT_EQ(*s.user(), "alice@example.test");
  EXPECT_EQ(f.mailboxes.locked.count("alice@example.test"), 1u);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0], event_kind::auth);
}

TEST(pop3_session, WrongPasswordFailsAndTheSessionGoesOn) {
  session_run run = run_session("USER alice@example.test\r\nPASS wrong\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                    "-ERR command not valid in this state\r\n"
                                    "+OK pop.example.test POP3 server signing off\r\n"));
}

TEST(pop3_session, PassNeedsUserFirst) {
  session_run run = run_session("PASS secret\r\nUSER\r\nUSER a b\r\n");
  EXPECT_EQ(replies(run), printable("-ERR send USER first\r\n-ERR syntax error\r\n"
                                    "-ERR syntax error\r\n"));
}

TEST(pop3_session, PasswordMayContainSpaces) {
  fixture f;
  f.credentials = test_credentials();
  session_run run = run_session(f, {"USER alice@example.test\r\nPASS sec ret\r\n"}, {});
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"));
}

TEST(pop3_session, PlaintextLoginRefusedWithoutTls) {
  harness_config config;
  config.opts.allow_plaintext_auth = false;
  session_run run = run_session("USER alice@example.test\r\nPASS secret\r\nAUTH PLAIN\r\n", config);
  EXPECT_EQ(
      replies(run),
      printable("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n"
                "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n"
                "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n"));
}

TEST(pop3_session, PlaintextLoginAllowedUnderImplicitTls) {
  harness_config config;
  config.opts.allow_plaintext_auth = false;
  config.opts.tls_active = true;
  session_run run = run_session(login, config);
  EXPECT_EQ(replies(run), printable(login_reply));
}

TEST(pop3_session, TooManyAuthFailuresClose) {
  harness_config config;
  config.lim.auth_failures_max = 2;
  session_run run = run_session(
      "USER alice@example.test\r\nPASS a\r\nUSER alice@example.test\r\nPASS b\r\nNOOP\r\n", config);
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                    "+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_session, StatListUidl) {
  session_run run = run_session(after_login("STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\n"));
  EXPECT_EQ(transaction_replies(run),
            printable("+OK 2 66\r\n"
                      "+OK 2 messages (66 octets)\r\n1 23\r\n2 43\r\n.\r\n"
                      "+OK 2 43\r\n"
                      "+OK 2 messages (66 octets)\r\n1 uid-one\r\n2 uid-two\r\n.\r\n"
                      "+OK 1 uid-one\r\n"));
}

TEST(pop3_session, DeletedMessagesAreInvisibleUntilRset) {
  session_run run = run_session(after_login(
      "DELE 1\r\nSTAT\r\nLIST\r\nLIST 1\r\nUIDL\r\nUIDL 1\r\nRETR 1\r\nTOP 1 0\r\nDELE 1\r\n"
      "RSET\r\nSTAT\r\n"));
  EXPECT_EQ(transaction_replies(run), printable("+OK message 1 deleted\r\n"
                                                "+OK 1 43\r\n"
                                                "+OK 1 messages (43 octets)\r\n2 43\r\n.\r\n"
                                                "-ERR message 1 already deleted\r\n"
                                                "+OK 1 messages (43 octets)\r\n2 uid-two\r\n.\r\n"
                                                "-ERR message 1 already deleted\r\n"
                                                "-ERR message 1 already deleted\r\n"
                                                "-ERR message 1 already deleted\r\n"
                                                "-ERR message 1 already deleted\r\n"
                                                "+OK maildrop has 2 messages (66 octets)\r\n"
                                                "+OK 2 66\r\n"));
}

TEST(pop3_session, MessageNumbersAreValidatedStrictly) {
  session_run run = run_session(after_login(
      "LIST 0\r\nLIST 3\r\nLIST +1\r\nLIST -1\r\nLIST 1a\r\nLIST 99999999999999999999999999\r\n"
      "LIST 18446744073709551617\r\nLIST 01\r\nLIST  1\r\nLIST 1 \r\nLIST 1 2\r\nDELE\r\n"));
  EXPECT_EQ(transaction_replies(run),
            printable("-ERR no such message\r\n-ERR no such message\r\n"
                      "-ERR invalid message number\r\n-ERR invalid message number\r\n"
                      "-ERR invalid message number\r\n-ERR no such message\r\n"
                      "-ERR no such message\r\n+OK 1 23\r\n"
                      "-ERR syntax error\r\n-ERR syntax error\r\n-ERR syntax error\r\n"
                      "-ERR syntax error\r\n"));
}

TEST(pop3_session, CommandNamesAreCaseInsensitive) {
  session_run run = run_session("user alice@example.test\r\npAsS secret\r\nstat\r\nnoop\r\n");
  EXPECT_EQ(replies(run), printable(std::string(login_reply) + "+OK 2 66\r\n+OK\r\n"));
}

TEST(pop3_session, TransactionCommandsNeedLogin) {
  session_run run = run_session(
      "STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 1 1\r\nDELE 1\r\n"
      "RSET\r\nNOOP\r\n");
  std::string expected;
  for (int i = 0; i < 8; ++i) expected += "-ERR command not valid in this state\r\n";
  EXPECT_EQ(replies(run), printable(expected));
}

TEST(pop3_session, AuthorizationCommandsRefusedInTransaction) {
  harness_config config;
  config.opts.tls_available = true;
  session_run run = run_session(after_login("USER x\r\nPASS y\r\nAUTH PLAIN\r\nSTLS\r\n"), config);
  std::string expected;
  for (int i = 0; i < 4; ++i) expected += "-ERR command not valid in this state\r\n";
  EXPECT_EQ(transaction_replies(run), printable(expected));
}

TEST(pop3_session, UnknownCommandsAndApopAreRefused) {
  session_run run = run_session("APOP a b\r\nLAST\r\nXYZZY\r\n\r\n");
  EXPECT_EQ(replies(run), printable("-ERR unknown command\r\n-ERR unknown command\r\n"
                                    "-ERR unknown command\r\n-ERR unknown command\r\n"));
}

TEST(pop3_session, TooManyErrorsClose) {
  harness_config config;
  config.lim.errors_max = 3;
  session_run run = run_session("A\r\nB\r\nC\r\nD\r\n", config);
  EXPECT_EQ(replies(run), printable("-ERR unknown command\r\n-ERR unknown command\r\n"
                                    "-ERR unknown command\r\n"
                                    "-ERR too many errors, closing connection\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_session, ErrorsMaxZeroMeansNoLimit) {
  harness_config config;
  config.lim.errors_max = 0;
  std::string input;
  for (int i = 0; i < 50; ++i) input += "BOGUS\r\n";
  session_run run = run_session(input + "QUIT\r\n", config);
  EXPECT_NE(run.output.find("signing off"), std::string::npos);
}

TEST(pop3_session, OverlongLineIsAnsweredAndSkipped) {
  harness_config config;
  config.lim.line_bytes_max = 20;
  std::string input = "NOOP " + std::string(100, 'x') + "\r\nQUIT\r\n";
  session_run run = run_every_split(input, config);
  EXPECT_EQ(replies(run), printable("-ERR line too long\r\n"
                                    "+OK pop.example.test POP3 server signing off\r\n"));
}

TEST(pop3_session, BareCrInCommandIsRefused) {
  session_run run = run_session("NO\rOP\r\n");
  EXPECT_EQ(replies(run), printable("-ERR bare CR in command line\r\n"));
}

TEST(pop3_session, BareLfEndsACommand) {
  session_run run = run_session("QUIT\n");
  EXPECT_EQ(replies(run), printable("+OK pop.example.test POP3 server signing off\r\n"));
}

TEST(pop3_session, CapaBeforeTlsWithoutPlaintext) {
  harness_config config;
  config.opts.tls_available = true;
  config.opts.allow_plaintext_auth = false;
  session_run run = run_session("CAPA\r\n", config);
  EXPECT_EQ(replies(run), printable("+OK Capability list follows\r\nTOP\r\nSASL SCRAM-SHA-256\r\n"
                                    "STLS\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\n"
                                    "AUTH-RESP-CODE\r\nEXPIRE NEVER\r\n"
                                    "IMPLEMENTATION mailsim\r\n.\r\n"));
}

TEST(pop3_session, CapaUnderTlsOffersPlaintextAndNoStls) {
  harness_config config;
  config.opts.tls_available = true;
  config.opts.tls_active = true;
  config.opts.allow_plaintext_auth = false;
  session_run run = run_session("CAPA\r\n", config);
  EXPECT_EQ(replies(run),
            printable("+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL SCRAM-SHA-256 PLAIN\r\n"
                      "UIDL\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nEXPIRE NEVER\r\n"
                      "IMPLEMENTATION mailsim\r\n.\r\n"));
}

TEST(pop3_session, CapaWithoutMechanismsHasNoSaslLine) {
  harness_config config;
  config.opts.auth_mechanisms = {"CRAM-MD5"};
  session_run run = run_session("CAPA\r\n", config);
  EXPECT_EQ(run.output.find("SASL"), std::string::npos);
  EXPECT_NE(run.output.find("USER\r\n"), std::string::npos);
}

TEST(pop3_session, CapaInTransactionHasNoStls) {
  harness_config config;
  config.opts.tls_available = true;
  session_run run = run_session(after_login("CAPA\r\n"), config);
  EXPECT_EQ(run.output.find("STLS"), std::string::npos);
  EXPECT_NE(run.output.find("USER\r\n"), std::string::npos);
}

TEST(pop3_session, PipelinedSessionGivesTheSameAnswersAtEverySplit) {
  std::string input =
      after_login("STAT\r\nLIST\r\nRETR 2\r\nTOP 1 0\r\nDELE 1\r\nUIDL\r\nQUIT\r\n");
  session_run run = run_every_split(input);
  EXPECT_EQ(transaction_replies(run),
            printable("+OK 2 66\r\n"
                      "+OK 2 messages (66 octets)\r\n1 23\r\n2 43\r\n.\r\n"
                      "+OK 43 octets\r\nSubject: two\r\n\r\n..hidden\r\nline 2\r\n...\r\n"
                      "last\r\n.\r\n"
                      "+OK top of message follows\r\nSubject: one\r\n\r\n.\r\n"
                      "+OK message 1 deleted\r\n"
                      "+OK 1 messages (43 octets)\r\n2 uid-two\r\n.\r\n"
                      "+OK pop.example.test POP3 server signing off (1 messages deleted)\r\n"));
  EXPECT_TRUE(run.closed);
}

TEST(pop3_session, QuitCommitsDeletions) {
  fixture f;
  session_run run = run_session(f, {after_login("DELE 2\r\nDELE 1\r\nQUIT\r\n")}, {});
  ASSERT_EQ(f.mailboxes.commits.size(), 1u);
  EXPECT_EQ(f.mailboxes.commits[0], (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(f.mailboxes.boxes["alice@example.test"].empty());
  EXPECT_TRUE(f.mailboxes.locked.empty());
}

TEST(pop3_session, QuitWithoutDeletionsCommitsNothing) {
  fixture f;
  session_run run = run_session(f, {after_login("QUIT\r\n")}, {});
  EXPECT_TRUE(f.mailboxes.commits.empty());
  EXPECT_NE(run.output.find("(0 messages deleted)"), std::string::npos);
}

TEST(pop3_session, DeletionsNeedQuit) {
  fixture f;
  session_run run = run_session(f, {after_login("DELE 1\r\n")}, {});  // then EOF
  EXPECT_TRUE(run.closed);
  EXPECT_TRUE(f.mailboxes.commits.empty());
  EXPECT_EQ(f.mailboxes.boxes["alice@example.test"].size(), 2u);
  EXPECT_TRUE(f.mailboxes.locked.empty());  // the lock went with the session's close
}

TEST(pop3_session, CommitFailureAnswersErrAndCloses) {
  fixture f;
  f.mailboxes.fail_commit = true;
  session_run run = run_session(f, {after_login("DELE 1\r\nQUIT\r\n")}, {});
  EXPECT_EQ(transaction_replies(run),
            printable("+OK message 1 deleted\r\n"
                      "-ERR [SYS/TEMP] some deleted messages not removed\r\n"));
  EXPECT_TRUE(run.closed);
  EXPECT_EQ(f.mailboxes.boxes["alice@example.test"].size(), 2u);
}

TEST(pop3_session, StatsCountRetrievalsDeletionsAndErrors) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed(after_login("RETR 1\r\nRETR 2\r\nDELE 1\r\nBOGUS\r\nQUIT\r\n"));
  drain(s, run);
  EXPECT_EQ(s.stats().messages_retrieved, 2u);
  EXPECT_EQ(s.stats().messages_deleted, 1u);
  EXPECT_EQ(s.stats().errors, 1u);
  EXPECT_TRUE(s.closed());
}

TEST(pop3_session, MaildropInUse) {
  fixture f;
  f.mailboxes.locked.insert("alice@example.test");
  session_run run = run_session(f, {std::string(login) + "STAT\r\n"}, {});
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n"
                                    "-ERR [IN-USE] maildrop is locked by another session\r\n"
                                    "-ERR command not valid in this state\r\n"));
}

TEST(pop3_session, TwoSessionsOnOneMaildrop) {
  fixture f;
  harness_config config;
  session first(config.opts, config.lim, f.make_deps());
  session second(config.opts, config.lim, f.make_deps());
  session_run a;
  session_run b;
  first.start();
  second.start();
  first.feed(login);
  drain(first, a);
  second.feed(login);
  drain(second, b);
  EXPECT_NE(b.output.find("[IN-USE]"), std::string::npos);
  first.feed("QUIT\r\n");
  drain(first, a);
  second.feed(login);  // the lock went away with the first session's QUIT
  drain(second, b);
  EXPECT_TRUE(second.user().has_value());
}

TEST(pop3_session, MaildropOpenFailure) {
  fixture f;
  f.mailboxes.fail_open = true;
  session_run run = run_session(f, {login}, {});
  EXPECT_EQ(replies(run),
            printable("+OK send PASS\r\n-ERR [SYS/TEMP] unable to open the maildrop\r\n"));
}

TEST(pop3_session, UnreadableMessageAnswersSysTempAndGoesOn) {
  fixture f;
  f.mailboxes.unreadable.insert(0);
  session_run run = run_session(f, {after_login("RETR 1\r\nTOP 1 1\r\nNOOP\r\n")}, {});
  EXPECT_EQ(transaction_replies(run),
            printable("-ERR [SYS/TEMP] message 1 cannot be read\r\n"
                      "-ERR [SYS/TEMP] message 1 cannot be read\r\n+OK\r\n"));
}

TEST(pop3_session, EmptyMaildrop) {
  session_run run =
      run_session("USER bob@example.test\r\nPASS secret\r\nSTAT\r\nLIST\r\nLIST 1\r\n");
  EXPECT_EQ(replies(run), printable("+OK send PASS\r\n+OK maildrop has 0 messages (0 octets)\r\n"
                                    "+OK 0 0\r\n+OK 0 messages (0 octets)\r\n.\r\n"
                                    "-ERR no such message\r\n"));
}

TEST(pop3_session, PipelinedRetrsWaitForTheOutputToBeWritten) {
  fixture f;
  const std::string body(100 * 1024, 'x');
  f.mailboxes.boxes["alice@example.test"] = {{"uid-big", "Subject: big\r\n\r\n" + body + "\r\n"}};
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  s.start();
  s.feed(login);
  session_run run;
  drain(s, run);
  std::string retrs;
  for (int i = 0; i < 10; ++i) retrs += "RETR 1\r\n";
  s.feed(retrs + "QUIT\r\n");
  // Three answers (300 KiB) pass the 256 KiB bound: the session stops reading commands
  // until they are taken, so it never holds more than the bound plus one message.
  std::size_t answered = 0;
  std::size_t largest = 0;
  for (int guard = 0; guard < 100 && !s.closed(); ++guard) {
    const event_kind ev = s.next_event();
    const std::string out = s.take_output();
    largest = std::max(largest, out.size());
    for (std::size_t at = out.find(" octets\r\n"); at != std::string::npos;
         at = out.find(" octets\r\n", at + 1)) {
      ++answered;
    }
    if (ev == event_kind::close) break;
    ASSERT_EQ(ev, event_kind::write);
  }
  EXPECT_EQ(answered, 10u);
  EXPECT_LT(largest, config.lim.output_pending_max + body.size() + 1024);
  EXPECT_GE(largest, config.lim.output_pending_max);
}

TEST(pop3_session, EofClosesWithoutCommitting) {
  fixture f;
  session_run run = run_session(f, {after_login("DELE 1\r\nQUI")}, {});
  EXPECT_TRUE(run.closed);
  EXPECT_TRUE(f.mailboxes.commits.empty());
}

TEST(pop3_session, IdleTimeoutLogsOut) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed(after_login("DELE 1\r\n"));
  drain(s, run);
  auto deadline = s.next_deadline();
  ASSERT_TRUE(deadline.has_value());
  EXPECT_EQ(*deadline, f.clock.now() + config.lim.idle_timeout);
  f.clock.advance(config.lim.idle_timeout - core::duration_ms{1});
  s.on_timeout(f.clock.now());  // too early: nothing happens
  EXPECT_FALSE(s.closed());
  f.clock.advance(core::duration_ms{1});
  s.on_timeout(f.clock.now());
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.take_output(), "-ERR autologout; idle for too long\r\n");
  EXPECT_EQ(s.next_event(), event_kind::close);
  EXPECT_FALSE(s.next_deadline().has_value());
  EXPECT_TRUE(f.mailboxes.commits.empty());
  EXPECT_TRUE(f.mailboxes.locked.empty());
}

TEST(pop3_session, PartialLinesDoNotResetTheIdleTimer) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  drain(s, run);
  auto deadline = s.next_deadline();
  f.clock.advance(core::duration_ms{1000});
  s.feed("NO");
  drain(s, run);
  EXPECT_EQ(s.next_deadline(), deadline);
  s.feed("OP\r\n");
  drain(s, run);
  EXPECT_EQ(s.next_deadline(), f.clock.now() + config.lim.idle_timeout);
}

TEST(pop3_session, ShutdownClosesWithoutCommitting) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed(after_login("DELE 1\r\n"));
  drain(s, run);
  s.shutdown();
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.take_output(), "-ERR [SYS/TEMP] server shutting down\r\n");
  EXPECT_TRUE(f.mailboxes.commits.empty());
}

TEST(pop3_session, NothingHappensAfterClose) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed("QUIT\r\nNOOP\r\n");
  drain(s, run);
  s.feed("NOOP\r\n");
  EXPECT_EQ(s.next_event(), event_kind::close);
  EXPECT_EQ(s.take_output(), "");
}

}  // namespace
}  // namespace mailsim::pop3::test
