#include "reference-server/imap/mutf7.hpp"

#include <cstdint>
#include <vector>

namespace mailsim::imap {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

constexpr bool is_printable(std::uint32_t c) { return c >= 0x20 && c <= 0x7e; }

int base64_value(char c) {
  const std::size_t pos = alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Decodes one UTF-8 code point at `text[i]`, advancing i; nullopt when malformed.
std::optional<std::uint32_t> next_code_point(std::string_view text, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(text[i++]);
  if (lead < 0x80) return lead;
  std::size_t extra = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((lead & 0xe0) == 0xc0) {
    extra = 1, cp = lead & 0x1fu, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    extra = 2, cp = lead & 0x0fu, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    extra = 3, cp = lead & 0x07u, min = 0x10000;
  } else {
    return std::nullopt;
  }
  for (std::size_t k = 0; k < extra; ++k) {
    if (i >= text.size()) return std::nullopt;
    const auto b = static_cast<unsigned char>(text[i++]);
    if ((b & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  return cp;
}

// Decodes the base64 of one shift (between '&' and '-') as UTF-16BE into `out`.
bool decode_shift(std::string_view b64, std::string& out) {
  std::uint32_t bits = 0;
  int bit_count = 0;
  std::vector<std::uint16_t> units;
  for (char c : b64) {
    const int v = base64_value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 16) {
      bit_count -= 16;
      units.push_back(static_cast<std::uint16_t>((bits >> bit_count) & 0xffff));
    }
  }
  // Leftover bits are padding: fewer than 6 and all zero (RFC 2152 rules, as RFC 3501 keeps).
  if (bit_count >= 6 || (bits & ((1u << bit_count) - 1)) != 0 || units.empty()) return false;
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::uint32_t cp = units[i];
    if (cp >= 0xdc00 && cp <= 0xdfff) return false;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++i] - 0xdc00u);
    }
    if (is_printable(cp)) return false;  // printable ASCII must stand for itself
    append_utf8(out, cp);
  }
  return true;
}

void encode_shift(const std::vector<std::uint16_t>& units, std::string& out) {
  out += '&';
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::uint16_t u : units) {
    bits = (bits << 16) | u;
    bit_count += 16;
    while (bit_count >= 6) {
      bit_count -= 6;
      out += alphabet[(bits >> bit_count) & 0x3f];
    }
  }
  if (bit_count > 0) out += alphabet[(bits << (6 - bit_count)) & 0x3f];
  out += '-';
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!next_code_point(text, i)) return false;
  }
  return true;
}

std::optional<std::string> mutf7_to_utf8(std::string_view mutf7) {
  std::string out;
  bool after_shift = false;  // a shift directly after another must have been merged
  std::size_t i = 0;
  while (i < mutf7.size()) {
    const char c = mutf7[i];
    if (!is_printable(static_cast<unsigned char>(c))) return std::nullopt;
    if (c != '&') {
      out += c;
      after_shift = false;
      ++i;
      continue;
    }
    const std::size_t dash = mutf7.find('-', i + 1);
    if (dash == std::string_view::npos) return std::nullopt;
    if (dash == i + 1) {
      out += '&';
      after_shift = false;
    } else {
      if (after_shift || !decode_shift(mutf7.substr(i + 1, dash - i - 1), out)) return std::nullopt;
      after_shift = true;
    }
    i = dash + 1;
  }
  return out;
}

std::optional<std::string> utf8_to_mutf7(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> pending;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto cp = next_code_point(utf8, i);
    if (!cp) return std::nullopt;
    if (is_printable(*cp)) {
      if (!pending.empty()) encode_shift(pending, out);
      pending.clear();
      out += *cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(*cp));
      continue;
    }
    if (*cp >= 0x10000) {
      const std::uint32_t v = *cp - 0x10000;
      pending.push_back(static_cast<std::uint16_t>(0xd800 + (v >> 10)));
      pending.push_back(static_cast<std::uint16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      pending.push_back(static_cast<std::uint16_t>(*cp));
    }
  }
  if (!pending.empty()) encode_shift(pending, out);
  return out;
}

}  // namespace mailsim::imap
