#include "reference-server/store/checksum.hpp"

#include <array>
#include <cstring>

namespace mailsim::store {
namespace {

// Odd 64-bit constants with well-mixed bits (the multipliers of the xxHash64 rounds); any
// such constants would do, but they must never change: file names carry the result.
constexpr std::uint64_t k1 = 0x9e3779b185ebca87ULL;
constexpr std::uint64_t k2 = 0xc2b2ae3d27d4eb4fULL;
constexpr std::uint64_t k3 = 0x165667b19e3779f9ULL;
constexpr std::size_t block = 32;  // one 8-byte word per lane

std::uint64_t rotl(std::uint64_t v, int n) {
  return (v << n) | (v >> (64 - n));
}

// Little-endian whatever the host, so that the value does not depend on the machine.
std::uint64_t load_le(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t lane_round(std::uint64_t lane, std::uint64_t word) {
  return rotl(lane + word * k2, 31) * k1;
}

// The two parts as one stream: whole blocks go straight from the input, a block that
// straddles the parts or ends the stream goes through `pending`.
class hasher {
 public:
  void update(std::string_view bytes) {
    if (bytes.empty()) return;  // its data() may be null, which memcpy must never get
    total_ += bytes.size();
    if (pending_size_ > 0) {
      const std::size_t take = std::min(block - pending_size_, bytes.size());
      std::memcpy(pending_.data() + pending_size_, bytes.data(), take);
      pending_size_ += take;
      bytes.remove_prefix(take);
      if (pending_size_ < block) return;
      consume(pending_.data());
      pending_size_ = 0;
    }
    for (; bytes.size() >= block; bytes.remove_prefix(block)) consume(bytes.data());
    std::memcpy(pending_.data(), bytes.data(), bytes.size());
    pending_size_ = bytes.size();
  }

  std::uint64_t finish() const {
    std::uint64_t h = rotl(lanes_[0], 1) + rotl(lanes_[1], 7) + rotl(lanes_[2], 12) +
                      rotl(lanes_[3], 18) + total_;
    std::size_t i = 0;
    for (; i + 8 <= pending_size_; i += 8) {
      h = rotl(h ^ lane_round(0, load_le(&pending_[i])), 27) * k1;
    }
    for (; i < pending_size_; ++i) {
      h = rotl(h ^ (static_cast<unsigned char>(pending_[i]) * k3), 11) * k1;
    }
    // Final avalanche: every input bit reaches every output bit.
    h ^= h >> 33;
    h *= k2;
    h ^= h >> 29;
    h *= k3;
    return h ^ (h >> 32);
  }

 private:
  void consume(const char* p) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      lanes_[lane] = lane_round(lanes_[lane], load_le(p + 8 * lane));
    }
  }

  std::array<std::uint64_t, 4> lanes_ = {k1 + k2, k2, 0, 0 - k1};
  std::array<char, block> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace

std::uint64_t content_checksum(std::string_view first, std::string_view second) {
  hasher h;
  h.update(first);
  h.update(second);
  return h.finish();
}

}  // namespace mailsim::store
