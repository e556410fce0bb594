#include "reference-server/auth/digest.hpp"

#include <openssl/evp.h>

namespace mailsim::auth::detail {

namespace {

// OpenSSL 3 looks a legacy EVP_sha256() up in its provider on every EVP_Digest call; one
// explicit fetch, kept for the process (thread-safe static initialisation), saves that. Null
// when the default provider cannot give SHA-256: then the per-call path below is used.
const EVP_MD* sha256_md() {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched != nullptr ? fetched : EVP_sha256();
}

}  // namespace

std::string sha256(std::string_view data) {
  static const unsigned char empty = 0;
  const auto* in = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  std::string out(sha256_bytes, '\0');
  unsigned int out_len = 0;
  if (EVP_Digest(in, data.size(), reinterpret_cast<unsigned char*>(out.data()), &out_len,
                 sha256_md(), nullptr) != 1 ||
      out_len != sha256_bytes) {
    return {};
  }
  return out;
}

}  // namespace mailsim::auth::detail
