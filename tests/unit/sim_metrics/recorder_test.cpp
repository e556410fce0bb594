// The recorder's indexes: records found by (message, recipient) whatever the recipient's
// case, and per-day series counted under their (provider, ip, day) key.
#include "simulator/metrics/recorder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace mailsim::sim::metrics {
namespace {

constexpr core::time_point start{core::duration_ms{1'700'000'000'000}};
constexpr core::duration_ms day{24 * 3600 * 1000};

message_record record_of(std::uint64_t message, std::string recipient) {
  message_record r;
  r.message = message;
  r.recipient = std::move(recipient);
  return r;
}

TEST(Recorder, FindsRecordsByMessageAndRecipientIgnoringCase) {
  recorder rec(start);
  const std::size_t a = rec.add(record_of(7, "Alice@Example.sim"));
  const std::size_t b = rec.add(record_of(7, "bob@example.sim"));
  const std::size_t other = rec.add(record_of(8, "alice@example.sim"));
  EXPECT_EQ(rec.find(7, "alice@example.SIM"), a);
  EXPECT_EQ(rec.find(7, "BOB@example.sim"), b);
  EXPECT_EQ(rec.find(8, "Alice@Example.sim"), other);
  EXPECT_EQ(rec.find(7, "carol@example.sim"), std::nullopt);
  EXPECT_EQ(rec.find(9, "alice@example.sim"), std::nullopt);
}

TEST(Recorder, FindGivesTheFirstRecordOfARecipientListedTwice) {
  recorder rec(start);
  rec.add(record_of(1, "x@a.sim"));
  const std::size_t first = rec.add(record_of(2, "dup@a.sim"));
  rec.add(record_of(2, "DUP@a.sim"));
  rec.add(record_of(2, "dup@a.sim"));
  EXPECT_EQ(rec.find(2, "dup@a.sim"), first);
}

TEST(Recorder, CountsSeriesByProviderIpAndDay) {
  recorder rec(start);
  rec.count("gmail", "203.0.113.5", start, counter::connection);
  rec.count("gmail", "203.0.113.5", start + core::duration_ms{5000}, counter::deferred,
            "421 4.7.28");
  rec.count("gmail", "203.0.113.5", start + day - core::duration_ms{1}, counter::deferred,
            "421 4.7.28");
  rec.count("gmail", "203.0.113.5", start + day, counter::accepted);
  rec.count("gmail", "203.0.113.6", start, counter::rejected, "550 5.7.1");
  rec.count("yahoo", "203.0.113.5", start, counter::trap_hit);

  const auto& series = rec.series();
  ASSERT_EQ(series.size(), 4u);
  std::vector<series_key> keys;
  for (const auto& [key, counts] : series) keys.push_back(key);
  // In key order: provider, then IP, then day.
  EXPECT_EQ(keys[0], (series_key{"gmail", "203.0.113.5", 0}));
  EXPECT_EQ(keys[1], (series_key{"gmail", "203.0.113.5", 1}));
  EXPECT_EQ(keys[2], (series_key{"gmail", "203.0.113.6", 0}));
  EXPECT_EQ(keys[3], (series_key{"yahoo", "203.0.113.5", 0}));

  const series_counts& first_day = series.at(keys[0]);
  EXPECT_EQ(first_day.connections, 1u);
  EXPECT_EQ(first_day.deferred, 2u);
  EXPECT_EQ(first_day.by_reply.at("421 4.7.28"), 2u);
  EXPECT_EQ(series.at(keys[1]).accepted, 1u);
  EXPECT_TRUE(series.at(keys[1]).by_reply.empty());
  EXPECT_EQ(series.at(keys[2]).rejected, 1u);
  EXPECT_EQ(series.at(keys[3]).trap_hits, 1u);
}

TEST(Recorder, ACopyCountsInItsOwnSeries) {
  recorder original(start);
  original.count("gmail", "203.0.113.5", start, counter::accepted);
  recorder copy = original;
  copy.count("gmail", "203.0.113.5", start, counter::accepted);
  copy.count("gmail", "203.0.113.9", start, counter::accepted);
  recorder assigned;
  assigned = copy;
  assigned.count("gmail", "203.0.113.5", start, counter::accepted);
  const series_key key{"gmail", "203.0.113.5", 0};
  EXPECT_EQ(original.series().at(key).accepted, 1u);
  EXPECT_EQ(original.series().size(), 1u);
  EXPECT_EQ(copy.series().at(key).accepted, 2u);
  EXPECT_EQ(copy.series().size(), 2u);
  EXPECT_EQ(assigned.series().at(key).accepted, 3u);
  recorder moved = std::move(assigned);
  moved.count("gmail", "203.0.113.5", start, counter::accepted);
  EXPECT_EQ(moved.series().at(key).accepted, 4u);
}

}  // namespace
}  // namespace mailsim::sim::metrics
