#include "reference-server/core/line_reader.hpp"

#include <gtest/gtest.h>

#include "tests/support/byte_split.hpp"

namespace mailsim::core {
namespace {

struct seen_line {
  std::string text;
  std::string kind;  // "crlf", "lf", "too_long"
  bool bare_cr = false;
  bool operator==(const seen_line&) const = default;
};

std::vector<seen_line> read_all(const test::pieces& input, std::size_t max) {
  line_reader reader({max});
  std::vector<seen_line> out;
  for (auto piece : input) {
    reader.feed(piece);
    for (line l = reader.next(); l.state != line::status::need_more; l = reader.next()) {
      if (l.state == line::status::too_long) {
        out.push_back({"", "too_long", false});
      } else {
        out.push_back({std::string(l.text), l.ending == line_ending::crlf ? "crlf" : "lf",
                       l.has_bare_cr});
      }
    }
  }
  return out;
}

struct line_case {
  std::string name;
  std::string input;
  std::size_t max;
  std::vector<seen_line> expected;
};

TEST(line_reader, every_split_gives_the_same_lines) {
  const std::vector<line_case> cases = {
      {"crlf", "EHLO a\r\nQUIT\r\n", 100, {{"EHLO a", "crlf"}, {"QUIT", "crlf"}}},
      {"bare_lf", "NOOP\nQUIT\r\n", 100, {{"NOOP", "lf"}, {"QUIT", "crlf"}}},
      {"bare_cr_inside", "NO\rOP\r\n", 100, {{"NO\rOP", "crlf", true}}},
      {"cr_cr_lf", "A\r\r\n", 100, {{"A\r", "crlf", true}}},
      {"empty_line", "\r\n", 100, {{"", "crlf"}}},
      {"incomplete_kept", "QUIT", 100, {}},
      {"exactly_max", "12345\r\n", 5, {{"12345", "crlf"}}},
      {"too_long_then_ok", "123456789\r\nOK\r\n", 5, {{"", "too_long"}, {"OK", "crlf"}}},
  };
  for (const auto& c : cases) {
    test::for_each_split(c.input, [&](const test::pieces& p) {
      auto got = read_all(p, c.max);
      // An over-long line may be noticed before its end arrives; it is reported once.
      EXPECT_EQ(got, c.expected) << c.name << " split into " << p.size() << " pieces";
    });
  }
}

TEST(line_reader, pending_bytes_are_handed_over) {
  line_reader reader({100});
  reader.feed(std::string_view("DATA\r\nHello\r\n.\r\n"));
  line l = reader.next();
  ASSERT_EQ(l.state, line::status::ok);
  EXPECT_EQ(l.text, "DATA");
  EXPECT_EQ(reader.pending(), "Hello\r\n.\r\n");
  reader.consume_pending(7);
  EXPECT_EQ(reader.pending(), ".\r\n");
  reader.clear();
  EXPECT_EQ(reader.pending(), "");
  EXPECT_EQ(reader.next().state, line::status::need_more);
}

TEST(line_reader, memory_stays_bounded_for_an_endless_line) {
  line_reader reader({64});
  std::string chunk(1000, 'x');
  int too_long = 0;
  for (int i = 0; i < 1000; ++i) {
    reader.feed(chunk);
    for (line l = reader.next(); l.state != line::status::need_more; l = reader.next()) {
      if (l.state == line::status::too_long) ++too_long;
    }
    ASSERT_LE(reader.pending().size(), 1000u);
  }
  EXPECT_EQ(too_long, 1);
}

}  // namespace
}  // namespace mailsim::core
