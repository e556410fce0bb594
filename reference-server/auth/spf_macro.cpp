#include "reference-server/auth/spf_macro.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace mailsim::auth {
namespace {

// One piece of a macro-string: a literal character, or a macro-expand.
struct token {
  enum kind { literal, percent, space, url_space, macro } type = literal;
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last character
  char letter = 0;      // macro: as written
  unsigned digits = 0;  // macro: 0 = all parts
  bool reverse = false;
  std::string_view delimiters;
};

constexpr std::string_view domain_letters = "slodiphv";
constexpr std::string_view exp_only_letters = "crt";
constexpr std::string_view delimiter_chars = ".-+,/_=";
constexpr unsigned digits_cap = 1000;  // more parts than any name has: "all of them"

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;  // ASCII only
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_unreserved(char c) {  // RFC 3986 §2.3
  const char l = lower(c);
  return (l >= 'a' && l <= 'z') || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool literal_allowed(char c, spf_macro_context context) {
  // §7.1 macro-literal = %x21-24 / %x26-7E; §6.2 explain-string adds SP.
  if (c == ' ') return context == spf_macro_context::explanation;
  return c >= 0x21 && c <= 0x7e;
}

// Reads "%{" letter transformers *delimiter "}" starting at `at` (the "%").
spf_macro_error read_macro(std::string_view text, std::size_t at, spf_macro_context context,
                           token& t) {
  std::size_t i = at + 2;
  if (i >= text.size()) return spf_macro_error::bad_macro;
  t.letter = text[i++];
  const char l = lower(t.letter);
  if (exp_only_letters.find(l) != std::string_view::npos) {
    if (context != spf_macro_context::explanation) return spf_macro_error::exp_only_letter;
  } else if (domain_letters.find(l) == std::string_view::npos) {
    return spf_macro_error::unknown_letter;
  }
  std::size_t digit_begin = i;
  unsigned value = 0;
  while (i < text.size() && is_digit(text[i])) {
    value = std::min(digits_cap, value * 10 + static_cast<unsigned>(text[i] - '0'));
    ++i;
  }
  if (i > digit_begin && value == 0) return spf_macro_error::zero_digits;
  t.digits = value;
  if (i < text.size() && lower(text[i]) == 'r') {
    t.reverse = true;
    ++i;
  }
  std::size_t delim_begin = i;
  while (i < text.size() && delimiter_chars.find(text[i]) != std::string_view::npos) ++i;
  t.delimiters = text.substr(delim_begin, i - delim_begin);
  if (i >= text.size() || text[i] != '}') return spf_macro_error::bad_macro;
  t.end = i + 1;
  return spf_macro_error::none;
}

// The token at `at`, or an error.
spf_macro_error next_token(std::string_view text, std::size_t at, spf_macro_context context,
                           token& t) {
  t = token{};
  t.begin = at;
  t.end = at + 1;
  const char c = text[at];
  if (c != '%')
    return literal_allowed(c, context) ? spf_macro_error::none : spf_macro_error::bad_character;
  const char next = at + 1 < text.size() ? text[at + 1] : '\0';
  t.end = at + 2;
  switch (next) {
    case '%':
      t.type = token::percent;
      return spf_macro_error::none;
    case '_':
      t.type = token::space;
      return spf_macro_error::none;
    case '-':
      t.type = token::url_space;
      return spf_macro_error::none;
    case '{':
      t.type = token::macro;
      return read_macro(text, at, context, t);
    default:
      return spf_macro_error::bad_percent;
  }
}

std::string dotted_quad(const core::ip_address& ip) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out += '.';
    out += std::to_string(ip.bytes[i]);
  }
  return out;
}

// The value of a letter; `scratch` holds the ones made on the spot.
std::string_view letter_value(char letter, const spf_macro_values& v, std::string& scratch) {
  switch (lower(letter)) {
    case 's':
      return v.sender;
    case 'l':
      return v.local_part;
    case 'o':
      return v.sender_domain;
    case 'd':
      return v.domain;
    case 'p':
      return v.validated;
    case 'h':
      return v.helo;
    case 'r':
      return v.receiver;
    case 'v':
      return v.ip.v6 ? "ip6" : "in-addr";
    case 'i':
      return scratch = spf_dotted_ip(v.ip);
    case 'c':
      return scratch = v.ip.v6 ? core::to_string(v.ip) : dotted_quad(v.ip);
    case 't':
      return scratch = std::to_string(v.timestamp_s);
    default:
      return {};
  }
}

// §7.3: split on the delimiters, optionally reverse, keep the right-most parts, join by ".".
std::string transform(std::string_view value, const token& t) {
  if (t.digits == 0 && !t.reverse && t.delimiters.empty()) return std::string(value);
  const std::string_view delimiters = t.delimiters.empty() ? "." : t.delimiters;
  std::vector<std::string_view> parts;
  std::string_view rest = value;
  for (;;) {
    std::size_t cut = rest.find_first_of(delimiters);
    parts.push_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  if (t.reverse) std::reverse(parts.begin(), parts.end());
  std::size_t first = 0;
  if (t.digits != 0 && t.digits < parts.size()) first = parts.size() - t.digits;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

// RFC 3986 §2.3 unreserved characters stay; everything else becomes %XX.
std::string url_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(ch)) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

void append_token(std::string& out, const token& t, std::string_view text,
                  const spf_macro_values& v) {
  switch (t.type) {
    case token::literal:
      out += text[t.begin];
      return;
    case token::percent:
      out += '%';
      return;
    case token::space:
      out += ' ';
      return;
    case token::url_space:
      out += "%20";
      return;
    case token::macro:
      break;
  }
  std::string scratch;
  std::string value = transform(letter_value(t.letter, v, scratch), t);
  out += lower(t.letter) != t.letter ? url_escape(value) : value;  // upper case: escaped
}

}  // namespace

const char* to_string(spf_macro_error e) {
  switch (e) {
    case spf_macro_error::none:
      return "ok";
    case spf_macro_error::bad_character:
      return "character not allowed";
    case spf_macro_error::bad_percent:
      return "'%' not followed by '{', '%', '_' or '-'";
    case spf_macro_error::unknown_letter:
      return "unknown macro letter";
    case spf_macro_error::exp_only_letter:
      return "macro letters c, r, t are for exp text only";
    case spf_macro_error::zero_digits:
      return "macro transformer digits must be nonzero";
    case spf_macro_error::bad_macro:
      return "malformed macro (expected '%{' letter "
             "[digits][r][delimiters] '}')";
    case spf_macro_error::too_long:
      return "macro expansion too long";
  }
  return "unknown";
}

spf_macro_check check_spf_macros(std::string_view text, spf_macro_context context) {
  spf_macro_check r;
  token t;
  for (std::size_t at = 0; at < text.size(); at = t.end) {
    r.error = next_token(text, at, context, t);
    if (!r.ok()) {
      r.error_offset = at;
      return r;
    }
    if (t.type == token::literal) continue;
    if (t.type == token::macro && lower(t.letter) == 'p') r.uses_p = true;
    r.literal_tail = t.end;
  }
  r.ends_with_macro = !text.empty() && r.literal_tail == text.size();
  return r;
}

spf_expansion expand_spf_macros(std::string_view text, spf_macro_context context,
                                const spf_macro_values& values, std::size_t output_bytes_max) {
  spf_expansion r;
  // The whole string is checked first, so that a syntax error is reported as such however
  // long the expansion before it would be.
  r.error = check_spf_macros(text, context).error;
  token t;
  for (std::size_t at = 0; r.ok() && at < text.size(); at = t.end) {
    (void)next_token(text, at, context, t);
    append_token(r.text, t, text, values);
    if (r.text.size() > output_bytes_max) r.error = spf_macro_error::too_long;
    if (!r.ok()) break;
  }
  if (!r.ok()) r.text.clear();
  return r;
}

std::string spf_query_name(std::string_view expanded) {
  if (!expanded.empty() && expanded.back() == '.') expanded.remove_suffix(1);
  while (expanded.size() > 253) {
    std::size_t dot = expanded.find('.');
    if (dot == std::string_view::npos) break;  // one long label: no valid name, left as is
    expanded.remove_prefix(dot + 1);
  }
  return std::string(expanded);
}

std::string spf_dotted_ip(const core::ip_address& ip) {
  if (!ip.v6) return dotted_quad(ip);
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t b : ip.bytes) {
    if (!out.empty()) out += '.';
    out += hex[b >> 4];
    out += '.';
    out += hex[b & 0xf];
  }
  return out;
}

bool spf_is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    const std::size_t length = (dot == std::string_view::npos ? name.size() : dot) - start;
    if (length == 0 || length > 63) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string spf_reverse_name(const core::ip_address& ip) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  if (!ip.v6) {
    for (int i = 3; i >= 0; --i) out += std::to_string(ip.bytes[i]) + ".";
    return out + "in-addr.arpa";
  }
  for (int i = 15; i >= 0; --i) {
    out += hex[ip.bytes[i] & 0xf];
    out += '.';
    out += hex[ip.bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string spf_name_key(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = lower(c);
  return out;
}

bool spf_name_under(std::string_view name, std::string_view domain) {
  auto trim = [](std::string_view s) {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
  };
  name = trim(name);
  domain = trim(domain);
  auto same = [](std::string_view x, std::string_view y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](char a, char b) { return lower(a) == lower(b); });
  };
  if (name.size() == domain.size()) return same(name, domain);
  return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
         same(name.substr(name.size() - domain.size()), domain);
}

}  // namespace mailsim::auth
