// mailsim::policy spam score — a rule-based score in the manner of SpamAssassin: each rule
// that hits adds its score; at required_score or more the mail is spam (filed into Junk),
// at reject_score or more (off by default) the chain may refuse it at end of DATA.
//
// Contract: score() is pure: the message, the authentication results, the DNSBL outcome and
// `now` go in, a spam_report comes out; nothing is read from the clock or the DNS. The
// rules:
// - header sanity (RFC 5322 §3.6 field counts, §3.3 dates): MISSING_FROM, DUP_FROM,
//   FROM_MALFORMED, MISSING_DATE, DUP_DATE, DATE_INVALID, DATE_IN_FUTURE (more than
//   date_future_max ahead of `now`), DATE_IN_PAST (more than date_past_max behind),
//   MISSING_MID, DUP_MID, MID_MALFORMED, MISSING_SUBJECT, DUP_SUBJECT, NO_TO_CC (neither To
//   nor Cc), HDR_BAD_LINES (header lines without a colon);
// - authentication results, as RFC 8601 result words (auth::to_string of the auth module's
//   results, or what an Authentication-Results field says): SPF_FAIL, SPF_SOFTFAIL,
//   DKIM_FAIL (a signature that did not verify), DKIM_NONE (unsigned), DMARC_FAIL. An empty
//   word means "not checked" and triggers nothing;
// - DNSBL: every listed list of the outcome adds its hit's score under its name (allow
//   lists add negative scores);
// - content rules from the configuration: a header field (by name) or the body, a
//   case-insensitive substring or an ECMAScript regular expression (case-insensitive),
//   matched at most once per rule.
// Built-in scores are project choices (no source publishes "the" score of a rule); `scores`
// overrides any rule's score by name, and a score of 0 turns the rule off (as
// SpamAssassin's "score RULE 0"). Bounds: only the first body_bytes_max octets of the body
// are scanned (undecoded: no MIME or transfer-encoding decoding); regular expressions run
// on one line (body) or one field value at a time, cut to regex_input_bytes_max, because
// std::regex backtracks recursively and would exhaust the stack on long input; patterns
// are at most regex_pattern_bytes_max octets. create() refuses bad rules with a message
// naming the rule; score() never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/policy/dnsbl.hpp"

namespace mailsim::policy {

struct auth_summary {
  std::string spf;    // "pass", "fail", "softfail", "neutral", "none", "temperror", ...
  std::string dkim;   // the message's best DKIM result: "pass", "fail", "none", ...
  std::string dmarc;  // "pass", "fail", "none", ...
};

enum class content_target { header, body };

struct content_rule {
  std::string name;  // upper-case letters, digits and '_' by convention; shown in tests=
  content_target target = content_target::body;
  std::string header;  // the field name when target is header ("Subject")
  std::string pattern;
  bool regex = false;  // false: case-insensitive substring
  double score = 1.0;
};

struct spam_limits {
  std::size_t body_bytes_max = 256 * 1024;  // project choice: covers ordinary text mail
  std::size_t header_fields_max = 1000;
  std::size_t header_bytes_max = 256 * 1024;
  std::size_t regex_pattern_bytes_max = 256;
  std::size_t regex_input_bytes_max = 1000;  // RFC 5322 §2.1.1: lines of at most 998 + CRLF
  std::size_t content_rules_max = 1000;
};

struct spam_options {
  double required_score = 5.0;         // SpamAssassin's required_score default
  std::optional<double> reject_score;  // off by default
  // A day ahead covers every time-zone mislabel (zones span -12 to +14 hours); four days
  // behind is the RFC 5321 §4.5.4.1 give-up time, older mail was not freshly sent.
  std::chrono::seconds date_future_max{24 * 3600};
  std::chrono::seconds date_past_max{96 * 3600};
  std::map<std::string, double, std::less<>> scores;  // overrides by rule name; 0: off
  std::vector<content_rule> rules;
  spam_limits limits;
};

struct spam_rule_hit {
  std::string name;
  double score = 0;
};

struct spam_report {
  double score = 0;  // rounded to 0.001
  double required = 5.0;
  std::optional<double> reject_at;
  std::vector<spam_rule_hit> hits;  // sorted by name

  bool spam() const { return score >= required; }
  bool reject() const { return reject_at && score >= *reject_at; }
  const char* folder() const { return spam() ? "Junk" : "INBOX"; }
  // "Yes, score=7.2 required=5.0 tests=A,B" (SpamAssassin's X-Spam-Status shape); "No, ..."
  // below the threshold; "tests=none" when nothing hit.
  std::string status_line() const;
};

// The built-in rules and their default scores.
const std::map<std::string, double, std::less<>>& default_spam_scores();

class spam_scorer {
 public:
  static std::optional<spam_scorer> create(spam_options options, std::string& error);

  spam_report score(std::string_view message, const auth_summary& auth, const dnsbl_outcome* dnsbl,
                    core::time_point now) const;

  const spam_options& options() const { return options_; }

 private:
  explicit spam_scorer(spam_options options) : options_(std::move(options)) {}
  double rule_score(std::string_view name, double fallback) const;

  spam_options options_;
  std::vector<std::optional<std::regex>> compiled_;  // one per content rule
  std::vector<std::string> needles_;                 // the substring rules' patterns in lower case
  bool lower_body_needed_ = false;                   // some substring rule reads the body
};

}  // namespace mailsim::policy
