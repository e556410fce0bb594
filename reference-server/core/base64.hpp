// mailsim::core base64 — RFC 4648 §4 encoding and strict decoding.
//
// Contract: decode() accepts only the canonical alphabet with correct padding, and no
// whitespace; anything else gives nullopt (protocol layers answer a syntax error).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::core {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace mailsim::core
