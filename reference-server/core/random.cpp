#include "reference-server/core/random.hpp"

#include <cstring>

namespace mailsim::core {

void random_source::fill(std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = next_u64();
    std::size_t n = std::min(sizeof v, out.size() - i);
    std::memcpy(out.data() + i, &v, n);
    i += n;
  }
}

std::uint64_t random_source::uniform(std::uint64_t bound) {
  // Rejection sampling removes the modulo bias.
  std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    std::uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

std::uint64_t splitmix_random::next_u64() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace mailsim::core
