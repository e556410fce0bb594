#include "reference-server/auth/error.hpp"

#include <string>

namespace mailsim::auth {
namespace {

class auth_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.auth"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::tag_syntax:
        return "tag list syntax error";
      case errc::duplicate_tag:
        return "tag appears twice in a tag list";
      case errc::key_unreadable:
        return "not a PEM private key or a base64 Ed25519 seed";
      case errc::key_encrypted:
        return "private key is encrypted";
      case errc::key_unsupported:
        return "key type is not RSA or Ed25519";
      case errc::key_size:
        return "RSA key size outside 1024..4096 bits";
      case errc::invalid_option:
        return "invalid signing option";
      case errc::no_from_field:
        return "message has no From field";
      case errc::crypto_failure:
        return "cryptographic operation failed";
    }
    return "unknown auth error";
  }
};

}  // namespace

const std::error_category& auth_category() noexcept {
  static const auth_error_category category;
  return category;
}

}  // namespace mailsim::auth
