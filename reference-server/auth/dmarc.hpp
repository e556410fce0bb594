// mailsim::auth DMARC — policy discovery, identifier alignment, the result and the
// disposition (RFC 7489 §3.1, §6.6), and per-source counters for aggregate reports (§7.2).
//
// Contract: two layers, like dkim_verifier.hpp.
// - dmarc_evaluation is sans-IO. Its constructor takes what SPF and DKIM found
//   (dmarc_identifiers) and works out, with the Public Suffix List, the organizational domain
//   of the RFC5322.From domain and which SPF/DKIM domains align with it, relaxed and strict;
//   queries() then names the TXT record it needs (one at a time), on_answer() takes it, and
//   outcome() is final once complete(). The list is used in the constructor only; the
//   random source is drawn from (once, uniform below 100) only when a failing message meets
//   a pct below 100 and above 0, so it must outlive the evaluation.
// - dmarc_checker drives it through a core::resolver. check() returns the outcome at once
//   when no lookup is needed (no usable From domain); then `done` is never called. Otherwise
//   it returns nullopt and calls `done` exactly once, from a resolver callback. The checker
//   may go away before that; the resolver and the random source must not.
//
// Discovery (§6.6.3): `_dmarc.<From domain>`; when that holds no DMARC record (NXDOMAIN,
// NODATA, or only TXT records that do not start with v=DMARC1), `_dmarc.<organizational
// domain>` if that is a different name. SERVFAIL or timeout at either step → temperror (an
// answer may exist: step 3 falls back only on "an indication that there is no such record").
// Several DMARC records at the name → none (step 5), without falling back. A record that
// does not parse → permerror (§11.2), with no fallback either: the owner published one.
// A record without a valid p= (or with a bad sp=) and without rua= → none (step 6).
//
// Results (RFC 7489 §11.2, RFC 8601 §2.7.5):
// - permerror: no single From domain (empty header_from: none, or several, RFC 7489 §6.6.1),
//   a From domain that is not a domain name, or a broken record;
// - temperror: the DNS failed for now;
// - none: no policy applies;
// - pass: SPF passed for an aligned domain (aspf: relaxed = same organizational domain,
//   strict = same name), or any DKIM signature passed for an aligned d= (adkim);
// - fail: otherwise. A DKIM pass under a key with t=y does not count: RFC 6376 §3.6.1 asks
//   verifiers to treat such mail as unsigned. A DKIM temperror is still fail here (RFC 7489
//   gives no rule; the caller may look at outcome.dkim).
// Policy: sp= applies when the record came from the organizational domain and the From
// domain is a different name; otherwise p=. Disposition (§6.6.4): none on pass (and for
// none, temperror, permerror); on fail the requested policy, except that a message left out
// by pct (sampled_out) gets the next weaker one: reject → quarantine, quarantine → none.
// Names are compared in lower-case A-label form (public_suffix.hpp domain_to_ascii()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/dmarc_record.hpp"
#include "reference-server/auth/public_suffix.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::auth {

enum class dmarc_status { none, pass, fail, temperror, permerror };

const char* to_string(dmarc_status s);

struct dmarc_identifiers {
  std::string header_from;  // author_domain(message); empty → permerror (RFC 7489 §6.6.1)
  std::string spf_domain;   // the domain SPF checked (MAIL FROM, or HELO for the null sender)
  std::string spf_result;   // the SPF result word: "pass", "fail", "softfail", ...
  std::vector<dkim_result> dkim;
};

// One DKIM result as DMARC weighed it.
struct dmarc_dkim_check {
  std::string domain;    // d=
  std::string selector;  // s=
  dkim_status status = dkim_status::none;
  bool testing = false;  // t=y key: never counts (RFC 6376 §3.6.1)
  bool aligned = false;  // d= aligns with the From domain under adkim (relaxed without a
                         // record), whatever the result
};

struct dmarc_outcome {
  dmarc_status status = dmarc_status::none;
  std::string header_from;            // lower-case A-label form
  std::string policy_domain;          // where the record was found; empty without one
  std::string organizational_domain;  // of header_from
  std::optional<dmarc_record> record;
  std::string record_text;                        // the TXT record as published
  dmarc_policy requested = dmarc_policy::none;    // p= or sp= as it applies
  dmarc_policy disposition = dmarc_policy::none;  // after pct (and none unless fail)
  bool subdomain_policy = false;                  // the requested policy is sp=
  bool spf_aligned = false;                       // SPF passed for an aligned domain
  bool dkim_aligned = false;                      // a DKIM signature passed for an aligned d=
  bool sampled_out = false;                       // failed, but pct left the message out
  std::string spf_domain;
  std::string spf_result;
  bool spf_domain_aligned = false;  // aligns under aspf (relaxed without a record), whatever
                                    // the result
  std::vector<dmarc_dkim_check> dkim;
  std::string reason;  // why, for none, permerror and temperror; empty on pass and fail
};

// RFC 8601 §2.2 resinfo, e.g. `dmarc=fail (p=reject dis=reject) header.from=example.com`;
// the comment also names sp= and pct= when the record has them; `reason="..."` follows
// permerror and temperror.
std::string authres_text(const dmarc_outcome& o);

struct dmarc_options {
  std::size_t txt_records_max = 16;  // TXT records looked at per name
  dmarc_record_limits record_limits;
};

class dmarc_evaluation {
 public:
  dmarc_evaluation(dmarc_identifiers ids, const public_suffix_list& psl,
                   core::random_source& random, dmarc_options options = {});

  // The TXT names still needed, lower-case without a final dot (at most one at a time).
  const std::vector<std::string>& queries() const { return queries_; }
  // Takes the answer for `name` (compared without regard to case); others are ignored.
  void on_answer(std::string_view name, const core::dns_answer& answer);
  bool complete() const { return complete_; }
  // Final once complete(); before that it holds what the constructor worked out.
  const dmarc_outcome& outcome() const { return outcome_; }

 private:
  void finish(dmarc_status status, std::string reason);
  void take_records(const std::vector<std::string_view>& records);
  void evaluate(dmarc_record record);
  void apply_policy();

  dmarc_outcome outcome_;
  core::random_source* random_;
  dmarc_options options_;
  std::vector<std::string> queries_;
  bool complete_ = false;
  bool at_org_domain_ = false;  // the query out is the organizational domain's
  // Alignment worked out at construction: [0] relaxed, [1] strict.
  std::array<bool, 2> spf_aligned_{};
  std::vector<std::array<bool, 2>> dkim_aligned_;
};

class dmarc_checker {
 public:
  using done_fn = std::function<void(dmarc_outcome)>;

  dmarc_checker(core::resolver& resolver, const public_suffix_list& psl,
                core::random_source& random, dmarc_options options = {});

  [[nodiscard]] std::optional<dmarc_outcome> check(dmarc_identifiers ids, done_fn done);

 private:
  core::resolver& resolver_;
  const public_suffix_list& psl_;
  core::random_source& random_;
  dmarc_options options_;
};

// ---- aggregate-report counters (RFC 7489 §7.2, Appendix C "record" rows) ----

struct dmarc_report_row {
  std::string policy_domain;
  std::string source_ip;
  std::string header_from;
  dmarc_policy disposition = dmarc_policy::none;
  bool dkim_aligned = false;  // policy_evaluated/dkim = pass
  bool spf_aligned = false;   // policy_evaluated/spf = pass
  bool sampled_out = false;   // policy_evaluated/reason = sampled_out
  std::uint64_t count = 0;
};

// Counts evaluated messages per row key (every field of dmarc_report_row but count). Only
// outcomes with a record (pass or fail) are counted: the others name no one to report to.
// At most rows_max rows; a new row beyond that drops the least recently counted one, and
// dropped_rows() / dropped_messages() say how much was lost. Not thread-safe.
class dmarc_report_counters {
 public:
  explicit dmarc_report_counters(std::size_t rows_max = 10'000) : rows_max_(rows_max) {}

  // Returns whether the message was counted.
  bool record(std::string_view source_ip, const dmarc_outcome& outcome);
  // Least recently counted first.
  std::vector<dmarc_report_row> rows() const;
  std::vector<dmarc_report_row> rows_for(std::string_view policy_domain) const;
  std::size_t size() const { return rows_.size(); }
  std::uint64_t dropped_rows() const { return dropped_rows_; }
  std::uint64_t dropped_messages() const { return dropped_messages_; }
  void clear();

 private:
  std::size_t rows_max_;
  std::list<dmarc_report_row> rows_;
  std::unordered_map<std::string, std::list<dmarc_report_row>::iterator> index_;
  std::uint64_t dropped_rows_ = 0;
  std::uint64_t dropped_messages_ = 0;
};

}  // namespace mailsim::auth
