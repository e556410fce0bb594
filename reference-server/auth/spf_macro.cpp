// RFC 7208 §7 macro-strings (spf_macro.hpp): the syntax check and the expansion, in one pass
// over the text each. The names (query names, reverse names, keys) are in spf_names.cpp.
#include "reference-server/auth/spf_macro.hpp"

#include <algorithm>
#include <cstring>

#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::ascii_lower;
using core::is_alpha;
using core::is_digit;

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

constexpr unsigned digits_cap = 1000;  // more parts than any name has: "all of them"

// Character classes as switches: these run for every character of every macro expanded, and a
// search in a string of candidates costs a library call each time.
enum class letter_kind { unknown, domain, exp_only };

letter_kind kind_of(char lower_letter) {
  switch (lower_letter) {
    case 's':
    case 'l':
    case 'o':
    case 'd':
    case 'i':
    case 'p':
    case 'h':
    case 'v':
      return letter_kind::domain;
    case 'c':
    case 'r':
    case 't':
      return letter_kind::exp_only;  // §7.2
    default:
      return letter_kind::unknown;
  }
}

// §7.1 delimiter: one bit each, so that a macro's delimiters make a set (0: not one).
unsigned delimiter_bit(char c) {
  switch (c) {
    case '.':
      return 1u << 0;
    case '-':
      return 1u << 1;
    case '+':
      return 1u << 2;
    case ',':
      return 1u << 3;
    case '/':
      return 1u << 4;
    case '_':
      return 1u << 5;
    case '=':
      return 1u << 6;
    default:
      return 0;
  }
}

bool is_unreserved(char c) {  // RFC 3986 §2.3
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
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
  switch (kind_of(ascii_lower(t.letter))) {
    case letter_kind::domain:
      break;
    case letter_kind::exp_only:
      if (context != spf_macro_context::explanation) return spf_macro_error::exp_only_letter;
      break;
    case letter_kind::unknown:
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
  if (i < text.size() && ascii_lower(text[i]) == 'r') {
    t.reverse = true;
    ++i;
  }
  std::size_t delim_begin = i;
  while (i < text.size() && delimiter_bit(text[i]) != 0) ++i;
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

// The value of a letter; `scratch` holds the ones made on the spot.
std::string_view letter_value(char letter, const spf_macro_values& v, std::string& scratch) {
  switch (ascii_lower(letter)) {
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
    case 'c':  // an IPv4 address is the same dotted quad either way
      return scratch = v.ip.v6 ? core::to_string(v.ip) : spf_dotted_ip(v.ip);
    case 't':
      return scratch = std::to_string(v.timestamp_s);
    default:
      return {};
  }
}

// The output of one expansion, written in place into a string sized ahead of it: a string
// append per piece (a call into the library each) costs more than most pieces.
class sink {
 public:
  sink(std::string& s, std::size_t capacity) : s_(s) {
    s_.resize(capacity);
    at_ = s_.data();
  }
  std::size_t size() const { return static_cast<std::size_t>(at_ - s_.data()); }
  void finish() { s_.resize(size()); }

  void put(char c) {
    room(1);
    *at_++ = c;
  }
  void put(std::string_view v) {
    if (v.empty()) return;
    room(v.size());
    std::memcpy(at_, v.data(), v.size());
    at_ += v.size();
  }
  // RFC 3986 §2.3 unreserved characters as they are and everything else as %XX when
  // `escape` (an upper-case macro letter, §7.3).
  void put(std::string_view v, bool escape) {
    if (!escape) return put(v);
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : v) {
      const auto c = static_cast<unsigned char>(ch);
      if (is_unreserved(ch)) {
        put(ch);
      } else {
        put('%');
        put(hex[c >> 4]);
        put(hex[c & 0xf]);
      }
    }
  }

 private:
  void room(std::size_t n) {
    if (static_cast<std::size_t>(s_.data() + s_.size() - at_) >= n) return;
    const std::size_t used = size();
    s_.resize(std::max(2 * s_.size(), used + n));
    at_ = s_.data() + used;
  }

  std::string& s_;
  char* at_;
};

// §7.3 transformers: split on the delimiters ("." when none), optionally reverse, keep the
// right-most DIGIT parts, join with ".". Walked in place, so a transformer costs no allocation.
class transformer {
 public:
  explicit transformer(const token& t) : reverse_(t.reverse), digits_(t.digits) {
    for (char c : t.delimiters) set_ |= delimiter_bit(c);
    if (set_ == 0) set_ = delimiter_bit('.');
  }

  void append(sink& out, std::string_view value, bool escape) const {
    std::size_t first = 0;  // parts dropped from the front of the (reversed) list
    if (digits_ != 0) {
      const std::size_t n = 1 + static_cast<std::size_t>(std::count_if(
                                    value.begin(), value.end(), [&](char c) { return cut(c); }));
      if (digits_ < n) first = n - digits_;
    }
    return reverse_ ? right_to_left(out, value, first, escape)
                    : left_to_right(out, value, first, escape);
  }

 private:
  bool cut(char c) const { return (delimiter_bit(c) & set_) != 0; }

  void left_to_right(sink& out, std::string_view value, std::size_t first, bool escape) const {
    std::size_t begin = 0;
    for (std::size_t skipped = 0; skipped < first; ++begin)
      if (cut(value[begin])) ++skipped;
    for (std::size_t i = begin;; ++i) {
      if (i < value.size() && !cut(value[i])) continue;
      out.put(value.substr(begin, i - begin), escape);
      if (i == value.size()) return;
      out.put('.');
      begin = i + 1;
    }
  }

  void right_to_left(sink& out, std::string_view value, std::size_t first, bool escape) const {
    std::size_t end = value.size();
    for (std::size_t skipped = 0; skipped < first;)
      if (cut(value[--end])) ++skipped;
    for (;;) {
      std::size_t begin = end;
      while (begin > 0 && !cut(value[begin - 1])) --begin;
      out.put(value.substr(begin, end - begin), escape);
      if (begin == 0) return;
      out.put('.');
      end = begin - 1;
    }
  }

  bool reverse_;
  unsigned digits_;
  unsigned set_ = 0;
};

void append_transformed(sink& out, std::string_view value, const token& t, bool escape) {
  if (t.digits == 0 && !t.reverse && t.delimiters.empty()) return out.put(value, escape);
  transformer(t).append(out, value, escape);
}

void append_token(sink& out, const token& t, std::string_view text, const spf_macro_values& v) {
  switch (t.type) {
    case token::literal:
      out.put(text[t.begin]);
      return;
    case token::percent:
      out.put('%');
      return;
    case token::space:
      out.put(' ');
      return;
    case token::url_space:
      out.put("%20");
      return;
    case token::macro:
      break;
  }
  std::string scratch;
  const bool escape = ascii_lower(t.letter) != t.letter;  // upper case: URL-escaped
  append_transformed(out, letter_value(t.letter, v, scratch), t, escape);
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
    if (t.type == token::macro && ascii_lower(t.letter) == 'p') r.uses_p = true;
    r.literal_tail = t.end;
  }
  r.ends_with_macro = !text.empty() && r.literal_tail == text.size();
  return r;
}

spf_expansion expand_spf_macros(std::string_view text, spf_macro_context context,
                                const spf_macro_values& values, std::size_t output_bytes_max) {
  spf_expansion r;
  sink out(r.text, std::min(output_bytes_max, text.size() + 48));
  // One pass that reads the whole string even past the bound, so that a syntax error is
  // reported as such however long the expansion before it would be.
  bool too_long = false;
  token t;
  for (std::size_t at = 0; at < text.size(); at = t.end) {
    // A run of literal characters is checked and appended at once.
    std::size_t end = at;
    while (end < text.size() && text[end] != '%' && literal_allowed(text[end], context)) ++end;
    if (end > at) {
      if (!too_long) out.put(text.substr(at, end - at));
      too_long = out.size() > output_bytes_max;
      t.end = end;
      continue;
    }
    r.error = next_token(text, at, context, t);
    if (!r.ok()) break;
    r.uses_p |= t.type == token::macro && ascii_lower(t.letter) == 'p';
    if (too_long) continue;
    append_token(out, t, text, values);
    too_long = out.size() > output_bytes_max;
  }
  out.finish();
  if (r.ok() && too_long) r.error = spf_macro_error::too_long;
  if (!r.ok()) r.text.clear();
  return r;
}

}  // namespace mailsim::auth
