#include "reference-server/smtp/address.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "reference-server/core/ascii.hpp"

namespace mailsim::smtp {
namespace {

// RFC 5321 §4.5.3.1.1 and §4.5.3.1.2: the size limits on the parts of a mailbox.
constexpr std::size_t local_part_bytes_max = 64;
constexpr std::size_t domain_bytes_max = 255;
// RFC 1035 §2.3.4: one DNS label is at most 63 octets.
constexpr std::size_t label_bytes_max = 63;

using core::iequals;
using core::is_alpha;
using core::is_digit;

// RFC 5322 atext (ASCII) as a table: a local part is checked byte by byte.
constexpr auto atext_chars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = core::is_atext(static_cast<char>(c));
  return table;
}();

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

bool in_range(unsigned char c, unsigned char low, unsigned char high) {
  return c >= low && c <= high;
}

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 when it is ill-formed:
// overlong forms, surrogates and code points above U+10FFFF are refused (RFC 3629 §4).
std::size_t utf8_sequence_bytes(std::string_view text, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned char {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
  };
  const unsigned char lead = at(0);
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (in_range(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (in_range(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // no overlong 3-byte forms
    if (lead == 0xED) second_high = 0x9F;  // no UTF-16 surrogates
  } else if (in_range(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // no overlong 4-byte forms
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (!in_range(at(1), second_low, second_high)) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!in_range(at(k), 0x80, 0xBF)) return 0;
  }
  return length;
}

// What a scan of one part of an address found.
struct scan_state {
  bool utf8 = false;
  std::string error;
  bool failed() const { return !error.empty(); }
};

// Takes the UTF-8 sequence at text[i] (RFC 6531 §3.3 UTF8-non-ascii) and returns its
// length, or 0 with an error set.
std::size_t take_utf8(std::string_view text, std::size_t i, bool allow_utf8, scan_state& st) {
  if (!allow_utf8) {
    st.error = "non-ASCII address needs SMTPUTF8";
    return 0;
  }
  const std::size_t n = utf8_sequence_bytes(text, i);
  if (n == 0) {
    st.error = "invalid UTF-8 in address";
    return 0;
  }
  st.utf8 = true;
  return n;
}

// RFC 5321 §4.1.2 sub-domain = Let-dig [Ldh-str]; RFC 6531 §3.3 adds U-labels, whose
// non-ASCII octets count as letters here (IDNA2008 validity is left to the resolver).
bool check_label(std::string_view label, bool allow_utf8, scan_state& st) {
  if (label.empty()) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  bool ascii = true;
  for (std::size_t i = 0; i < label.size();) {
    const char c = label[i];
    if (is_non_ascii(c)) {
      const std::size_t n = take_utf8(label, i, allow_utf8, st);
      if (n == 0) return false;
      ascii = false;
      i += n;
      continue;
    }
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    ++i;
  }
  // A U-label's length limit applies to its A-label form, which this layer does not compute.
  return !ascii || label.size() <= label_bytes_max;
}

// RFC 5321 §4.1.2 Domain = sub-domain *("." sub-domain); no trailing dot.
bool check_dotted_domain(std::string_view domain, bool allow_utf8, scan_state& st) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot - start);
    if (!check_label(label, allow_utf8, st)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// RFC 5321 §4.1.3 Snum = 1*3DIGIT, representing a decimal integer value in 0..255.
bool check_ipv4(std::string_view text) {
  int parts = 0;
  std::size_t i = 0;
  for (;;) {
    std::size_t digits = 0;
    int value = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 4) {
      value = value * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (++parts == 4) return i == text.size();
    if (i >= text.size() || text[i] != '.') return false;
    ++i;
  }
}

// Counts the 16-bit groups of one side of an IPv6 address (RFC 5321 §4.1.3 IPv6-hex
// groups, with an optional trailing IPv4 part counted as two groups); -1 when malformed.
int count_ipv6_groups(std::string_view side, bool ipv4_allowed) {
  if (side.empty()) return 0;
  int groups = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = side.find(':', start);
    const std::string_view group = side.substr(start, colon - start);
    if (colon == std::string_view::npos && ipv4_allowed &&
        group.find('.') != std::string_view::npos) {
      return check_ipv4(group) ? groups + 2 : -1;
    }
    if (group.empty() || group.size() > 4) return -1;
    for (char c : group) {
      if (!is_hex(c)) return -1;
    }
    ++groups;
    if (colon == std::string_view::npos) return groups;
    start = colon + 1;
  }
}

// RFC 5321 §4.1.3 IPv6-addr: eight groups in full form; with "::", at most six groups
// written (the "::" stands for at least two), an IPv4 tail counting as two.
bool check_ipv6(std::string_view text) {
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) return count_ipv6_groups(text, true) == 8;
  const std::string_view head = text.substr(0, gap);
  const std::string_view tail = text.substr(gap + 2);
  if (tail.find("::") != std::string_view::npos) return false;
  const int before = count_ipv6_groups(head, false);
  const int after = count_ipv6_groups(tail, true);
  return before >= 0 && after >= 0 && before + after <= 6;
}

// RFC 5321 §4.1.3 address-literal. General-address-literal needs a tag registered with
// IANA and none but "IPv6" is, so other tags are refused.
bool check_address_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  const std::string_view inside = literal.substr(1, literal.size() - 2);
  constexpr std::string_view ipv6_tag = "IPv6:";
  if (inside.size() > ipv6_tag.size() && iequals(inside.substr(0, ipv6_tag.size()), ipv6_tag)) {
    return check_ipv6(inside.substr(ipv6_tag.size()));
  }
  return check_ipv4(inside);
}

// Validates a Domain or address-literal and returns its stored form: lower-case ASCII,
// and for an IPv6 literal the tag spelt "IPv6:" as in RFC 5321 §4.1.3.
std::string check_domain(std::string_view domain, bool allow_utf8, scan_state& st) {
  if (domain.empty()) {
    st.error = "missing domain";
    return {};
  }
  // RFC 5321 §4.5.3.1.2: a domain name is at most 255 octets.
  if (domain.size() > domain_bytes_max) {
    st.error = "domain longer than 255 octets";
    return {};
  }
  const bool literal = domain.front() == '[';
  const bool ok =
      literal ? check_address_literal(domain) : check_dotted_domain(domain, allow_utf8, st);
  if (!ok) {
    if (!st.failed()) st.error = literal ? "invalid address literal" : "invalid domain";
    return {};
  }
  std::string stored(domain.size(), '\0');
  std::transform(domain.begin(), domain.end(), stored.begin(), core::ascii_lower);
  if (literal && stored.size() > 5 && stored.compare(1, 5, "ipv6:") == 0) {
    stored.replace(1, 5, "IPv6:");
  }
  return stored;
}

// A read position in the text of a path.
struct cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool at_end() const { return pos >= text.size(); }
  char peek() const { return at_end() ? '\0' : text[pos]; }
  bool eat(char c) {
    if (peek() != c || at_end()) return false;
    ++pos;
    return true;
  }
};

// RFC 5321 §4.1.2 Quoted-string = DQUOTE *QcontentSMTP DQUOTE, with qtextSMTP
// (%d32-33 / %d35-91 / %d93-126) and quoted-pairSMTP (%d92 %d32-126); RFC 6531 §3.3 adds
// UTF8-non-ascii to qtextSMTP. Appends the unquoted text to `out`.
bool scan_quoted_string(cursor& c, bool allow_utf8, std::string& out, scan_state& st) {
  ++c.pos;  // the opening DQUOTE
  while (!c.at_end()) {
    const char ch = c.peek();
    if (ch == '"') {
      ++c.pos;
      return true;
    }
    if (is_non_ascii(ch)) {
      const std::size_t n = take_utf8(c.text, c.pos, allow_utf8, st);
      if (n == 0) return false;
      out.append(c.text.substr(c.pos, n));
      c.pos += n;
      continue;
    }
    if (ch == '\\') {
      ++c.pos;
      if (c.at_end()) break;
    }
    const char q = c.peek();
    if (q < 32 || q > 126) break;
    out += q;
    ++c.pos;
  }
  if (!st.failed()) st.error = "unterminated or invalid quoted local part";
  return false;
}

// RFC 5321 §4.1.2 Dot-string = Atom *("." Atom); RFC 6531 §3.3 adds UTF8-non-ascii to atext.
// The local part is appended to `out` in one piece once scanned: every MAIL and RCPT has one.
bool scan_dot_string(cursor& c, bool allow_utf8, std::string& out, scan_state& st) {
  const std::size_t start = c.pos;
  bool atom_empty = true;
  while (!c.at_end()) {
    const char ch = c.peek();
    if (ch == '.') {
      if (atom_empty) break;  // a leading dot or two dots in a row
      atom_empty = true;
      ++c.pos;
    } else if (is_non_ascii(ch)) {
      const std::size_t n = take_utf8(c.text, c.pos, allow_utf8, st);
      if (n == 0) return false;
      c.pos += n;
      atom_empty = false;
    } else if (atext_chars[static_cast<unsigned char>(ch)]) {
      atom_empty = false;
      ++c.pos;
    } else {
      break;
    }
  }
  out.append(c.text.substr(start, c.pos - start));
  if (atom_empty) {
    st.error = out.empty() ? "missing local part" : "invalid local part";
    return false;
  }
  return true;
}

// RFC 5321 §4.1.2 Local-part = Dot-string / Quoted-string.
bool scan_local_part(cursor& c, bool allow_utf8, mailbox& box, scan_state& st) {
  const std::size_t start = c.pos;
  box.local_part_quoted = c.peek() == '"';
  const bool ok = box.local_part_quoted ? scan_quoted_string(c, allow_utf8, box.local_part, st)
                                        : scan_dot_string(c, allow_utf8, box.local_part, st);
  if (!ok) return false;
  // RFC 5321 §4.5.3.1.1: 64 octets, counted as sent (quotes and backslashes included).
  if (c.pos - start > local_part_bytes_max) {
    st.error = "local part longer than 64 octets";
    return false;
  }
  return true;
}

// The extent of a domain starting at the cursor: up to the closing ']' of a literal, else
// up to the first character in `stops` (which no valid domain contains).
std::string_view take_domain_text(cursor& c, std::string_view stops) {
  const std::size_t start = c.pos;
  if (c.peek() == '[') {
    const std::size_t close = c.text.find(']', start);
    c.pos = close == std::string_view::npos ? c.text.size() : close + 1;
  } else {
    while (!c.at_end() && !core::is_one_of(stops, c.peek())) ++c.pos;
  }
  return c.text.substr(start, c.pos - start);
}

// RFC 5321 §4.1.2 A-d-l = At-domain *( "," At-domain ) ":", At-domain = "@" Domain.
// The route is checked and dropped: §3.6.1 and Appendix C say to ignore it.
bool skip_source_route(cursor& c, bool allow_utf8, scan_state& st) {
  do {
    if (!c.eat('@')) {
      st.error = "invalid source route";
      return false;
    }
    // A UTF-8 hop marks the path as UTF-8 too: the command needed SMTPUTF8 to be sent.
    const std::string_view hop = take_domain_text(c, ",:> ");
    if (check_domain(hop, allow_utf8, st).empty()) {
      if (hop.empty()) st.error = "invalid source route";
      return false;
    }
  } while (c.eat(','));
  if (!c.eat(':')) {
    st.error = "invalid source route";
    return false;
  }
  return true;
}

// RFC 5321 §4.1.1.3: "<Postmaster>" without a domain must be accepted by RCPT TO.
bool take_bare_postmaster(cursor& c, bool bracketed, mailbox& box) {
  constexpr std::string_view word = "postmaster";
  const std::string_view rest = c.text.substr(c.pos);
  if (rest.size() < word.size() || !iequals(rest.substr(0, word.size()), word)) return false;
  const char after = rest.size() > word.size() ? rest[word.size()] : '\0';
  if (bracketed ? after != '>' : (after != '\0' && after != ' ')) return false;
  box.local_part = std::string(rest.substr(0, word.size()));
  c.pos += word.size();
  return true;
}

// Mailbox = Local-part "@" ( Domain / address-literal ), RFC 5321 §4.1.2.
bool scan_mailbox(cursor& c, bool allow_utf8, bool bracketed, mailbox& box, scan_state& st) {
  if (!scan_local_part(c, allow_utf8, box, st)) return false;
  if (!c.eat('@')) {
    st.error = "expected local-part@domain";
    return false;
  }
  const std::string_view domain = take_domain_text(c, bracketed ? "> " : " ");
  box.domain = check_domain(domain, allow_utf8, st);
  box.utf8 = st.utf8;
  return !st.failed();
}

// The part inside the angle brackets (or all of it, when they are missing).
bool scan_path_body(cursor& c, bool bracketed, const address_options& options, path& out,
                    scan_state& st) {
  if (c.peek() == '@') {
    if (!skip_source_route(c, options.allow_utf8, st)) return false;
    out.had_source_route = true;
  } else if (options.allow_postmaster_bare && take_bare_postmaster(c, bracketed, out.box)) {
    return true;
  }
  return scan_mailbox(c, options.allow_utf8, bracketed, out.box, st);
}

path_parse failure(std::string error) {
  path_parse result;
  result.error = std::move(error);
  return result;
}

// Appends the mailbox as it is sent: a reply, a trace line or a queue record holds one per
// recipient, so it is built in place, with one allocation at most.
void append_mailbox(std::string& out, const mailbox& box) {
  const std::string& local = box.local_part;
  // RFC 5321 §4.1.2: a local part that is not a Dot-string must be sent as Quoted-string.
  bool dot_atom = !local.empty() && local.front() != '.' && local.back() != '.' &&
                  local.find("..") == std::string::npos;
  for (char c : local) {
    if (!atext_chars[static_cast<unsigned char>(c)] && c != '.' && !is_non_ascii(c)) {
      dot_atom = false;
    }
  }
  out.reserve(out.size() + local.size() + box.domain.size() + 4);
  if (dot_atom) {
    out += local;
  } else {
    out += '"';
    for (char c : local) {
      if (c == '"' || c == '\\') out += '\\';  // RFC 5321 §4.1.2 quoted-pairSMTP
      out += c;
    }
    out += '"';
  }
  if (!box.domain.empty()) (out += '@') += box.domain;
}

}  // namespace

std::string mailbox::to_string() const {
  std::string out;
  append_mailbox(out, *this);
  return out;
}

std::string path::to_string() const {
  if (null) return "<>";
  std::string out(1, '<');
  append_mailbox(out, box);
  out += '>';
  return out;
}

path_parse parse_path(std::string_view text, const address_options& options) {
  cursor c{text};
  while (c.eat(' ')) {
  }
  const bool bracketed = c.eat('<');
  if (!bracketed && !options.allow_missing_brackets) return failure("expected <address>");
  if (bracketed && c.eat('>')) {
    // RFC 5321 §4.1.1.2: the null reverse-path, for bounces.
    if (!options.allow_null) return failure("null address <> not allowed here");
    path_parse result;
    result.value.emplace().null = true;
    result.consumed = c.pos;
    return result;
  }
  path out;
  scan_state st;
  if (!scan_path_body(c, bracketed, options, out, st)) return failure(st.error);
  if (bracketed ? !c.eat('>') : (!c.at_end() && c.peek() != ' ')) {
    return failure(bracketed ? "expected '>' after the address"
                             : "unexpected text after the address");
  }
  path_parse result;
  result.value = std::move(out);
  result.consumed = c.pos;
  return result;
}

bool is_valid_domain(std::string_view domain, bool allow_utf8) {
  scan_state st;
  return !check_domain(domain, allow_utf8, st).empty();
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (!is_non_ascii(text[i])) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_bytes(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace mailsim::smtp
