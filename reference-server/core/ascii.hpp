// mailsim::core ASCII character classes, trimming and decimal writing — the small helpers
// every mail parser and line builder needs (RFC 5234 ALPHA, DIGIT, WSP; RFC 5322 folding
// white space), in one place.
//
// Contract: pure, locale-independent (std::isalpha and friends depend on the C locale and
// take int), constexpr where possible; bytes ≥ 0x80 are never letters, digits or space.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailsim::core {

constexpr bool is_wsp(char c) { return c == ' ' || c == '\t'; }  // RFC 5234 WSP
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr bool is_line_break(char c) {
  return c == '\r' || c == '\n';
}

// Whether `set` holds c. A loop, where string_view::find would call memchr for one byte.
constexpr bool is_one_of(std::string_view set, char c) {
  for (char s : set) {
    if (s == c) return true;
  }
  return false;
}

// RFC 5322 §3.2.3 atext, ASCII only: parsers that take RFC 6531 UTF-8 add bytes >= 0x80.
constexpr bool is_atext(char c) {
  return is_alnum(c) || is_one_of("!#$%&'*+-/=?^_`{|}~", c);
}

// Whether a and b are equal, ASCII letters compared without case (domains, local parts
// where the receiver folds them, keywords).
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// `s` without leading and trailing WSP, CR and LF (folded header values, TXT data).
constexpr std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Appends the decimal digits of `value` without a string of its own (to_string() would make
// one per number in lines built by the thousand).
inline void append_decimal(std::string& out, std::uint64_t value) {
  char digits[20];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace mailsim::core
