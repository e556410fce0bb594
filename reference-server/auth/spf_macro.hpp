// mailsim::auth SPF macros — the macro-string syntax of RFC 7208 §7.1 and its expansion
// (§7.2 letters, §7.3 processing).
//
// Contract: pure functions, no I/O, never throw (beyond std::bad_alloc).
// - check_spf_macros() reads a macro-string (a domain-spec's, an unknown modifier's) or an
//   explain-string (the TXT text an exp= modifier points at, §6.2: macro-strings and SP)
//   and says whether it follows the grammar: literals are visible ASCII (SP too in an
//   explain-string); "%" starts "%{" letter transformers *delimiter "}", "%%", "%_" or
//   "%-" and nothing else; letters are s l o d i p h v (any case), plus c r t in an
//   explain-string only (§7.2); the DIGIT transformer is nonzero (§7.3). It also reports
//   whether "p" is used (its value needs DNS) and where the literal tail after the last
//   macro-expand begins (for the domain-end rule of §7.1).
// - expand_spf_macros() expands a string check_spf_macros() accepts; on a string it refuses
//   it returns that error, so it is safe on any input. Transformers: split on the
//   delimiters ("." by default), reverse on "r", keep the right-most DIGIT parts, join with
//   "." (§7.3); an upper-case letter URL-escapes its expansion (RFC 3986 unreserved
//   characters kept, §7.3). "%%" is "%", "%_" a space, "%-" "%20". The output is bounded
//   (too_long beyond output_bytes_max).
// - spf_query_name() turns an expanded domain-spec into the name to ask DNS for: the final
//   dot dropped, then, over 253 octets, whole labels removed from the left (§7.3).
// Values: "i" is the dotted quad for IPv4 and, for IPv6, the 32 nibbles in upper-case hex
// separated by dots — the form the OpenSPF RFC 7208 test suite expects in explanations
// (RFC 7208 §7.4 prints them in lower case; DNS names compare without case, so lookups are
// the same either way); "c" is the dotted quad or the RFC 5952 text; "v" is "in-addr" or
// "ip6". An IPv4-mapped IPv6 client must be handed over as IPv4 (§5 "ip4-mapped").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::auth {

// Where a macro-string stands: a domain-spec (or unknown modifier), or explanation text.
enum class spf_macro_context { domain, explanation };

enum class spf_macro_error {
  none = 0,
  bad_character,    // a control, non-ASCII or (outside explanations) space character
  bad_percent,      // "%" not followed by "{", "%", "_" or "-"
  unknown_letter,   // "%{x}" with x not a macro letter
  exp_only_letter,  // c, r or t outside explanation text (§7.2)
  zero_digits,      // "%{d0}": the DIGIT transformer must be nonzero (§7.3)
  bad_macro,        // "%{" not closed by "}" after transformers and delimiters
  too_long,         // the expansion exceeds its bound
};

const char* to_string(spf_macro_error e);

struct spf_macro_check {
  spf_macro_error error = spf_macro_error::none;
  std::size_t error_offset = 0;  // where the offending character or macro starts
  bool uses_p = false;           // "%{p}" (any case) appears
  // Offset just after the last macro-expand (0 when there is none): the literal tail that a
  // domain-spec's "." toplabel must come from (§7.1 domain-end).
  std::size_t literal_tail = 0;
  bool ends_with_macro = false;  // the string ends with a macro-expand

  bool ok() const { return error == spf_macro_error::none; }
};

spf_macro_check check_spf_macros(std::string_view text, spf_macro_context context);

// The values the macro letters stand for (§7.2). Views: the caller keeps the text alive for
// the expansion (an evaluation builds these for every expansion; copies of every value each
// time cost more than most expansions).
struct spf_macro_values {
  std::string_view sender;         // s: <sender>
  std::string_view local_part;     // l
  std::string_view sender_domain;  // o
  std::string_view domain;         // d: the <domain> being checked now
  core::ip_address ip;             // i, c, v
  std::string_view validated;      // p: the validated domain name of <ip>, or "unknown"
  std::string_view helo;           // h
  std::string_view receiver;       // r
  std::int64_t timestamp_s = 0;    // t: seconds since the epoch
};

struct spf_expansion {
  std::string text;
  spf_macro_error error = spf_macro_error::none;
  // A %{p} came before any syntax error (as check_spf_macros() says): its value was
  // values.validated, which a caller may have to find first and expand again.
  bool uses_p = false;

  bool ok() const { return error == spf_macro_error::none; }
};

inline constexpr std::size_t spf_expansion_bytes_max = 8192;

spf_expansion expand_spf_macros(std::string_view text, spf_macro_context context,
                                const spf_macro_values& values,
                                std::size_t output_bytes_max = spf_expansion_bytes_max);

// A macro-string check_spf_macros() accepts, read once into pieces, so that expanding it
// again (a parsed record's domain-spec, at every evaluation) copies its literal runs whole
// and does not read it character by character: literal runs by offset in the text, and the
// escapes and macro-expands as read.
struct spf_macro_piece {
  enum kind : std::uint8_t { literal, space, url_space, macro };
  kind type = literal;
  char letter = 0;                    // macro: as written
  bool reverse = false;               // macro
  std::uint8_t delimiters = 0;        // macro: the set of delimiters, one bit each ("." when none)
  std::uint16_t digits = 0;           // macro: 0 = all parts
  std::uint32_t begin = 0, size = 0;  // literal: the run [begin, begin + size) of the text
};
using spf_macro_pieces = std::vector<spf_macro_piece>;

// The pieces of `text`; empty when check_spf_macros() refuses it (then expand the text).
spf_macro_pieces split_spf_macros(std::string_view text, spf_macro_context context);

// What expand_spf_macros(text, context, values, output_bytes_max) gives, for a `text` that
// split_spf_macros() read into `pieces` (not empty).
spf_expansion expand_spf_pieces(std::string_view text, const spf_macro_pieces& pieces,
                                const spf_macro_values& values,
                                std::size_t output_bytes_max = spf_expansion_bytes_max);

std::string spf_query_name(std::string_view expanded);
// The same name as a view into `expanded` (it is always a part of it).
std::string_view spf_query_name_view(std::string_view expanded);

// The "i" form of an address (see above).
std::string spf_dotted_ip(const core::ip_address& ip);
// The same written into `buffer`, without an allocation; the view is of `buffer`.
inline constexpr std::size_t spf_dotted_ip_max = 63;  // 32 nibbles and 31 dots
std::string_view spf_dotted_ip(const core::ip_address& ip, char (&buffer)[spf_dotted_ip_max]);

// Names the evaluation asks about or compares:
// - spf_is_dns_name(): labels of 1 to 63 octets, at most 253 in all, no final dot
//   (RFC 1035 §2.3.4); a target that is not one cannot exist and is never asked.
// - spf_reverse_name(): the in-addr.arpa / ip6.arpa name of an address, lower case
//   (RFC 1035 §3.5, RFC 3596 §2.5), for ptr and %{p} (§5.5).
// - spf_name_under(): `name` is `domain` or a subdomain of it, without regard to case or a
//   final dot (the ptr match of §5.5, the %{p} choice of §7.3).
// - spf_name_key(): the form names are compared and kept in — ASCII lower case (RFC 4343),
//   without a final dot. spf_is_name_key() says whether `name` is already in that form;
//   spf_name_equals() compares a name of any form with a key without making one.
bool spf_is_dns_name(std::string_view name);
std::string spf_name_key(std::string_view name);
bool spf_is_name_key(std::string_view name);
// Inline: an evaluation compares names for every answer it looks for.
inline bool spf_name_equals(std::string_view name, std::string_view key) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.size() != key.size()) return false;
  if (name.data() == key.data()) return true;  // the key itself (callers hand queries()' names)
  if (name == key) return true;                // names are almost always keys already
  for (std::size_t i = 0; i < key.size(); ++i)
    if (core::ascii_lower(name[i]) != key[i]) return false;
  return true;
}
std::string spf_reverse_name(const core::ip_address& ip);
bool spf_name_under(std::string_view name, std::string_view domain);

}  // namespace mailsim::auth
