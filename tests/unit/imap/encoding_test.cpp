#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference-server/imap/date_time.hpp"
#include "reference-server/imap/mutf7.hpp"
#include "reference-server/imap/response_format.hpp"
#include "reference-server/imap/sequence_set.hpp"

namespace mailsim::imap {
namespace {

struct mutf7_case {
  std::string utf8;
  std::string mutf7;
};

TEST(imap_mutf7, round_trips) {
  const std::vector<mutf7_case> cases = {
      {"", ""},
      {"INBOX", "INBOX"},
      {"Lost&Found", "Lost&-Found"},
      {"&", "&-"},
      {"~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501 §5.1.3 example
      {"Entw\xC3\xBC" "rfe", "Entw&APw-rfe"},
      {"\xC3\xA9t\xC3\xA9", "&AOk-t&AOk-"},
      {"\xF0\x9F\x98\x80", "&2D3eAA-"},  // U+1F600: a surrogate pair
      {"a\x01" "b", "a&AAE-b"},          // controls are encoded too
      {"\xE2\x82\xAC\xE2\x82\xAC", "&IKwgrA-"},
  };
  for (const mutf7_case& c : cases) {
    EXPECT_EQ(utf8_to_mutf7(c.utf8), c.mutf7) << c.utf8;
    EXPECT_EQ(mutf7_to_utf8(c.mutf7), c.utf8) << c.mutf7;
  }
}

TEST(imap_mutf7, refuses_bad_encodings) {
  for (std::string_view bad : {
           "&",            // unterminated shift
           "&U,BTFw",      // unterminated
           "&AGE-",        // encodes printable ASCII "a"
           "&ZeVnLIqe-&ZeVnLIqe-",  // adjacent shifts must be merged
           "&Z/VnLIqe-",   // '/' is not in the modified alphabet
           "&AOl-",        // non-zero padding bits
           "&AOkA-",       // more than 6 bits of padding (a whole extra sextet)
           "&2D0-",        // lone high surrogate
           "&3gA-",        // lone low surrogate
           "caf\xC3\xA9",  // raw 8-bit
           "a\tb",         // raw control
       }) {
    EXPECT_FALSE(mutf7_to_utf8(bad).has_value()) << bad;
  }
  for (std::string_view bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    EXPECT_FALSE(utf8_to_mutf7(bad).has_value());
    EXPECT_FALSE(is_valid_utf8(bad));
  }
}

TEST(imap_mutf7, every_code_point_range_round_trips) {
  for (std::uint32_t cp : {0x7fu, 0x80u, 0x7ffu, 0x800u, 0xd7ffu, 0xe000u, 0xfffdu, 0xffffu,
                           0x10000u, 0x10ffffu}) {
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else if (cp < 0x800) {
      utf8 += static_cast<char>(0xc0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      utf8 += static_cast<char>(0xe0 | (cp >> 12));
      utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      utf8 += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      utf8 += static_cast<char>(0xf0 | (cp >> 18));
      utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      utf8 += static_cast<char>(0x80 | (cp & 0x3f));
    }
    for (const std::string& text : {utf8, "x" + utf8 + utf8 + "&y", utf8 + "a" + utf8}) {
      const auto encoded = utf8_to_mutf7(text);
      ASSERT_TRUE(encoded) << cp;
      EXPECT_EQ(mutf7_to_utf8(*encoded), text) << *encoded;
    }
  }
}

TEST(imap_sequence_set, parses_and_validates) {
  EXPECT_EQ(to_string(*parse_sequence_set("1")), "1");
  EXPECT_EQ(to_string(*parse_sequence_set("1:3,7,*,9:*,*:2")), "1:3,7,*,9:*,*:2");
  EXPECT_EQ(to_string(*parse_sequence_set("4294967295")), "4294967295");
  EXPECT_TRUE(parse_sequence_set("$")->saved);
  const auto set = parse_sequence_set("5:2");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->ranges[0], (seq_range{5, 2}));
  EXPECT_EQ(parse_sequence_set("*")->ranges[0], (seq_range{seq_star, seq_star}));
  for (std::string_view bad : {"", "0", "01", "1:0", "4294967296", "1,", ",1", "1::2", "1:2:3",
                               "$,1", "$$", "a", "1 2", "-1", "99999999999"}) {
    EXPECT_FALSE(parse_sequence_set(bad).has_value()) << bad;
  }
}

TEST(imap_sequence_set, formats_sorted_uids_as_ranges) {
  EXPECT_EQ(format_uid_set({}), "");
  EXPECT_EQ(format_uid_set({7}), "7");
  EXPECT_EQ(format_uid_set({1, 2, 3, 5, 7, 8}), "1:3,5,7:8");
  EXPECT_EQ(format_uid_set({1, 1, 2, 4, 4}), "1:2,4");
  EXPECT_EQ(format_uid_set({4294967294u, 4294967295u}), "4294967294:4294967295");
}

TEST(imap_dates, date_and_date_time) {
  EXPECT_EQ(parse_date("1-Feb-1994"), (date{1994, 2, 1}));
  EXPECT_EQ(parse_date("01-feb-1994"), (date{1994, 2, 1}));
  EXPECT_EQ(parse_date("29-Feb-2000"), (date{2000, 2, 29}));
  for (std::string_view bad : {"29-Feb-1900", "31-Apr-2020", "0-Jan-2020", "1-Jan-20", "001-Jan-2020",
                               "1-January-2020", "1 Jan 2020", "", "1-Jan-2020x"}) {
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
  }
  const auto dt = parse_date_time(" 7-Feb-1994 21:52:25 -0800");
  ASSERT_TRUE(dt);
  EXPECT_EQ(*dt, (date_time{{1994, 2, 7}, 21, 52, 25, -480}));
  EXPECT_EQ(parse_date_time("17-Jul-1996 02:44:25 +0530")->zone_minutes, 330);
  for (std::string_view bad : {"7-Feb-1994 21:52:25 -0800", "07-Feb-1994 24:00:00 +0000",
                               "07-Feb-1994 21:60:00 +0000", "07-Feb-1994 21:52:25 0800",
                               "07-Feb-1994 21:52:25 +0860", "07-Feb-1994T21:52:25 +0000"}) {
    EXPECT_FALSE(parse_date_time(bad).has_value()) << bad;
  }
}

TEST(imap_response_format, strings_are_quoted_when_possible) {
  EXPECT_EQ(format_astring("INBOX"), "INBOX");
  EXPECT_EQ(format_astring("a]b"), "a]b");
  EXPECT_EQ(format_astring(""), "\"\"");
  EXPECT_EQ(format_astring("nil"), "\"nil\"");
  EXPECT_EQ(format_astring("two words"), "\"two words\"");
  EXPECT_EQ(format_astring("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(format_string("line\r\nbreak"), "{11}\r\nline\r\nbreak");
  EXPECT_EQ(format_string("caf\xC3\xA9"), "{5}\r\ncaf\xC3\xA9");
  EXPECT_EQ(format_string("caf\xC3\xA9", true), "\"caf\xC3\xA9\"");
  EXPECT_EQ(format_nstring(std::nullopt), "NIL");
  EXPECT_EQ(format_nstring(std::string("x")), "\"x\"");
}

}  // namespace
}  // namespace mailsim::imap
