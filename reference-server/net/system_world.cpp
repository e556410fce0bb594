#include "reference-server/net/system_world.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>

namespace mailsim::net {

core::time_point system_clock::now() const {
  return std::chrono::time_point_cast<core::duration_ms>(std::chrono::system_clock::now());
}

std::uint64_t system_random::next_u64() {
  std::uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) std::abort();
  return v;
}

}  // namespace mailsim::net
