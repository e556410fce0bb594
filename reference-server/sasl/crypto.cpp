#include "reference-server/sasl/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

namespace mailsim::sasl::detail {
namespace {

// OpenSSL takes byte pointers that must not be null even for empty input on every version.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

bool fits_int(std::size_t n) {
  return n <= static_cast<std::size_t>(INT_MAX);
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(sha256_bytes, '\0');
  unsigned int out_len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), bytes_of(out), &out_len, EVP_sha256(), nullptr) !=
          1 ||
      out_len != sha256_bytes) {
    return {};
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(sha256_bytes, '\0');
  unsigned int out_len = 0;
  if (!fits_int(key.size()) ||
      HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()), bytes_of(data), data.size(),
           bytes_of(out), &out_len) == nullptr ||
      out_len != sha256_bytes) {
    return {};
  }
  return out;
}

std::optional<std::string> pbkdf2_sha256(std::string_view password, std::string_view salt,
                                         std::uint32_t iterations, std::size_t out_bytes) {
  if (iterations == 0 || iterations > INT_MAX || !fits_int(password.size()) ||
      !fits_int(salt.size()) || !fits_int(out_bytes) || out_bytes == 0) {
    return std::nullopt;
  }
  std::string out(out_bytes, '\0');
  // RFC 8018 §5.2 with PRF = HMAC-SHA-256; this is also SCRAM's Hi() (RFC 5802 §2.2).
  int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes_of(salt),
                             static_cast<int>(salt.size()), static_cast<int>(iterations),
                             EVP_sha256(), static_cast<int>(out_bytes), bytes_of(out));
  if (ok != 1) return std::nullopt;
  return out;
}

std::optional<std::string> scrypt(std::string_view password, std::string_view salt,
                                  const scrypt_cost& cost, std::size_t out_bytes) {
  if (out_bytes == 0 || cost.r == 0 || cost.p == 0) return std::nullopt;
  // OpenSSL refuses work areas above maxmem; its need is B (128·r·p) plus V (128·r·(N+2)),
  // so ask for exactly that: the caller has already bounded N, r and p.
  std::uint64_t maxmem = 128ULL * cost.r * (cost.n + 2 + cost.p) + 4096;
  std::string out(out_bytes, '\0');
  // RFC 7914 §6.
  int ok = EVP_PBE_scrypt(password.data(), password.size(), bytes_of(salt), salt.size(), cost.n,
                          cost.r, cost.p, maxmem, bytes_of(out), out_bytes);
  if (ok != 1) return std::nullopt;
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  }
  return out;
}

void wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace mailsim::sasl::detail
