#include "simulator/engine/rng.hpp"

namespace mailsim::sim {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t derive_seed(std::uint64_t seed, std::string_view name) {
  // Mixing the seed first keeps nearby seeds (1, 2, 3 …) far apart before the name enters.
  return mix64(mix64(seed) ^ fnv1a64(name));
}

prng::prng(std::uint64_t seed) {
  core::splitmix_random init(seed);
  for (auto& word : s_) word = init.next_u64();
}

namespace {
std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

std::uint64_t prng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double prng::next_unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool prng::chance(double p) {
  const double u = next_unit();
  return u < p;
}

prng& random_streams::stream(std::string_view name) {
  auto it = streams_.find(name);
  if (it == streams_.end()) {
    it =
        streams_.emplace(std::string(name), std::make_unique<prng>(derive_seed(seed_, name))).first;
  }
  return *it->second;
}

}  // namespace mailsim::sim
