#include "reference-server/message/mime_value.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

#include "reference-server/core/ascii.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/lexer.hpp"

namespace mailsim::message {
namespace {

using detail::lexer;

// RFC 2045 §5.1 tspecials, which end a token.
bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F && !is_tspecial(c);
}

std::string read_token(lexer& lx) {
  std::string out;
  while (!lx.done() && is_token_char(lx.peek())) {
    out += lx.peek();
    lx.advance();
  }
  return out;
}

// A parameter value: a quoted-string, or (leniently) every octet up to ';' or white space.
std::string read_value(lexer& lx) {
  if (lx.peek() == '"') return lx.quoted();
  std::string out;
  while (!lx.done() && lx.peek() != ';' && !core::is_wsp(lx.peek())) {
    out += lx.peek();
    lx.advance();
  }
  return out;
}

struct raw_param {
  std::string name;       // without RFC 2231 suffixes
  int section = -1;       // RFC 2231 §3 continuation number, -1 when none
  bool extended = false;  // RFC 2231 §4 "*" form
  std::string value;
};

raw_param split_name(std::string name, std::string value) {
  raw_param p;
  p.value = std::move(value);
  if (!name.empty() && name.back() == '*') {
    p.extended = true;
    name.pop_back();
  }
  const std::size_t star = name.rfind('*');
  if (star != std::string::npos && star + 1 < name.size() && star + 4 >= name.size() &&
      std::all_of(name.begin() + static_cast<std::ptrdiff_t>(star) + 1, name.end(),
                  core::is_digit)) {
    p.section = std::stoi(name.substr(star + 1));
    name.resize(star);
  }
  p.name = std::move(name);
  return p;
}

int hex_digit(char c) {
  if (core::is_digit(c)) return c - '0';
  c = core::ascii_lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Merges the sections of one RFC 2231 parameter (all share `name`), sorted by section.
mime_param merge_sections(std::vector<raw_param> parts) {
  std::stable_sort(parts.begin(), parts.end(),
                   [](const raw_param& a, const raw_param& b) { return a.section < b.section; });
  mime_param out;
  out.name = parts.front().name;
  std::string octets;
  bool any_extended = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const raw_param& p = parts[i];
    if (p.section >= 0 && p.section != static_cast<int>(i)) break;  // a gap ends the value
    std::string_view v = p.value;
    if (p.extended && i == 0) {  // charset'language'value (RFC 2231 §4)
      const std::size_t q1 = v.find('\'');
      const std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
      if (q2 != std::string_view::npos) {
        out.charset = std::string(v.substr(0, q1));
        out.language = std::string(v.substr(q1 + 1, q2 - q1 - 1));
        v.remove_prefix(q2 + 1);
      }
    }
    any_extended = any_extended || p.extended;
    octets += p.extended ? percent_decode(v) : std::string(v);
    if (p.section < 0) break;  // a plain or single extended parameter has one piece
  }
  std::optional<std::string> utf8;
  if (any_extended && !out.charset.empty()) utf8 = to_utf8(octets, out.charset);
  out.value = utf8 ? std::move(*utf8) : std::move(octets);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = core::ascii_lower(c);
  return out;
}

}  // namespace

std::vector<mime_param> parse_params(std::string_view rest) {
  lexer lx(rest);
  std::vector<raw_param> raw;
  while (true) {
    lx.skip_cfws();
    if (lx.done()) break;
    // Junk where a ";" belongs (the rest of a broken parameter) is skipped with it.
    if (!lx.eat(';')) lx.skip_past(';');
    lx.skip_cfws();
    std::string name = read_token(lx);
    lx.skip_cfws();
    if (name.empty() || !lx.eat('=')) continue;
    lx.skip_cfws();
    raw.push_back(split_name(std::move(name), read_value(lx)));
  }
  // Group by case-insensitive name, in order of first appearance; the first group wins.
  std::vector<std::string> order;
  std::map<std::string, std::vector<raw_param>> groups;
  for (raw_param& p : raw) {
    const std::string key = lower(p.name);
    auto [it, fresh] = groups.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second.push_back(std::move(p));
  }
  std::vector<mime_param> out;
  out.reserve(order.size());
  for (const std::string& key : order) out.push_back(merge_sections(std::move(groups[key])));
  return out;
}

std::optional<content_type> parse_content_type(std::string_view value) {
  lexer lx(value);
  lx.skip_cfws();
  content_type ct;
  ct.type = read_token(lx);
  lx.skip_cfws();
  if (ct.type.empty() || !lx.eat('/')) return std::nullopt;
  lx.skip_cfws();
  ct.subtype = read_token(lx);
  if (ct.subtype.empty()) return std::nullopt;
  ct.params = parse_params(lx.rest());
  ct.defaulted = false;
  return ct;
}

std::optional<disposition> parse_disposition(std::string_view value) {
  lexer lx(value);
  lx.skip_cfws();
  disposition d;
  d.value = read_token(lx);
  if (d.value.empty()) return std::nullopt;
  d.params = parse_params(lx.rest());
  return d;
}

std::vector<std::string> parse_languages(std::string_view value) {
  lexer lx(value);
  std::vector<std::string> out;
  while (true) {
    lx.skip_cfws();
    if (lx.done()) break;
    std::string tag = read_token(lx);
    if (tag.empty()) {
      lx.advance();  // a stray special: skip it
    } else {
      out.push_back(std::move(tag));
    }
    lx.skip_cfws();
    lx.eat(',');
  }
  return out;
}

}  // namespace mailsim::message
