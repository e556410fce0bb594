#include "simulator/metrics/summary.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sim_metrics/sample_recorder.hpp"

namespace mailsim::sim::metrics {
namespace {

TEST(Summary, TotalsCountEveryOutcome) {
  const summary s = summarize(testing::sample_recorder());
  const totals& t = s.all.counts;
  EXPECT_EQ(t.sent, 10u);
  EXPECT_EQ(t.delivered, 6u);
  EXPECT_EQ(t.bounced, 2u);
  EXPECT_EQ(t.expired, 1u);
  EXPECT_EQ(t.pending, 1u);
  EXPECT_EQ(t.inbox, 4u);
  EXPECT_EQ(t.junk, 1u);
  EXPECT_EQ(t.trap_hits, 1u);
  EXPECT_EQ(t.complaints, 1u);
  EXPECT_EQ(t.deferrals, 8u);
  EXPECT_EQ(t.attempts, 16u);
  const std::map<std::string, std::size_t> by_status{{"5.1.1", 1}, {"5.7.1", 1}};
  EXPECT_EQ(t.bounced_by_status, by_status);
  EXPECT_EQ(s.all.ratio(t.delivered), 0.6);
}

TEST(Summary, DistributionsUseNearestRank) {
  const summary s = summarize(testing::sample_recorder());
  // Delays of delivered records: 10 30 60 120 750 3600 seconds.
  const distribution& d = s.all.delivery_delay_s;
  EXPECT_EQ(d.count, 6u);
  EXPECT_EQ(d.p50, 60);
  EXPECT_EQ(d.p90, 3600);
  EXPECT_EQ(d.p95, 3600);
  EXPECT_EQ(d.p99, 3600);
  EXPECT_EQ(d.max, 3600);
  EXPECT_DOUBLE_EQ(d.mean, 4570.0 / 6);
  // Attempts of all records: 0 1 1 1 1 1 1 2 3 5.
  const distribution& a = s.all.attempts;
  EXPECT_EQ(a.count, 10u);
  EXPECT_EQ(a.p50, 1);
  EXPECT_EQ(a.p90, 3);
  EXPECT_EQ(a.max, 5);
  EXPECT_DOUBLE_EQ(a.mean, 1.6);
}

TEST(Summary, GroupsByProviderAndSenderInNameOrder) {
  const summary s = summarize(testing::sample_recorder());
  ASSERT_EQ(s.by_provider.size(), 3u);
  auto it = s.by_provider.begin();
  EXPECT_EQ(it->first, "");  // other.example is outside the world
  EXPECT_EQ(it->second.counts.pending, 1u);
  ++it;
  EXPECT_EQ(it->first, "gmail-like");
  EXPECT_EQ(it->second.counts.sent, 5u);
  EXPECT_EQ(it->second.counts.inbox, 3u);
  EXPECT_EQ(it->second.delivery_delay_s.max, 750);
  ++it;
  EXPECT_EQ(it->first, "yahoo-like");
  EXPECT_EQ(it->second.counts.expired, 1u);
  ASSERT_EQ(s.by_sender.size(), 2u);
  EXPECT_EQ(s.by_sender.at("a").counts.sent, 5u);
  EXPECT_EQ(s.by_sender.at("b").counts.complaints, 1u);
}

TEST(Summary, DaysJoinRecordsAndSeries) {
  const summary s = summarize(testing::sample_recorder());
  // Records are queued an hour apart from the start; the expired one ends on day 5.
  ASSERT_EQ(s.all.days.size(), 3u);
  EXPECT_EQ(s.all.days[0].day, 0);
  EXPECT_EQ(s.all.days[0].queued, 10u);
  EXPECT_EQ(s.all.days[0].delivered, 6u);
  EXPECT_EQ(s.all.days[0].bounced, 2u);
  EXPECT_EQ(s.all.days[0].connections, 5u);
  EXPECT_EQ(s.all.days[0].accepted, 4u);
  EXPECT_EQ(s.all.days[0].deferred, 2u);
  EXPECT_EQ(s.all.days[0].rejected, 2u);
  EXPECT_EQ(s.all.days[1].day, 1);
  EXPECT_EQ(s.all.days[1].deferred, 1u);
  EXPECT_EQ(s.all.days[1].rejected, 1u);
  EXPECT_EQ(s.all.days[2].day, 5);
  EXPECT_EQ(s.all.days[2].expired, 1u);
  // A provider's days hold its own series; a sender's only its records.
  const group_summary& gmail = s.by_provider.at("gmail-like");
  ASSERT_EQ(gmail.days.size(), 2u);
  EXPECT_EQ(gmail.days[0].connections, 3u);
  EXPECT_EQ(gmail.days[0].deferred, 2u);
  EXPECT_EQ(gmail.days[1].deferred, 1u);
  EXPECT_EQ(gmail.days[0].queued, 5u);
  const group_summary& yahoo = s.by_provider.at("yahoo-like");
  ASSERT_EQ(yahoo.days.size(), 3u);
  EXPECT_EQ(yahoo.days[1].rejected, 1u);
  EXPECT_EQ(yahoo.days[2].expired, 1u);
  ASSERT_EQ(s.by_sender.at("a").days.size(), 1u);
  EXPECT_EQ(s.by_sender.at("a").days[0].connections, 0u);
  ASSERT_EQ(s.listings.size(), 1u);
  EXPECT_EQ(s.listings[0].zone, "zen.dnsbl.sim");
}

TEST(Summary, EmptyRecorderHasNoRatios) {
  const summary s = summarize(recorder{});
  EXPECT_EQ(s.all.counts.sent, 0u);
  EXPECT_EQ(s.all.ratio(0), std::nullopt);
  EXPECT_EQ(s.all.delivery_delay_s.count, 0u);
  EXPECT_TRUE(s.all.days.empty());
}

TEST(Format, Durations) {
  EXPECT_EQ(format_duration_s(0), "0s");
  EXPECT_EQ(format_duration_s(0.25), "250ms");
  EXPECT_EQ(format_duration_s(59), "59s");
  EXPECT_EQ(format_duration_s(750), "12m30s");
  EXPECT_EQ(format_duration_s(3600), "1h");
  EXPECT_EQ(format_duration_s(60.5), "1m0.5s");
  EXPECT_EQ(format_duration_s(90061.5), "1d1h1m1.5s");
  EXPECT_EQ(format_duration_s(-90), "-1m30s");
  // No count of milliseconds holds these: plain seconds, never an overflow.
  EXPECT_EQ(format_duration_s(1e20), format_number(1e20) + "s");
  EXPECT_EQ(format_duration_s(-1e16), format_number(-1e16) + "s");
}

TEST(Format, Numbers) {
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(1000000), "1000000");
  EXPECT_EQ(format_number(0.98123), "0.9812");
  EXPECT_EQ(format_number(2.0 / 3), "0.6667");
  EXPECT_EQ(format_number(0.012), "0.012");
  EXPECT_EQ(format_number(-2.5), "-2.5");
}

}  // namespace
}  // namespace mailsim::sim::metrics
