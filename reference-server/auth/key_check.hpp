// mailsim::auth key check — the verification steps that DKIM (dkim_verifier.cpp) and ARC
// (arc_verify.cpp) share, so that a DKIM-Signature, an ARC-Message-Signature and an
// ARC-Seal are judged alike once read. Internal to reference-server/auth: no other module
// includes it.
//
// Contract: a verifier reads and hashes a signature into a key_check and asks for
// key_query_name() (RFC 6376 §3.6.2.1; RFC 8617 §4.1.2 reuses DKIM keys). The answer goes to
// settle_key_answer(): SERVFAIL or timeout gives temperror, NXDOMAIN or no record permerror
// "no key"; otherwise up to records_max TXT records (at least one) go through
// check_key_record() in turn, a pass wins, else the first record's result stands (RFC 6376
// §3.6.2.2 leaves several records undefined, §6.1.2 lets a verifier try them).
// check_key_record() applies RFC 6376 §6.1.2 steps 5 to 7 and §3.6.1 (h=, revocation, k=
// against a=, s=, t=s where the signature has an AUID) to one record, then checks the
// signature (§6.1.3, RSA keys under rsa_bits_floor refused, RFC 8301 §3.2). Results and
// reasons are those listed in dkim_verifier.hpp. drive_key_lookups() is the resolver driver
// of both verifiers, with the dkim_verifier contract. Nothing here reads a clock; the only
// I/O is through the resolver given.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::auth {

// What a key record is checked against once a signature has been read and hashed.
struct key_check {
  dkim_algorithm algorithm = dkim_algorithm::rsa_sha256;
  std::string digest;     // what the signature signs (header_digest(), arc_seal_digest_after())
  std::string signature;  // b= decoded
  bool body_ok = false;   // the body hash matched; an ARC-Seal, which signs no body, sets true
  // The domain of i=, lower-case, for a key's t=s (RFC 6376 §3.6.1); nullopt for an ARC
  // signature, which has no AUID (RFC 8617 §4.1.2), so that t=s has nothing to check.
  std::optional<std::string> identity_host;
};

// How records are tried and signatures checked.
struct key_lookup {
  std::size_t records_max = 3;  // TXT records tried at one name
  unsigned rsa_bits_floor = rsa_bits_min;
  public_key_cache* keys = nullptr;  // verifies through it when given (same results)
};

inline void set_status(dkim_result& r, dkim_status status, std::string reason) {
  r.status = status;
  r.reason = std::move(reason);
}

inline std::int64_t epoch_seconds(core::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "<s>._domainkey.<d>" (RFC 6376 §3.6.2.1), lower-case; `domain` is lower-case already.
std::string key_query_name(std::string_view selector, std::string_view domain);

// Adds `query` to `queries` unless it is there already: one lookup serves every signature.
void add_query(std::vector<std::string>& queries, const std::string& query);

// Removes the query `name` answers (without regard to case or a final dot) from `queries`
// and returns it; nullopt when it was not asked (or was answered already).
std::optional<std::string> take_query(std::vector<std::string>& queries, std::string_view name);

// Writes status, reason and `testing` for one TXT record into `r`.
void check_key_record(std::string_view txt, const key_check& c, const key_lookup& how,
                      dkim_result& r);

// Writes the result for the answer to the key query of `c` into `r`, which already names the
// signature (d=, s=, a=, b=).
void settle_key_answer(const core::dns_answer& answer, const key_check& c, const key_lookup& how,
                       dkim_result& r);

// The canonical body in each form, made at most once per message whatever the number of
// signatures using it. Views `body`, which must outlive it.
class canonical_bodies {
 public:
  explicit canonical_bodies(std::string_view body) : body_(body) {}
  const std::string& get(canon c);

 private:
  std::string_view body_;
  std::optional<std::string> simple_;
  std::optional<std::string> relaxed_;
};

// Runs the key queries of `state` (a dkim_verification or arc_verification) through
// `resolver`: returns `((*state).*result)()` at once when none is needed, and then never calls
// `done`; otherwise returns nullopt and calls `done` with it exactly once, from the resolver
// callback that brings the last answer (never from inside this call). The callbacks keep
// `state` alive, so the caller may go away before they run; the resolver must not.
template <typename Verification, typename Result>
std::optional<Result> drive_key_lookups(core::resolver& resolver,
                                        std::shared_ptr<Verification> state,
                                        std::function<void(Result)> done,
                                        Result (Verification::*result)() const) {
  if (state->complete()) return ((*state).*result)();
  auto finish = std::make_shared<std::function<void(Result)>>(std::move(done));
  std::vector<std::string> names = state->key_queries();  // answers shrink the original
  for (const std::string& name : names) {
    resolver.resolve(name, core::rr_type::txt,
                     [state, finish, name, result](const core::dns_answer& answer) {
                       state->on_key_answer(name, answer);
                       if (!state->complete() || !*finish) return;
                       std::function<void(Result)> call = std::move(*finish);
                       *finish = nullptr;
                       call(((*state).*result)());
                     });
  }
  return std::nullopt;
}

}  // namespace mailsim::auth
