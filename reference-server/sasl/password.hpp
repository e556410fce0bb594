// mailsim::sasl passwords — password hashes at rest; a plaintext password is never stored.
//
// Contract: hash_password() turns a password into a self-describing encoded string that names
// its scheme and cost, so that costs can rise later without breaking stored hashes:
//
//   $pbkdf2-sha256$i=<iterations>$<salt>$<hash>                  PBKDF2-HMAC-SHA-256
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>                 scrypt
//   $scram-sha-256$i=<iterations>$<salt>$<StoredKey>$<ServerKey>  SCRAM verifier only
//
// <salt>, <hash> and the keys are RFC 4648 §4 base64 with padding. Salts are 16 random bytes
// (1 to 64 are accepted when verifying, for published test vectors); hashes and keys are 32
// bytes. Numbers are decimal without leading zeros. verify_password() compares in constant
// time and answers false for anything it cannot parse, including costs above the bounds
// below (a hash file must not be able to make one login burn minutes or gigabytes).
//
// Which scheme serves which SASL mechanism:
// - pbkdf2-sha256: PLAIN, LOGIN and SCRAM-SHA-256. The stored hash is PBKDF2-HMAC-SHA-256 of
//   the password, which is exactly SCRAM's SaltedPassword (RFC 5802 §3, Hi() is PBKDF2 with
//   HMAC), so the SCRAM keys derive from it. Caveat: for SCRAM that hash is
//   password-equivalent — whoever steals it can log in over SCRAM without cracking it — so a
//   file of such hashes must be guarded like plaintext.
// - scram-sha-256: PLAIN, LOGIN and SCRAM-SHA-256, storing only StoredKey and ServerKey as
//   RFC 5802 §3 intends; a stolen file must then be cracked before it is of any use.
// - scrypt: PLAIN and LOGIN only (SCRAM cannot use it; scram_secrets_from_hash gives nullopt).
//
// SCRAM clients apply SASLprep (RFC 4013) to the password before Hi(); this module hashes the
// bytes it is given. The two agree for printable ASCII passwords, which SASLprep leaves
// unchanged; the SCRAM code of this module accepts only those (see scram.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/random.hpp"

namespace mailsim::sasl {

enum class hash_scheme {
  pbkdf2_sha256,
  scrypt,
  scram_sha256,
};

// Default costs, chosen for a server verifying PLAIN logins on one core:
// - PBKDF2-HMAC-SHA-256, 600 000 iterations: the OWASP Password Storage Cheat Sheet figure
//   (2023) for this PRF; about a quarter second of one core per verification. RFC 7677 §4
//   asks for at least 4096, which is far too cheap against offline guessing today.
// - scrypt N=2^15, r=8, p=3: 32 MiB of memory per verification (128·r·N), small enough for
//   several concurrent logins, with p=3 bringing the CPU cost to the OWASP-listed equivalent of
//   N=2^17, r=8, p=1 (which would need 128 MiB per concurrent login).
// Simulated worlds and tests whose passwords are synthetic may pass cheaper parameters.
struct hash_params {
  hash_scheme scheme = hash_scheme::pbkdf2_sha256;
  std::uint32_t iterations = 600'000;  // pbkdf2-sha256 and scram-sha-256
  std::uint32_t scrypt_log2_n = 15;
  std::uint32_t scrypt_r = 8;
  std::uint32_t scrypt_p = 3;
};

// Bounds enforced when hashing and when parsing encodings.
inline constexpr std::uint32_t iterations_max = 10'000'000;
inline constexpr std::uint32_t scrypt_log2_n_max = 22;
inline constexpr std::uint32_t scrypt_r_max = 32;
inline constexpr std::uint32_t scrypt_p_max = 16;
inline constexpr std::uint64_t scrypt_memory_bytes_max = 1ULL << 30;  // 128·r·N
inline constexpr std::size_t salt_bytes = 16;
inline constexpr std::size_t salt_bytes_max = 64;
inline constexpr std::size_t hash_bytes = 32;

// A fresh hash with a salt drawn from `random`, with the default costs of `scheme`.
std::string hash_password(std::string_view password, hash_scheme scheme,
                          core::random_source& random);
// The same with explicit costs; an empty string when `params` is out of bounds.
std::string hash_password(std::string_view password, const hash_params& params,
                          core::random_source& random);
// The same with a chosen salt (1 to 64 bytes): for test vectors and fixtures, never for users.
std::string hash_password_with_salt(std::string_view password, const hash_params& params,
                                    std::string_view salt);

// Whether `password` matches `encoded`; false for wrong passwords and malformed encodings.
bool verify_password(std::string_view password, std::string_view encoded);

// Whether `encoded` is a well-formed hash in a supported scheme. The config loader uses this to
// refuse plaintext passwords.
bool is_password_hash(std::string_view encoded);

// What a SCRAM-SHA-256 server needs to know about a user (RFC 5802 §3, §5.1). Byte strings.
struct scram_secrets {
  std::string salt;
  std::uint32_t iterations = 0;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// The SCRAM secrets of a pbkdf2-sha256 or scram-sha-256 hash; nullopt for scrypt hashes and for
// malformed encodings.
std::optional<scram_secrets> scram_secrets_from_hash(std::string_view encoded);

// SCRAM secrets from a SaltedPassword (RFC 5802 §3); shared by the client and the hashes.
scram_secrets scram_secrets_from_salted_password(std::string_view salted_password,
                                                 std::string_view salt, std::uint32_t iterations);

}  // namespace mailsim::sasl
