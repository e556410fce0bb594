// mailsim::auth digest — SHA-256, the one hash DKIM still allows (RFC 8301 §3.1).
//
// Contract: internal to reference-server/auth; keeps OpenSSL headers out of the other files.
// Returns the 32 raw octets.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::auth::detail {

inline constexpr std::size_t sha256_bytes = 32;

std::string sha256(std::string_view data);

}  // namespace mailsim::auth::detail
