#include "reference-server/imap/command_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference-server/imap/parser.hpp"
#include "tests/support/byte_split.hpp"
#include "tests/unit/imap/describe.hpp"

namespace mailsim::imap {
namespace {

// Everything a reader reports for one input, as one readable string: each event on its own
// line; complete commands list their segments ("T:" text, "L:"/"L8:" literals, "+" if
// non-synchronizing). continuation_needed is answered as a session would (it sends "+").
std::string describe(const read_event& ev) {
  switch (ev.state) {
    case read_event::status::need_more:
      return "need_more";
    case read_event::status::continuation_needed:
      return "continue " + ev.tag.value_or("-") + " " + std::to_string(ev.literal_bytes);
    case read_event::status::error:
      return std::string(ev.fatal ? "FATAL " : "error ") + ev.error.message() + " tag=" +
             ev.tag.value_or("-");
    case read_event::status::complete: {
      std::string out = "complete";
      for (const segment& s : ev.command.segments) {
        if (s.type == segment::kind::text) {
          out += " T:" + s.bytes;
        } else {
          out += std::string(s.literal8 ? " L8" : " L") + (s.synchronizing ? "" : "+") + ":" +
                 mailsim::test::printable(s.bytes);
        }
      }
      return out;
    }
  }
  return "?";
}

std::string run(const mailsim::test::pieces& pieces, const reader_limits& limits = {}) {
  command_reader reader(limits);
  std::string out;
  for (std::string_view piece : pieces) {
    reader.feed(piece);
    for (;;) {
      const read_event ev = reader.next();
      if (ev.state == read_event::status::need_more) break;
      out += describe(ev) + "\n";
      if (ev.fatal) return out;
    }
  }
  return out;
}

struct framing_case {
  std::string input;
  std::string expected;
};

void expect_same_for_every_split(const framing_case& c, const reader_limits& limits = {}) {
  bool first = true;
  mailsim::test::for_each_split(c.input, [&](const mailsim::test::pieces& pieces) {
    const std::string got = run(pieces, limits);
    EXPECT_EQ(got, c.expected) << "input: " << mailsim::test::printable(c.input)
                               << (first ? " (whole)" : " (split)");
    first = false;
  });
}

TEST(imap_command_reader, frames_commands_identically_at_every_split) {
  const std::vector<framing_case> cases = {
      {"a1 NOOP\r\n", "complete T:a1 NOOP\n"},
      {"a1 NOOP\n", "complete T:a1 NOOP\n"},  // bare LF accepted
      {"a1 NOOP\r\na2 LOGOUT\r\n", "complete T:a1 NOOP\ncomplete T:a2 LOGOUT\n"},
      {"a1 LOGIN {4}\r\nuser {4}\r\npass\r\n",
       "continue a1 4\ncontinue a1 4\ncomplete T:a1 LOGIN  L:user T:  L:pass T:\n"},
      {"a1 LOGIN {4+}\r\nuser {4+}\r\npass\r\n",
       "complete T:a1 LOGIN  L+:user T:  L+:pass T:\n"},
      // The literal's bytes are data even when they look like CRLF or a literal marker.
      {"a1 APPEND x {7}\r\n{3}\r\nab\r\n", "continue a1 7\ncomplete T:a1 APPEND x  L:{3}\\r\\nab T:\n"},
      {"a1 APPEND x ~{3+}\r\n\0\1\2\r\n", ""},  // filled in below (NUL in a C string)
      {"a1 LOGIN \"{4}\"\r\n", "complete T:a1 LOGIN \"{4}\"\n"},        // quoted: no literal
      {"a1 LOGIN \"a\\\"{4}\r\n", "complete T:a1 LOGIN \"a\\\"{4}\n"},  // still inside quotes
      {"a1 LOGIN x {0}\r\n\r\n", "continue a1 0\ncomplete T:a1 LOGIN x  L: T:\n"},
      {"a1 X {}\r\n", "complete T:a1 X {}\n"},
      {"DONE\r\n", "complete T:DONE\n"},
      {"+ bad\r\n", "complete T:+ bad\n"},
  };
  for (const framing_case& c : cases) {
    if (c.expected.empty()) continue;
    expect_same_for_every_split(c);
  }
  expect_same_for_every_split({std::string("a1 APPEND x ~{3+}\r\n\0\1\2\r\n", 24),
                               "complete T:a1 APPEND x  L8+:\\x00\\x01\\x02 T:\n"});
}

TEST(imap_command_reader, a_pipelined_session_parses_the_same_at_every_split) {
  const std::string stream =
      "a1 LOGIN {5+}\r\nalice \"s\\\"cret\"\r\n"
      "a2 APPEND INBOX (\\Seen) {12}\r\nHi\r\n{3}\r\nbye\r\n"
      "a3 UID SEARCH SUBJECT {3}\r\n{1} OR 1:3 $\r\n"
      "a4 IDLE\r\nDONE\n"
      "a5 FETCH 1 BODY.PEEK[1.HEADER.FIELDS ({4+}\r\nDate)]\r\n";
  const std::string expected =
      "a1 LOGIN user=alice pass=s\"cret\n"
      "a2 APPEND box=INBOX flags=(\\Seen) msg=Hi\r\n{3}\r\nbye\n"
      "a3 UID SEARCH subject={1} or(seq=1:3 seq=$)\n"
      "a4 IDLE\n"
      "DONE\n"
      "a5 FETCH 1 body.peek[1.FIELDS(Date)]\n";
  mailsim::test::for_each_split(stream, [&](const mailsim::test::pieces& pieces) {
    command_reader reader;
    std::string got;
    for (std::string_view piece : pieces) {
      reader.feed(piece);
      for (read_event ev = reader.next(); ev.state != read_event::status::need_more;
           ev = reader.next()) {
        if (ev.state != read_event::status::complete) continue;  // "+ Ready" is implied
        if (is_idle_done(ev.command)) {
          got += "DONE\n";
          continue;
        }
        const parse_result r = parse_command(ev.command);
        got += (r.value ? imap::test::describe(*r.value) : "ERROR " + r.error.text) + "\n";
      }
    }
    EXPECT_EQ(got, expected);
  });
}

reader_limits small_limits() {
  reader_limits l;
  l.line_bytes_max = 20;
  l.literal_bytes_max = 10;
  l.literals_per_command_max = 2;
  l.command_bytes_max = 40;
  l.nonsync_literal_bytes_max = 5;
  return l;
}

TEST(imap_command_reader, limits_are_enforced_identically_at_every_split) {
  const std::vector<framing_case> cases = {
      // A synchronizing literal over the limit: refused, the reader expects a new command.
      {"a1 APPEND x {11}\r\na2 NOOP\r\n",
       "error literal too large tag=a1\ncomplete T:a2 NOOP\n"},
      {"a1 APPEND x {10}\r\n0123456789\r\n",
       "continue a1 10\ncomplete T:a1 APPEND x  L:0123456789 T:\n"},
      // Non-synchronizing: within LITERAL- is fine, beyond it the stream cannot be resynced.
      {"a1 LOGIN {5+}\r\nabcde\r\n", "complete T:a1 LOGIN  L+:abcde T:\n"},
      {"a1 LOGIN {6+}\r\nabcdef\r\na2 NOOP\r\n",
       "FATAL non-synchronizing literal refused tag=a1\n"},
      {"a1 X {9999999999}\r\na2 NOOP\r\n",
       "error literal too large tag=a1\ncomplete T:a2 NOOP\n"},
      // Line length: the over-long line is skipped to its end and reported once.
      {"a1 SEARCH TEXT 0123456789\r\na2 NOOP\r\n",
       "error command line too long tag=a1\ncomplete T:a2 NOOP\n"},
      {"0123456789012345678901234567890123456789\r\na2 NOOP\r\n",
       "error command line too long tag=-\ncomplete T:a2 NOOP\n"},
      {"a1 SEARCH TEXT 01234567890123 {3+}\r\nabc\r\n",
       "FATAL non-synchronizing literal refused tag=a1\n"},
      // Over-long lines are judged by their tail alone, quotes or not: when in doubt, close.
      {"a1 X \"0123456789012345 {3+}\r\nabc\r\n",
       "FATAL non-synchronizing literal refused tag=a1\n"},
      {"01234567890123456789012345 {3}\r\na2 NOOP\r\n",
       "error command line too long tag=-\ncomplete T:a2 NOOP\n"},
      {"a1 X 01234567890123456\r\na2 NOOP\r\n",  // exactly 22 bytes: over 20
       "error command line too long tag=a1\ncomplete T:a2 NOOP\n"},
      {"a1 X 012345678901234\r\n", "complete T:a1 X 012345678901234\n"},  // exactly 20
      // More than 20 digits is no number64, so no literal: an over-long line is judged alike
      // whether its end came in one piece or was kept as a 32-byte tail (a fuzzer input).
      {"a1 X {012345678901234567890123456789+}\r\na2 NOOP\r\n",
       "error command line too long tag=a1\ncomplete T:a2 NOOP\n"},
      // A marker of exactly 32 bytes is seen whole in both, also when the CR came apart.
      {"a1 X {00000000000000000000000000003+}\r\nabc\r\n",
       "FATAL non-synchronizing literal refused tag=a1\n"},
      // Literal count.
      {"a1 X {1}\r\na {1}\r\nb {1}\r\na2 NOOP\r\n",
       "continue a1 1\ncontinue a1 1\nerror too many literals in one command tag=a1\n"
       "complete T:a2 NOOP\n"},
      // Whole command size: 5 + 10 + 1 + 10 + ... passes 40 at the third literal.
      {"a1 X {10}\r\n0123456789 {10}\r\n0123456789 Y 0123456789012345\r\na2 NOOP\r\n",
       "continue a1 10\ncontinue a1 10\nerror command too long tag=a1\ncomplete T:a2 NOOP\n"},
  };
  for (const framing_case& c : cases) expect_same_for_every_split(c, small_limits());
}

TEST(imap_command_reader, refuses_a_literal_before_its_bytes_arrive) {
  command_reader reader(small_limits());
  reader.feed("a1 APPEND INBOX {11}\r\n");
  read_event ev = reader.next();
  EXPECT_EQ(describe(ev), "error literal too large tag=a1");
  EXPECT_FALSE(ev.fatal);
  EXPECT_EQ(reader.next().state, read_event::status::need_more);
  // The client got BAD instead of "+": its next bytes are a new command.
  reader.feed("a2 NOOP\r\n");
  EXPECT_EQ(describe(reader.next()), "complete T:a2 NOOP");

  command_reader nonsync(small_limits());
  nonsync.feed("a1 APPEND INBOX {6+}\r\n");
  ev = nonsync.next();
  EXPECT_TRUE(ev.fatal);
  EXPECT_FALSE(is_recoverable(static_cast<errc>(ev.error.value())));
  nonsync.feed("abcdef\r\n");  // nothing after a fatal error is framed
  EXPECT_TRUE(nonsync.next().fatal);
  EXPECT_EQ(nonsync.buffered_bytes(), 0u);
}

TEST(imap_command_reader, literal_plus_limit_is_configurable) {
  reader_limits plus;  // LITERAL+: non-synchronizing literals up to literal_bytes_max
  plus.nonsync_literal_bytes_max = plus.literal_bytes_max;
  command_reader reader(plus);
  reader.feed("a1 APPEND INBOX {5000+}\r\n" + std::string(5000, 'x') + "\r\n");
  const read_event ev = reader.next();
  ASSERT_EQ(ev.state, read_event::status::complete);
  EXPECT_EQ(ev.command.segments[1].bytes.size(), 5000u);

  command_reader huge;  // sizes beyond 64 bits saturate and are refused like any other
  huge.feed("a1 APPEND INBOX {99999999999999999999999999}\r\n");
  EXPECT_EQ(describe(huge.next()), "error literal too large tag=a1");

  command_reader minus;  // default: LITERAL- (RFC 7888 §4: 4096)
  minus.feed("a1 APPEND INBOX {4097+}\r\n");
  EXPECT_TRUE(minus.next().fatal);
  command_reader minus_ok;
  minus_ok.feed("a1 APPEND INBOX {4096+}\r\n" + std::string(4096, 'x') + "\r\n");
  EXPECT_EQ(minus_ok.next().state, read_event::status::complete);
}

TEST(imap_command_reader, session_may_refuse_a_literal_after_continuation_needed) {
  command_reader reader;
  reader.feed("a1 APPEND nosuch {5}\r\n");
  const read_event ev = reader.next();
  ASSERT_EQ(ev.state, read_event::status::continuation_needed);
  EXPECT_EQ(ev.tag, "a1");
  reader.refuse_literal();
  reader.feed("a2 NOOP\r\n");
  EXPECT_EQ(describe(reader.next()), "complete T:a2 NOOP");
}

TEST(imap_command_reader, memory_stays_bounded_on_an_endless_line) {
  command_reader reader(small_limits());
  for (int i = 0; i < 1000; ++i) {
    reader.feed("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    EXPECT_EQ(reader.next().state, read_event::status::need_more);
    EXPECT_LE(reader.buffered_bytes(), 100u);
  }
  reader.feed("\r\na1 NOOP\r\n");
  EXPECT_EQ(describe(reader.next()), "error command line too long tag=-");
  EXPECT_EQ(describe(reader.next()), "complete T:a1 NOOP");
}

TEST(imap_command_reader, clear_drops_pipelined_bytes) {
  command_reader reader;
  reader.feed("a1 STARTTLS\r\na2 LOGIN u p\r\n");
  EXPECT_EQ(describe(reader.next()), "complete T:a1 STARTTLS");
  reader.clear();
  EXPECT_EQ(reader.next().state, read_event::status::need_more);
}

TEST(imap_command_reader, idle_done_and_single_lines) {
  command_reader reader;
  reader.feed("done\r\nDONE \r\nDONE {1}\r\n");
  read_event ev = reader.next();
  EXPECT_TRUE(is_idle_done(ev.command));
  EXPECT_EQ(single_line(ev.command), "done");
  ev = reader.next();
  EXPECT_FALSE(is_idle_done(ev.command));
  ev = reader.next();
  ASSERT_EQ(ev.state, read_event::status::continuation_needed);
  reader.feed("x\r\n");
  ev = reader.next();
  EXPECT_FALSE(is_idle_done(ev.command));
  EXPECT_FALSE(single_line(ev.command).has_value());
}

TEST(imap_command_reader, peek_tag_reads_valid_tags_only) {
  EXPECT_EQ(peek_tag("a1 NOOP"), "a1");
  EXPECT_EQ(peek_tag("A.b]c NOOP"), "A.b]c");
  EXPECT_EQ(peek_tag("a+1 NOOP"), std::nullopt);
  EXPECT_EQ(peek_tag("* NOOP"), std::nullopt);
  EXPECT_EQ(peek_tag(" NOOP"), std::nullopt);
  EXPECT_EQ(peek_tag("a{1 NOOP"), std::nullopt);
  EXPECT_EQ(peek_tag("tag"), std::nullopt);  // no SP: nothing says the tag is complete
}

}  // namespace
}  // namespace mailsim::imap
