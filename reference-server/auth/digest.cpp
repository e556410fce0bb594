#include "reference-server/auth/digest.hpp"

#include <openssl/evp.h>

namespace mailsim::auth::detail {

std::string sha256(std::string_view data) {
  static const unsigned char empty = 0;
  const auto* in = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  std::string out(sha256_bytes, '\0');
  unsigned int out_len = 0;
  if (EVP_Digest(in, data.size(), reinterpret_cast<unsigned char*>(out.data()), &out_len,
                 EVP_sha256(), nullptr) != 1 ||
      out_len != sha256_bytes) {
    return {};
  }
  return out;
}

}  // namespace mailsim::auth::detail
