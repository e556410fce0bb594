// mailsim::auth errors — what signing, key handling and tag-list parsing report.
//
// Contract: nothing in this module throws across its boundary. Operations that a caller
// drives (loading a key, signing, generating a key, parsing a tag list) return these codes.
// Verification never fails as an operation: a broken signature or key record is a result
// (dkim_status::permerror with a reason), not an error code.
#pragma once

#include <system_error>

namespace mailsim::auth {

enum class errc {
  tag_syntax = 1,   // a tag list does not follow RFC 6376 §3.2
  duplicate_tag,    // a tag list names the same tag twice (RFC 6376 §3.2)
  key_unreadable,   // not a PEM private key, nor a base64 Ed25519 seed
  key_encrypted,    // a PEM key that needs a passphrase (refused: nobody to ask)
  key_unsupported,  // a key type DKIM cannot use (only RSA and Ed25519)
  key_size,         // an RSA key outside 1024..4096 bits (RFC 8301 §3.2)
  invalid_option,   // signing options that would make a broken signature
  no_from_field,    // the message has no From field, which must be signed (§5.4)
  crypto_failure,   // OpenSSL refused an operation that should not fail
};

const std::error_category& auth_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), auth_category()};
}

}  // namespace mailsim::auth

template <>
struct std::is_error_code_enum<mailsim::auth::errc> : std::true_type {};
