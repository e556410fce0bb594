// The header scan and the RFC 5322 checks the spam score uses.
#include "reference-server/policy/message_fields.hpp"

#include <gtest/gtest.h>

namespace mailsim::policy {
namespace {

TEST(ScanMessage, UnfoldsFieldsAndFindsTheBody) {
  message_view m = scan_message(
      "From: a@b.example\r\nSubject: one\r\n two\r\n\tthree\r\nTo: c@d.example\r\n\r\nbody\r\n",
      100, 10'000);
  ASSERT_EQ(m.fields.size(), 3u);
  EXPECT_EQ(m.fields[1].name, "Subject");
  EXPECT_EQ(m.fields[1].value, "one two\tthree");
  EXPECT_EQ(m.body, "body\r\n");
  EXPECT_FALSE(m.truncated);
}

TEST(ScanMessage, AcceptsBareLineFeeds) {
  message_view m = scan_message("From: a@b.example\nTo: x@y.example\n\nhello\n", 100, 10'000);
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.fields[1].value, "x@y.example");
  EXPECT_EQ(m.body, "hello\n");
}

TEST(ScanMessage, CountsLinesWithoutColon) {
  message_view m = scan_message("From: a@b.example\r\nnonsense\r\n\r\n", 100, 10'000);
  EXPECT_EQ(m.fields.size(), 1u);
  EXPECT_EQ(m.bad_lines, 1u);
}

TEST(ScanMessage, StopsKeepingFieldsAtTheLimitsButStillFindsTheBody) {
  message_view m = scan_message("A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody", 2, 10'000);
  EXPECT_EQ(m.fields.size(), 2u);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.body, "body");
  message_view n = scan_message("A: 1\r\nB: 2222222222\r\n\r\nbody", 100, 8);
  EXPECT_EQ(n.fields.size(), 1u);
  EXPECT_TRUE(n.truncated);
}

TEST(ScanMessage, NoEmptyLineMeansNoBody) {
  message_view m = scan_message("From: a@b.example\r\n", 100, 10'000);
  EXPECT_EQ(m.fields.size(), 1u);
  EXPECT_TRUE(m.body.empty());
}

TEST(ParseDateTime, ReadsTheRfc5322Form) {
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 22:13:20 +0000"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("14 Nov 2023 22:13:20 +0000"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 23:43:20 +0130 (local)"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 17:13:20 -0500"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 22:13 +0000"), 1'699'999'980);
}

TEST(ParseDateTime, ReadsTheObsoleteForms) {
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 23 22:13:20 GMT"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 17:13:20 EST"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 123 22:13:20 UT"), 1'700'000'000);
  EXPECT_EQ(parse_date_time("Tue, 14 Nov 2023 22:13:20 Z"), 1'700'000'000);
}

TEST(ParseDateTime, RefusesWhatIsNoDate) {
  for (const char* text :
       {"", "yesterday", "Tue, 31 Feb 2023 10:00:00 +0000", "Tue, 14 Nov 2023 25:00:00 +0000",
        "Tue, 14 Nov 2023 22:13:20", "Tue, 14 Foo 2023 22:13:20 +0000",
        "Tue, 14 Nov 2023 22:13:20 +0099", "Tue, 14 Nov 2023 22:13:20 J"}) {
    EXPECT_FALSE(parse_date_time(text).has_value()) << text;
  }
}

TEST(FromLooksValid, AcceptsMailboxesAndLists) {
  for (const char* text :
       {"alice@example.com", "Alice <alice@example.com>", "\"Doe, John\" <j@example.com>",
        "a@example.com, B <b@example.org>", "alice@example.com (Alice)"}) {
    EXPECT_TRUE(from_looks_valid(text)) << text;
  }
}

TEST(FromLooksValid, RefusesNamesGroupsAndBrokenAddresses) {
  for (const char* text : {"", "Alice", "undisclosed-recipients:;", "<alice@localhost>", "alice@",
                           "@example.com", "<>", "Alice <alice@example.com", "a b@example.com"}) {
    EXPECT_FALSE(from_looks_valid(text)) << text;
  }
}

TEST(MessageIdLooksValid, WantsAngleBracketsAndAnAt) {
  EXPECT_TRUE(message_id_looks_valid("<1234.5678@host.example>"));
  EXPECT_FALSE(message_id_looks_valid("1234@host.example"));
  EXPECT_FALSE(message_id_looks_valid("<1234>"));
  EXPECT_FALSE(message_id_looks_valid("<12 34@host.example>"));
  EXPECT_FALSE(message_id_looks_valid("<@host.example>"));
}

}  // namespace
}  // namespace mailsim::policy
