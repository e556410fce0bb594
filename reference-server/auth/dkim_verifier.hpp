// mailsim::auth DKIM verifier — checks every DKIM-Signature of a message (RFC 6376 §6) and
// reports each in RFC 8601 vocabulary.
//
// Contract: two layers.
// - dkim_verification is sans-IO: the constructor parses and hashes every signature (up to
//   signatures_max; the rest get `policy`, "too many signatures"), key_queries() names the TXT
//   records still needed ("<s>._domainkey.<d>", each once however many signatures use it),
//   on_key_answer() takes one answer, results() gives one result per signature, top first.
//   It keeps no view of the message after construction. Given a public_key_cache, it
//   verifies through it (results are the same; keys seen before cost less).
// - dkim_verifier drives it through a core::resolver. verify() returns the results at once
//   when no key has to be looked up (no signature, or all refused before the lookup); then
//   `done` is never called. Otherwise it returns nullopt and calls `done` exactly once, from
//   the resolver callback that brings the last key (never from inside verify()). The
//   verifier object may go away before that; the resolver must not. A verifier keeps one
//   public_key_cache for all its verifications, so it is not thread-safe: one per thread.
// Results (RFC 8601 §2.7.1; neutral is never produced): pass; fail when the body hash or the
// signature does not match (reasons "body hash did not verify", "signature did not verify");
// permerror for a signature or key that cannot be used ("signature syntax error", "missing tag X=",
// "rsa-sha1 not accepted (RFC 8301)", "From not signed", "i= not within d=", "signature expired",
// "signature in the future", "no key" (NXDOMAIN/NODATA), "bad key record", "key revoked" (empty
// p=), "key too short" (RSA under 1024 bits, RFC 8301 §3.2), "key does not allow sha256" (key h=),
// "key type does not match a=", "key not for email" (key s=), "i= must equal d= (t=s)", "l= exceeds
// body length"); temperror when the key lookup fails for now (SERVFAIL, timeout); policy for a
// signature this verifier's options refuse (l= when accept_body_length is off, too many).
// An empty result list means `none` (the message is not signed). `testing` reports a key's
// t=y: RFC 6376 §3.6.1 asks receivers to treat such mail as unsigned whatever the result.
// Several TXT records at one name: RFC 6376 §3.6.2.2 leaves the outcome undefined and §6.1.2
// lets a verifier try them in turn; this one tries up to key_records_max, a pass wins, else
// the first record's result stands.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::auth {

enum class dkim_status { none, pass, fail, policy, neutral, temperror, permerror };

const char* to_string(dkim_status s);

struct dkim_result {
  dkim_status status = dkim_status::none;
  std::string reason;     // empty on pass
  std::string domain;     // d= (header.d)
  std::string selector;   // s= (header.s)
  std::string algorithm;  // a= as written (header.a)
  std::string identity;   // i=, or "@" + d= (header.i)
  std::string signature;  // b= without white space (header.b, RFC 6008)
  bool testing = false;   // the key record has t=y
};

// RFC 8601 §2.2 resinfo for one result, e.g.
// `dkim=pass header.d=example.com header.s=sel header.a=rsa-sha256`, with
// `reason="..."` after the result when there is one.
std::string authres_text(const dkim_result& r);

struct verify_options {
  std::chrono::seconds clock_skew{300};  // tolerance for x= and for t= in the future
  std::size_t signatures_max = 10;       // RFC 6376 §6.1: verifiers may limit the work
  std::size_t key_records_max = 3;
  bool accept_body_length = true;  // l= (RFC 6376 §8.2 explains the risk)
  unsigned rsa_bits_floor = rsa_bits_min;
};

class dkim_verification {
 public:
  dkim_verification(std::string_view message, core::time_point now, verify_options options = {},
                    std::shared_ptr<public_key_cache> keys = nullptr);
  ~dkim_verification();
  dkim_verification(dkim_verification&&) noexcept;
  dkim_verification& operator=(dkim_verification&&) noexcept;

  const std::vector<std::string>& key_queries() const { return queries_; }
  // Settles every signature waiting for `name` (compared without regard to case); an answer
  // for a name not asked is ignored.
  void on_key_answer(std::string_view name, const core::dns_answer& answer);
  bool complete() const { return queries_.empty(); }
  std::vector<dkim_result> results() const;

 private:
  struct pending;
  std::vector<pending> signatures_;
  std::vector<std::string> queries_;
  verify_options options_;
  std::shared_ptr<public_key_cache> keys_;
};

class dkim_verifier {
 public:
  using done_fn = std::function<void(std::vector<dkim_result>)>;

  dkim_verifier(core::resolver& resolver, const core::clock& clock, verify_options options = {});

  [[nodiscard]] std::optional<std::vector<dkim_result>> verify(std::string_view message,
                                                               done_fn done);

 private:
  core::resolver& resolver_;
  const core::clock& clock_;
  verify_options options_;
  std::shared_ptr<public_key_cache> keys_;
};

}  // namespace mailsim::auth
