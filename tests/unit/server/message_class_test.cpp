// take_message_class (reference-server/server/message_class.hpp): which X-Mailsim-Class
// value names the message's class, and which bytes are left once the fields are removed.
#include "reference-server/server/message_class.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsim::server {
namespace {

TEST(message_class, a_message_without_the_field_is_left_alone) {
  const message_class_scan scan =
      take_message_class("From: a@b.test\r\nSubject: x\r\n\r\nX-Mailsim-Class: bulk\r\n");
  EXPECT_EQ(scan.fields, 0u);  // the body is not looked at
  EXPECT_EQ(scan.name, "");
  EXPECT_FALSE(scan.stripped);
  EXPECT_EQ(scan.problem, "");
}

TEST(message_class, the_field_is_read_and_removed_with_crlf) {
  const message_class_scan scan = take_message_class(
      "From: a@b.test\r\nX-Mailsim-Class:  Bulk.News_2-x \t\r\nSubject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(scan.fields, 1u);
  EXPECT_EQ(scan.name, "Bulk.News_2-x");  // trimmed, case kept
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(scan.problem, "");
}

TEST(message_class, the_name_matches_in_any_case_and_bare_lf_works) {
  const message_class_scan scan =
      take_message_class("x-mailsim-CLASS :bulk\nSubject: x\n\nbody\n");
  EXPECT_EQ(scan.name, "bulk");
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: x\n\nbody\n");
}

TEST(message_class, similar_names_are_other_fields) {
  const std::string message =
      "X-Mailsim-Classes: bulk\r\nX-Mailsim-Class-Old: bulk\r\nX-Mailsim: bulk\r\n\r\nb\r\n";
  const message_class_scan scan = take_message_class(message);
  EXPECT_EQ(scan.fields, 0u);
  EXPECT_FALSE(scan.stripped);
}

TEST(message_class, folded_lines_go_with_the_field) {
  const message_class_scan scan = take_message_class(
      "Subject: one\r\n two\r\nX-Mailsim-Class:\r\n bulk\r\n\t\r\nTo: c@d.test\r\n\tfolded\r\n"
      "\r\nbody\r\n");
  EXPECT_EQ(scan.name, "bulk");  // unfolded, then trimmed
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: one\r\n two\r\nTo: c@d.test\r\n\tfolded\r\n\r\nbody\r\n");
}

TEST(message_class, a_folded_value_with_inner_space_is_malformed) {
  const message_class_scan scan =
      take_message_class("X-Mailsim-Class: bulk\r\n news\r\nSubject: x\r\n\r\nb\r\n");
  EXPECT_EQ(scan.name, "");
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: x\r\n\r\nb\r\n");
  EXPECT_NE(scan.problem.find("malformed X-Mailsim-Class value \"bulk news\""),
            std::string::npos)
      << scan.problem;
}

TEST(message_class, only_the_first_field_counts_and_all_are_removed) {
  const message_class_scan scan = take_message_class(
      "X-Mailsim-Class: first\r\nSubject: x\r\nX-Mailsim-Class: second\r\n\r\nb\r\n");
  EXPECT_EQ(scan.fields, 2u);
  EXPECT_EQ(scan.name, "first");
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: x\r\n\r\nb\r\n");
  EXPECT_NE(scan.problem.find("2 X-Mailsim-Class fields: only the first counts"),
            std::string::npos)
      << scan.problem;
}

TEST(message_class, a_malformed_first_value_is_not_replaced_by_a_second) {
  const message_class_scan scan = take_message_class(
      "X-Mailsim-Class: b@d\r\nX-Mailsim-Class: good\r\nSubject: x\r\n\r\nb\r\n");
  EXPECT_EQ(scan.name, "");
  EXPECT_EQ(scan.fields, 2u);
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: x\r\n\r\nb\r\n");
  EXPECT_NE(scan.problem.find("malformed"), std::string::npos) << scan.problem;
  EXPECT_NE(scan.problem.find("only the first counts"), std::string::npos) << scan.problem;
}

TEST(message_class, empty_and_too_long_values_are_malformed) {
  EXPECT_EQ(take_message_class("X-Mailsim-Class:\r\n\r\nb").name, "");
  EXPECT_NE(take_message_class("X-Mailsim-Class:\r\n\r\nb").problem, "");
  const std::string longest(64, 'a');
  EXPECT_EQ(take_message_class("X-Mailsim-Class: " + longest + "\r\n\r\nb").name, longest);
  const message_class_scan too_long =
      take_message_class("X-Mailsim-Class: " + longest + "a\r\n\r\nb");
  EXPECT_EQ(too_long.name, "");
  EXPECT_NE(too_long.problem, "");
}

TEST(message_class, a_header_only_message_and_a_last_line_without_end) {
  const message_class_scan scan = take_message_class("Subject: x\r\nX-Mailsim-Class: bulk");
  EXPECT_EQ(scan.name, "bulk");
  ASSERT_TRUE(scan.stripped);
  EXPECT_EQ(*scan.stripped, "Subject: x\r\n");
}

TEST(message_class, a_field_after_the_empty_line_is_body) {
  const message_class_scan scan =
      take_message_class("Subject: x\n\nX-Mailsim-Class: bulk\n");
  EXPECT_EQ(scan.fields, 0u);
  EXPECT_FALSE(scan.stripped);
}

}  // namespace
}  // namespace mailsim::server
