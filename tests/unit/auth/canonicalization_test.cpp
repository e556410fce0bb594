// RFC 6376 §3.4 canonicalization, and the header/body split it works on.
#include "reference-server/auth/canonicalization.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsim::auth {
namespace {

// RFC 6376 §3.4.5, written with the escapes the RFC spells out as <SP>, <HTAB>, <CRLF>.
constexpr std::string_view rfc_example =
    "A: X\r\n"
    "B : Y\t\r\n"
    "\tZ  \r\n"
    "\r\n"
    " C \r\n"
    "D \t E\r\n"
    "\r\n"
    "\r\n";

std::string headers_of(canon c, std::string_view message) {
  std::string out;
  for (const header_field& f : split_message(message).fields) canonicalize_header(c, f.raw, out);
  return out;
}

TEST(Canonicalization, Rfc6376Example345Relaxed) {
  EXPECT_EQ(headers_of(canon::relaxed, rfc_example), "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canonicalize_body(canon::relaxed, split_message(rfc_example).body), " C\r\nD E\r\n");
}

TEST(Canonicalization, Rfc6376Example345Simple) {
  EXPECT_EQ(headers_of(canon::simple, rfc_example), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(canonicalize_body(canon::simple, split_message(rfc_example).body), " C \r\nD \t E\r\n");
}

struct body_case {
  const char* name;
  std::string_view body;
  std::string_view simple;
  std::string_view relaxed;
};

TEST(Canonicalization, BodyTable) {
  const body_case cases[] = {
      // RFC 6376 errata 3192: an empty body is CRLF for simple, nothing for relaxed.
      {"empty", "", "\r\n", ""},
      {"only CRLF", "\r\n", "\r\n", ""},
      {"only empty lines", "\r\n\r\n\r\n", "\r\n", ""},
      {"white space lines at the end", "a\r\n \t\r\n\r\n", "a\r\n \t\r\n", "a\r\n"},
      {"no final CRLF", "a  b", "a  b\r\n", "a b\r\n"},
      {"empty lines inside are kept", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
      {"leading white space is one SP", "\t\tx\r\n", "\t\tx\r\n", " x\r\n"},
      {"bare LF is an ordinary octet", "a\nb \r\n", "a\nb \r\n", "a\nb\r\n"},
      {"trailing CRLFs reduced to one", "x\r\n\r\n\r\n", "x\r\n", "x\r\n"},
  };
  for (const body_case& c : cases) {
    EXPECT_EQ(canonicalize_body(canon::simple, c.body), c.simple) << c.name;
    EXPECT_EQ(canonicalize_body(canon::relaxed, c.body), c.relaxed) << c.name;
  }
}

TEST(Canonicalization, RelaxedHeaderUnfoldsAndTrims) {
  std::string out;
  canonicalize_header(canon::relaxed, "SUBJECT \t:\r\n  hello\r\n\t world  \r\n", out);
  EXPECT_EQ(out, "subject:hello world\r\n");
  out.clear();
  canonicalize_header(canon::relaxed, "X-Empty:\r\n", out);
  EXPECT_EQ(out, "x-empty:\r\n");
}

TEST(SplitMessage, FieldsFoldsAndBody) {
  message_parts p = split_message("From: a\r\nSubject: one\r\n two\r\nNoColon\r\n\r\nbody\r\n");
  ASSERT_EQ(p.fields.size(), 3u);
  EXPECT_EQ(p.fields[0].name, "From");
  EXPECT_EQ(p.fields[1].raw, "Subject: one\r\n two\r\n");
  EXPECT_EQ(p.fields[2].name, "");  // no colon: never selectable
  EXPECT_EQ(p.body, "body\r\n");
}

TEST(SplitMessage, NoEmptyLineMeansNoBody) {
  message_parts p = split_message("From: a\r\nTo: b");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[1].raw, "To: b");
  EXPECT_EQ(p.body, "");
}

TEST(SplitMessage, NameKeepsCaseAndDropsWhiteSpaceBeforeColon) {
  message_parts p = split_message("DKIM-Signature \t: v=1\r\n\r\n");
  ASSERT_EQ(p.fields.size(), 1u);
  EXPECT_EQ(p.fields[0].name, "DKIM-Signature");
  EXPECT_TRUE(iequals(p.fields[0].name, "dkim-signature"));
}

}  // namespace
}  // namespace mailsim::auth
