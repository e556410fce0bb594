// The reports of a judged run. JSON goes through nlohmann::ordered_json so that keys keep
// the order written here; numbers are made integers or rounded before they go in, so their
// text never depends on a double's last bits. XML and text are written by hand.
#include "simulator/scenario/report.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "simulator/metrics/summary.hpp"

namespace mailsim::sim::scenario {
namespace {

using json = nlohmann::ordered_json;
using metrics::distribution;
using metrics::group_summary;

// ---- shared formats ----

std::string hex64(std::uint64_t v) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

// 2023-11-14T22:13:20.000Z, as in the transcript.
std::string iso_time(core::time_point t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const long long ms = (t - day).count();
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), ms / 3'600'000, ms / 60'000 % 60, ms / 1000 % 60,
                ms % 1000);
  return buffer;
}

std::string where_text(const world::source_ref& where) {
  if (where.file.empty() && where.line == 0) return {};
  std::string out = where.file;
  if (where.line == 0) return out;
  out += ":" + std::to_string(where.line);
  if (where.column != 0) out += ":" + std::to_string(where.column);
  return out;
}

// Six decimals are plenty for a ratio and make the text independent of rounding noise.
double rounded(double v) {
  return std::round(v * 1e6) / 1e6;
}

long long to_ms(double seconds) {
  return std::llround(seconds * 1000.0);
}

// ---- JSON ----

json ratio_json(const group_summary& g, std::size_t part) {
  const std::optional<double> r = g.ratio(part);
  return r ? json(rounded(*r)) : json(nullptr);
}

json delay_json(const distribution& d) {
  return json{{"count", d.count},        {"p50_ms", to_ms(d.p50)}, {"p90_ms", to_ms(d.p90)},
              {"p95_ms", to_ms(d.p95)},  {"p99_ms", to_ms(d.p99)}, {"max_ms", to_ms(d.max)},
              {"mean_ms", to_ms(d.mean)}};
}

json attempts_json(const distribution& d) {
  return json{{"count", d.count},           {"p50", std::llround(d.p50)},
              {"p90", std::llround(d.p90)}, {"p95", std::llround(d.p95)},
              {"p99", std::llround(d.p99)}, {"max", std::llround(d.max)},
              {"mean", rounded(d.mean)}};
}

json days_json(const std::vector<metrics::day_summary>& days) {
  json out = json::array();
  for (const metrics::day_summary& d : days) {
    out.push_back(json{{"day", d.day},
                       {"queued", d.queued},
                       {"delivered", d.delivered},
                       {"bounced", d.bounced},
                       {"expired", d.expired},
                       {"connections", d.connections},
                       {"accepted", d.accepted},
                       {"deferred", d.deferred},
                       {"rejected", d.rejected},
                       {"trap_hits", d.trap_hits},
                       {"complaints", d.complaints}});
  }
  return out;
}

json group_json(const group_summary& g) {
  const metrics::totals& t = g.counts;
  json totals{{"sent", t.sent},           {"delivered", t.delivered}, {"bounced", t.bounced},
              {"expired", t.expired},     {"pending", t.pending},     {"inbox", t.inbox},
              {"junk", t.junk},           {"trap_hits", t.trap_hits}, {"complaints", t.complaints},
              {"deferrals", t.deferrals}, {"attempts", t.attempts}};
  json by_status = json::object();
  for (const auto& [status, n] : t.bounced_by_status) by_status[status] = n;
  totals["bounced_by_status"] = by_status;
  json ratios{
      {"delivered", ratio_json(g, t.delivered)}, {"bounced", ratio_json(g, t.bounced)},
      {"expired", ratio_json(g, t.expired)},     {"pending", ratio_json(g, t.pending)},
      {"inbox", ratio_json(g, t.inbox)},         {"junk", ratio_json(g, t.junk)},
      {"trap_hits", ratio_json(g, t.trap_hits)}, {"complaints", ratio_json(g, t.complaints)}};
  return json{{"totals", totals},
              {"ratios", ratios},
              {"delivery_delay", delay_json(g.delivery_delay_s)},
              {"attempts", attempts_json(g.attempts)},
              {"days", days_json(g.days)}};
}

json groups_json(const std::map<std::string, group_summary>& groups) {
  json out = json::object();
  for (const auto& [name, g] : groups) out[name] = group_json(g);
  return out;
}

json listings_json(const std::vector<metrics::listing>& listings) {
  json out = json::array();
  for (const metrics::listing& l : listings) {
    out.push_back(json{{"zone", l.zone},
                       {"subject", l.subject},
                       {"listed_at", iso_time(l.listed_at)},
                       {"delisted_at", l.delisted_at ? json(iso_time(*l.delisted_at)) : json()},
                       {"reason", l.reason}});
  }
  return out;
}

json verdicts_json(const std::vector<verdict>& verdicts) {
  json out = json::array();
  for (const verdict& v : verdicts) {
    out.push_back(json{{"text", v.text},
                       {"where", where_text(v.where)},
                       {"passed", v.passed},
                       {"measured", v.measured},
                       {"error", v.error}});
  }
  return out;
}

json summary_json(const metrics::summary& s) {
  json out = group_json(s.all);
  out["by_provider"] = groups_json(s.by_provider);
  out["by_sender"] = groups_json(s.by_sender);
  return out;
}

// ---- XML ----

// The length of the valid UTF-8 sequence at `i`, or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (b >= 0xC2 && b <= 0xDF)
    n = 2;
  else if (b >= 0xE0 && b <= 0xEF)
    n = 3;
  else if (b >= 0xF0 && b <= 0xF4)
    n = 4;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string hex_byte(unsigned char b) {
  char buffer[5];
  std::snprintf(buffer, sizeof buffer, "\\x%02X", b);
  return buffer;
}

// XML 1.0 forbids most control characters even as references, so they become \xHH text;
// in attributes a newline or tab is a reference so that parsers keep it.
std::string xml_escape(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    switch (s[i]) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&apos;";
        continue;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        continue;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        continue;
      default:
        break;
    }
    if (b < 0x20 || b == 0x7F) {
      out += hex_byte(b);
    } else if (b < 0x80) {
      out += s[i];
    } else if (const std::size_t n = utf8_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n - 1;
    } else {
      out += hex_byte(b);
    }
  }
  return out;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value, true) + "\"";
}

std::string case_name(const run_result& r) {
  return r.name.empty() ? r.file : r.name;
}

std::string failure_body(const verdict& v, const run_result& r) {
  std::string body = "expectation: " + v.text + "\n";
  if (const std::string where = where_text(v.where); !where.empty())
    body += "where: " + where + "\n";
  if (!v.measured.empty()) body += "measured: " + v.measured + "\n";
  if (!v.error.empty()) body += "error: " + v.error + "\n";
  body += "seed: " + std::to_string(r.seed) + "\n";
  body += "reproduce: " + reproduce_command(r);
  return body;
}

std::string failure_message(const verdict& v) {
  if (!v.error.empty()) return v.text + " (error: " + v.error + ")";
  return v.text + " (measured " + v.measured + ")";
}

std::string testcase_xml(const std::string& suite, const run_result& r) {
  std::string out = "    <testcase" + attr("classname", suite) + attr("name", case_name(r)) +
                    attr("file", r.file) + ">\n";
  bool any_failure = false;
  for (const verdict& v : r.verdicts) {
    if (v.passed) continue;
    any_failure = true;
    out += "      <failure" + attr("message", failure_message(v)) + attr("type", "expectation") +
           ">" + xml_escape(failure_body(v, r), false) + "</failure>\n";
  }
  if (!r.error.empty()) {
    out += "      <error" + attr("message", r.error) + attr("type", "run") + ">" +
           xml_escape("seed: " + std::to_string(r.seed) + "\nreproduce: " + reproduce_command(r),
                      false) +
           "</error>\n";
  } else if (!r.passed && !any_failure) {
    out += "      <failure" + attr("message", "the run did not pass") + attr("type", "run") + ">" +
           xml_escape("reproduce: " + reproduce_command(r), false) + "</failure>\n";
  }
  out += "      <system-out>" +
         xml_escape("seed " + std::to_string(r.seed) + ", transcript digest " +
                        hex64(r.transcript_digest) + "\nreproduce: " + reproduce_command(r),
                    false) +
         "</system-out>\n";
  return out + "    </testcase>\n";
}

// ---- text ----

// One verdict per line, whatever the text holds: control bytes become \xHH.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) {
      out += hex_byte(b);
    } else {
      out += c;
    }
  }
  return out;
}

std::string verdict_line(const verdict& v) {
  std::string line = v.passed ? "  PASS  " : (v.error.empty() ? "  FAIL  " : "  ERROR ");
  line += one_line(v.text);
  if (!v.measured.empty()) line += "  measured " + one_line(v.measured);
  if (!v.error.empty()) line += "  (" + one_line(v.error) + ")";
  if (!v.passed) {
    if (const std::string where = where_text(v.where); !where.empty()) line += "  at " + where;
  }
  return line + "\n";
}

std::string ratio_text(const group_summary& g, std::size_t part) {
  const std::optional<double> r = g.ratio(part);
  return r ? " (" + metrics::format_number(*r) + ")" : "";
}

std::string totals_line(const group_summary& g) {
  const metrics::totals& t = g.counts;
  return "totals: sent " + std::to_string(t.sent) + ", delivered " + std::to_string(t.delivered) +
         ratio_text(g, t.delivered) + ", bounced " + std::to_string(t.bounced) +
         ratio_text(g, t.bounced) + ", expired " + std::to_string(t.expired) + ", pending " +
         std::to_string(t.pending) + ", inbox " + std::to_string(t.inbox) + ratio_text(g, t.inbox) +
         ", junk " + std::to_string(t.junk) + ", trap hits " + std::to_string(t.trap_hits) +
         ", complaints " + std::to_string(t.complaints) + ", deferrals " +
         std::to_string(t.deferrals) + "\n";
}

std::string delay_line(const distribution& d) {
  if (d.count == 0) return "delivery delay: no delivered messages\n";
  return "delivery delay: p50 " + metrics::format_duration_s(d.p50) + ", p95 " +
         metrics::format_duration_s(d.p95) + ", p99 " + metrics::format_duration_s(d.p99) +
         ", max " + metrics::format_duration_s(d.max) + "\n";
}

std::string listing_line(const metrics::listing& l) {
  std::string line = "listed: " + l.subject + " in " + l.zone + " at " + iso_time(l.listed_at);
  if (l.delisted_at) line += " until " + iso_time(*l.delisted_at);
  if (!l.reason.empty()) line += " (" + l.reason + ")";
  return line + "\n";
}

}  // namespace

std::string reproduce_command(const run_result& result) {
  if (!result.reproduce.empty()) return result.reproduce;
  return "mailsim run " + result.file + " --seed " + std::to_string(result.seed);
}

std::string json_report(const run_result& result) {
  const metrics::summary s = metrics::summarize(result.record);
  json tail = json::array();
  for (const std::string& line : result.transcript_tail) tail.push_back(line);
  const json report{{"name", result.name},
                    {"file", result.file},
                    {"seed", result.seed},
                    {"passed", result.passed},
                    {"error", result.error},
                    {"duration_ms", result.duration.count()},
                    {"steps", result.steps},
                    {"verdicts", verdicts_json(result.verdicts)},
                    {"summary", summary_json(s)},
                    {"listings", listings_json(s.listings)},
                    {"transcript_digest", hex64(result.transcript_digest)},
                    {"transcript_tail", tail},
                    {"reproduce", reproduce_command(result)}};
  return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string junit_xml(const std::string& suite, const std::vector<run_result>& results) {
  std::size_t failures = 0;
  std::size_t errors = 0;
  for (const run_result& r : results) {
    if (!r.error.empty()) {
      ++errors;
    } else if (!r.passed) {
      ++failures;
    }
  }
  const std::string counts = attr("tests", std::to_string(results.size())) +
                             attr("failures", std::to_string(failures)) +
                             attr("errors", std::to_string(errors));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attr("name", suite) + counts + ">\n";
  out += "  <testsuite" + attr("name", suite) + counts + attr("skipped", "0") + ">\n";
  for (const run_result& r : results) out += testcase_xml(suite, r);
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string text_summary(const run_result& result) {
  const metrics::summary s = metrics::summarize(result.record);
  std::string out = std::string(result.passed ? "PASS " : "FAIL ") + one_line(case_name(result));
  if (!result.file.empty() && !result.name.empty()) out += " (" + one_line(result.file) + ")";
  out += " seed " + std::to_string(result.seed) + "\n";
  for (const verdict& v : result.verdicts) out += verdict_line(v);
  out += totals_line(s.all);
  out += delay_line(s.all.delivery_delay_s);
  for (const metrics::listing& l : s.listings) out += listing_line(l);
  if (!result.error.empty()) out += "error: " + one_line(result.error) + "\n";
  if (!result.passed) {
    out += "failed with seed " + std::to_string(result.seed) +
           "; reproduce: " + reproduce_command(result) + "\n";
  }
  return out;
}

}  // namespace mailsim::sim::scenario
