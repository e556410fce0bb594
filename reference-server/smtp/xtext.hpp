// mailsim::smtp xtext — the RFC 3461 §4 encoding of ENVID and ORCPT values.
//
// Contract: is_xtext() checks syntax (printable ASCII except '+' and '=', "+XX" upper-case
// hex escapes); xtext_decode() returns the decoded bytes or nullopt; xtext_encode() escapes
// everything xtext may not carry literally.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::smtp {

bool is_xtext(std::string_view text);
std::optional<std::string> xtext_decode(std::string_view text);
std::string xtext_encode(std::string_view bytes);

}  // namespace mailsim::smtp
