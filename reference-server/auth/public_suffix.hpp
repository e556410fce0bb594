// mailsim::auth Public Suffix List — the public suffix and the organizational domain of a
// domain name (RFC 7489 §3.2), from the list at publicsuffix.org (Debian's `publicsuffix`
// package installs it as /usr/share/publicsuffix/public_suffix_list.dat).
//
// Contract:
// - from_text() reads the list's format: one rule per line (the first white-space-delimited
//   word), "//" comments, blank lines; "*." wildcard rules (leftmost label only; interior
//   wildcards are refused), "!" exception rules; the "===BEGIN ICANN DOMAINS===" and
//   "===BEGIN PRIVATE DOMAINS===" markers. Rules in UTF-8 (IDN U-labels) are stored as
//   A-labels (RFC 3492 punycode, RFC 5890 "xn--"), so that the `xn--` names mail carries
//   match; names asked in UTF-8 are converted the same way first. Lines that are not a usable
//   rule are counted in stats().invalid and skipped, never an error: the list is data.
//   PRIVATE-section rules count unless psl_options::include_private is false (RFC 7489 is
//   silent; most receivers, OpenDMARC among them, use the whole list). At most rules_max
//   rules are kept (the rest counted in stats().over_limit).
// - load_file() reads a file (at most file_bytes_max) and gives nullopt with `error` when it
//   cannot be read or holds no rule at all.
// - public_suffix() follows the publicsuffix.org algorithm: the longest matching rule, an
//   exception rule before all others (its leftmost label removed), and the implicit "*"
//   rule when none matches (an unlisted top-level domain is a public suffix).
//   organizational_domain() is that suffix plus one label (RFC 7489 §3.2 step 4); a domain
//   that is itself a public suffix is its own organizational domain (RFC 7489 leaves this
//   open; OpenDMARC does the same). Both answer in lower-case A-label form without a final
//   dot, or nullopt when the name is not a usable domain (empty label, a label over 63
//   octets, over 253 octets or labels_max labels, a character outside letters, digits,
//   "-" and "_", invalid UTF-8).
// Lookups cost one hash probe per label of the name asked, no allocation beyond the
// answer. The object is immutable after loading and may be shared between threads.
//
// What it leaves out: the UTS #46 / IDNA2008 mapping of U-labels (case folding and NFC of
// non-ASCII characters): a U-label is encoded as written, which is right for the list (its
// rules are already in canonical form) and for names that came through an IDNA-aware MUA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "reference-server/core/string_hash.hpp"

namespace mailsim::auth {

struct psl_options {
  bool include_private = true;      // rules of the PRIVATE DOMAINS section count
  std::size_t rules_max = 100'000;  // the 2023 list holds about 9,800 rules
  std::size_t labels_max = 127;     // the most a DNS name can have (RFC 1035 §2.3.4)
  std::size_t file_bytes_max = 16u << 20;
};

struct psl_load_stats {
  std::size_t rules = 0;            // rules kept
  std::size_t private_skipped = 0;  // PRIVATE rules left out (include_private = false)
  std::size_t invalid = 0;          // lines that are not a usable rule
  std::size_t over_limit = 0;       // rules dropped at rules_max
};

class public_suffix_list {
 public:
  // An empty list: only the implicit "*" rule, so every name's public suffix is its last
  // label.
  public_suffix_list() = default;

  static public_suffix_list from_text(std::string_view text, const psl_options& options = {});
  static std::optional<public_suffix_list> load_file(const std::string& path, std::string& error,
                                                     const psl_options& options = {});

  std::optional<std::string> public_suffix(std::string_view domain) const;
  std::optional<std::string> organizational_domain(std::string_view domain) const;

  const psl_load_stats& stats() const { return stats_; }
  std::size_t size() const { return rules_.size(); }

 private:
  void add_rule(std::string_view rule, bool in_private);
  // How many trailing labels of `ascii` (a name domain_to_ascii() accepted) form its public
  // suffix.
  std::size_t suffix_labels(std::string_view ascii) const;

  // Rule name (A-labels, no "*." or "!") → kind bits (see public_suffix.cpp).
  core::string_map<std::uint8_t> rules_;
  psl_options options_;
  psl_load_stats stats_;
};

// RFC 3492 punycode of `code_points` (without the "xn--" prefix); nullopt on overflow.
std::optional<std::string> punycode_encode(std::u32string_view code_points);

// The name in lower-case A-label form without a final dot: ASCII letters lower-cased, each
// label holding non-ASCII UTF-8 encoded as "xn--" + punycode. nullopt for what
// public_suffix() refuses (see the contract above).
std::optional<std::string> domain_to_ascii(std::string_view domain, std::size_t labels_max = 127);

}  // namespace mailsim::auth
