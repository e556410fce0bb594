// mailsim::sasl crypto — the few primitives SASL and password hashing need, wrapped so that
// no OpenSSL header reaches another module.
//
// Contract: internal to reference-server/sasl (other modules use password.hpp, mechanism.hpp
// and client.hpp). Inputs and outputs are raw bytes in std::string. The KDFs return nullopt
// when OpenSSL refuses the parameters (callers treat that as "does not verify"); they never
// throw. Implements HMAC-SHA-256 (RFC 2104, RFC 6234), PBKDF2 (RFC 8018 §5.2) and scrypt
// (RFC 7914 §6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::sasl::detail {

inline constexpr std::size_t sha256_bytes = 32;

std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

std::optional<std::string> pbkdf2_sha256(std::string_view password, std::string_view salt,
                                         std::uint32_t iterations, std::size_t out_bytes);

struct scrypt_cost {
  std::uint64_t n = 0;  // CPU/memory cost, a power of two
  std::uint32_t r = 0;  // block size
  std::uint32_t p = 0;  // parallelization
};
std::optional<std::string> scrypt(std::string_view password, std::string_view salt,
                                  const scrypt_cost& cost, std::size_t out_bytes);

// Equal sizes and equal bytes, in time that depends only on the size (CRYPTO_memcmp), so that
// a verifier does not leak how many leading bytes of a guess were right.
bool equal_constant_time(std::string_view a, std::string_view b);

// Byte-wise XOR of two equal-sized strings (SCRAM's ClientProof, RFC 5802 §3).
std::string xor_bytes(std::string_view a, std::string_view b);

// Overwrites a secret before its memory is released (OPENSSL_cleanse cannot be optimized out).
void wipe(std::string& secret);

}  // namespace mailsim::sasl::detail
