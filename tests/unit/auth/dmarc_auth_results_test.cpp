// Authentication-Results (RFC 8601): composing the field, folding it, quoting values, and
// removing forged fields that claim our authserv-id (§5).
#include "reference-server/auth/auth_results.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsim::auth {
namespace {

std::vector<std::string> lines_of(const std::string& field) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin < field.size()) {
    std::size_t end = field.find("\r\n", begin);
    out.push_back(field.substr(begin, end - begin));
    begin = end + 2;
  }
  return out;
}

TEST(DmarcAuthResults, NoResultIsNone) {
  EXPECT_EQ(authentication_results_field("mx.example.org", {}),
            "Authentication-Results: mx.example.org; none\r\n");
}

// RFC 8601 Appendix B.3's shape: one resinfo per line, version omitted.
TEST(DmarcAuthResults, EachResinfoOnItsOwnLine) {
  std::string field = authentication_results_field(
      "example.com",
      {"spf=pass smtp.mailfrom=example.net", "dkim=pass header.d=example.net header.s=sel",
       "dmarc=pass (p=reject dis=none) header.from=example.net"});
  EXPECT_EQ(field,
            "Authentication-Results: example.com;\r\n"
            "\tspf=pass smtp.mailfrom=example.net;\r\n"
            "\tdkim=pass header.d=example.net header.s=sel;\r\n"
            "\tdmarc=pass (p=reject dis=none) header.from=example.net\r\n");
}

TEST(DmarcAuthResults, LongResinfoIsFoldedAtWhiteSpaceOutsideQuotesAndComments) {
  std::string reason(40, 'x');
  std::string resinfo = "dkim=fail reason=\"body hash did not verify " + reason +
                        "\" (a comment with spaces) header.d=a-rather-long-domain.example.com "
                        "header.s=selector2024 header.a=rsa-sha256";
  std::string field = authentication_results_field("mx.example.org", {resinfo});
  std::vector<std::string> lines = lines_of(field);
  ASSERT_GE(lines.size(), 4u);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 78u) << line;
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i][0], '\t');
  // Unfolding (removing CRLF) gives back every word with one white space between them.
  std::string unfolded;
  for (std::size_t i = 1; i < lines.size(); ++i)
    unfolded += (i > 1 ? " " : "") + lines[i].substr(1);
  EXPECT_EQ(unfolded, resinfo);
  EXPECT_NE(field.find("\"body hash did not verify " + reason + "\""), std::string::npos);
  EXPECT_NE(field.find("(a comment with spaces)"), std::string::npos);
}

TEST(DmarcAuthResults, AWordLongerThanTheLineStaysWhole) {
  std::string word = "header.b=" + std::string(100, 'A');
  std::string field = authentication_results_field("mx", {"dkim=pass " + word});
  EXPECT_NE(field.find("\r\n\t" + word + "\r\n"), std::string::npos);
}

TEST(DmarcAuthResults, AuthservIdIsQuotedWhenNotAToken) {
  EXPECT_EQ(authentication_results_field("mx example", {}),
            "Authentication-Results: \"mx example\"; none\r\n");
}

TEST(DmarcAuthResults, TokensAndQuotedStrings) {
  EXPECT_TRUE(is_mime_token("example.com"));
  EXPECT_TRUE(is_mime_token("rsa-sha256"));
  for (std::string_view s : {"", "a b", "a@b", "a/b", "a=b", "a;b", "a\"b", "\x01", "\xc3\xa9"})
    EXPECT_FALSE(is_mime_token(s)) << s;
  EXPECT_EQ(quoted_string("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
}

TEST(DmarcAuthResults, PropertyValues) {
  EXPECT_EQ(authres_value("example.com"), "example.com");
  EXPECT_EQ(authres_value("user@example.com"), "user@example.com");  // §2.2 pvalue
  EXPECT_EQ(authres_value("@example.com"), "@example.com");
  EXPECT_EQ(authres_value("first.last+tag@example.com"), "first.last+tag@example.com");
  EXPECT_EQ(authres_value("a b@example.com"), "\"a b@example.com\"");
  EXPECT_EQ(authres_value("a..b@example.com"), "\"a..b@example.com\"");
  EXPECT_EQ(authres_value("abc/def+="), "\"abc/def+=\"");  // base64 with tspecials
  EXPECT_EQ(authres_value(""), "\"\"");
}

TEST(DmarcAuthResults, AuthservIdOfAFieldValue) {
  EXPECT_EQ(authserv_id_of(" mx.example.org; spf=pass"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" mx.example.org 1; none"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" (comment (nested)) mx.example.org;"), "mx.example.org");
  EXPECT_EQ(authserv_id_of("\r\n\tmx.example.org\r\n\t; dkim=pass"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" \"mx.example.org\"; none"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" \"odd \\\"id\\\"\"; none"), "odd \"id\"");
  EXPECT_EQ(authserv_id_of(" mx.example.org(c); none"), "mx.example.org");
  for (std::string_view bad :
       {"", " ", " ; spf=pass", " (unclosed", " \"unclosed", " mx/example; none", " \"\"; none"})
    EXPECT_FALSE(authserv_id_of(bad).has_value()) << bad;
}

const std::string body = "\r\nAuthentication-Results: mx.example.org; in the body\r\n";

TEST(DmarcAuthResults, StripRemovesOnlyOurAuthservId) {
  std::string message =
      "Authentication-Results: MX.Example.ORG; dmarc=pass\r\n"
      "Received: from a by b\r\n"
      "authentication-results: other.example.net; spf=pass\r\n"
      "Authentication-Results: (forged)\r\n \"mx.example.org\";\r\n\tdkim=pass\r\n"
      "Subject: hi\r\n" +
      body;
  std::size_t removed = 0;
  std::string out = strip_authentication_results(message, "mx.example.org", &removed);
  EXPECT_EQ(removed, 2u);
  EXPECT_EQ(out,
            "Received: from a by b\r\n"
            "authentication-results: other.example.net; spf=pass\r\n"
            "Subject: hi\r\n" +
                body);
}

TEST(DmarcAuthResults, StripKeepsFieldsItCannotRead) {
  std::string message =
      "Authentication-Results: mx.example.org/x; spf=pass\r\n"
      "Authentication-Results:\r\n"
      "Subject: hi\r\n" +
      body;
  std::size_t removed = 9;
  EXPECT_EQ(strip_authentication_results(message, "mx.example.org", &removed), message);
  EXPECT_EQ(removed, 0u);
}

TEST(DmarcAuthResults, StripLeavesAMessageWithoutFieldsAlone) {
  std::string message = "From: a@example.com\r\n\r\nAuthentication-Results: mx; x\r\n";
  EXPECT_EQ(strip_authentication_results(message, "mx"), message);
  EXPECT_EQ(strip_authentication_results("", "mx"), "");
  EXPECT_EQ(strip_authentication_results("Authentication-Results: mx; none\r\n", "mx"), "");
}

}  // namespace
}  // namespace mailsim::auth
