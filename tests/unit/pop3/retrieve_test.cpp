// RETR and TOP: byte-stuffing, the added final CRLF, and TOP's edge cases; the helpers
// behind them (session_impl.hpp) are tested directly too.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "reference-server/pop3/session_impl.hpp"
#include "tests/unit/pop3/session_harness.hpp"

namespace mailsim::pop3::test {
namespace {

using mailsim::test::printable;

// Runs alice's login with one message in the maildrop, then `commands`; returns the
// replies after the login.
std::string with_message(std::string_view text, std::string_view commands) {
  fixture f;
  f.mailboxes.boxes["alice@example.test"] = {{"u1", std::string(text)}};
  session_run run = run_session(f, {std::string(login) + std::string(commands)}, {});
  std::string all = run.output;
  std::size_t at = all.find("octets)\r\n");
  EXPECT_NE(at, std::string::npos);
  return printable(all.substr(at + 9));
}

TEST(pop3_retrieve, RetrByteStuffsDots) {
  EXPECT_EQ(with_message(".\r\n..\r\n.a\r\nb.\r\n", "RETR 1\r\n"),
            printable("+OK 15 octets\r\n..\r\n...\r\n..a\r\nb.\r\n.\r\n"));
}

TEST(pop3_retrieve, RetrAddsTheMissingFinalCrlf) {
  EXPECT_EQ(with_message("Subject: x\r\n\r\nno end", "RETR 1\r\n"),
            printable("+OK 20 octets\r\nSubject: x\r\n\r\nno end\r\n.\r\n"));
}

TEST(pop3_retrieve, RetrOfAnEmptyMessage) {
  EXPECT_EQ(with_message("", "RETR 1\r\n"), printable("+OK 0 octets\r\n.\r\n"));
}

TEST(pop3_retrieve, RetrTurnsBareLfIntoCrlf) {
  EXPECT_EQ(with_message("a\nb\r\n", "RETR 1\r\n"), printable("+OK 5 octets\r\na\r\nb\r\n.\r\n"));
}

TEST(pop3_retrieve, RetrOfALargeMessage) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " .....\r\n";
  fixture f;
  f.mailboxes.boxes["alice@example.test"] = {{"u1", big}};
  session_run run = run_session(f, {std::string(login) + "RETR 1\r\nQUIT\r\n"}, {});
  std::string expect = "+OK " + std::to_string(big.size()) + " octets\r\n" + big + ".\r\n";
  EXPECT_NE(run.output.find(expect), std::string::npos);
  EXPECT_TRUE(run.closed);
}

TEST(pop3_retrieve, RetrNeedsOneArgument) {
  EXPECT_EQ(with_message("a\r\n", "RETR\r\nRETR 1 2\r\nRETR x\r\nRETR 2\r\n"),
            printable("-ERR syntax error\r\n-ERR syntax error\r\n"
                      "-ERR invalid message number\r\n-ERR no such message\r\n"));
}

constexpr std::string_view three_lines = "From: a\r\nTo: b\r\n\r\none\r\n.two\r\nthree\r\n";

TEST(pop3_retrieve, TopZeroLinesIsTheHeaderAndBlankLine) {
  EXPECT_EQ(with_message(three_lines, "TOP 1 0\r\n"),
            printable("+OK top of message follows\r\nFrom: a\r\nTo: b\r\n\r\n.\r\n"));
}

TEST(pop3_retrieve, TopSomeLines) {
  EXPECT_EQ(
      with_message(three_lines, "TOP 1 2\r\n"),
      printable("+OK top of message follows\r\nFrom: a\r\nTo: b\r\n\r\none\r\n..two\r\n.\r\n"));
}

TEST(pop3_retrieve, TopBeyondTheEndIsTheWholeMessage) {
  EXPECT_EQ(with_message(three_lines, "TOP 1 99999999999999999999999\r\n"),
            printable("+OK top of message follows\r\nFrom: a\r\nTo: b\r\n\r\none\r\n..two\r\n"
                      "three\r\n.\r\n"));
}

TEST(pop3_retrieve, TopOfAMessageWithoutBody) {
  EXPECT_EQ(with_message("Subject: only\r\n", "TOP 1 5\r\n"),
            printable("+OK top of message follows\r\nSubject: only\r\n\r\n.\r\n"));
  EXPECT_EQ(with_message("Subject: only", "TOP 1 5\r\n"),
            printable("+OK top of message follows\r\nSubject: only\r\n\r\n.\r\n"));
  EXPECT_EQ(with_message("Subject: only\r\n\r\n", "TOP 1 5\r\n"),
            printable("+OK top of message follows\r\nSubject: only\r\n\r\n.\r\n"));
}

TEST(pop3_retrieve, TopArgumentsAreChecked) {
  EXPECT_EQ(with_message(three_lines, "TOP 1\r\nTOP 1 -1\r\nTOP 1 +1\r\nTOP 2 1\r\nTOP 1 1 1\r\n"),
            printable("-ERR syntax error\r\n-ERR invalid line count\r\n"
                      "-ERR invalid line count\r\n-ERR no such message\r\n"
                      "-ERR syntax error\r\n"));
}

TEST(pop3_retrieve, TopDoesNotCountAsRetrieval) {
  fixture f;
  harness_config config;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  s.feed(std::string(login) + "TOP 1 1\r\n");
  drain(s, run);
  EXPECT_EQ(s.stats().messages_retrieved, 0u);
}

TEST(pop3_parse, Decimal) {
  EXPECT_EQ(parse_decimal("0"), 0u);
  EXPECT_EQ(parse_decimal("0042"), 42u);
  EXPECT_EQ(parse_decimal("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_decimal("18446744073709551616"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_decimal(""));
  EXPECT_FALSE(parse_decimal("+1"));
  EXPECT_FALSE(parse_decimal(" 1"));
  EXPECT_FALSE(parse_decimal("1\xff"));
}

TEST(pop3_parse, SplitCommand) {
  command_line c = split_command("pass a  b");
  EXPECT_EQ(c.name, "PASS");
  EXPECT_EQ(c.rest, "a  b");
  EXPECT_FALSE(c.well_formed);
  c = split_command("LIST 1");
  ASSERT_EQ(c.args.size(), 1u);
  EXPECT_EQ(c.args[0], "1");
  EXPECT_TRUE(c.well_formed);
  c = split_command("STAT");
  EXPECT_TRUE(c.args.empty());
  EXPECT_TRUE(c.rest.empty());
}

TEST(pop3_parse, TopOfBareLfMessage) {
  EXPECT_EQ(top_of("A: b\n\nbody\nmore\n", 1), "A: b\n\nbody\n");
}

}  // namespace
}  // namespace mailsim::pop3::test
