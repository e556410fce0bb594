// RFC 7208 §7 macro-strings (spf_macro.hpp): the syntax check and the expansion, in one pass
// over the text each. The names (query names, reverse names, keys) are in spf_names.cpp.
#include "reference-server/auth/spf_macro.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::ascii_lower;
using core::is_alpha;
using core::is_digit;

// A macro-expand as expansion needs it: the letter as written and its transformers, the
// delimiters as a set (delimiter_bit(); "." when none are written).
struct macro_form {
  char letter = 0;
  unsigned digits = 0;  // 0 = all parts
  bool reverse = false;
  unsigned set = 0;
};

// One piece of a macro-string: a literal character, or a macro-expand.
struct token {
  enum kind { literal, percent, space, url_space, macro } type = literal;
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last character
  char letter = 0;      // macro: as written
  unsigned digits = 0;  // macro: 0 = all parts
  bool reverse = false;
  std::string_view delimiters;

  macro_form form() const;
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

// §7.1 delimiter: one bit each, so that a macro's delimiters make a set (0: not one). A table,
// not a switch: transformers ask for every character of the values they split.
constexpr std::array<std::uint8_t, 128> delimiter_bits = [] {
  std::array<std::uint8_t, 128> t{};
  const char delimiters[] = {'.', '-', '+', ',', '/', '_', '='};
  for (unsigned i = 0; i < sizeof delimiters; ++i)
    t[static_cast<unsigned char>(delimiters[i])] = static_cast<std::uint8_t>(1u << i);
  return t;
}();

unsigned delimiter_bit(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < delimiter_bits.size() ? delimiter_bits[u] : 0;
}

macro_form token::form() const {
  macro_form f{letter, digits, reverse, 0};
  for (char c : delimiters) f.set |= delimiter_bit(c);
  if (f.set == 0) f.set = delimiter_bit('.');
  return f;
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

// Room for the values made on the spot: "i" (63 characters for IPv6), "c" of IPv4, "t".
using value_buffer = char[spf_dotted_ip_max];

std::string_view decimal(std::int64_t n, value_buffer& buffer) {
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, n);
  return std::string_view(buffer, static_cast<std::size_t>(r.ptr - buffer));
}

// The value of a letter; `buffer` holds the ones made on the spot, `scratch` the IPv6 "c"
// (written into a buffer, these cost no allocation: "i" is in most macros).
std::string_view letter_value(char letter, const spf_macro_values& v, value_buffer& buffer,
                              std::string& scratch) {
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
      return spf_dotted_ip(v.ip, buffer);
    case 'c':  // an IPv4 address is the same dotted quad either way
      return v.ip.v6 ? std::string_view(scratch = core::to_string(v.ip))
                     : spf_dotted_ip(v.ip, buffer);
    case 't':
      return decimal(v.timestamp_s, buffer);
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
    end_ = at_ + s_.size();
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
  // `escape` (an upper-case macro letter, §7.3). The escaping is out of line, so that the
  // usual case is as cheap as put(v).
  void put(std::string_view v, bool escape) {
    if (escape) {
      put_escaped(v);
    } else {
      put(v);
    }
  }

 private:
  [[gnu::noinline]] void put_escaped(std::string_view v) {
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

  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) >= n) return;
    const std::size_t used = size();
    s_.resize(std::max(2 * s_.size(), used + n));
    at_ = s_.data() + used;
    end_ = s_.data() + s_.size();
  }

  std::string& s_;
  char* at_;
  char* end_;  // of s_'s characters
};

// §7.3 transformers: split on the delimiters ("." when none), optionally reverse, keep the
// right-most DIGIT parts, join with ".". Walked in place, so a transformer costs no allocation.
class transformer {
 public:
  explicit transformer(const macro_form& f) : reverse_(f.reverse), digits_(f.digits), set_(f.set) {}

  void append(sink& out, std::string_view value, bool escape) const {
    // "." alone, the usual set, is tested without the table (this runs for every character).
    if (set_ == delimiter_bits['.'])
      return walk(out, value, escape, [](char c) { return c == '.'; });
    const unsigned set = set_;
    walk(out, value, escape, [set](char c) { return (delimiter_bit(c) & set) != 0; });
  }

 private:
  template <class Cut>
  void walk(sink& out, std::string_view value, bool escape, Cut cut) const {
    std::size_t first = 0;  // parts dropped from the front of the (reversed) list
    if (digits_ != 0) {
      const std::size_t n =
          1 + static_cast<std::size_t>(std::count_if(value.begin(), value.end(), cut));
      if (digits_ < n) first = n - digits_;
    }
    return reverse_ ? right_to_left(out, value, first, escape, cut)
                    : left_to_right(out, value, first, escape, cut);
  }

  template <class Cut>
  static void left_to_right(sink& out, std::string_view value, std::size_t first, bool escape,
                            Cut cut) {
    std::size_t begin = 0;
    for (std::size_t skipped = 0; skipped < first; ++begin)
      if (cut(value[begin])) ++skipped;
    for (std::size_t i = begin;; ++i) {
      if (i < value.size() && !cut(value[i])) continue;
      out.put(std::string_view(value.data() + begin, i - begin), escape);
      if (i == value.size()) return;
      out.put('.');
      begin = i + 1;
    }
  }

  template <class Cut>
  static void right_to_left(sink& out, std::string_view value, std::size_t first, bool escape,
                            Cut cut) {
    const char* const data = value.data();
    std::size_t end = value.size();
    for (std::size_t skipped = 0; skipped < first;)
      if (cut(data[--end])) ++skipped;
    for (;;) {
      std::size_t begin = end;
      while (begin > 0 && !cut(data[begin - 1])) --begin;
      out.put(std::string_view(data + begin, end - begin), escape);
      if (begin == 0) return;
      out.put('.');
      end = begin - 1;
    }
  }

  bool reverse_;
  unsigned digits_;
  unsigned set_ = 0;
};

void append_transformed(sink& out, std::string_view value, const macro_form& f, bool escape) {
  // Split on "." and joined with "." again: the value as it is.
  if (f.digits == 0 && !f.reverse && f.set == delimiter_bits['.']) return out.put(value, escape);
  transformer(f).append(out, value, escape);
}

// "i" of an IPv4 client split on dots alone, keeping every part, as is or reversed: the
// common %{ir} of DNS-list style policies. Its dotted quad is written straight from the
// address in the order asked, which gives what splitting and joining it would.
bool is_whole_dotted_quad(const macro_form& f, const spf_macro_values& v) {
  return ascii_lower(f.letter) == 'i' && !v.ip.v6 && (f.digits == 0 || f.digits >= 4) &&
         f.set == delimiter_bits['.'];
}

// The decimal text of every octet value, its length in the last place: a look-up per octet
// rather than divisions.
constexpr std::array<std::array<char, 4>, 256> octet_texts = [] {
  std::array<std::array<char, 4>, 256> t{};
  for (unsigned b = 0; b < 256; ++b) {
    unsigned n = 0;
    if (b >= 100) t[b][n++] = static_cast<char>('0' + b / 100);
    if (b >= 10) t[b][n++] = static_cast<char>('0' + b / 10 % 10);
    t[b][n++] = static_cast<char>('0' + b % 10);
    t[b][3] = static_cast<char>(n);
  }
  return t;
}();

// Digits and dots only: URL escaping (an upper-case "I") leaves them as they are.
void put_dotted_quad(sink& out, const core::ip_address& ip, bool reverse) {
  char buffer[16];
  char* p = buffer;
  for (int i = 0; i < 4; ++i) {
    const std::array<char, 4>& text = octet_texts[ip.bytes[reverse ? 3 - i : i]];
    std::memcpy(p, text.data(), 3);  // the fourth place says how many of them count
    p += text[3];
    *p++ = '.';
  }
  out.put(std::string_view(buffer, static_cast<std::size_t>(p - buffer - 1)));  // no final "."
}

void append_macro(sink& out, const macro_form& f, const spf_macro_values& v) {
  if (is_whole_dotted_quad(f, v)) return put_dotted_quad(out, v.ip, f.reverse);
  value_buffer buffer;
  std::string scratch;
  const bool escape = ascii_lower(f.letter) != f.letter;  // upper case: URL-escaped
  append_transformed(out, letter_value(f.letter, v, buffer, scratch), f, escape);
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
  append_macro(out, t.form(), v);
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
      if (!too_long) out.put(std::string_view(text.data() + at, end - at));
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

spf_macro_pieces split_spf_macros(std::string_view text, spf_macro_context context) {
  spf_macro_pieces pieces;
  token t;
  for (std::size_t at = 0; at < text.size(); at = t.end) {
    if (next_token(text, at, context, t) != spf_macro_error::none) return {};
    spf_macro_piece p;
    switch (t.type) {
      case token::literal:
      case token::percent:  // "%%": the second "%" of the text
        if (!pieces.empty() && pieces.back().type == spf_macro_piece::literal &&
            t.type == token::literal && pieces.back().begin + pieces.back().size == at) {
          ++pieces.back().size;  // the run goes on
          continue;
        }
        p.begin = static_cast<std::uint32_t>(t.type == token::percent ? at + 1 : at);
        p.size = 1;
        break;
      case token::space:
        p.type = spf_macro_piece::space;
        break;
      case token::url_space:
        p.type = spf_macro_piece::url_space;
        break;
      case token::macro: {
        const macro_form f = t.form();
        p.type = spf_macro_piece::macro;
        p.letter = f.letter;
        p.reverse = f.reverse;
        p.delimiters = static_cast<std::uint8_t>(f.set);
        p.digits = static_cast<std::uint16_t>(f.digits);  // at most digits_cap
        break;
      }
    }
    pieces.push_back(p);
  }
  return pieces;
}

// Piece by piece as expand_spf_macros() goes token by token: the same output, bound and
// uses_p (the text has no syntax error, or it would have no pieces).
spf_expansion expand_spf_pieces(std::string_view text, const spf_macro_pieces& pieces,
                                const spf_macro_values& values, std::size_t output_bytes_max) {
  spf_expansion r;
  sink out(r.text, std::min(output_bytes_max, text.size() + 48));
  bool too_long = false;
  for (const spf_macro_piece& p : pieces) {
    const bool macro = p.type == spf_macro_piece::macro;
    r.uses_p |= macro && ascii_lower(p.letter) == 'p';
    if (too_long) continue;
    switch (p.type) {
      case spf_macro_piece::literal:
        out.put(text.substr(p.begin, p.size));
        break;
      case spf_macro_piece::space:
        out.put(' ');
        break;
      case spf_macro_piece::url_space:
        out.put("%20");
        break;
      case spf_macro_piece::macro:
        append_macro(out, macro_form{p.letter, p.digits, p.reverse, p.delimiters}, values);
        break;
    }
    too_long = out.size() > output_bytes_max;
  }
  out.finish();
  if (too_long) {
    r.error = spf_macro_error::too_long;
    r.text.clear();
  }
  return r;
}

}  // namespace mailsim::auth
