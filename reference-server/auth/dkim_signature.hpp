// mailsim::auth DKIM-Signature fields — parsing (RFC 6376 §3.5) and the two hashes every
// signature carries (§3.7), shared by the signer and the verifier.
//
// Contract: parse_signature() checks everything RFC 6376 §6.1.1 lets a verifier check before
// any DNS lookup that does not depend on the clock: required tags (v, a, b, bh, d, h, s), v=1,
// a known algorithm (rsa-sha1 is refused, RFC 8301 §3.1), c=, h= naming From (§5.4), i= within
// d= (§3.5), l=/t=/x= syntax with x= not before t=, q= offering dns/txt. A refused signature
// still returns what could be read (d=, s=, a=) so that results can name it; `error` then holds
// the reason, in the words verification results use. The digests return raw 32-octet SHA-256
// values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/dkim_key.hpp"

namespace mailsim::auth {

enum class dkim_algorithm { rsa_sha256, ed25519_sha256 };

// "rsa-sha256" / "ed25519-sha256" (RFC 6376 §3.3, RFC 8463 §3).
const char* to_string(dkim_algorithm a);
key_type key_type_of(dkim_algorithm a);

inline constexpr std::string_view dkim_signature_name = "DKIM-Signature";

struct dkim_signature {
  std::string algorithm_text;  // a= as written (reported as header.a even when refused)
  dkim_algorithm algorithm = dkim_algorithm::rsa_sha256;
  canon header_canon = canon::simple;  // c= default simple/simple (§3.5)
  canon body_canon = canon::simple;
  std::string domain;                        // d=, lower-case
  std::string selector;                      // s=
  std::string identity;                      // i=, or "@" + d= when absent (§3.5)
  std::vector<std::string> headers;          // h=, lower-case, in order
  std::string body_hash;                     // bh=, decoded
  std::string signature;                     // b=, decoded
  std::string signature_text;                // b= without white space (for header.b, RFC 6008)
  std::optional<std::uint64_t> body_length;  // l=
  std::optional<std::int64_t> timestamp;     // t=, seconds since the epoch
  std::optional<std::int64_t> expiration;    // x=
  // Where the b= value region lies in the raw field (RFC 6376 §3.5: deleted before hashing).
  std::size_t b_region_begin = 0;
  std::size_t b_region_end = 0;
};

struct signature_parse_result {
  dkim_signature signature;
  std::string error;  // empty when the signature can be verified; else the permerror reason

  bool ok() const { return error.empty(); }
};

// `raw_field` is the whole field as in the message: "DKIM-Signature:", value, folds, CRLF.
signature_parse_result parse_signature(std::string_view raw_field);

// A d= or s= value DKIM can look up: letters, digits, "-", "_", UTF-8, dot-separated, no
// empty label (a plausibility check that keeps garbage out of DNS queries).
bool is_valid_domain(std::string_view name);

// RFC 6376 §3.5 i=: "[local-part]@domain" whose domain is `domain` or a subdomain of it
// (compared without regard to case; `domain` must already be lower-case).
bool identity_within(std::string_view identity, std::string_view domain);

// The raw field with the value of its b= tag deleted (white space around it included).
std::string without_b_value(std::string_view raw_field, const dkim_signature& sig);

// RFC 6376 §3.7 step 2: SHA-256 over the canonicalized fields named by `signed_headers`
// (lower-case names, as dkim_signature::headers holds them; a name listed n times takes the n last
// instances, bottom up, §5.4.2; names with no instance left contribute nothing), then the
// canonicalized `unsigned_field` (the signature field with an empty b=) without its final CRLF.
// `self`, when given, is the field being verified: it is never one of the selected instances.
std::string header_digest(const message_parts& parts,
                          const std::vector<std::string>& signed_headers, canon c,
                          std::string_view unsigned_field, const header_field* self = nullptr);

// RFC 6376 §3.7 step 1: SHA-256 of the canonical body, cut to `length` octets when given.
// nullopt when `length` is longer than the canonical body.
std::optional<std::string> body_digest(std::string_view canonical_body,
                                       std::optional<std::uint64_t> length);

}  // namespace mailsim::auth
