// Fuzz target: DKIM key records (reference-server/auth/dkim_key.hpp parse_key_record) and
// the public-key reader behind verify_digest(): the DER SubjectPublicKeyInfo / PKCS#1
// RSAPublicKey reader for RSA, the 32 raw octets for Ed25519. No header byte; the input
// (up to 64 KiB) is either
//   - a TXT record ("v=DKIM1; k=rsa; p=..."): parsed, and when accepted its p= data is
//     checked against a fixed digest and signature under its k=;
//   - raw key data when it starts with 0x30 (a DER SEQUENCE, never the start of a record):
//     checked as RSA p= data directly, so that mutations reach the DER reader without
//     going through base64.
// Checked beyond the sanitizers: a refused record carries one of the documented reasons;
// public_key_cache answers what verify_digest() answers, also when asked twice; a made-up
// signature never verifies.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reference-server/auth/dkim_key.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "dkim_key_record property violated: %s\n", what);
  std::abort();
}

void check_key(auth::key_type type, std::string_view key_data) {
  static const std::string digest(32, '\x5a');
  // Short, so that a large modulus does not make every run slow; it cannot verify.
  static const std::string signature(64, '\x01');
  const auth::verify_outcome direct = auth::verify_digest(type, key_data, digest, signature);
  require(direct != auth::verify_outcome::good, "a made-up signature verified");
  auth::public_key_cache cache(2);
  require(cache.verify(type, key_data, digest, signature) == direct, "cache disagrees");
  require(cache.verify(type, key_data, digest, signature) == direct, "cached entry disagrees");
  require(cache.size() == 1, "one key, one cache entry");
  // A lower floor lets keys below 1024 bits through to OpenSSL's verification too.
  (void)auth::verify_digest(type, key_data, digest, signature, 512);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!text.empty() && text.front() == '\x30') {
    check_key(auth::key_type::rsa, text);
    return 0;
  }
  const auth::key_record_result r = auth::parse_key_record(text);
  if (!r.ok()) {
    require(r.error == "bad key record" || r.error == "unknown key type", "undocumented reason");
    return 0;
  }
  (void)auth::to_string(r.record.type);
  if (!r.record.public_key.empty()) check_key(r.record.type, r.record.public_key);
  return 0;
}
