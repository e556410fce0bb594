// mailsim::auth DKIM keys — private keys for signing, key records for verifying, and key
// generation.
//
// Contract: no OpenSSL type appears here; keys are opaque objects and byte strings.
// - private_key::load() reads a PEM private key (PKCS#8 "PRIVATE KEY" or traditional
//   "RSA PRIVATE KEY", unencrypted) or, for Ed25519, the base64 of the 32-byte seed that
//   RFC 8463 Appendix A.1 prints. RSA keys must have 1024 to 4096 bits (RFC 8301 §3.2 sets the
//   floor; the ceiling keeps a hostile key file from making signing slow).
// - sign_digest() signs a SHA-256 digest the way DKIM does: RSASSA-PKCS1-v1_5 with SHA-256
//   (RFC 6376 §3.3.1, RFC 8017 §8.2) or PureEdDSA Ed25519 over the 32-byte digest itself
//   (RFC 8463 §3). Both are deterministic, so signing needs no random source.
// - parse_key_record() reads a DNS TXT key record (RFC 6376 §3.6.1); verify_digest() checks a
//   signature against the p= data of one.
// - generate_key() draws every secret bit from the injected random source, so a seeded
//   source gives the same key every time (the simulator's worlds are reproducible); the CLI
//   passes the OS generator. RSA primes are found by testing candidates drawn from that
//   source (public exponent 65537, |p-q| > 2^(bits/2-100), d = e^-1 mod lcm(p-1, q-1), as
//   FIPS 186 has them).
// Private keys are immutable after loading and may be shared between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/random.hpp"

namespace mailsim::auth {

enum class key_type { rsa, ed25519 };

// "rsa" / "ed25519": the k= value of a key record (RFC 6376 §3.6.1, RFC 8463 §4).
const char* to_string(key_type t);

inline constexpr unsigned rsa_bits_min = 1024;  // RFC 8301 §3.2
inline constexpr unsigned rsa_bits_max = 4096;
inline constexpr unsigned rsa_bits_default = 2048;

struct private_key_result;

class private_key {
 public:
  static private_key_result load(std::string_view text);

  key_type type() const;
  unsigned bits() const;
  // The public half as a key record's p= carries it: DER SubjectPublicKeyInfo for RSA
  // (RFC 6376 §3.6.1), the 32 raw octets for Ed25519 (RFC 8463 §4).
  std::string public_key_data() const;
  // "v=DKIM1; k=rsa; p=<base64>" (or k=ed25519): the TXT record to publish.
  std::string dns_record() const;
  // The key as unencrypted PKCS#8 PEM, to store with mode 0600.
  std::string pem() const;
  // The signature of a 32-byte SHA-256 digest; empty if OpenSSL refuses (should not happen).
  std::string sign_digest(std::string_view digest) const;

  struct impl;  // holds the OpenSSL key; defined in dkim_key.cpp

 private:
  friend struct private_key_factory;  // dkim_key.cpp: the only maker of keys
  explicit private_key(std::shared_ptr<const impl> p) : impl_(std::move(p)) {}

  std::shared_ptr<const impl> impl_;
};

struct private_key_result {
  std::optional<private_key> key;
  std::error_code error;  // errc::key_unreadable, key_encrypted, key_unsupported, key_size

  bool ok() const { return key.has_value(); }
};

// A new key: RSA with `rsa_bits` (1024..4096, a multiple of 16) or Ed25519 (rsa_bits ignored).
private_key_result generate_key(key_type type, unsigned rsa_bits, core::random_source& random);

// A parsed key record (RFC 6376 §3.6.1). Tags a verifier does not need (n=) are dropped.
struct key_record {
  key_type type = key_type::rsa;      // k=, default rsa
  std::vector<std::string> hashes;    // h=; empty means every hash algorithm
  std::vector<std::string> services;  // s=; empty means "*"
  bool testing = false;               // t=y
  bool strict_identity = false;       // t=s: i= must be in d= itself, not a subdomain
  std::string public_key;             // p= decoded; empty means revoked
};

struct key_record_result {
  key_record record;
  // Empty when parsed; otherwise the verification reason: "bad key record" (syntax, v= not
  // DKIM1, no p=, p= not base64) or "unknown key type".
  std::string error;

  bool ok() const { return error.empty(); }
};

key_record_result parse_key_record(std::string_view txt);

enum class verify_outcome {
  good,           // the signature matches
  bad_signature,  // the key is fine, the signature does not match
  bad_key,        // p= does not decode as a key of this type
  key_too_short,  // an RSA key below the floor given
};

verify_outcome verify_digest(key_type type, std::string_view public_key_data,
                             std::string_view digest, std::string_view signature,
                             unsigned rsa_bits_floor = rsa_bits_min);

// verify_digest() with the decoded keys kept, least recently used out first: mail from one
// sender then skips decoding p= and OpenSSL's per-key set-up (the Montgomery context for n),
// about a quarter of an RSA-2048 check (docs/benchmarks.md). Results are the same as
// verify_digest()'s. Not thread-safe: one per verifier.
class public_key_cache {
 public:
  explicit public_key_cache(std::size_t entries_max = 256);
  ~public_key_cache();
  public_key_cache(const public_key_cache&) = delete;
  public_key_cache& operator=(const public_key_cache&) = delete;

  verify_outcome verify(key_type type, std::string_view public_key_data, std::string_view digest,
                        std::string_view signature, unsigned rsa_bits_floor = rsa_bits_min);
  std::size_t size() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::auth
