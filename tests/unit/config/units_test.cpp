#include "reference-server/config/units.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::config {
namespace {

constexpr std::uint64_t ki = 1024;

struct size_case {
  std::string text;
  std::optional<std::uint64_t> bytes;
};

TEST(parse_size, table) {
  const std::vector<size_case> cases = {
      {"0", 0},
      {"1000", 1000},
      {"512B", 512},
      {"512b", 512},
      {"1KiB", ki},
      {"25MiB", 25 * ki * ki},
      {"25mib", 25 * ki * ki},
      {"25 MiB", 25 * ki * ki},
      {"2GiB", 2 * ki * ki * ki},
      {"3TiB", 3 * ki * ki * ki * ki},
      {"1kB", 1000},
      {"1KB", 1000},
      {"10MB", 10'000'000},
      {"2GB", 2'000'000'000},
      {"1TB", 1'000'000'000'000},
      {"007KiB", 7 * ki},
      {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
      {"16777215TiB", 16777215 * ki * ki * ki * ki},
      // Refused.
      {"", std::nullopt},
      {"MiB", std::nullopt},
      {"25M", std::nullopt},  // ambiguous: 1000- or 1024-based
      {"25K", std::nullopt},
      {"25G", std::nullopt},
      {"25T", std::nullopt},
      {"1.5GiB", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {" 1", std::nullopt},
      {"1 ", std::nullopt},
      {"25MiB ", std::nullopt},
      {"25 MiBs", std::nullopt},
      {"25PiB", std::nullopt},
      {"0x10", std::nullopt},
      {"1_000", std::nullopt},
      {"18446744073709551616", std::nullopt},  // 2^64
      {"16777216TiB", std::nullopt},           // 2^64 bytes
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_size(c.text), c.bytes) << "input: '" << c.text << "'";
  }
}

struct duration_case {
  std::string text;
  std::optional<std::int64_t> ms;
};

TEST(parse_duration, table) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::vector<duration_case> cases = {
      {"0", 0},
      {"0s", 0},
      {"1500ms", 1500},
      {"30s", 30'000},
      {"5m", 300'000},
      {"2h", 7'200'000},
      {"1d", 86'400'000},
      {"1h30m", 5'400'000},
      {"1m30s", 90'000},
      {"1s500ms", 1500},
      {"1d2h3m4s5ms", 93'784'005},
      {"90s", 90'000},
      {"9223372036854775807ms", max},
      {"106751991167d", 9'223'372'036'828'800'000},
      // Refused.
      {"", std::nullopt},
      {"300", std::nullopt},  // no unit: seconds or milliseconds?
      {"5", std::nullopt},
      {"m", std::nullopt},
      {"5M", std::nullopt},  // upper case could be months
      {"5S", std::nullopt},
      {"5min", std::nullopt},
      {"5 m", std::nullopt},
      {"1.5s", std::nullopt},
      {"-5s", std::nullopt},
      {"30s5m", std::nullopt},  // largest unit first
      {"5m5m", std::nullopt},
      {"1m30", std::nullopt},
      {"5w", std::nullopt},
      {"9223372036854775808ms", std::nullopt},
      {"106751991168d", std::nullopt},  // past 2^63 - 1 ms
      {"9223372036854775s1000ms", std::nullopt},
  };
  for (const auto& c : cases) {
    const auto got = parse_duration(c.text);
    if (c.ms) {
      ASSERT_TRUE(got.has_value()) << "input: '" << c.text << "'";
      EXPECT_EQ(got->count(), *c.ms) << "input: '" << c.text << "'";
    } else {
      EXPECT_FALSE(got.has_value()) << "input: '" << c.text << "' gave " << got->count();
    }
  }
}

TEST(format_size, shortest_exact_binary_unit) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(1), "1B");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(1024), "1KiB");
  EXPECT_EQ(format_size(1536), "1536B");
  EXPECT_EQ(format_size(25 * ki * ki), "25MiB");
  EXPECT_EQ(format_size(ki * ki * ki), "1GiB");
  EXPECT_EQ(format_size(5 * ki * ki * ki * ki), "5TiB");
  EXPECT_EQ(format_size(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615B");
}

TEST(format_size, parses_back) {
  for (std::uint64_t n :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1023}, ki, 3 * ki * ki, 7 * ki * ki * ki,
        std::uint64_t{12345678901}, std::numeric_limits<std::uint64_t>::max()}) {
    EXPECT_EQ(parse_size(format_size(n)), n) << format_size(n);
  }
}

TEST(format_duration, parts_largest_first) {
  using core::duration_ms;
  EXPECT_EQ(format_duration(duration_ms{0}), "0s");
  EXPECT_EQ(format_duration(duration_ms{1}), "1ms");
  EXPECT_EQ(format_duration(duration_ms{1500}), "1s500ms");
  EXPECT_EQ(format_duration(duration_ms{30'000}), "30s");
  EXPECT_EQ(format_duration(duration_ms{90'000}), "1m30s");
  EXPECT_EQ(format_duration(duration_ms{300'000}), "5m");
  EXPECT_EQ(format_duration(duration_ms{93'784'005}), "1d2h3m4s5ms");
  EXPECT_EQ(format_duration(duration_ms{-1500}), "-1s500ms");
}

TEST(format_duration, parses_back) {
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1}, std::int64_t{999}, std::int64_t{61'001},
                          std::int64_t{86'400'000}, std::numeric_limits<std::int64_t>::max()}) {
    const auto text = format_duration(core::duration_ms{ms});
    const auto back = parse_duration(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->count(), ms) << text;
  }
}

}  // namespace
}  // namespace mailsim::config
