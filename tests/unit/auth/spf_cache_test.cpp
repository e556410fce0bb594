// spf_record_cache: the same parses as parse_spf_record(), kept by record text, bounded with
// the least recently used out first, and never taking a parse from under its holder.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "reference-server/auth/spf_record.hpp"

namespace mailsim::auth {
namespace {

void expect_same(const spf_parse_result& got, const spf_parse_result& want) {
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.message(), want.message());
  ASSERT_EQ(got.record.mechanisms.size(), want.record.mechanisms.size());
  for (std::size_t i = 0; i < got.record.mechanisms.size(); ++i)
    EXPECT_EQ(got.record.mechanisms[i].term, want.record.mechanisms[i].term);
  EXPECT_EQ(got.record.redirect.has_value(), want.record.redirect.has_value());
  EXPECT_EQ(got.record.exp.has_value(), want.record.exp.has_value());
}

TEST(SpfRecordCache, GivesWhatParseGives) {
  spf_record_cache cache;
  for (const char* text : {"v=spf1 mx a:%{d}.example.org include:_spf.example.net -all",
                           "v=spf1 redirect=_spf.example.org exp=why.example.org",
                           "v=spf1 a:example.com:8080 -all", "v=spf1 ip4:300.0.0.1"}) {
    SCOPED_TRACE(text);
    expect_same(*cache.parse(text), parse_spf_record(text));
    expect_same(*cache.parse(text), parse_spf_record(text));  // and from the cache
  }
}

TEST(SpfRecordCache, ASecondParseOfTheSameTextIsAHit) {
  spf_record_cache cache;
  auto first = cache.parse("v=spf1 ip4:192.0.2.0/24 -all");
  EXPECT_EQ(cache.hits(), 0u);
  auto second = cache.parse("v=spf1 ip4:192.0.2.0/24 -all");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(SpfRecordCache, KeepsAtMostEntriesMaxLeastRecentlyUsedOut) {
  spf_record_cache cache(2);
  cache.parse("v=spf1 a -all");
  cache.parse("v=spf1 mx -all");
  cache.parse("v=spf1 a -all");    // hit: "mx" is now the least recently used
  cache.parse("v=spf1 ptr -all");  // evicts "mx"
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.hits(), 1u);
  cache.parse("v=spf1 a -all");  // still kept
  EXPECT_EQ(cache.hits(), 2u);
  cache.parse("v=spf1 mx -all");  // parsed again
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SpfRecordCache, ZeroEntriesKeepsNothing) {
  spf_record_cache cache(0);
  auto parsed = cache.parse("v=spf1 -all");
  ASSERT_TRUE(parsed->ok());
  cache.parse("v=spf1 -all");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.hits(), 0u);
}

TEST(SpfRecordCache, ARecordOverTheLimitIsRefusedWithoutBeingKept) {
  spf_record_cache cache;
  const std::string text = "v=spf1 ip4:192.0.2.0/24 -all";
  EXPECT_EQ(cache.parse(text, {10})->error, spf_record_errc::too_long);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(cache.parse(text, {})->ok());  // the refusal did not stick to the text
}

TEST(SpfRecordCache, AnEvictedParseStaysValidForItsHolder) {
  spf_record_cache cache(1);
  std::shared_ptr<const spf_parse_result> held = cache.parse("v=spf1 include:a.example.org ~all");
  cache.parse("v=spf1 -all");  // evicts the first
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(held->ok());
  ASSERT_EQ(held->record.mechanisms.size(), 2u);
  EXPECT_EQ(held->record.mechanisms[0].term, "include:a.example.org");
}

}  // namespace
}  // namespace mailsim::auth
