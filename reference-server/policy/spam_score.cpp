#include "reference-server/policy/spam_score.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "reference-server/policy/message_fields.hpp"

namespace mailsim::policy {
namespace {

using hit_list = std::vector<spam_rule_hit>;

std::size_t count_fields(const message_view& m, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(m.fields.begin(), m.fields.end(),
                    [name](const message_field& f) { return iequals(f.name, name); }));
}

const message_field* first_field(const message_view& m, std::string_view name) {
  for (const message_field& f : m.fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

// MISSING_x / DUP_x for a field RFC 5322 §3.6 allows at most once; the field when single.
const message_field* singleton(const message_view& m, std::string_view field,
                               const std::string& rule, std::vector<std::string>& fired) {
  std::size_t n = count_fields(m, field);
  if (n == 0) fired.push_back("MISSING_" + rule);
  if (n > 1) fired.push_back("DUP_" + rule);
  return n == 1 ? first_field(m, field) : nullptr;
}

void date_rules(const message_field* date, core::time_point now, const spam_options& o,
                std::vector<std::string>& fired) {
  if (date == nullptr) return;
  std::optional<std::int64_t> t = parse_date_time(date->value);
  if (!t) {
    fired.push_back("DATE_INVALID");
    return;
  }
  std::int64_t now_s = core::epoch_ms(now) / 1000;
  if (*t > now_s + o.date_future_max.count()) fired.push_back("DATE_IN_FUTURE");
  if (*t < now_s - o.date_past_max.count()) fired.push_back("DATE_IN_PAST");
}

std::vector<std::string> header_rules(const message_view& m, core::time_point now,
                                      const spam_options& o) {
  std::vector<std::string> fired;
  const message_field* from = singleton(m, "From", "FROM", fired);
  if (from != nullptr && !from_looks_valid(from->value)) fired.push_back("FROM_MALFORMED");
  date_rules(singleton(m, "Date", "DATE", fired), now, o, fired);
  const message_field* mid = singleton(m, "Message-ID", "MID", fired);
  if (mid != nullptr && !message_id_looks_valid(mid->value)) fired.push_back("MID_MALFORMED");
  singleton(m, "Subject", "SUBJECT", fired);
  if (count_fields(m, "To") == 0 && count_fields(m, "Cc") == 0) fired.push_back("NO_TO_CC");
  if (m.bad_lines > 0) fired.push_back("HDR_BAD_LINES");
  return fired;
}

std::vector<std::string> auth_rules(const auth_summary& a) {
  std::vector<std::string> fired;
  if (iequals(a.spf, "fail")) fired.push_back("SPF_FAIL");
  if (iequals(a.spf, "softfail")) fired.push_back("SPF_SOFTFAIL");
  if (iequals(a.dkim, "fail")) fired.push_back("DKIM_FAIL");
  if (iequals(a.dkim, "none")) fired.push_back("DKIM_NONE");
  if (iequals(a.dmarc, "fail")) fired.push_back("DMARC_FAIL");
  return fired;
}

bool regex_hit(const std::regex& re, std::string_view text, std::size_t bytes_max) {
  text = text.substr(0, bytes_max);
  try {
    return std::regex_search(text.begin(), text.end(), re);
  } catch (const std::regex_error&) {
    return false;  // error_complexity / error_stack: too costly to decide, so no hit
  }
}

bool body_regex_hit(const std::regex& re, std::string_view body, std::size_t line_max) {
  while (!body.empty()) {
    std::size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (regex_hit(re, line, line_max)) return true;
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return false;
}

bool is_rule_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Checks one content rule; the compiled form when it is a regular expression. The problem,
// naming the rule, when it cannot be used.
std::optional<std::string> compile_rule(const content_rule& r, const spam_limits& limits,
                                        std::optional<std::regex>& out) {
  std::string which = "content rule '" + r.name + "': ";
  if (!is_rule_name(r.name)) return which + "a name is letters, digits and '_'";
  if (r.pattern.empty()) return which + "empty pattern";
  if (r.target == content_target::header && r.header.empty())
    return which + "no header field named";
  if (!r.regex) return std::nullopt;
  if (r.pattern.size() > limits.regex_pattern_bytes_max)
    return which + "pattern longer than " + std::to_string(limits.regex_pattern_bytes_max) +
           " octets";
  try {
    out.emplace(r.pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    return which + "bad regular expression (" + e.what() + ")";
  }
  return std::nullopt;
}

// `lower_body` is the scanned body in lower case: substring rules search it with their
// lower-cased `needle` (a plain find is several times faster than a case-blind search).
bool content_hit(const content_rule& r, const std::optional<std::regex>& re,
                 std::string_view needle, const message_view& m, std::string_view body,
                 std::string_view lower_body, const spam_limits& lim) {
  if (r.target == content_target::body) {
    return re ? body_regex_hit(*re, body, lim.regex_input_bytes_max)
              : lower_body.find(needle) != std::string_view::npos;
  }
  for (const message_field& f : m.fields) {
    if (!iequals(f.name, r.header)) continue;
    bool hit = re ? regex_hit(*re, f.value, lim.regex_input_bytes_max)
                  : ifind(f.value, needle) != std::string::npos;
    if (hit) return true;
  }
  return false;
}

std::string one_decimal(double v) {
  if (std::fabs(v) < 0.05) v = 0;  // no "-0.0"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

const std::map<std::string, double, std::less<>>& default_spam_scores() {
  // Project choices, ordered by how strongly each sign points at bulk abuse: a missing or
  // doubled From breaks RFC 5322 §3.6 and Gmail refuses it outright (receiver-behaviour.md
  // §8); DMARC fail means the author domain is forged; cosmetic defects weigh little.
  static const std::map<std::string, double, std::less<>> scores{
      {"MISSING_FROM", 2.5},   {"DUP_FROM", 2.5},      {"FROM_MALFORMED", 1.5},
      {"MISSING_DATE", 1.0},   {"DUP_DATE", 1.0},      {"DATE_INVALID", 1.0},
      {"DATE_IN_FUTURE", 1.5}, {"DATE_IN_PAST", 1.0},  {"MISSING_MID", 0.5},
      {"DUP_MID", 1.0},        {"MID_MALFORMED", 0.5}, {"MISSING_SUBJECT", 0.5},
      {"DUP_SUBJECT", 0.5},    {"NO_TO_CC", 0.5},      {"HDR_BAD_LINES", 1.0},
      {"SPF_FAIL", 1.5},       {"SPF_SOFTFAIL", 0.7},  {"DKIM_FAIL", 1.0},
      {"DKIM_NONE", 0.3},      {"DMARC_FAIL", 2.5}};
  return scores;
}

std::string spam_report::status_line() const {
  std::string tests;
  for (const spam_rule_hit& h : hits) tests += (tests.empty() ? "" : ",") + h.name;
  return std::string(spam() ? "Yes" : "No") + ", score=" + one_decimal(score) +
         " required=" + one_decimal(required) + " tests=" + (tests.empty() ? "none" : tests);
}

std::optional<spam_scorer> spam_scorer::create(spam_options options, std::string& error) {
  if (options.rules.size() > options.limits.content_rules_max) {
    error = "more than " + std::to_string(options.limits.content_rules_max) + " content rules";
    return std::nullopt;
  }
  spam_scorer s(std::move(options));
  s.compiled_.resize(s.options_.rules.size());
  for (std::size_t i = 0; i < s.options_.rules.size(); ++i) {
    const content_rule& r = s.options_.rules[i];
    s.needles_.push_back(r.regex ? std::string() : to_lower(r.pattern));
    s.lower_body_needed_ |= !r.regex && r.target == content_target::body;
    std::optional<std::string> problem = compile_rule(r, s.options_.limits, s.compiled_[i]);
    if (problem) {
      error = std::move(*problem);
      return std::nullopt;
    }
  }
  return s;
}

double spam_scorer::rule_score(std::string_view name, double fallback) const {
  auto it = options_.scores.find(name);
  return it == options_.scores.end() ? fallback : it->second;
}

spam_report spam_scorer::score(std::string_view message, const auth_summary& auth,
                               const dnsbl_outcome* dnsbl, core::time_point now) const {
  const spam_limits& lim = options_.limits;
  message_view m = scan_message(message, lim.header_fields_max, lim.header_bytes_max);
  std::string_view body = m.body.substr(0, lim.body_bytes_max);
  const std::string lower_body = lower_body_needed_ ? to_lower(body) : std::string();
  hit_list hits;
  auto add = [&](const std::string& name, double fallback) {
    double s = rule_score(name, fallback);
    bool seen = std::any_of(hits.begin(), hits.end(),
                            [&name](const spam_rule_hit& h) { return h.name == name; });
    if (s != 0 && !seen) hits.push_back({name, s});
  };
  std::vector<std::string> fired = header_rules(m, now, options_);
  for (std::string& name : auth_rules(auth)) fired.push_back(std::move(name));
  for (const std::string& name : fired) add(name, default_spam_scores().find(name)->second);
  if (dnsbl != nullptr) {
    for (const dnsbl_hit& h : dnsbl->lists) {
      if (h.status == dnsbl_status::listed) add(h.name, h.score);
    }
  }
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    const content_rule& r = options_.rules[i];
    if (content_hit(r, compiled_[i], needles_[i], m, body, lower_body, lim)) add(r.name, r.score);
  }
  std::sort(hits.begin(), hits.end(),
            [](const spam_rule_hit& a, const spam_rule_hit& b) { return a.name < b.name; });
  spam_report report;
  for (const spam_rule_hit& h : hits) report.score += h.score;
  report.score = std::round(report.score * 1000) / 1000;
  report.required = options_.required_score;
  report.reject_at = options_.reject_score;
  report.hits = std::move(hits);
  return report;
}

}  // namespace mailsim::policy
