#include "simulator/engine/rng.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace mailsim::sim {
namespace {

std::vector<std::uint64_t> draws(prng& g, int n) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(g.next_u64());
  return out;
}

// The values below were computed by an independent Python transcription of the algorithms
// the header documents (SplitMix64 seeding, xoshiro256**, FNV-1a); that transcription
// reproduces the published xoshiro256** outputs for the state {1, 2, 3, 4}
// (11520, 0, 1509978240, 1215971899390074240). A change here breaks every recorded seed.
TEST(Prng, MatchesTheDocumentedAlgorithm) {
  prng g(42);
  EXPECT_EQ(draws(g, 3), (std::vector<std::uint64_t>{0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                                     0xae17533239e499a1ULL}));
}

TEST(Prng, DeriveSeedMatchesTheDocumentedAlgorithm) {
  EXPECT_EQ(derive_seed(42, "network"), 0x766aa1ca107e610dULL);
  EXPECT_EQ(derive_seed(0, ""), 0xf52a15e9a9b5e89bULL);
}

TEST(RandomStreams, ANamedStreamStartsAtItsDerivedSeed) {
  random_streams streams(42);
  EXPECT_EQ(draws(streams.stream("network"), 2),
            (std::vector<std::uint64_t>{0xcd0036ee98f11217ULL, 0xae090abf73cc34b7ULL}));
}

TEST(RandomStreams, TheSameSeedGivesTheSameDraws) {
  random_streams a(7);
  random_streams b(7);
  EXPECT_EQ(draws(a.stream("dns"), 50), draws(b.stream("dns"), 50));
}

TEST(RandomStreams, AnotherSeedGivesOtherDraws) {
  random_streams a(7);
  random_streams b(8);
  EXPECT_NE(draws(a.stream("dns"), 4), draws(b.stream("dns"), 4));
}

TEST(RandomStreams, NamesGiveDifferentStreams) {
  random_streams streams(7);
  EXPECT_NE(draws(streams.stream("dns"), 4), draws(streams.stream("network"), 4));
}

TEST(RandomStreams, DrawsInOneStreamNeverShiftAnother) {
  random_streams quiet(99);
  const auto expected = draws(quiet.stream("network"), 20);

  random_streams busy(99);
  draws(busy.stream("world"), 1000);  // a stream added, and drawn from, before
  auto& net = busy.stream("network");
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 20; ++i) {
    got.push_back(net.next_u64());
    draws(busy.stream("dns"), 3);  // interleaved draws elsewhere
  }
  EXPECT_EQ(got, expected);
}

TEST(RandomStreams, StreamReturnsTheSameObjectForTheSameName) {
  random_streams streams(1);
  prng& first = streams.stream("a");
  first.next_u64();
  prng& again = streams.stream("a");
  EXPECT_EQ(&first, &again);
  EXPECT_EQ(streams.streams(), 1u);
}

TEST(RandomStreams, FreshStartsAtTheStreamsBeginningAndIsNotKept) {
  random_streams streams(5);
  prng copy = streams.fresh("network/conn/1");
  EXPECT_EQ(draws(copy, 5), draws(streams.stream("network/conn/1"), 5));
  prng again = streams.fresh("network/conn/1");
  EXPECT_EQ(draws(again, 5), draws(copy = streams.fresh("network/conn/1"), 5));
}

TEST(Prng, NextUnitIsInTheHalfOpenUnitInterval) {
  prng g(3);
  for (int i = 0; i < 10'000; ++i) {
    const double u = g.next_unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Prng, ChanceTakesOneDrawWhateverTheProbability) {
  prng a(11);
  prng b(11);
  EXPECT_FALSE(a.chance(0.0));
  EXPECT_TRUE(a.chance(1.0));
  b.next_u64();
  b.next_u64();
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Prng, ChanceFollowsTheProbability) {
  prng g(2024);
  int hits = 0;
  for (int i = 0; i < 100'000; ++i) hits += g.chance(0.25) ? 1 : 0;
  // Deterministic under the seed; the band is wide enough for any sound generator.
  EXPECT_GT(hits, 24'000);
  EXPECT_LT(hits, 26'000);
}

TEST(Prng, IsACoreRandomSource) {
  prng g(8);
  core::random_source& source = g;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(source.uniform(6), 6u);
}

}  // namespace
}  // namespace mailsim::sim
