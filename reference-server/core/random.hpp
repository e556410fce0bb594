// mailsim::core random source — the injected source of randomness.
//
// Contract: code below the drivers never draws from the OS random generator directly;
// it is handed a random_source. Real: OpenSSL RAND_bytes (reference-server/net). Simulated:
// a seeded PRNG, so that the same seed gives the same run. `splitmix_random` is a small
// deterministic generator for tests and for seeding sub-streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mailsim::core {

class random_source {
 public:
  virtual ~random_source() = default;
  virtual std::uint64_t next_u64() = 0;

  // Fills `out` with random bytes drawn from next_u64().
  void fill(std::span<std::uint8_t> out);
  // A uniform value in [0, bound); bound must be > 0.
  std::uint64_t uniform(std::uint64_t bound);
};

// SplitMix64 (a well-known 64-bit mixer): deterministic, fast, not cryptographic.
class splitmix_random final : public random_source {
 public:
  explicit splitmix_random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override;

 private:
  std::uint64_t state_;
};

}  // namespace mailsim::core
