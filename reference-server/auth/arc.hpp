// mailsim::auth ARC — Authenticated Received Chain (RFC 8617): validating the chain of ARC
// sets a message carries, and sealing it with a new set.
//
// Contract: four parts, none of which reads a clock or does I/O.
// - parse_arc_chain() groups a message's ARC-Authentication-Results (AAR),
//   ARC-Message-Signature (AMS) and ARC-Seal (AS) fields into sets by their i= tags and checks
//   the chain's structure (RFC 8617 §5.2 steps 1 to 3, §4.2): at most arc_instances_max sets,
//   the newest AS not cv=fail, exactly one field of each kind per instance, instances 1..N
//   without gaps, cv=none on i=1 and cv=pass above. It reads no signature.
// - arc_verification is sans-IO, like dkim_verification: the constructor parses and hashes
//   every signature §5.2 needs, key_queries() names the TXT records still needed
//   ("<s>._domainkey.<d>", RFC 8617 §4.1.2 reuses DKIM keys; each name once), on_key_answer()
//   takes one answer, outcome() gives the chain validation status:
//     none  no ARC field at all;
//     fail  the structure is broken, or the newest AMS does not verify (§5.2 step 4), or any
//           AS does not (step 8) — `reason` names the first failure in that order;
//     pass  everything above holds.
//   With `oldest_pass` on it also validates the older AMSes (steps 5 to 7) and reports the
//   lowest instance from which every AMS up to N verifies (0 when all of them do). A
//   signature that cannot be used (syntax, key record, a= rsa-sha1, an AS with h=, an AMS
//   whose h= lists ARC-Seal) counts as not verifying. When a failure is known before any
//   lookup (structure, or a signature that cannot be read), no key is asked for at all.
//   A DNS failure that may clear (SERVFAIL, timeout, no answer) makes the chain fail with
//   `temporary` set, so that a policy can defer instead of rejecting.
// - arc_verifier drives an arc_verification through a core::resolver with the
//   dkim_verifier contract: verify() returns the outcome at once when no lookup is needed;
//   otherwise `done` runs exactly once, from the resolver callback with the last key.
// - arc_seal() computes the three fields of the next set (§5.1): AAR (i=, authserv-id and the
//   results given), AMS (a DKIM-like signature over the message, relaxed/relaxed, with i= the
//   instance), AS (over the ARC sets 1..N in order, AAR, AMS, AS each, then the new AAR, AMS
//   and the new AS without its b= value; relaxed header canonicalization, §5.1.1). cv= is
//   the chain's status: none for i=1, pass, or fail. On a failed chain the AS covers only
//   the new set (§5.1.2). It refuses (arc_errc) to continue a chain whose newest AS already
//   says cv=fail (the chain is closed: every validator fails it at §5.2 step 2, so one more
//   set adds nothing), to go past i=50, and an outcome that does not fit the message.
// Algorithms: those of DKIM, whose a= ARC takes over: rsa-sha256, and ed25519-sha256 (RFC
// 8463), which some verifiers (dkimpy 1.1.4) do not accept in ARC; rsa-sha1 is refused (RFC
// 8301). The signer's key decides. Messages are in wire form (CRLF).
// Everything that grows is bounded: arc_instances_max sets, arc_limits for field sizes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::auth {

inline constexpr unsigned arc_instances_max = 50;  // RFC 8617 §4.2.1

inline constexpr std::string_view arc_seal_name = "ARC-Seal";
inline constexpr std::string_view arc_message_signature_name = "ARC-Message-Signature";
inline constexpr std::string_view arc_authentication_results_name = "ARC-Authentication-Results";

enum class arc_status { none, pass, fail };

// "none" / "pass" / "fail": the RFC 8601 result words of the arc method (RFC 8617 §10.1).
const char* to_string(arc_status s);

struct arc_limits {
  std::size_t field_bytes_max = 16 * 1024;   // one ARC field, name and folds included
  std::size_t chain_bytes_max = 256 * 1024;  // all ARC fields of a message together
};

// ---- chain structure ----

// One instance's fields; nullptr where the message has none (a broken chain).
struct arc_set_fields {
  unsigned instance = 0;
  const header_field* aar = nullptr;
  const header_field* ams = nullptr;
  const header_field* seal = nullptr;
};

struct arc_chain {
  std::vector<arc_set_fields> sets;  // by instance, lowest first, one per i= value found
  std::size_t fields = 0;            // ARC fields in the message (any kind, readable or not)
  unsigned highest_instance = 0;     // the greatest i= read (0 when none could be read)
  std::string newest_cv;             // cv= of the AS at highest_instance, lower-case
  // Empty when the structure holds (or there is no ARC field); else why not, e.g.
  // "i=2: two ARC-Seal fields", "i=1: cv=pass (must be none)", "more than 50 ARC sets".
  std::string error;

  bool well_formed() const { return fields > 0 && error.empty(); }
};

// Views point into the fields of `parts`, which must outlive the result.
arc_chain parse_arc_chain(const message_parts& parts, const arc_limits& limits = {});

// ---- the lower level, shared by sealing, verifying and the fuzz target ----

// An ARC-Seal field read (RFC 8617 §4.1.3); `error` is the reason it cannot be used.
struct arc_seal_tags {
  unsigned instance = 0;
  std::string cv;              // lower-case
  std::string algorithm_text;  // a= as written
  dkim_algorithm algorithm = dkim_algorithm::rsa_sha256;
  std::string domain;  // d=, lower-case
  std::string selector;
  std::string signature;       // b= decoded
  std::string signature_text;  // b= without white space
  std::optional<std::int64_t> timestamp;
  std::string without_b;  // the raw field with its b= value deleted
  std::string error;

  bool ok() const { return error.empty(); }
};

arc_seal_tags parse_arc_seal(std::string_view raw_field);

// An ARC-Message-Signature read (RFC 8617 §4.1.2): parsed with parse_signature(), so the
// DKIM rules and reasons apply, except that i= is the instance, v= does not exist and h=
// must not list ARC-Seal. `signature.identity` stays empty.
struct arc_ams_tags {
  unsigned instance = 0;
  signature_parse_result parsed;
  std::string without_b;  // the raw field with its b= value deleted

  bool ok() const { return parsed.ok(); }
};

arc_ams_tags parse_arc_message_signature(std::string_view raw_field);

// The i= of an AAR ("i=N;" first in its value), or of an AMS or AS tag list; nullopt when it
// is missing or not a number from 1 to 999 (the caller applies arc_instances_max).
std::optional<unsigned> arc_instance_of(const header_field& field);

// RFC 8617 §5.1.1: SHA-256 over `covered` (raw fields in signing order, each canonicalized
// relaxed) followed by the relaxed `unsigned_seal` (the AS with an empty b=) without its CRLF.
std::string arc_seal_digest(const std::vector<std::string_view>& covered,
                            std::string_view unsigned_seal);
// The same with the covered fields already canonicalized and joined.
std::string arc_seal_digest_after(std::string_view canonical_covered,
                                  std::string_view unsigned_seal);

// ---- verification ----

// One instance as the verifier saw it. A signature not checked keeps status none.
struct arc_set_result {
  unsigned instance = 0;
  std::string cv;    // the AS's cv= as written, lower-case
  dkim_result ams;   // domain, selector, algorithm, status, reason
  dkim_result seal;  // the same for the AS
};

struct arc_outcome {
  arc_status status = arc_status::none;
  unsigned instances = 0;  // ARC sets found (distinct readable i= values)
  int oldest_pass = 0;     // RFC 8617 §5.2: 0 when not computed or when every AMS verifies
  bool temporary = false;  // a fail caused by a DNS failure that may clear
  std::string reason;      // for fail: which instance and what, e.g. "i=2: ARC-Seal: ..."
  std::vector<arc_set_result> sets;  // lowest instance first
};

// RFC 8601 resinfo for the arc method (RFC 8617 §10.1), e.g.
// `arc=pass header.oldest-pass=2 smtp.remote-ip=192.0.2.1`; `reason="..."` follows a fail;
// header.oldest-pass only when it is above 0; smtp.remote-ip only when given.
std::string authres_text(const arc_outcome& outcome, std::string_view remote_ip = {});

struct arc_verify_options {
  std::chrono::seconds clock_skew{300};  // tolerance for AMS x= and for t= in the future
  bool oldest_pass = true;               // validate older AMSes too (RFC 8617 §5.2 step 5)
  std::size_t key_records_max = 3;       // TXT records tried at one name (as for DKIM)
  unsigned rsa_bits_floor = rsa_bits_min;
  arc_limits limits;
};

class arc_verification {
 public:
  arc_verification(std::string_view message, core::time_point now, arc_verify_options options = {},
                   std::shared_ptr<public_key_cache> keys = nullptr);
  ~arc_verification();
  arc_verification(arc_verification&&) noexcept;
  arc_verification& operator=(arc_verification&&) noexcept;

  const std::vector<std::string>& key_queries() const { return queries_; }
  // Settles every signature waiting for `name` (without regard to case or a final dot); an
  // answer for a name not asked is ignored.
  void on_key_answer(std::string_view name, const core::dns_answer& answer);
  bool complete() const { return queries_.empty(); }
  // Before complete(), signatures still waiting count as temporary failures.
  arc_outcome outcome() const;

 private:
  struct pending;
  void read_signatures(const arc_chain& chain, core::time_point now, std::vector<arc_ams_tags>& ams,
                       std::vector<arc_seal_tags>& seals);
  void hash_signatures(const message_parts& parts, const arc_chain& chain,
                       const std::vector<arc_ams_tags>& ams,
                       const std::vector<arc_seal_tags>& seals);
  bool failed_early() const;

  arc_outcome base_;  // status, instances, sets' names, structural reason
  std::vector<pending> signatures_;
  std::vector<std::string> queries_;
  arc_verify_options options_;
  std::shared_ptr<public_key_cache> keys_;
};

class arc_verifier {
 public:
  using done_fn = std::function<void(arc_outcome)>;

  arc_verifier(core::resolver& resolver, const core::clock& clock, arc_verify_options options = {});

  [[nodiscard]] std::optional<arc_outcome> verify(std::string_view message, done_fn done);

 private:
  core::resolver& resolver_;
  const core::clock& clock_;
  arc_verify_options options_;
  std::shared_ptr<public_key_cache> keys_;
};

// ---- sealing ----

enum class arc_errc {
  chain_closed = 1,  // the newest AS says cv=fail: the chain is not continued (§5.2 step 2)
  chain_too_long,    // the message already has 50 sets; i=51 is not allowed (§4.2.1)
  chain_mismatch,    // the outcome does not fit the message: none over an existing chain,
                     // pass or fail with no chain, pass over a malformed chain
  bad_authres,       // authserv-id or results cannot be written into a header field
};

const std::error_category& arc_category() noexcept;

inline std::error_code make_error_code(arc_errc e) noexcept {
  return {static_cast<int>(e), arc_category()};
}

// default_signed_headers() plus DKIM-Signature: RFC 8617 §4.1.2 asks the AMS to cover the
// DKIM signatures present.
std::vector<std::string> default_arc_signed_headers();

struct arc_seal_options {
  std::string domain;       // d= of AMS and AS
  std::string selector;     // s=
  std::string authserv_id;  // the AAR's authserv-id (RFC 8601 §2.5), quoted if not a token
  // The AMS h= list is dkim_signer's, signed_header_list(): each name once per instance
  // present, and names in `oversign` (From always) once more. ARC-* names are refused: the
  // new set is not in the message when the AMS is made.
  std::vector<std::string> headers = default_arc_signed_headers();
  std::vector<std::string> oversign = {"from"};
  bool timestamp = true;  // t=now on AMS and AS
  // Appends authres_text() of the chain (with cv as status) to the AAR's results when they
  // hold no arc= result, so that the next hop can read this hop's verdict (dkimpy's sealer
  // takes cv= from it).
  bool record_arc_result = true;
  std::string remote_ip;  // smtp.remote-ip for that arc= result; empty leaves it out
  std::size_t authres_bytes_max = 8 * 1024;
  arc_limits limits;
};

struct arc_seal_result {
  // "ARC-Seal: ...CRLF", "ARC-Message-Signature: ...CRLF", "ARC-Authentication-Results:
  // ...CRLF", in that order: prepend them as they are.
  std::string fields;
  unsigned instance = 0;
  arc_status cv = arc_status::none;
  std::error_code error;  // arc_errc, or errc::invalid_option / no_from_field / crypto_failure

  bool ok() const { return !error; }
};

// `chain` is the outcome of validating `message` (or the caller's verdict of it: its status
// becomes cv=). `authres_payload` holds RFC 8601 results without the authserv-id, e.g.
// "spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com"; empty for none.
arc_seal_result arc_seal(std::string_view message, const private_key& key,
                         const arc_seal_options& options, const arc_outcome& chain,
                         std::string_view authres_payload, core::time_point now);

}  // namespace mailsim::auth

template <>
struct std::is_error_code_enum<mailsim::auth::arc_errc> : std::true_type {};
