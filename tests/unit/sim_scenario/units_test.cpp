// Scenario units (simulator/scenario/units.hpp): durations with weeks, sizes, ratios,
// counts, numbers and amounts.
#include "simulator/scenario/units.hpp"

#include <gtest/gtest.h>

namespace mailsim::sim::scenario {
namespace {

using std::chrono::milliseconds;

TEST(ScenarioUnits, DurationsInEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(parse_duration("3d"), milliseconds(3 * 86'400'000LL));
  EXPECT_EQ(parse_duration("1w"), milliseconds(7 * 86'400'000LL));
  EXPECT_EQ(parse_duration("1w2d"), milliseconds(9 * 86'400'000LL));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1s500ms"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ScenarioUnits, DurationsRefused) {
  for (const char* text : {"", "ten", "30", "5M", "-5m", "1m1h", "1m1m", "1.5h", "5 m", "m", "1y",
                           "99999999999999999999d", "10000000000000w"}) {
    EXPECT_FALSE(parse_duration(text)) << text;
  }
}

TEST(ScenarioUnits, Sizes) {
  EXPECT_EQ(parse_size("512B"), 512u);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("1KiB"), 1024u);
  EXPECT_EQ(parse_size("2MiB"), 2u * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("10KB"), 10'000u);
  EXPECT_EQ(parse_size("10kB"), 10'000u);
  EXPECT_EQ(parse_size("3 MB"), 3'000'000u);
  EXPECT_EQ(parse_size("1GB"), 1'000'000'000u);
  for (const char* text : {"", "1K", "1.5KiB", "-1B", "KiB", "1 KiB ", "1kib", "20000000000GiB"}) {
    EXPECT_FALSE(parse_size(text)) << text;
  }
}

TEST(ScenarioUnits, RatiosAndNumbers) {
  EXPECT_DOUBLE_EQ(*parse_ratio("2%"), 0.02);
  EXPECT_DOUBLE_EQ(*parse_ratio("0.1%"), 0.001);
  EXPECT_DOUBLE_EQ(*parse_ratio("0.02"), 0.02);
  EXPECT_DOUBLE_EQ(*parse_ratio("1"), 1.0);
  EXPECT_DOUBLE_EQ(*parse_ratio("150%"), 1.5);  // the loader refuses it with a range error
  EXPECT_DOUBLE_EQ(*parse_number("-2.5"), -2.5);
  EXPECT_DOUBLE_EQ(*parse_number("7"), 7.0);
  for (const char* text : {"", "%", "two", "1e3", "inf", "nan", "1.2.3", "2 %", "--1", "."}) {
    EXPECT_FALSE(parse_ratio(text)) << text;
  }
}

TEST(ScenarioUnits, CountsAndAmounts) {
  EXPECT_EQ(parse_count("20000"), 20000u);
  EXPECT_FALSE(parse_count("-1"));
  EXPECT_FALSE(parse_count("1.0"));
  EXPECT_FALSE(parse_count("1e3"));
  EXPECT_FALSE(parse_count("99999999999999999999999"));
  const auto count = parse_amount("20");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->count, 20u);
  EXPECT_FALSE(count->fraction);
  const auto share = parse_amount("2%");
  ASSERT_TRUE(share);
  ASSERT_TRUE(share->fraction);
  EXPECT_DOUBLE_EQ(*share->fraction, 0.02);
  EXPECT_DOUBLE_EQ(*parse_amount("0.5")->fraction, 0.5);
  EXPECT_FALSE(parse_amount("lots"));
}

TEST(ScenarioUnits, NegativeLooks) {
  EXPECT_TRUE(looks_negative("-5m"));
  EXPECT_TRUE(looks_negative("-.5"));
  EXPECT_FALSE(looks_negative("5m"));
  EXPECT_FALSE(looks_negative("-"));
}

}  // namespace
}  // namespace mailsim::sim::scenario
