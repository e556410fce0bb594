#include "simulator/metrics/expect.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/sim_metrics/sample_recorder.hpp"

namespace mailsim::sim::metrics {
namespace {

struct evaluated_case {
  const char* text;
  bool passed;
  const char* measured;
};

void expect_cases(const recorder& rec, std::initializer_list<evaluated_case> cases) {
  for (const evaluated_case& c : cases) {
    SCOPED_TRACE(c.text);
    const expect_result r = evaluate_expectation(c.text, rec);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.passed, c.passed);
    EXPECT_EQ(r.measured, c.measured);
  }
}

class Expect : public ::testing::Test {
 protected:
  recorder rec_ = testing::sample_recorder();
};

TEST_F(Expect, RecordCountsMeasureEveryMetric) {
  expect_cases(rec_, {
                         {"sent == 10", true, "10"},
                         {"delivered == 6", true, "6"},
                         {"bounced == 2", true, "2"},
                         {"bounces == 2", true, "2"},
                         {"expired == 1", true, "1"},
                         {"pending == 1", true, "1"},
                         {"inbox == 4", true, "4"},
                         {"junk == 1", true, "1"},
                         {"trap_hits == 1", true, "1"},
                         {"complaints == 1", true, "1"},
                         {"deferrals == 8", true, "8"},
                         {"attempts == 16", true, "16"},
                         {"attempts_mean == 1.6", true, "1.6"},
                         {"listings == 1", true, "1"},
                         {"sent == 11", false, "10"},
                     });
}

TEST_F(Expect, RatiosDivideBySentOfTheSameFilters) {
  expect_cases(rec_, {
                         {"delivered_ratio == 0.6", true, "0.6"},
                         {"delivered_ratio >= 0.97", false, "0.6"},
                         {"inbox_ratio{provider=gmail-like} == 0.6", true, "0.6"},
                         {"delivered_ratio{provider=gmail-like} == 0.8", true, "0.8"},
                         {"bounces_ratio{provider=yahoo-like} == 0.25", true, "0.25"},
                         {"bounces{status=5.1.1} / sent <= 0.1", true, "0.1"},
                         {"bounces{status=5.1.1} / sent <= 0.012", false, "0.1"},
                         {"expired_ratio == 0.1", true, "0.1"},
                         {"pending_ratio == 0.1", true, "0.1"},
                         {"junk_ratio == 0.1", true, "0.1"},
                         {"trap_hits_ratio == 0.1", true, "0.1"},
                         {"complaints_ratio == 0.1", true, "0.1"},
                         {"deferrals_ratio == 0.8", true, "0.8"},
                         {"sent_ratio == 1", true, "1"},
                     });
}

TEST_F(Expect, MeasuredRatiosHaveFourSignificantDigits) {
  expect_cases(rec_, {
                         {"inbox / (sent - 1) > 0.44", true, "0.4444"},
                         {"delivered / 9 < 1", true, "0.6667"},
                         {"attempts_mean{sender=b} == 2.2", true, "2.2"},
                     });
}

TEST_F(Expect, EveryFilterKeySelectsRecords) {
  expect_cases(rec_, {
                         {"sent{provider=yahoo-like} == 4", true, "4"},
                         {"sent{domain=GMAIL.test} == 5", true, "5"},
                         {"sent{sender=a} == 5", true, "5"},
                         {"sent{sender=b@sender.example} == 5", true, "5"},
                         {"sent{status=5.1.1} == 1", true, "1"},
                         {"sent{status=5.x.x} == 2", true, "2"},
                         {"sent{code=250} == 6", true, "6"},
                         {"sent{code=4xx} == 1", true, "1"},
                         {"sent{kind=pristine_trap} == 1", true, "1"},
                         {"sent{ip=198.51.100.11} == 4", true, "4"},
                         {"sent{ provider = gmail-like , sender = b } == 1", true, "1"},
                         {"delivered{provider=nobody} == 0", true, "0"},
                     });
}

TEST_F(Expect, FunctionsOverDeliveryDelayAreDurations) {
  // Delays of the delivered records: 10 30 60 120 750 3600 seconds.
  expect_cases(rec_, {
                         {"p50(delivery_delay) == 60", true, "1m"},
                         {"p90(delivery_delay) == 1h", true, "1h"},
                         {"p95(delivery_delay) <= 30m", false, "1h"},
                         {"p99(delivery_delay) == 3600s", true, "1h"},
                         {"max(delivery_delay) == 3600000ms", true, "1h"},
                         {"min(delivery_delay) == 10s", true, "10s"},
                         {"mean(delivery_delay) > 12m", true, "12m41.667s"},
                         {"p50(delivery_delay{provider=gmail-like}) == 1m", true, "1m"},
                         {"max(delivery_delay{provider=gmail-like}) == 12.5m", true, "12m30s"},
                         {"max(delivery_delay) < 0.05d", true, "1h"},
                     });
}

TEST_F(Expect, FunctionsOverAttemptsAreCounts) {
  // Attempts of all records: 0 1 1 1 1 1 1 2 3 5.
  expect_cases(rec_, {
                         {"p50(attempts) == 1", true, "1"},
                         {"p90(attempts) == 3", true, "3"},
                         {"p99(attempts) == 5", true, "5"},
                         {"max(attempts) == 5", true, "5"},
                         {"min(attempts) == 0", true, "0"},
                         {"mean(attempts) == 1.6", true, "1.6"},
                         {"max(attempts{provider=gmail-like}) == 2", true, "2"},
                     });
}

TEST_F(Expect, UnitsConvertToSeconds) {
  expect_cases(rec_, {
                         {"1d == 86400", true, "1d"},
                         {"1h == 60m", true, "1h"},
                         {"1m == 60s", true, "1m"},
                         {"1s == 1000ms", true, "1s"},
                         {"1.5d == 36h", true, "1d12h"},
                         {"250ms < 1s", true, "250ms"},
                         {"0s == 0", true, "0s"},
                     });
}

TEST_F(Expect, EveryComparisonOperator) {
  expect_cases(rec_, {
                         {"sent >= 10", true, "10"},
                         {"sent >= 11", false, "10"},
                         {"sent <= 10", true, "10"},
                         {"sent <= 9", false, "10"},
                         {"sent == 10", true, "10"},
                         {"sent == 9", false, "10"},
                         {"sent != 9", true, "10"},
                         {"sent != 10", false, "10"},
                         {"sent > 9", true, "10"},
                         {"sent > 10", false, "10"},
                         {"sent < 11", true, "10"},
                         {"sent < 10", false, "10"},
                         {"0.1 + 0.2 == 0.3", true, "0.3"},
                     });
}

TEST_F(Expect, ArithmeticHasPrecedenceAndAssociatesLeft) {
  expect_cases(rec_, {
                         {"sent - delivered * 2 + 3 == 1", true, "1"},
                         {"sent / 2 * 5 == 25", true, "25"},
                         {"sent - 4 - 3 == 3", true, "3"},
                         {"(sent - delivered) * 2 == 8", true, "8"},
                         {"sent == 2 * (3 + 2)", true, "10"},
                         {"((sent)) == 10", true, "10"},
                         {"delivered + bounced + expired + pending == sent", true, "10"},
                     });
}

TEST_F(Expect, PercentLiteralsAreFractions) {
  expect_cases(rec_, {
                         {"delivered_ratio >= 60%", true, "0.6"},
                         {"delivered_ratio > 60%", false, "0.6"},
                         {"delivered_ratio <= 60.5%", true, "0.6"},
                         {"50% == 0.5", true, "0.5"},
                     });
}

TEST_F(Expect, ReceiverCountersComeFromTheSeries) {
  expect_cases(rec_, {
                         {"connections == 5", true, "5"},
                         {"connections{provider=gmail-like} == 3", true, "3"},
                         {"connections{ip=198.51.100.11} == 2", true, "2"},
                         {"accepted == 4", true, "4"},
                         {"accepted{code=250} == 4", true, "4"},
                         {"deferred == 3", true, "3"},
                         {"deferred{code=421} == 2", true, "2"},
                         {"deferred{code=4xx} == 3", true, "3"},
                         {"deferred{status=4.7.1} == 1", true, "1"},
                         {"deferred{provider=yahoo-like} == 0", true, "0"},
                         {"rejected == 3", true, "3"},
                         {"rejected{status=5.7.1} == 2", true, "2"},
                         {"rejected{code=550} == 3", true, "3"},
                         {"rejected{code=550, status=5.1.1} == 1", true, "1"},
                         {"rejected{status=5.x.x} == 3", true, "3"},
                         // A reply counts for its own class only: 550 is not a deferral.
                         {"deferred{code=550} == 0", true, "0"},
                     });
}

TEST_F(Expect, ListingsByIp) {
  expect_cases(rec_, {
                         {"listings{ip=198.51.100.11} == 1", true, "1"},
                         {"listings{ip=198.51.100.10} == 0", true, "0"},
                     });
}

TEST_F(Expect, NeverAndEverListed) {
  const char* listed = "listed 1 time, first after 3d4h (3 trap hits in 24h)";
  expect_cases(rec_, {
                         {"never listed(198.51.100.10, zen.dnsbl.sim)", true, "not listed"},
                         {"never listed(198.51.100.11, zen.dnsbl.sim)", false, listed},
                         {"listed(198.51.100.11, zen.dnsbl.sim)", true, listed},
                         {"ever listed( 198.51.100.11 ,zen.dnsbl.sim )", true, listed},
                         {"listed(198.51.100.11, other.dnsbl.sim)", false, "not listed"},
                         {"never listed(198.51.100.11, other.dnsbl.sim)", true, "not listed"},
                     });
}

TEST_F(Expect, ZeroDenominatorIsAnEvaluationError) {
  for (const char* text : {
           "delivered_ratio{provider=nobody} >= 0.9",
           "attempts_mean{provider=nobody} < 2",
           "delivered / expired{provider=gmail-like} > 1",
           "sent >= delivered / 0",
           "p95(delivery_delay{provider=nobody}) <= 30m",
       }) {
    SCOPED_TRACE(text);
    const expect_result r = evaluate_expectation(text, rec_);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.error, "");
  }
  const expect_result r = evaluate_expectation("delivered_ratio{provider=nobody} >= 0.9", rec_);
  EXPECT_NE(r.error.find("delivered_ratio{provider=nobody}"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("zero"), std::string::npos) << r.error;
}

TEST_F(Expect, EmptyRecorderRatiosAreErrorsCountsAreZero) {
  const recorder empty;
  EXPECT_NE(evaluate_expectation("delivered_ratio == 1", empty).error, "");
  const expect_result r = evaluate_expectation("sent == 0", empty);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.measured, "0");
}

TEST_F(Expect, SyntaxErrorIsReportedByEvaluateToo) {
  const expect_result r = evaluate_expectation("delivred_ratio >= 0.9", rec_);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.error.rfind("syntax error at column 1: unknown metric 'delivred_ratio'", 0), 0u)
      << r.error;
}

// Found by fuzz_sim_expect (fuzz/corpus/sim_expect/crash_51f443269a24a3a3): a duration too
// large for milliseconds in a long long overflowed in the d/h/m/s formatting.
TEST_F(Expect, HugeDurationsMeasureAsPlainSeconds) {
  expect_cases(rec_, {
                         {"100000000000000000000s >= 1d", true, "1e+20s"},
                         {"9223372036854775808s + 5 <= 2", false, "9.223e+18s"},
                         {"2d + 3h == 51h", true, "2d3h"},
                     });
}

// Found by fuzz_sim_expect: deep parentheses overflowed the stack of the recursive parser.
// Nesting and operators are bounded; a text far past the bounds fails as a syntax error.
TEST(ExpectSyntax, NestingAndOperatorsAreBounded) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "1" + std::string(depth, ')') + " == 1";
  };
  EXPECT_FALSE(check_expectation(nested(32)));
  const auto too_deep = check_expectation(nested(33));
  ASSERT_TRUE(too_deep);
  EXPECT_EQ(too_deep->column, 33u);
  EXPECT_NE(too_deep->message.find("nested parentheses"), std::string::npos);
  EXPECT_TRUE(check_expectation(std::string(100'000, '(') + "1 == 1"));

  const auto sum = [](std::size_t terms) {
    std::string text = "1";
    for (std::size_t i = 1; i < terms; ++i) text += "+1";
    return text + " >= 1";
  };
  const recorder empty;
  EXPECT_TRUE(evaluate_expectation(sum(257), empty).passed);
  const auto too_long = check_expectation(sum(258));
  ASSERT_TRUE(too_long);
  EXPECT_NE(too_long->message.find("at most 256 operators"), std::string::npos);
  EXPECT_TRUE(check_expectation(sum(200'000)));
}

struct syntax_case {
  const char* text;
  std::size_t column;
  const char* message_part;
};

TEST(ExpectSyntax, ValidExpectationsPass) {
  for (const char* text : {
           "delivered_ratio >= 0.97",
           "inbox_ratio{provider=gmail-like} >= 0.90",
           "never listed(198.51.100.10, zen.dnsbl.sim)",
           "bounces{status=5.1.1} / sent <= 0.012",
           "p95(delivery_delay) <= 30m",
           "delivered_ratio == 1",
           "  sent>0  ",
           "mean(attempts{sender=a, provider=x}) < 3",
       }) {
    EXPECT_EQ(check_expectation(text), std::nullopt) << text;
  }
}

TEST(ExpectSyntax, ErrorsNameTheColumnAndWhatWasExpected) {
  const syntax_case cases[] = {
      {"", 1, "expected an expectation"},
      {"   ", 1, "expected an expectation"},
      {"delivered_ratio >= ", 20, "expected a number, a metric"},
      {"delivered_ratio => 0.9", 17, "expected a comparison"},
      {"delivered_ratio = 1", 17, "'=' is written '=='"},
      {"delivred_ratio >= 1", 1, "unknown metric 'delivred_ratio'"},
      {"sent >= bogus", 9, "unknown metric 'bogus'"},
      {"inbox_ratio{provder=x} >= 1", 13, "expected a filter key"},
      {"deferred{domain=x} > 0", 10, "filter key 'domain' does not apply here"},
      {"connections{code=421} > 0", 13, "does not apply here; it takes provider, ip"},
      {"listings{provider=x} > 0", 10, "it takes ip"},
      {"sent{provider=} > 0", 15, "expected a value after 'provider='"},
      {"sent{provider=x > 0", 20, "expected ',' or '}'"},
      {"sent{provider x} > 0", 15, "expected '='"},
      {"p95(delivery_delay <= 30m", 20, "expected ')' to close the function"},
      {"p95 delivery_delay <= 30m", 5, "expected '(' after 'p95'"},
      {"p95(sent) < 1", 5, "expected delivery_delay or attempts"},
      {"delivery_delay < 30m", 1, "delivery_delay is a distribution"},
      {"p95(delivery_delay) <= 30x", 26, "expected a unit (ms, s, m, h, d)"},
      {"never listed(1.2.3.4)", 21, "expected ','"},
      {"never listed(, zen.dnsbl.sim)", 14, "expected the listed IP"},
      {"never listed(1.2.3.4, )", 23, "expected the DNSBL zone"},
      {"never seen(1.2.3.4, z)", 7, "expected 'listed' after 'never'"},
      {"listed 1.2.3.4", 8, "expected '(' after 'listed'"},
      {"never listed(1.2.3.4, z) extra", 26, "expected the end"},
      {"sent > 1 junk", 10, "expected the end of the expectation"},
      {"sent > (1 + 2", 14, "expected ')' to close '('"},
      {"bounces{status=5.1} > 0", 16, "expected an enhanced status"},
      {"deferred{code=42} > 0", 15, "expected a reply code"},
      {"1.2.3 > 0", 1, "expected a number"},
      {"sent > 1 %", 10, "expected the end"},
      {"sent > #", 8, "expected a number, a metric"},
  };
  for (const syntax_case& c : cases) {
    SCOPED_TRACE(c.text);
    const auto error = check_expectation(c.text);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->column, c.column) << error->message;
    EXPECT_NE(error->message.find(c.message_part), std::string::npos) << error->message;
  }
}

TEST(ExpectSyntax, UnknownMetricMessageListsTheMetrics) {
  const auto error = check_expectation("delivered_rate >= 0.9");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->message.find("delivered"), std::string::npos);
  EXPECT_NE(error->message.find("p95(delivery_delay)"), std::string::npos);
}

TEST(ExpectLarge, ManyRecordsEvaluateWithNearestRankPercentiles) {
  // Delays 1..N seconds in a scrambled order: p95 is the value of rank ceil(0.95 N).
  constexpr std::size_t n = 20'000;
  recorder rec(testing::sample_start());
  for (std::size_t i = 0; i < n; ++i) {
    message_record r;
    r.message = i;
    r.provider = i % 2 == 0 ? "even" : "odd";
    r.queued_at = testing::sample_start();
    const std::size_t delay_s = (i * 7919) % n + 1;
    r.final_at = r.queued_at + std::chrono::seconds(delay_s);
    r.outcome = fate::delivered;
    r.attempts = 1;
    rec.add(std::move(r));
  }
  expect_cases(rec, {
                        {"p95(delivery_delay) == 19000", true, "5h16m40s"},
                        {"p50(delivery_delay) == 10000s", true, "2h46m40s"},
                        {"max(delivery_delay) == 20000s", true, "5h33m20s"},
                        {"delivered_ratio{provider=even} == 1", true, "1"},
                        {"sent{provider=odd} == 10000", true, "10000"},
                    });
}

}  // namespace
}  // namespace mailsim::sim::metrics
