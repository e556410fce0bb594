#include "simulator/scenario/report.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

namespace mailsim::sim::scenario {
namespace {

core::time_point start() {
  return core::time_point{std::chrono::seconds{1'700'000'000}};
}

// Two recipients: one delivered after 12m30s, one bounced 5.1.1; one listing.
run_result tiny_result() {
  run_result r;
  r.name = "tiny";
  r.file = "t.yaml";
  r.seed = 7;
  r.passed = false;
  r.duration = core::duration_ms{3'600'000};
  r.steps = 42;
  r.transcript_digest = 0xabcULL;
  r.record = metrics::recorder(start());
  metrics::message_record a;
  a.message = 1;
  a.sender = "s";
  a.recipient = "u1@d.test";
  a.domain = "d.test";
  a.provider = "p";
  a.queued_at = start();
  a.final_at = start() + std::chrono::seconds(750);
  a.outcome = metrics::fate::delivered;
  a.placed = metrics::placement::inbox;
  a.attempts = 2;
  a.deferrals = 1;
  r.record.add(a);
  metrics::message_record b = a;
  b.recipient = "u2@d.test";
  b.final_at = start() + std::chrono::seconds(1);
  b.outcome = metrics::fate::bounced;
  b.placed = metrics::placement::none;
  b.status = "5.1.1";
  b.attempts = 1;
  b.deferrals = 0;
  r.record.add(b);
  r.record.count("p", "192.0.2.1", start(), metrics::counter::connection);
  r.record.listed("bl.test", "192.0.2.1", start() + std::chrono::minutes(90), "2 trap hits");
  r.verdicts.push_back(verdict{"delivered_ratio >= 0.5", {"t.yaml", 9, 5}, true, "0.5", ""});
  r.verdicts.push_back(
      verdict{"p95(delivery_delay) <= 5m", {"t.yaml", 10, 5}, false, "12m30s", ""});
  return r;
}

constexpr std::string_view tiny_json = R"({
  "name": "tiny",
  "file": "t.yaml",
  "seed": 7,
  "passed": false,
  "error": "",
  "duration_ms": 3600000,
  "steps": 42,
  "verdicts": [
    {
      "text": "delivered_ratio >= 0.5",
      "where": "t.yaml:9:5",
      "passed": true,
      "measured": "0.5",
      "error": ""
    },
    {
      "text": "p95(delivery_delay) <= 5m",
      "where": "t.yaml:10:5",
      "passed": false,
      "measured": "12m30s",
      "error": ""
    }
  ],
  "summary": {
    "totals": {
      "sent": 2,
      "delivered": 1,
      "bounced": 1,
      "expired": 0,
      "pending": 0,
      "inbox": 1,
      "junk": 0,
      "trap_hits": 0,
      "complaints": 0,
      "deferrals": 1,
      "attempts": 3,
      "bounced_by_status": {
        "5.1.1": 1
      }
    },
    "ratios": {
      "delivered": 0.5,
      "bounced": 0.5,
      "expired": 0.0,
      "pending": 0.0,
      "inbox": 0.5,
      "junk": 0.0,
      "trap_hits": 0.0,
      "complaints": 0.0
    },
    "delivery_delay": {
      "count": 1,
      "p50_ms": 750000,
      "p90_ms": 750000,
      "p95_ms": 750000,
      "p99_ms": 750000,
      "max_ms": 750000,
      "mean_ms": 750000
    },
    "attempts": {
      "count": 2,
      "p50": 1,
      "p90": 2,
      "p95": 2,
      "p99": 2,
      "max": 2,
      "mean": 1.5
    },
    "days": [
      {
        "day": 0,
        "queued": 2,
        "delivered": 1,
        "bounced": 1,
        "expired": 0,
        "connections": 1,
        "accepted": 0,
        "deferred": 0,
        "rejected": 0,
        "trap_hits": 0,
        "complaints": 0
      }
    ],
    "by_provider": {
      "p": {
        "totals": {
          "sent": 2,
          "delivered": 1,
          "bounced": 1,
          "expired": 0,
          "pending": 0,
          "inbox": 1,
          "junk": 0,
          "trap_hits": 0,
          "complaints": 0,
          "deferrals": 1,
          "attempts": 3,
          "bounced_by_status": {
            "5.1.1": 1
          }
        },
        "ratios": {
          "delivered": 0.5,
          "bounced": 0.5,
          "expired": 0.0,
          "pending": 0.0,
          "inbox": 0.5,
          "junk": 0.0,
          "trap_hits": 0.0,
          "complaints": 0.0
        },
        "delivery_delay": {
          "count": 1,
          "p50_ms": 750000,
          "p90_ms": 750000,
          "p95_ms": 750000,
          "p99_ms": 750000,
          "max_ms": 750000,
          "mean_ms": 750000
        },
        "attempts": {
          "count": 2,
          "p50": 1,
          "p90": 2,
          "p95": 2,
          "p99": 2,
          "max": 2,
          "mean": 1.5
        },
        "days": [
          {
            "day": 0,
            "queued": 2,
            "delivered": 1,
            "bounced": 1,
            "expired": 0,
            "connections": 1,
            "accepted": 0,
            "deferred": 0,
            "rejected": 0,
            "trap_hits": 0,
            "complaints": 0
          }
        ]
      }
    },
    "by_sender": {
      "s": {
        "totals": {
          "sent": 2,
          "delivered": 1,
          "bounced": 1,
          "expired": 0,
          "pending": 0,
          "inbox": 1,
          "junk": 0,
          "trap_hits": 0,
          "complaints": 0,
          "deferrals": 1,
          "attempts": 3,
          "bounced_by_status": {
            "5.1.1": 1
          }
        },
        "ratios": {
          "delivered": 0.5,
          "bounced": 0.5,
          "expired": 0.0,
          "pending": 0.0,
          "inbox": 0.5,
          "junk": 0.0,
          "trap_hits": 0.0,
          "complaints": 0.0
        },
        "delivery_delay": {
          "count": 1,
          "p50_ms": 750000,
          "p90_ms": 750000,
          "p95_ms": 750000,
          "p99_ms": 750000,
          "max_ms": 750000,
          "mean_ms": 750000
        },
        "attempts": {
          "count": 2,
          "p50": 1,
          "p90": 2,
          "p95": 2,
          "p99": 2,
          "max": 2,
          "mean": 1.5
        },
        "days": [
          {
            "day": 0,
            "queued": 2,
            "delivered": 1,
            "bounced": 1,
            "expired": 0,
            "connections": 0,
            "accepted": 0,
            "deferred": 0,
            "rejected": 0,
            "trap_hits": 0,
            "complaints": 0
          }
        ]
      }
    }
  },
  "listings": [
    {
      "zone": "bl.test",
      "subject": "192.0.2.1",
      "listed_at": "2023-11-14T23:43:20.000Z",
      "delisted_at": null,
      "reason": "2 trap hits"
    }
  ],
  "transcript_digest": "0000000000000abc",
  "transcript_tail": [],
  "reproduce": "mailsim run t.yaml --seed 7"
}
)";

TEST(JsonReport, TinyResultGivesTheseExactBytes) {
  EXPECT_EQ(json_report(tiny_result()), tiny_json);
}

TEST(JsonReport, SameResultSameBytes) {
  EXPECT_EQ(json_report(tiny_result()), json_report(tiny_result()));
}

TEST(JsonReport, EmptyRunHasNullRatiosAndTheRunError) {
  run_result r;
  r.file = "x.yaml";
  r.seed = 3;
  r.error = "world: unknown provider \"q\"";
  r.reproduce = "mailsim run x.yaml --seed 3 --set a=b";
  const std::string out = json_report(r);
  EXPECT_NE(out.find("\"delivered\": null"), std::string::npos);
  EXPECT_NE(out.find(R"("error": "world: unknown provider \"q\"")"), std::string::npos);
  EXPECT_NE(out.find(R"("reproduce": "mailsim run x.yaml --seed 3 --set a=b")"), std::string::npos);
}

TEST(JsonReport, InvalidUtf8IsReplacedNotThrown) {
  run_result r = tiny_result();
  r.name = "bad \xff name";
  std::string out;
  EXPECT_NO_THROW(out = json_report(r));
  EXPECT_NE(out.find("\"name\": \"bad \xef\xbf\xbd name\""), std::string::npos);
}

// A small well-formedness check: tags nest, attributes are quoted, and every '&' starts an
// entity; enough to catch a missing escape.
bool well_formed(std::string_view xml, std::string& why) {
  std::vector<std::string> open;
  std::size_t i = xml.find("?>");
  if (!xml.starts_with("<?xml") || i == std::string_view::npos) return why = "no prolog", false;
  for (i += 2; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      const std::size_t semi = xml.find(';', i);
      const std::string_view entity = xml.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;" && entity != "&#10;" && entity != "&#9;") {
        return why = "bad entity at " + std::to_string(i), false;
      }
    } else if (xml[i] == '>') {
      return why = "stray '>' at " + std::to_string(i), false;
    } else if (xml[i] == '<') {
      const std::size_t end = xml.find('>', i);
      if (end == std::string_view::npos) return why = "unclosed tag", false;
      std::string_view tag = xml.substr(i + 1, end - i - 1);
      if (tag.find('<') != std::string_view::npos) return why = "'<' inside a tag", false;
      std::size_t quotes = 0;
      for (char c : tag) quotes += c == '"' ? 1 : 0;
      if (quotes % 2 != 0) return why = "odd quotes in " + std::string(tag), false;
      const bool closing = tag.starts_with("/");
      const bool empty = tag.ends_with("/");
      const std::string name(
          tag.substr(closing ? 1 : 0, tag.find_first_of(" /", 1) - (closing ? 1 : 0)));
      if (closing) {
        if (open.empty() || open.back() != name) return why = "mismatched </" + name + ">", false;
        open.pop_back();
      } else if (!empty) {
        open.push_back(name);
      }
      i = end;
    }
  }
  if (!open.empty()) return why = "unclosed <" + open.back() + ">", false;
  return true;
}

TEST(JunitXml, OneTestcasePerScenarioAndOneFailurePerFailedExpectation) {
  run_result ok = tiny_result();
  ok.name = "ok";
  ok.passed = true;
  ok.verdicts.pop_back();
  run_result failed = tiny_result();
  failed.verdicts.push_back(verdict{
      "inbox_ratio{provider=q} >= 0.9", {}, false, "", "inbox_ratio{provider=q} divides by zero"});
  run_result broken;
  broken.name = "broken";
  broken.file = "b.yaml";
  broken.seed = 9;
  broken.error = "the run hit steps_max";
  const std::string xml = junit_xml("quickstart", {ok, failed, broken});
  std::string why;
  EXPECT_TRUE(well_formed(xml, why)) << why << "\n" << xml;
  EXPECT_NE(xml.find(R"(<testsuites name="quickstart" tests="3" failures="1" errors="1">)"),
            std::string::npos);
  EXPECT_NE(xml.find(R"(<testcase classname="quickstart" name="ok" file="t.yaml">)"),
            std::string::npos);
  EXPECT_NE(
      xml.find(
          R"x(<failure message="p95(delivery_delay) &lt;= 5m (measured 12m30s)" type="expectation">)x"),
      std::string::npos);
  EXPECT_NE(xml.find("measured: 12m30s\nseed: 7\nreproduce: mailsim run t.yaml --seed 7</failure>"),
            std::string::npos);
  EXPECT_NE(xml.find(R"(error: inbox_ratio{provider=q} divides by zero)"), std::string::npos);
  EXPECT_NE(xml.find(R"(<error message="the run hit steps_max" type="run">)"), std::string::npos);
  std::size_t failure_elements = 0;
  for (std::size_t at = xml.find("<failure "); at != std::string::npos;
       at = xml.find("<failure ", at + 1)) {
    ++failure_elements;
  }
  EXPECT_EQ(failure_elements, 2u);
}

TEST(JunitXml, EscapesMarkupQuotesAndControlBytes) {
  run_result r = tiny_result();
  r.name = "a<b>&\"c\" 'd'";
  r.verdicts[1].text = "sent < 1 & \"x\"\x01";
  r.verdicts[1].measured = "\xe2\x9c\x93 ok \xc3";
  const std::string xml = junit_xml("s&s", {r});
  std::string why;
  EXPECT_TRUE(well_formed(xml, why)) << why << "\n" << xml;
  EXPECT_NE(xml.find(R"(name="a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;")"), std::string::npos);
  EXPECT_NE(xml.find(R"(<testsuites name="s&amp;s")"), std::string::npos);
  EXPECT_NE(xml.find("expectation: sent &lt; 1 &amp; &quot;x&quot;\\x01\n"), std::string::npos);
  // Valid UTF-8 passes through; a cut sequence becomes text.
  EXPECT_NE(xml.find("measured: \xe2\x9c\x93 ok \\xC3\n"), std::string::npos);
}

TEST(TextSummary, PassingRun) {
  run_result r = tiny_result();
  r.passed = true;
  r.verdicts.pop_back();
  EXPECT_EQ(text_summary(r),
            "PASS tiny (t.yaml) seed 7\n"
            "  PASS  delivered_ratio >= 0.5  measured 0.5\n"
            "totals: sent 2, delivered 1 (0.5), bounced 1 (0.5), expired 0, pending 0, inbox 1 "
            "(0.5), junk 0, trap hits 0, complaints 0, deferrals 1\n"
            "delivery delay: p50 12m30s, p95 12m30s, p99 12m30s, max 12m30s\n"
            "listed: 192.0.2.1 in bl.test at 2023-11-14T23:43:20.000Z (2 trap hits)\n");
}

TEST(TextSummary, FailingRunEndsWithSeedAndReproduceCommand) {
  run_result r = tiny_result();
  r.verdicts.push_back(verdict{"junk_ratio{provider=q} < 0.1", {}, false, "", "no message"});
  r.reproduce = "mailsim run t.yaml --seed 7 --set x=1";
  const std::string text = text_summary(r);
  EXPECT_TRUE(text.starts_with("FAIL tiny (t.yaml) seed 7\n")) << text;
  EXPECT_NE(text.find("  FAIL  p95(delivery_delay) <= 5m  measured 12m30s  at t.yaml:10:5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  ERROR junk_ratio{provider=q} < 0.1  (no message)\n"), std::string::npos)
      << text;
  EXPECT_TRUE(
      text.ends_with("failed with seed 7; reproduce: mailsim run t.yaml --seed 7 --set x=1\n"))
      << text;
}

TEST(TextSummary, EveryVerdictStaysOnOneLine) {
  run_result r = tiny_result();
  r.verdicts[1].text = "sent\n> 1";
  r.verdicts[1].error = "bad\r\nthing";
  const std::string text = text_summary(r);
  EXPECT_NE(
      text.find("  ERROR sent\\x0A> 1  measured 12m30s  (bad\\x0D\\x0Athing)  at t.yaml:10:5\n"),
      std::string::npos)
      << text;
}

TEST(TextSummary, RunErrorIsShown) {
  run_result r;
  r.file = "x.yaml";
  r.seed = 5;
  r.error = "the run hit steps_max";
  const std::string text = text_summary(r);
  EXPECT_NE(text.find("error: the run hit steps_max\n"), std::string::npos) << text;
  EXPECT_NE(text.find("delivery delay: no delivered messages\n"), std::string::npos) << text;
  EXPECT_NE(text.find("reproduce: mailsim run x.yaml --seed 5"), std::string::npos) << text;
}

}  // namespace
}  // namespace mailsim::sim::scenario
