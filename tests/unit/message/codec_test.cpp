#include "reference-server/message/codec.hpp"

#include <gtest/gtest.h>

#include <string>

#include "reference-server/message/date.hpp"

namespace mailsim::message {
namespace {

TEST(message_base64, decodes_across_lines_and_skips_junk) {
  EXPECT_EQ(decode_base64("SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n"), "Hello, world!");
  EXPECT_EQ(decode_base64("SGV sbG8*"), "Hello");
  EXPECT_EQ(decode_base64("QQ==trailing"), "A");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("Q"), "");  // six bits are not an octet
}

TEST(message_quoted_printable, soft_breaks_hex_and_transport_padding) {
  EXPECT_EQ(decode_quoted_printable("caf=C3=A9 =\r\nlong line=3d=\r\n"), "caf\xC3\xA9 long line=");
  EXPECT_EQ(decode_quoted_printable("a  \r\nb\t\r\n"), "a\r\nb\r\n");
  EXPECT_EQ(decode_quoted_printable("LF only=\nnext\n"), "LF onlynext\r\n");
  EXPECT_EQ(decode_quoted_printable("bad =ZZ and =4"), "bad =ZZ and =4");
  EXPECT_EQ(decode_quoted_printable("soft with padding=  \r\nx"), "soft with paddingx");
}

TEST(message_charset, known_charsets_map_to_utf8) {
  EXPECT_EQ(to_utf8("caf\xE9", "ISO-8859-1"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("abc", "us-ascii"), "abc");
  EXPECT_EQ(to_utf8("\xC3\xA9", "UTF-8"), "\xC3\xA9");
  EXPECT_FALSE(to_utf8("x", "koi8-r"));
}

TEST(message_encoded_words, decodes_b_and_q_and_joins_adjacent_words) {
  EXPECT_EQ(decode_encoded_words("=?UTF-8?B?w6k=?= =?ISO-8859-1?Q?caf=E9_au_lait?="),
            "\xC3\xA9"
            "caf\xC3\xA9 au lait");
  EXPECT_EQ(decode_encoded_words("Re: =?us-ascii?q?hello?= world"), "Re: hello world");
  EXPECT_EQ(decode_encoded_words("=?utf-8*en?q?a?=  =?utf-8?q?b?="), "ab");
  EXPECT_EQ(decode_encoded_words("=?koi8-r?B?wQ==?= x"), "=?koi8-r?B?wQ==?= x");
  EXPECT_EQ(decode_encoded_words("=?utf-8?x?abc?= =?utf-8?q?a b?="),
            "=?utf-8?x?abc?= =?utf-8?q?a b?=");
  EXPECT_EQ(decode_encoded_words("=?"), "=?");
  EXPECT_EQ(decode_encoded_words("plain"), "plain");
}

TEST(message_date, rfc5322_forms) {
  auto d = parse_date("Tue, 1 Jul 2003 10:52:37 +0200");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->epoch_seconds, 1057049557);  // 2003-07-01T08:52:37Z
  EXPECT_EQ(d->zone_offset_minutes, 120);
  EXPECT_EQ(d->year, 2003);
  EXPECT_EQ(d->month, 7);
  EXPECT_EQ(d->day, 1);
  d = parse_date("Thu, 13 Feb 1969 23:32:54 -0330");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->epoch_seconds, -27723426);  // 1969-02-14T03:02:54Z
}

TEST(message_date, obsolete_forms) {
  auto d = parse_date("1 Jul 03 10:52 EST");  // §4.3: 2-digit year, no seconds, zone name
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2003);
  EXPECT_EQ(d->zone_offset_minutes, -300);
  EXPECT_EQ(d->epoch_seconds, 1057074720);  // 2003-07-01T15:52:00Z
  d = parse_date("Fri, 21 Nov 97 09 : 55 : 06 GMT (comment)");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->epoch_seconds, 880106106);
  d = parse_date("  21  Nov  1997  09:55:06  ");  // no zone: +0000
  ASSERT_TRUE(d);
  EXPECT_EQ(d->epoch_seconds, 880106106);
  d = parse_date("21 Nov 097 09:55:06 Z");  // three-digit year, military zone
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 1997);
  EXPECT_EQ(parse_date("29 Feb 2000 00:00:00 +0000")->epoch_seconds, 951782400);
  d = parse_date("Fri Nov 21 1997 09:55:06 +0000");  // month before day, as some agents write
  ASSERT_TRUE(d);
  EXPECT_EQ(d->epoch_seconds, 880106106);
}

TEST(message_date, rejects_what_it_cannot_read) {
  for (const char* bad : {"", "garbage", "32 Jan 2020 00:00:00", "29 Feb 2001 00:00:00",
                          "1 Foo 2020", "1 Jan 2020 25:00:00", "1 Jan 2020 10:61", "1 Jan"}) {
    EXPECT_FALSE(parse_date(bad)) << bad;
  }
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

}  // namespace
}  // namespace mailsim::message
