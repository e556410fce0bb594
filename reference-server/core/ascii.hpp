// mailsim::core ASCII character classes and trimming — the small helpers every mail parser
// needs (RFC 5234 ALPHA, DIGIT, WSP; RFC 5322 folding white space), in one place.
//
// Contract: pure, locale-independent (std::isalpha and friends depend on the C locale and
// take int), constexpr where possible; bytes ≥ 0x80 are never letters, digits or space.
#pragma once

#include <string_view>

namespace mailsim::core {

constexpr bool is_wsp(char c) { return c == ' ' || c == '\t'; }  // RFC 5234 WSP
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// `s` without leading and trailing WSP, CR and LF (folded header values, TXT data).
constexpr std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace mailsim::core
