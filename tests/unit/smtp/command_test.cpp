#include "reference-server/smtp/command.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace mailsim::smtp {
namespace {

// One line that says everything the parser extracted, so that tables stay readable.
std::string summary(const command& c) {
  std::string out(verb_name(c.kind));
  switch (c.kind) {
    case verb::helo:
    case verb::ehlo:
      return out + " name=" + c.helo_name;
    case verb::mail:
    case verb::rcpt:
      out += ' ' + c.address.to_string();
      if (c.address.had_source_route) out += " route";
      for (const esmtp_param& p : c.params) {
        out += ' ' + p.keyword;
        if (p.value) out += '=' + *p.value;
      }
      return out;
    case verb::bdat:
      return out + " size=" + std::to_string(c.bdat_size) + (c.bdat_last ? " LAST" : "");
    case verb::auth:
      out += " mech=" + c.auth_mechanism;
      if (c.auth_initial_response) out += " ir=" + *c.auth_initial_response;
      return out;
    default:
      return c.argument.empty() ? out : out + " arg=" + c.argument;
  }
}

struct accepted_case {
  std::string line;
  std::string expected;  // summary()
};

TEST(command, accepted_lines_parse_to_commands) {
  const std::vector<accepted_case> cases = {
      // RFC 5321 §2.4: verbs are case-insensitive.
      {"EHLO client.example.org", "EHLO name=client.example.org"},
      {"ehlo Client.Example.ORG", "EHLO name=Client.Example.ORG"},
      {"EhLo [192.0.2.7]", "EHLO name=[192.0.2.7]"},
      {"EHLO [IPv6:2001:db8::7]", "EHLO name=[IPv6:2001:db8::7]"},
      {"EHLO localhost  ", "EHLO name=localhost"},
      {"HELO client.example.org", "HELO name=client.example.org"},
      {"helo my_host", "HELO name=my_host"},  // HELO text is not held to the grammar
      {"HELO  two words", "HELO name=two words"},
      {"HELO 192.0.2.7", "HELO name=192.0.2.7"},
      {"MAIL FROM:<a@b.example>", "MAIL <a@b.example>"},
      {"mail from:<a@b.example>", "MAIL <a@b.example>"},
      {"MAIL FROM: <a@b.example>", "MAIL <a@b.example>"},  // the common extra space
      {"MAIL FROM:a@b.example", "MAIL <a@b.example>"},     // missing brackets
      {"MAIL FROM:<>", "MAIL <>"},
      {"MAIL FROM:<> SIZE=0", "MAIL <> SIZE=0"},
      {"MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME",
       "MAIL <a@b.example> SIZE=1000 BODY=8BITMIME"},
      {"MAIL FROM:<a@b.example> size=1000 body=8bitmime",
       "MAIL <a@b.example> SIZE=1000 BODY=8bitmime"},
      {"MAIL FROM:<a@b.example> SMTPUTF8", "MAIL <a@b.example> SMTPUTF8"},
      {"MAIL FROM:<a@b.example>  RET=HDRS   ENVID=QQ314159",
       "MAIL <a@b.example> RET=HDRS "
       "ENVID=QQ314159"},
      {"MAIL FROM:<a@b.example> X-VENDOR-1=a+2B;b", "MAIL <a@b.example> X-VENDOR-1=a+2B;b"},
      {"MAIL FROM:a@b.example SIZE=5", "MAIL <a@b.example> SIZE=5"},
      {"MAIL FROM:<ü@bücher.example> SMTPUTF8", "MAIL <ü@bücher.example> SMTPUTF8"},
      {"MAIL FROM:<@relay.example:a@b.example>", "MAIL <a@b.example> route"},
      {"RCPT TO:<c@d.example>", "RCPT <c@d.example>"},
      {"rcpt to: <c@d.example>", "RCPT <c@d.example>"},
      {"RCPT TO:<Postmaster>", "RCPT <Postmaster>"},
      {"RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d.example",
       "RCPT <c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d.example"},
      {"RCPT TO:<c@d.example> ORCPT=utf-8;ü@d.example",
       "RCPT <c@d.example> ORCPT=utf-8;ü@d.example"},
      // Relay tricks parse; the session sees them in the local part.
      {"RCPT TO:<user%other.example@local.example>", "RCPT <user%other.example@local.example>"},
      {"RCPT TO:<other.example!user@local.example>", "RCPT <other.example!user@local.example>"},
      {R"(RCPT TO:<"user@other.example"@local.example>)",
       R"(RCPT <"user@other.example"@local.example>)"},
      {"DATA", "DATA"},
      {"data", "DATA"},
      {"RSET", "RSET"},
      {"QUIT", "QUIT"},
      {"QUIT ", "QUIT"},  // a trailing blank is not an argument
      {"STARTTLS", "STARTTLS"},
      {"NOOP", "NOOP"},
      {"NOOP anything at all", "NOOP arg=anything at all"},
      {"HELP", "HELP"},
      {"HELP MAIL", "HELP arg=MAIL"},
      {"VRFY postmaster", "VRFY arg=postmaster"},
      {"VRFY <user@example.com>", "VRFY arg=<user@example.com>"},
      {"EXPN staff", "EXPN arg=staff"},
      {"BDAT 0 LAST", "BDAT size=0 LAST"},
      {"BDAT 1000", "BDAT size=1000"},
      {"bdat 86 last", "BDAT size=86 LAST"},
      {"BDAT 18446744073709551615", "BDAT size=18446744073709551615"},
      {"BDAT 007", "BDAT size=7"},
      {"AUTH PLAIN", "AUTH mech=PLAIN"},
      {"auth plain", "AUTH mech=PLAIN"},
      {"AUTH PLAIN =", "AUTH mech=PLAIN ir=="},
      {"AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH mech=PLAIN ir=AHVzZXIAcGFzcw=="},
      {"AUTH LOGIN dXNlcg==", "AUTH mech=LOGIN ir=dXNlcg=="},
      {"AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9YWJj",
       "AUTH mech=SCRAM-SHA-256 ir=biwsbj11c2VyLHI9YWJj"},
      {"AUTH X_VENDOR_MECH12345", "AUTH mech=X_VENDOR_MECH12345"},
      {"AUTH XOAUTH2 dXNlcj0=", "AUTH mech=XOAUTH2 ir=dXNlcj0="},
  };
  for (const accepted_case& c : cases) {
    SCOPED_TRACE(c.line);
    const command_parse got = parse_command(c.line);
    ASSERT_TRUE(got.value.has_value()) << got.detail;
    EXPECT_EQ(summary(*got.value), c.expected);
  }
}

struct rejected_case {
  std::string line;
  command_error error;
  std::string detail;  // expected substring
};

TEST(command, invalid_lines_give_a_typed_error_and_what_was_expected) {
  const auto unknown = command_error::unknown_command;
  const auto syntax = command_error::syntax;
  const auto utf8 = command_error::utf8_not_allowed;
  const std::vector<rejected_case> cases = {
      {"", syntax, "empty"},
      {"   ", syntax, "empty"},
      {"FOO", unknown, "not recognized"},
      {"MAILFROM:<a@b.example>", unknown, "not recognized"},
      {"HELLO there", unknown, "not recognized"},
      {"EHL", unknown, "not recognized"},
      {"GET / HTTP/1.1", unknown, "not recognized"},
      {std::string("NO\0OP", 5), syntax, "control character"},
      {"NOOP\r", syntax, "control character"},
      {"NOOP \x1b[0m", syntax, "control character"},
      {"HELO", syntax, "Syntax: HELO hostname"},
      {"HELO ", syntax, "Syntax: HELO hostname"},
      {"EHLO", syntax, "Syntax: EHLO hostname"},
      {"EHLO my_host", syntax, "Syntax: EHLO hostname"},
      {"EHLO two words", syntax, "Syntax: EHLO hostname"},
      {"EHLO [999.0.0.1]", syntax, "Syntax: EHLO hostname"},
      {"MAIL", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL TO:<a@b.example>", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL FROM :<a@b.example>", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:<a@b.example", syntax, "expected '>'"},
      {"MAIL FROM:<a@b.example>>", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:<a@b.example>SIZE=1", syntax, "Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:<a@-b.example>", syntax, "invalid domain"},
      {"MAIL FROM:<a@b.example> SIZE=", syntax, "SIZE=value"},
      {"MAIL FROM:<a@b.example> SIZE=1=2", syntax, "SIZE=value"},
      {"MAIL FROM:<a@b.example> -X=1", syntax, "keyword"},
      {"MAIL FROM:<a@b.example> =1", syntax, "keyword"},
      {"MAIL FROM:<a@b.example> X_Y=1", syntax, "keyword"},
      {"MAIL FROM:<a@b.example> SIZE=1 size=2", syntax, "Duplicate parameter SIZE"},
      {"MAIL FROM:<a@b.example> BODY=8BITMIME BODY", syntax, "Duplicate parameter BODY"},
      {"MAIL FROM:<a@b.example> \tSIZE=1", syntax, "keyword"},
      {"MAIL FROM:<a@b.example> ENVID=\xc3", syntax, "ENVID=value"},
      {"RCPT TO:<>", syntax, "null address"},
      {"RCPT FROM:<a@b.example>", syntax, "Syntax: RCPT TO:<address>"},
      {"RCPT TO:<c@d.example> NOTIFY=SUCCESS NOTIFY=DELAY", syntax, "Duplicate parameter"},
      {"RCPT TO:<" + std::string(65, 'x') + "@d.example>", syntax, "longer than 64"},
      {"DATA now", syntax, "Syntax: DATA"},
      {"RSET all", syntax, "Syntax: RSET"},
      {"QUIT please", syntax, "Syntax: QUIT"},
      {"STARTTLS x", syntax, "Syntax: STARTTLS"},
      {"VRFY", syntax, "Syntax: VRFY"},
      {"EXPN", syntax, "Syntax: EXPN"},
      {"BDAT", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT LAST", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT -1", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT 1e3", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT 10 FIRST", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT 10 LAST now", syntax, "Syntax: BDAT size [LAST]"},
      {"BDAT 18446744073709551616", syntax, "too large"},
      {"BDAT 99999999999999999999999", syntax, "too large"},
      {"AUTH", syntax, "Syntax: AUTH mechanism"},
      {"AUTH PL@IN", syntax, "Syntax: AUTH mechanism"},
      {"AUTH ABCDEFGHIJKLMNOPQRSTU", syntax, "Syntax: AUTH mechanism"},  // 21 characters
      {"AUTH PLAIN abc", syntax, "base64"},
      {"AUTH PLAIN ab=c", syntax, "base64"},
      {"AUTH PLAIN a===", syntax, "base64"},
      {"AUTH PLAIN ab*c", syntax, "base64"},
      {"AUTH PLAIN ==", syntax, "base64"},
      {"AUTH PLAIN dXNlcg== extra", syntax, "Syntax: AUTH mechanism"},
      // RFC 6531: non-ASCII addresses need SMTPUTF8 to have been offered.
      {"MAIL FROM:<ü@example.com>", utf8, "SMTPUTF8"},
      {"RCPT TO:<user@bücher.example>", utf8, "SMTPUTF8"},
      {"MAIL FROM:<\xc3@example.com>", syntax, "invalid UTF-8"},
      {"RCPT TO:<c@d.example> ORCPT=utf-8;ü@d.example", syntax, "ORCPT=value"},
      {"EHLO bücher.example", syntax, "Syntax: EHLO hostname"},
  };
  command_options ascii_only;
  ascii_only.allow_utf8 = false;
  for (const rejected_case& c : cases) {
    SCOPED_TRACE(c.line);
    const command_parse got = parse_command(c.line, ascii_only);
    ASSERT_FALSE(got.value.has_value()) << summary(*got.value);
    EXPECT_EQ(got.error, c.error);
    EXPECT_NE(got.detail.find(c.detail), std::string::npos) << "detail: " << got.detail;
  }
}

TEST(command, utf8_is_accepted_only_when_offered) {
  command_options utf8;
  command_options ascii;
  ascii.allow_utf8 = false;
  const std::vector<std::string> lines = {
      "MAIL FROM:<ü@example.com> SMTPUTF8",
      "RCPT TO:<用户@例子.广告>",
      "RCPT TO:<c@d.example> ORCPT=utf-8;ü@d.example",
      "EHLO bücher.example",
  };
  for (const std::string& line : lines) {
    EXPECT_TRUE(parse_command(line, utf8).value.has_value()) << line;
    EXPECT_FALSE(parse_command(line, ascii).value.has_value()) << line;
  }
  const command_parse got = parse_command("RCPT TO:<用户@例子.广告>", utf8);
  ASSERT_TRUE(got.value.has_value());
  EXPECT_TRUE(got.value->address.box.utf8);
}

TEST(command, fields_are_filled_for_the_session) {
  const command_parse mail =
      parse_command("MAIL FROM:<\"a b\"@Example.COM> SIZE=42 BODY=8BITMIME SMTPUTF8");
  ASSERT_TRUE(mail.value.has_value()) << mail.detail;
  const command& c = *mail.value;
  EXPECT_EQ(c.kind, verb::mail);
  EXPECT_EQ(c.argument, "");  // MAIL and RCPT keep their parts in address and params
  EXPECT_EQ(c.address.box.local_part, "a b");
  EXPECT_TRUE(c.address.box.local_part_quoted);
  EXPECT_EQ(c.address.box.domain, "example.com");
  ASSERT_EQ(c.params.size(), 3u);
  ASSERT_NE(c.param("SIZE"), nullptr);
  EXPECT_EQ(c.param("SIZE")->value, "42");
  ASSERT_NE(c.param("body"), nullptr);
  EXPECT_EQ(c.param("body")->value, "8BITMIME");
  ASSERT_NE(c.param("SMTPUTF8"), nullptr);
  EXPECT_FALSE(c.param("SMTPUTF8")->value.has_value());
  EXPECT_EQ(c.param("RET"), nullptr);

  const command_parse helo = parse_command("HELO  client ");
  ASSERT_TRUE(helo.value.has_value());
  EXPECT_EQ(helo.value->argument, " client");
  EXPECT_EQ(helo.value->helo_name, "client");
}

TEST(command, every_verb_has_its_wire_name_and_parses_back) {
  const std::vector<std::tuple<verb, std::string, std::string>> verbs = {
      {verb::helo, "HELO", "HELO x"},
      {verb::ehlo, "EHLO", "EHLO x"},
      {verb::mail, "MAIL", "MAIL FROM:<>"},
      {verb::rcpt, "RCPT", "RCPT TO:<a@b>"},
      {verb::data, "DATA", "DATA"},
      {verb::bdat, "BDAT", "BDAT 1"},
      {verb::rset, "RSET", "RSET"},
      {verb::noop, "NOOP", "NOOP"},
      {verb::quit, "QUIT", "QUIT"},
      {verb::vrfy, "VRFY", "VRFY x"},
      {verb::expn, "EXPN", "EXPN x"},
      {verb::help, "HELP", "HELP"},
      {verb::starttls, "STARTTLS", "STARTTLS"},
      {verb::auth, "AUTH", "AUTH PLAIN"},
  };
  for (const auto& [v, name, line] : verbs) {
    EXPECT_EQ(verb_name(v), name);
    const command_parse got = parse_command(line);
    ASSERT_TRUE(got.value.has_value()) << line << ": " << got.detail;
    EXPECT_EQ(got.value->kind, v) << line;
  }
  EXPECT_EQ(verb_name(verb::unknown), "UNKNOWN");
}

}  // namespace
}  // namespace mailsim::smtp
