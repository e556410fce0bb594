// core/ascii.hpp: the character classes every byte value gets, checked against the
// definitions they cite, and trim().
#include "reference-server/core/ascii.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace mailsim::core {
namespace {

// RFC 5322 §3.2.3: atext = ALPHA / DIGIT / "!" / "#" / ... / "~", written out as the RFC does.
bool atext_by_the_rfc(unsigned char c) {
  const std::string specials = "!#$%&'*+-/=?^_`{|}~";
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         specials.find(static_cast<char>(c)) != std::string::npos;
}

TEST(ascii, classes_agree_with_their_definitions_for_every_byte) {
  for (int v = 0; v < 256; ++v) {
    const auto c = static_cast<char>(v);
    EXPECT_EQ(is_atext(c), atext_by_the_rfc(static_cast<unsigned char>(v))) << v;
    EXPECT_EQ(is_line_break(c), v == '\r' || v == '\n') << v;
    EXPECT_EQ(is_wsp(c), v == ' ' || v == '\t') << v;
    EXPECT_EQ(is_alnum(c), is_alpha(c) || is_digit(c)) << v;
    if (v >= 0x80) {
      EXPECT_FALSE(is_alnum(c) || is_atext(c) || is_wsp(c)) << v;
    }
  }
}

TEST(ascii, is_one_of_tests_membership_of_a_set) {
  EXPECT_TRUE(is_one_of("abc", 'b'));
  EXPECT_FALSE(is_one_of("abc", 'd'));
  EXPECT_FALSE(is_one_of("", 'a'));
  EXPECT_TRUE(is_one_of(std::string_view("a\0b", 3), '\0'));  // a set may hold NUL
  EXPECT_FALSE(is_one_of("abc", '\0'));
  static_assert(is_one_of("._", '_') && is_atext('~') && !is_atext('.'));
}

TEST(ascii, lower_and_trim) {
  EXPECT_EQ(ascii_lower('Q'), 'q');
  EXPECT_EQ(ascii_lower('q'), 'q');
  EXPECT_EQ(ascii_lower('\xc3'), '\xc3');  // bytes >= 0x80 are left alone
  EXPECT_EQ(trim(" \t\r\n a b \r\n"), "a b");
  EXPECT_EQ(trim(" \r\n"), "");
}

TEST(ascii, append_decimal_writes_digits_after_what_was_there) {
  std::string out = "q";
  append_decimal(out, 0);
  out += ' ';
  append_decimal(out, 42);
  out += ' ';
  append_decimal(out, UINT64_MAX);
  EXPECT_EQ(out, "q0 42 18446744073709551615");
}

}  // namespace
}  // namespace mailsim::core
