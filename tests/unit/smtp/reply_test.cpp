#include "reference-server/smtp/reply.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/byte_split.hpp"

namespace mailsim::smtp {
namespace {

reply make_multi(int code, std::string enhanced, std::vector<std::string> lines) {
  reply r;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.lines = std::move(lines);
  return r;
}

TEST(reply, format_writes_rfc_5321_lines) {
  struct format_case {
    reply value;
    std::string wire;
  };
  const std::vector<format_case> cases = {
      {make_reply(250, "", "OK"), "250 OK\r\n"},
      {make_reply(250, "2.1.0", "Ok"), "250 2.1.0 Ok\r\n"},
      {make_reply(354, "", "End data with <CR><LF>.<CR><LF>"),
       "354 End data with <CR><LF>.<CR><LF>\r\n"},
      {make_reply(250, "2.0.0", ""), "250 2.0.0\r\n"},
      {make_reply(250, "", ""), "250\r\n"},
      {make_multi(250, "", {}), "250\r\n"},
      {make_multi(250, "", {"mx.example", "PIPELINING", "8BITMIME"}),
       "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"},
      {make_multi(550, "5.7.1", {"Rejected", "see https://example.com/why"}),
       "550-5.7.1 Rejected\r\n550 5.7.1 see https://example.com/why\r\n"},
      {make_multi(250, "", {"", "last"}), "250-\r\n250 last\r\n"},
      // Line breaks inside a text would inject a reply; they become spaces.
      {make_reply(550, "5.1.1", "no\r\n250 ok"), "550 5.1.1 no  250 ok\r\n"},
      {make_reply(421, "", "\nbye\r"), "421  bye \r\n"},
      {make_reply(550, "", "a\nb\rc\r\r\nd"), "550 a b c   d\r\n"},
  };
  for (const format_case& c : cases) {
    EXPECT_EQ(format(c.value), c.wire) << test::printable(c.wire);
  }
}

TEST(reply, appending_writes_what_format_returns_after_what_was_there) {
  const std::vector<reply> replies = {
      make_reply(250, "", "OK"),         make_reply(250, "2.0.0", ""),
      make_reply(250, "", ""),           make_multi(550, "5.7.1", {"Rejected", "see\r\nwhy"}),
      make_multi(250, "", {"", "last"}), make_reply(421, "4.7.0", "\nbye\r")};
  for (const reply& r : replies) {
    std::string out = "before\r\n";
    append_format(out, r);
    EXPECT_EQ(out, "before\r\n" + format(r)) << test::printable(out);
    if (r.lines.size() != 1) continue;
    std::string direct = "before\r\n";
    append_reply(direct, r.code, r.enhanced, r.lines[0]);
    EXPECT_EQ(direct, out) << test::printable(direct);
  }
}

TEST(reply, lines_from_views_are_written_as_format_writes_the_reply) {
  const std::vector<reply> replies = {
      make_multi(250, "", {"mx.example greets a", "PIPELINING", "SIZE 1000", "DSN"}),
      make_reply(250, "", "one"), make_multi(250, "", {"", "last"}),
      make_multi(250, "", {"bad\r\nline", "x"})};
  for (const reply& r : replies) {
    const std::vector<std::string_view> views(r.lines.begin(), r.lines.end());
    std::string out = "before\r\n";
    append_reply_lines(out, r.code, views);
    EXPECT_EQ(out, "before\r\n" + format(r)) << test::printable(out);
  }
  std::string empty;
  append_reply_lines(empty, 250, {});
  EXPECT_EQ(empty, "250\r\n");
}

TEST(reply, text_joins_lines_with_the_enhanced_code_once) {
  EXPECT_EQ(make_reply(250, "2.1.0", "Ok").text(), "2.1.0 Ok");
  EXPECT_EQ(make_reply(250, "", "Ok").text(), "Ok");
  EXPECT_EQ(make_reply(250, "2.0.0", "").text(), "2.0.0");
  EXPECT_EQ(make_multi(550, "5.7.1", {"a", "b"}).text(), "5.7.1 a\nb");
  EXPECT_EQ(make_multi(250, "", {"a", "b", "c"}).text(), "a\nb\nc");
}

TEST(reply, classes_follow_the_first_digit) {
  EXPECT_TRUE(make_reply(250, "", "").positive());
  EXPECT_TRUE(make_reply(354, "", "").positive());
  EXPECT_TRUE(make_reply(421, "", "").transient());
  EXPECT_FALSE(make_reply(421, "", "").permanent());
  EXPECT_TRUE(make_reply(554, "", "").permanent());
}

// Everything a parser produced from one input, one string per event.
std::vector<std::string> parse_all(const test::pieces& input, reply_limits limits) {
  reply_parser parser(limits);
  std::vector<std::string> events;
  for (std::string_view piece : input) {
    parser.feed(piece);
    for (;;) {
      const reply_event e = parser.next();
      if (e.state == reply_event::status::need_more) break;
      if (e.state == reply_event::status::error) {
        events.push_back("error: " + e.error);
        return events;  // the stream cannot be trusted after an error
      }
      std::string s = std::to_string(e.value.code) + " [" + e.value.enhanced + "]";
      for (const std::string& line : e.value.lines) s += " |" + line;
      events.push_back(s);
    }
  }
  return events;
}

struct parse_case {
  std::string name;
  std::string input;
  std::vector<std::string> expected;
  reply_limits limits = {};
};

std::vector<parse_case> parse_cases() {
  reply_limits short_lines;
  short_lines.line_bytes_max = 10;
  reply_limits two_lines;
  two_lines.lines_max = 2;
  return {
      {"greeting", "220 mx.example ESMTP\r\n", {"220 [] |mx.example ESMTP"}},
      {"bare_lf", "220 hi\n250 ok\n", {"220 [] |hi", "250 [] |ok"}},
      {"code_only", "250\r\n", {"250 [] |"}},
      {"empty_continuation", "250-\r\n250 x\r\n", {"250 [] | |x"}},
      {"ehlo",
       "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 SMTPUTF8\r\n",
       {"250 [] |mx.example |PIPELINING |SIZE 1000 |SMTPUTF8"}},
      {"enhanced", "250 2.1.0 Ok\r\n", {"250 [2.1.0] |Ok"}},
      {"enhanced_only", "250 2.0.0\r\n", {"250 [2.0.0] |"}},
      {"enhanced_multi", "550-5.7.1 No\r\n550 5.7.1 see x\r\n", {"550 [5.7.1] |No |see x"}},
      {"enhanced_long_numbers", "451 4.7.26 try later\r\n", {"451 [4.7.26] |try later"}},
      // RFC 2034 §4: the class of the status code matches the reply's first digit.
      {"enhanced_class_mismatch", "550 2.0.0 odd\r\n", {"550 [] |2.0.0 odd"}},
      {"no_enhanced_for_354", "354 3.0.0 go\r\n", {"354 [] |3.0.0 go"}},
      {"not_enhanced_leading_zero", "250 2.01.0 x\r\n", {"250 [] |2.01.0 x"}},
      {"not_enhanced_no_space", "250 2.1.0Ok\r\n", {"250 [] |2.1.0Ok"}},
      {"enhanced_missing_on_later_line", "250-2.0.0 a\r\n250 b\r\n", {"250 [2.0.0] |a |b"}},
      {"enhanced_only_from_first_line", "250-a\r\n250 2.0.0 b\r\n", {"250 [] |a |2.0.0 b"}},
      {"two_replies", "250 a\r\n251 b\r\n", {"250 [] |a", "251 [] |b"}},
      {"incomplete_kept", "250-a\r\n250 b", {}},
      {"code_change", "250-a\r\n251 b\r\n", {"error: multi-line reply changes its code"}},
      {"not_digits", "2x0 a\r\n", {"error: reply line does not start with a 3-digit code"}},
      {"too_short", "25\r\n", {"error: reply line does not start with a 3-digit code"}},
      {"empty_line", "\r\n", {"error: reply line does not start with a 3-digit code"}},
      {"code_too_low", "199 a\r\n", {"error: reply code outside 200-599"}},
      {"code_too_high", "600 a\r\n", {"error: reply code outside 200-599"}},
      {"bad_separator", "250_a\r\n", {"error: reply code not followed by space or '-'"}},
      {"error_is_sticky",
       "250 ok\r\nxyz\r\n250 ok\r\n",
       {"250 [] |ok", "error: reply line does not start with a 3-digit code"}},
      {"line_limit_exact", "250 123456\r\n", {"250 [] |123456"}, short_lines},
      {"line_too_long",
       "250 1234567\r\n250 ok\r\n",
       {"error: reply line longer than 10 bytes"},
       short_lines},
      {"lines_limit_exact", "250-a\r\n250 b\r\n", {"250 [] |a |b"}, two_lines},
      {"too_many_lines",
       "250-a\r\n250-b\r\n250 c\r\n",
       {"error: reply longer than 2 lines"},
       two_lines},
  };
}

TEST(reply_parser, every_split_gives_the_same_replies) {
  for (const parse_case& c : parse_cases()) {
    test::for_each_split(c.input, [&](const test::pieces& p) {
      EXPECT_EQ(parse_all(p, c.limits), c.expected)
          << c.name << " (" << test::printable(c.input) << ") in " << p.size() << " pieces";
    });
  }
}

TEST(reply_parser, error_repeats_and_ignores_later_bytes) {
  reply_parser parser;
  parser.feed("250-a\r\n251 b\r\n");
  EXPECT_EQ(parser.next().state, reply_event::status::error);
  parser.feed("250 fine\r\n");
  const reply_event again = parser.next();
  EXPECT_EQ(again.state, reply_event::status::error);
  EXPECT_EQ(again.error, "multi-line reply changes its code");
}

TEST(reply_parser, reads_back_what_format_wrote) {
  const std::vector<reply> replies = {
      make_reply(220, "", "mx.example ESMTP"),
      make_reply(250, "2.1.5", "Ok"),
      make_multi(250, "", {"mx.example", "PIPELINING", "CHUNKING"}),
      make_multi(452, "4.5.3", {"Too many recipients", "try again later"}),
      make_reply(221, "2.0.0", "Bye"),
  };
  std::string wire;
  for (const reply& r : replies) wire += format(r);
  reply_parser parser;
  parser.feed(wire);
  for (const reply& expected : replies) {
    const reply_event e = parser.next();
    ASSERT_EQ(e.state, reply_event::status::reply) << e.error;
    EXPECT_EQ(e.value.code, expected.code);
    EXPECT_EQ(e.value.enhanced, expected.enhanced);
    EXPECT_EQ(e.value.lines, expected.lines);
  }
  EXPECT_EQ(parser.next().state, reply_event::status::need_more);
}

}  // namespace
}  // namespace mailsim::smtp
