#include "reference-server/message/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsim::message {
namespace {

// One address as "name|route|mailbox|host" with "-" for absent, for compact tables.
std::string show(const address& a) {
  auto s = [](const std::optional<std::string>& v) { return v ? *v : std::string("-"); };
  return s(a.name) + "|" + s(a.route) + "|" + s(a.mailbox) + "|" + s(a.host);
}

std::vector<std::string> shown(std::string_view value) {
  std::vector<std::string> out;
  for (const address& a : parse_address_list(value)) out.push_back(show(a));
  return out;
}

struct address_case {
  std::string input;
  std::vector<std::string> expected;
};

TEST(message_address, table) {
  const std::vector<address_case> cases = {
      {"a@b.test", {"-|-|a|b.test"}},
      {"  <a@b.test>  ", {"-|-|a|b.test"}},
      {"John   Q.  Public <jqp@x.test>", {"John Q. Public|-|jqp|x.test"}},
      {"\"Doe, John\" <jd@x.test>, b@y.test", {"Doe, John|-|jd|x.test", "-|-|b|y.test"}},
      {"j@x.test (John Doe)", {"John Doe|-|j|x.test"}},
      {"(lead) John <j@x.test> (trail)", {"John|-|j|x.test"}},
      {"\"a b\"@x.test", {"-|-|a b|x.test"}},
      {"first . last @ x . test", {"-|-|first.last|x.test"}},
      {"u@[192.0.2.1]", {"-|-|u|[192.0.2.1]"}},
      {"<@a.test,@b.test:u@c.test>", {"-|@a.test,@b.test|u|c.test"}},
      {"=?utf-8?q?x?= <u@x.test>", {"=?utf-8?q?x?=|-|u|x.test"}},
      {"g: a@x.test, B <b@y.test>;", {"-|-|g|-", "-|-|a|x.test", "B|-|b|y.test", "-|-|-|-"}},
      {"empty:;, c@z.test", {"-|-|empty|-", "-|-|-|-", "-|-|c|z.test"}},
      {"unterminated: a@x.test", {"-|-|unterminated|-", "-|-|a|x.test", "-|-|-|-"}},
      {"alone", {"-|-|alone|MISSING_DOMAIN"}},
      {"<@x.test>", {"-|-|MISSING_MAILBOX|x.test"}},
      {",,, a@x.test,,", {"-|-|a|x.test"}},
      {"", {}},
      {"<>", {}},
      {"a@x.test junk junk, b@y.test", {"-|-|a|x.test", "-|-|b|y.test"}},
      {"Bad <a@x.test, c@y.test", {"Bad|-|a|x.test"}},
  };
  for (const address_case& c : cases) {
    EXPECT_EQ(shown(c.input), c.expected) << c.input;
  }
}

TEST(message_address, group_markers) {
  const std::vector<address> list = parse_address_list("g: a@x.test;");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_TRUE(list[0].group_start());
  EXPECT_FALSE(list[1].group_start());
  EXPECT_TRUE(list[2].group_end());
}

}  // namespace
}  // namespace mailsim::message
