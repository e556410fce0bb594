// mailsim::net system world — the real implementations of core's injected interfaces:
// the OS clock and the OS random generator (OpenSSL RAND_bytes). Only drivers (L3/L4)
// create these; everything below receives them as core::clock / core::random_source.
#pragma once

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"

namespace mailsim::net {

class system_clock final : public core::clock {
 public:
  core::time_point now() const override;
};

class system_random final : public core::random_source {
 public:
  // Aborts the process if the OS generator fails: nothing may go on without randomness.
  std::uint64_t next_u64() override;
};

}  // namespace mailsim::net
