// mailsim::auth SPF records — which TXT records are SPF records (RFC 7208 §4.5) and what
// one says: its terms, mechanisms, modifiers, qualifiers and CIDR lengths (§4.6, §5, §6),
// with the macro-string syntax of §7.1 checked everywhere it appears.
//
// Contract: pure functions, no I/O, never throw (beyond std::bad_alloc).
// - is_spf_record() is the §4.5 selection test: the record starts with "v=spf1" (any case)
//   followed by a space or its end. Other TXT records are none of SPF's business.
// - parse_spf_record() reads a whole selected record and refuses it (a typed error naming
//   the offending term) at the first term that does not follow the grammar, wherever it
//   stands (§4.6: syntax errors anywhere make the record a permerror):
//     record     = "v=spf1" *( 1*SP term ) *SP        (only SP separates terms)
//     modifier   = name "=" value, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." );
//                  redirect= and exp= take a domain-spec and appear at most once each
//                  (§6); other modifiers take any macro-string and are kept, unused
//     directive  = [ "+" / "-" / "~" / "?" ] mechanism (names in any case, §4.6.1)
//       all | include:domain-spec | exists:domain-spec | ptr[:domain-spec]
//       a[:domain-spec][dual-cidr] | mx[:domain-spec][dual-cidr]
//       ip4:ip4-network[/0-32] | ip6:ip6-network[/0-128]
//     dual-cidr  = [ "/" 0-32 ] [ "//" 0-128 ], digits without leading zeros
//     domain-spec = macro-string ending in a macro-expand or in "." toplabel ["."], where
//                  toplabel = alphanumerics with at least one letter, or alphanumerics and
//                  inner hyphens (§7.1); c, r and t macros are not allowed (§7.2)
//   The record must be 7-bit ASCII (§3.1, §4.5) and at most record_bytes_max long.
// - A parsed record keeps each term as written (for Received-SPF's mechanism= and for
//   problem reports) and the values still unexpanded: macros are expanded at evaluation.
// - spf_record_cache keeps parses by record text, so that a receiver checking mail from the
//   same domains again (the usual case) does not parse their records again. Same results as
//   parse_spf_record(); bounded (least recently used out first); not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::auth {

enum class spf_qualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };

enum class spf_mechanism_type { all, include, a, mx, ptr, ip4, ip6, exists };

const char* to_string(spf_mechanism_type t);

struct spf_mechanism {
  spf_qualifier qualifier = spf_qualifier::pass;
  spf_mechanism_type type = spf_mechanism_type::all;
  std::string domain_spec;         // include, exists, a, mx, ptr; "" = the current <domain>
  spf_macro_pieces domain_pieces;  // domain_spec read into pieces when it has a macro
  core::ip_address network;        // ip4, ip6
  unsigned prefix4 = 32;           // ip4, a, mx
  unsigned prefix6 = 128;          // ip6, a, mx
  std::string term;                // as written, qualifier included
};

struct spf_modifier {
  std::string name;   // as written
  std::string value;  // unexpanded
  std::string term;   // as written
};

struct spf_record {
  std::vector<spf_mechanism> mechanisms;  // in record order
  std::optional<spf_modifier> redirect;   // §6.1
  std::optional<spf_modifier> exp;        // §6.2
  std::vector<spf_modifier> unknown;      // §6: ignored by evaluation

  // §6.1: redirect is ignored when the record has an "all" mechanism anywhere.
  bool has_all() const;
};

enum class spf_record_errc {
  ok = 0,
  not_spf,              // no "v=spf1" version section
  non_ascii,            // a byte over 0x7F (§3.1)
  too_long,             // over record_bytes_max
  unknown_mechanism,    // not one of the eight names (also "1up=x", "=all", "redirect:x")
  unexpected_argument,  // "all:x", "ptr/24", "include:x/24" (CIDR or value not allowed)
  missing_domain,       // "include", "exists", "a:", "exp=" … without a domain-spec
  bad_domain_spec,      // domain-end is neither a macro nor "." toplabel (§7.1)
  bad_macro,            // macro-string syntax (§7.1), see macro_error
  bad_cidr,             // CIDR length out of range, leading zero, or malformed
  bad_network,          // ip4:/ip6: address that does not parse as that family
  duplicate_modifier,   // redirect= or exp= twice (§6)
};

const char* to_string(spf_record_errc e);

struct spf_record_limits {
  // A record this long is far past DNS's comfortable size (RFC 7208 §3.4 advises staying
  // under 450 octets); longer ones are refused rather than parsed.
  std::size_t record_bytes_max = 8192;
};

struct spf_parse_result {
  spf_record record;
  spf_record_errc error = spf_record_errc::ok;
  std::string term;    // the offending term as written ("" for record-level errors)
  std::string detail;  // e.g. the macro error, "CIDR length above 32"

  bool ok() const { return error == spf_record_errc::ok; }
  // "unknown mechanism 'moo'", "bad CIDR length in 'a/33': above 32", …
  std::string message() const;
};

bool is_spf_record(std::string_view txt);

// The CIDR comparison of ip4, ip6, a and mx (§5.3, §5.4, §5.6): `ip` is of the family of
// `network` and their first `prefix_bits` bits are equal.
bool spf_network_match(const core::ip_address& network, unsigned prefix_bits,
                       const core::ip_address& ip);

spf_parse_result parse_spf_record(std::string_view text, const spf_record_limits& limits = {});

// Parsed records by their text, least recently used out first. One spf_checker shares one
// among its evaluations (like public_key_cache for DKIM); an evaluation holds the parses it
// uses, so eviction never pulls one from under it. A parse depends on the limits only through
// record_bytes_max, which only refuses; a record over it is refused without being kept.
class spf_record_cache {
 public:
  explicit spf_record_cache(std::size_t entries_max = 256);  // 0: keep nothing
  ~spf_record_cache();
  spf_record_cache(const spf_record_cache&) = delete;
  spf_record_cache& operator=(const spf_record_cache&) = delete;

  // parse_spf_record(text, limits), from the cache when it holds `text`.
  std::shared_ptr<const spf_parse_result> parse(std::string_view text,
                                                const spf_record_limits& limits = {});
  std::size_t size() const;
  std::size_t hits() const;  // parse() calls answered from the cache

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The domain-spec rule of §7.1 alone (macro syntax and domain-end): ok, missing_domain (empty),
// bad_macro or bad_domain_spec; `detail`, when given, says why.
spf_record_errc check_domain_spec(std::string_view spec, std::string* detail = nullptr);

}  // namespace mailsim::auth
