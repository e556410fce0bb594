// The spam score: header sanity, authentication results, DNSBL hits, content rules, score
// overrides, limits and the X-Spam-Status-like summary.
#include "reference-server/policy/spam_score.hpp"

#include <gtest/gtest.h>

namespace mailsim::policy {
namespace {

using std::chrono::hours;

// Tue, 14 Nov 2023 22:13:20 +0000
const core::time_point now = core::from_epoch_ms(1'700'000'000'000);

const char* const clean_headers =
    "From: Alice <alice@sender.example>\r\n"
    "To: bob@rcpt.example\r\n"
    "Subject: lunch\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <1@sender.example>\r\n";

std::string message(const std::string& headers = clean_headers,
                    const std::string& body = "See you at noon.\r\n") {
  return headers + "\r\n" + body;
}

spam_scorer scorer(spam_options o = {}) {
  std::string error;
  std::optional<spam_scorer> s = spam_scorer::create(std::move(o), error);
  EXPECT_TRUE(s.has_value()) << error;
  return std::move(*s);
}

std::vector<std::string> names(const spam_report& r) {
  std::vector<std::string> out;
  for (const spam_rule_hit& h : r.hits) out.push_back(h.name);
  return out;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  return s.replace(s.find(from), from.size(), to);
}

TEST(SpamScore, CleanMessageScoresNothing) {
  spam_report r = scorer().score(message(), {}, nullptr, now);
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.score, 0);
  EXPECT_FALSE(r.spam());
  EXPECT_STREQ(r.folder(), "INBOX");
  EXPECT_EQ(r.status_line(), "No, score=0.0 required=5.0 tests=none");
}

TEST(SpamScore, MissingFieldsAddUpToJunk) {
  spam_report r = scorer().score(message("X-Mailer: bulk\r\n"), {}, nullptr, now);
  EXPECT_EQ(names(r), (std::vector<std::string>{"MISSING_DATE", "MISSING_FROM", "MISSING_MID",
                                                "MISSING_SUBJECT", "NO_TO_CC"}));
  EXPECT_DOUBLE_EQ(r.score, 5.0);
  EXPECT_TRUE(r.spam());
  EXPECT_STREQ(r.folder(), "Junk");
  EXPECT_EQ(r.status_line(),
            "Yes, score=5.0 required=5.0 tests=MISSING_DATE,MISSING_FROM,MISSING_MID,"
            "MISSING_SUBJECT,NO_TO_CC");
}

TEST(SpamScore, DuplicateSingletonFieldsAreCaught) {
  std::string h = std::string(clean_headers) + "From: other@sender.example\r\n" +
                  "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nSubject: again\r\n" +
                  "Message-ID: <2@sender.example>\r\n";
  EXPECT_EQ(names(scorer().score(message(h), {}, nullptr, now)),
            (std::vector<std::string>{"DUP_DATE", "DUP_FROM", "DUP_MID", "DUP_SUBJECT"}));
}

TEST(SpamScore, MalformedFromAndMessageId) {
  std::string h = replace(clean_headers, "Alice <alice@sender.example>", "Alice");
  h = replace(h, "<1@sender.example>", "1@sender.example");
  EXPECT_EQ(names(scorer().score(message(h), {}, nullptr, now)),
            (std::vector<std::string>{"FROM_MALFORMED", "MID_MALFORMED"}));
}

TEST(SpamScore, DatesFarFromNowAreSuspect) {
  auto dated = [](const char* date) {
    return message(replace(clean_headers, "Tue, 14 Nov 2023 22:13:20 +0000", date));
  };
  spam_scorer s = scorer();
  EXPECT_TRUE(s.score(dated("Wed, 15 Nov 2023 21:13:20 +0000"), {}, nullptr, now).hits.empty());
  EXPECT_EQ(names(s.score(dated("Wed, 15 Nov 2023 23:13:20 +0000"), {}, nullptr, now)),
            (std::vector<std::string>{"DATE_IN_FUTURE"}));
  EXPECT_TRUE(s.score(dated("Sat, 11 Nov 2023 00:13:20 +0000"), {}, nullptr, now).hits.empty());
  EXPECT_EQ(names(s.score(dated("Fri, 10 Nov 2023 21:13:20 +0000"), {}, nullptr, now)),
            (std::vector<std::string>{"DATE_IN_PAST"}));
  EXPECT_EQ(names(s.score(dated("sometime soon"), {}, nullptr, now)),
            (std::vector<std::string>{"DATE_INVALID"}));
}

TEST(SpamScore, HeaderLinesWithoutColon) {
  std::string h = std::string(clean_headers) + "garbage line\r\n";
  EXPECT_EQ(names(scorer().score(message(h), {}, nullptr, now)),
            (std::vector<std::string>{"HDR_BAD_LINES"}));
}

TEST(SpamScore, AuthenticationResults) {
  spam_scorer s = scorer();
  EXPECT_EQ(names(s.score(message(), {"fail", "fail", "fail"}, nullptr, now)),
            (std::vector<std::string>{"DKIM_FAIL", "DMARC_FAIL", "SPF_FAIL"}));
  EXPECT_EQ(names(s.score(message(), {"softfail", "none", "none"}, nullptr, now)),
            (std::vector<std::string>{"DKIM_NONE", "SPF_SOFTFAIL"}));
  EXPECT_TRUE(s.score(message(), {"pass", "pass", "pass"}, nullptr, now).hits.empty());
  EXPECT_TRUE(s.score(message(), {"", "", ""}, nullptr, now).hits.empty());  // not checked
  EXPECT_DOUBLE_EQ(s.score(message(), {"fail", "fail", "fail"}, nullptr, now).score, 5.0);
}

TEST(SpamScore, ListedDnsblsAddTheirScores) {
  dnsbl_outcome out;
  out.lists.resize(3);
  out.lists[0] = {"zen.spamhaus.org",
                  "RCVD_IN_ZEN",
                  false,
                  dnsbl_kind::ip,
                  "192.0.2.1",
                  "q",
                  dnsbl_status::listed,
                  {"127.0.0.2"},
                  {"SBL"},
                  "",
                  "",
                  3.5};
  out.lists[1] = out.lists[0];
  out.lists[1].name = "RCVD_IN_DNSWL";
  out.lists[1].score = -2.5;
  out.lists[2] = out.lists[0];
  out.lists[2].name = "RCVD_IN_BROKEN";
  out.lists[2].status = dnsbl_status::error;
  spam_report r = scorer().score(message(), {}, &out, now);
  EXPECT_EQ(names(r), (std::vector<std::string>{"RCVD_IN_DNSWL", "RCVD_IN_ZEN"}));
  EXPECT_DOUBLE_EQ(r.score, 1.0);
}

TEST(SpamScore, ContentRulesMatchHeadersAndBody) {
  spam_options o;
  o.rules = {{"BODY_VIAGRA", content_target::body, "", "ViAgRa", false, 2.0},
             {"SUBJ_LUNCH", content_target::header, "subject", "LUNCH", false, 0.4},
             {"BODY_MONEY", content_target::body, "", "\\$[0-9]{3,}", true, 1.5},
             {"SUBJ_NONE", content_target::header, "Subject", "dinner", false, 9.0}};
  spam_report r = scorer(o).score(message(clean_headers, "Buy viagra\r\nonly $1000 today\r\n"), {},
                                  nullptr, now);
  EXPECT_EQ(names(r), (std::vector<std::string>{"BODY_MONEY", "BODY_VIAGRA", "SUBJ_LUNCH"}));
  EXPECT_DOUBLE_EQ(r.score, 3.9);
  EXPECT_EQ(r.status_line(), "No, score=3.9 required=5.0 tests=BODY_MONEY,BODY_VIAGRA,SUBJ_LUNCH");
}

TEST(SpamScore, RegexRunsLineByLine) {
  spam_options o;
  o.rules = {{"SPLIT", content_target::body, "", "first.*second", true, 1.0}};
  EXPECT_TRUE(scorer(o)
                  .score(message(clean_headers, "first\r\nsecond\r\n"), {}, nullptr, now)
                  .hits.empty());
}

TEST(SpamScore, OnlyTheFirstBodyBytesAreScanned) {
  spam_options o;
  o.limits.body_bytes_max = 100;
  o.rules = {{"LATE_WORD", content_target::body, "", "casino", false, 3.0},
             {"LATE_RE", content_target::body, "", "casino", true, 3.0}};
  std::string body = std::string(100, 'x') + "casino\r\n";
  EXPECT_TRUE(scorer(o).score(message(clean_headers, body), {}, nullptr, now).hits.empty());
  o.limits.body_bytes_max = 200;
  EXPECT_EQ(scorer(o).score(message(clean_headers, body), {}, nullptr, now).hits.size(), 2u);
}

TEST(SpamScore, ScoresCanBeOverriddenAndZeroTurnsARuleOff) {
  spam_options o;
  o.scores = {{"MISSING_MID", 0.0}, {"NO_TO_CC", 4.5}, {"RCVD_IN_ZEN", 1.0}};
  std::string h = replace(clean_headers, "Message-ID: <1@sender.example>\r\n", "");
  h = replace(h, "To: bob@rcpt.example\r\n", "");
  dnsbl_outcome out;
  out.lists.resize(1);
  out.lists[0].name = "RCVD_IN_ZEN";
  out.lists[0].status = dnsbl_status::listed;
  out.lists[0].score = 3.5;
  spam_report r = scorer(o).score(message(h), {}, &out, now);
  EXPECT_EQ(names(r), (std::vector<std::string>{"NO_TO_CC", "RCVD_IN_ZEN"}));
  EXPECT_DOUBLE_EQ(r.score, 5.5);
}

TEST(SpamScore, RejectScoreIsOffByDefault) {
  spam_report r = scorer().score(message("X: y\r\n"), {"fail", "fail", "fail"}, nullptr, now);
  EXPECT_TRUE(r.spam());
  EXPECT_FALSE(r.reject());
  spam_options o;
  o.reject_score = 10.0;
  EXPECT_TRUE(
      scorer(o).score(message("X: y\r\n"), {"fail", "fail", "fail"}, nullptr, now).reject());
}

TEST(SpamScore, NegativeTotalsPrintPlainly) {
  spam_report r;
  r.score = -2.5;
  EXPECT_EQ(r.status_line(), "No, score=-2.5 required=5.0 tests=none");
  r.score = -0.01;
  EXPECT_EQ(r.status_line(), "No, score=0.0 required=5.0 tests=none");
}

TEST(SpamScoreCreate, BadRulesAreRefusedByName) {
  auto refused = [](content_rule rule) {
    spam_options o;
    o.rules = {std::move(rule)};
    std::string error;
    EXPECT_FALSE(spam_scorer::create(o, error).has_value());
    return error;
  };
  EXPECT_NE(refused({"BAD_RE", content_target::body, "", "([a-z", true, 1.0}).find("BAD_RE"),
            std::string::npos);
  EXPECT_NE(refused({"LONG_RE", content_target::body, "", std::string(300, 'a'), true, 1.0})
                .find("longer than 256"),
            std::string::npos);
  EXPECT_NE(refused({"bad name!", content_target::body, "", "x", false, 1.0}).find("bad name!"),
            std::string::npos);
  EXPECT_NE(refused({"NO_FIELD", content_target::header, "", "x", false, 1.0}).find("header"),
            std::string::npos);
  EXPECT_NE(refused({"EMPTY", content_target::body, "", "", false, 1.0}).find("empty"),
            std::string::npos);
}

TEST(SpamScoreCreate, TooManyRulesAreRefused) {
  spam_options o;
  o.limits.content_rules_max = 1;
  o.rules = {{"A", content_target::body, "", "x", false, 1.0},
             {"B", content_target::body, "", "y", false, 1.0}};
  std::string error;
  EXPECT_FALSE(spam_scorer::create(o, error).has_value());
  EXPECT_EQ(error, "more than 1 content rules");
}

}  // namespace
}  // namespace mailsim::policy
