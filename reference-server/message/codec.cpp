#include "reference-server/message/codec.hpp"

#include <cstdint>

#include "reference-server/core/ascii.hpp"

namespace mailsim::message {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// RFC 2045 §6.7 rule 3: white space at the end of an encoded line is transport padding.
std::string_view strip_trailing_wsp(std::string_view line) {
  while (!line.empty() && core::is_wsp(line.back())) line.remove_suffix(1);
  return line;
}

void decode_qp_line(std::string_view line, bool hard_break, std::string& out) {
  line = strip_trailing_wsp(line);
  bool soft = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '=') {
      out += line[i];
      continue;
    }
    if (i + 1 == line.size()) {  // "=" at the end: a soft line break (§6.7 rule 5)
      soft = true;
      break;
    }
    const int hi = i + 2 < line.size() ? hex_value(line[i + 1]) : -1;
    const int lo = i + 2 < line.size() ? hex_value(line[i + 2]) : -1;
    if (hi < 0 || lo < 0) {  // malformed: keep the "=" as a literal, as readers do
      out += '=';
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (hard_break && !soft) out += "\r\n";
}

// RFC 2047 §4.2: Q is quoted-printable where "_" means a space.
std::string decode_q(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      out += ' ';
    } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct encoded_word {
  std::size_t length = 0;  // octets of "=?...?="
  std::string decoded;
};

// One encoded-word at the start of `s`, decoded; nullopt when malformed or unknown.
std::optional<encoded_word> read_encoded_word(std::string_view s) {
  if (s.size() < 8 || s.substr(0, 2) != "=?") return std::nullopt;
  const std::size_t q1 = s.find('?', 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  const std::size_t end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view charset = s.substr(2, q1 - 2);
  charset = charset.substr(0, charset.find('*'));  // RFC 2231 §5 language suffix
  const char enc = core::ascii_lower(s[q1 + 1]);
  const std::string_view text = s.substr(q1 + 3, end - q1 - 3);
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return std::nullopt;
  }
  std::string raw;
  if (enc == 'b') {
    raw = decode_base64(text);
  } else if (enc == 'q') {
    raw = decode_q(text);
  } else {
    return std::nullopt;
  }
  std::optional<std::string> utf8 = to_utf8(raw, charset);
  if (!utf8) return std::nullopt;
  return encoded_word{end + 2, std::move(*utf8)};
}

}  // namespace

std::string decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;  // padding ends the data
    const int v = base64_value(c);
    if (v < 0) continue;  // line breaks and stray characters are skipped
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    const bool hard_break = lf != std::string_view::npos;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    decode_qp_line(line, hard_break, out);
    text.remove_prefix(hard_break ? lf + 1 : text.size());
  }
  return out;
}

std::optional<std::string> to_utf8(std::string_view text, std::string_view charset) {
  if (iequals(charset, "utf-8") || iequals(charset, "utf8") || iequals(charset, "us-ascii") ||
      iequals(charset, "ascii")) {
    return std::string(text);
  }
  if (iequals(charset, "iso-8859-1") || iequals(charset, "latin1") ||
      iequals(charset, "iso_8859-1") || iequals(charset, "l1")) {
    std::string out;
    for (char c : text) append_utf8(out, static_cast<unsigned char>(c));
    return out;
  }
  return std::nullopt;
}

std::string decode_encoded_words(std::string_view text) {
  std::string out;
  std::size_t pending_space_from = std::string::npos;  // white space after an encoded-word
  bool last_was_word = false;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '=' && i + 1 < text.size() && text[i + 1] == '?') {
      if (auto w = read_encoded_word(text.substr(i))) {
        if (last_was_word && pending_space_from != std::string::npos) {
          out.resize(pending_space_from);  // RFC 2047 §6.2: drop LWSP between words
        }
        out += w->decoded;
        i += w->length;
        last_was_word = true;
        pending_space_from = std::string::npos;
        continue;
      }
    }
    const char c = text[i++];
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space && last_was_word && pending_space_from == std::string::npos) {
      pending_space_from = out.size();
    } else if (!space) {
      last_was_word = false;
      pending_space_from = std::string::npos;
    }
    out += c;
  }
  return out;
}

}  // namespace mailsim::message
