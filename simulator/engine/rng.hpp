// mailsim::sim random streams — seeded, reproducible randomness with named sub-streams.
//
// Contract: a run has one seed. Every consumer draws from its own named stream
// (`streams.stream("network")`, `streams.fresh("network/conn/7")`), whose seed is derived
// from the run's seed and the name alone. So the same seed gives the same draws in every
// stream, and adding, removing or reordering draws in one stream never shifts another.
// Nothing here reads real randomness (DESIGN.md: the simulator is reproducible from a seed);
// none of it is fit for cryptography.
//
// The algorithms are part of the reproducibility promise and must not change silently
// (transcripts recorded under a seed depend on them):
// - derive_seed(seed, name) = mix64(mix64(seed) ^ fnv1a64(name)), where fnv1a64 is 64-bit
//   FNV-1a over the name's bytes and mix64 the SplitMix64 finalizer
//   (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31).
// - prng is xoshiro256** (a published public-domain generator); its four state words are the
//   first four outputs of core::splitmix_random(seed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "reference-server/core/random.hpp"

namespace mailsim::sim {

std::uint64_t fnv1a64(std::string_view bytes);
std::uint64_t mix64(std::uint64_t z);
std::uint64_t derive_seed(std::uint64_t seed, std::string_view name);

// xoshiro256**: a core::random_source for the engines, plus the draws a world needs.
class prng final : public core::random_source {
 public:
  explicit prng(std::uint64_t seed);
  std::uint64_t next_u64() override;
  // A uniform double in [0, 1) from the top 53 bits of one draw.
  double next_unit();
  // True with probability p. Always takes exactly one draw, whatever p, so that the
  // stream's later values do not depend on p (p <= 0: never; p >= 1: always).
  bool chance(double p);

 private:
  std::uint64_t s_[4];
};

// The run's streams by name.
class random_streams {
 public:
  explicit random_streams(std::uint64_t seed) : seed_(seed) {}
  random_streams(const random_streams&) = delete;
  random_streams& operator=(const random_streams&) = delete;

  std::uint64_t seed() const { return seed_; }
  // The named stream, created at its start on first use; the reference stays valid as long
  // as this object. Named streams are kept: use fresh() for per-object streams.
  prng& stream(std::string_view name);
  // A new generator at the start of the named stream (not kept here).
  prng fresh(std::string_view name) const { return prng(derive_seed(seed_, name)); }
  std::size_t streams() const { return streams_.size(); }

 private:
  std::uint64_t seed_;
  std::map<std::string, std::unique_ptr<prng>, std::less<>> streams_;
};

}  // namespace mailsim::sim
