// mailsim::auth SPF engine — private to the spf_*.cpp files: one replay pass of check_host()
// (RFC 7208 §4–§6) over the answers an spf_evaluation holds. spf.hpp states the contract;
// this says how a pass works.
//
// - lookup() gives the stored answer, or lists the question as missing and marks the pass
//   blocked; every step above then unwinds (match::blocked, nullopt) except where a sibling
//   lookup can already be named (the addresses of every MX host, of every PTR name).
// - Nothing is copied out of the answers or the parsed records: names, terms and targets are
//   views of them (or of a caller's scratch expansion), alive for the whole pass.
// - Resuming: run_record() notes where a blocked pass stopped (the mechanism, and the lookup
//   counts before it) at each level on the way up, into the evaluation's resume points; the
//   next pass starts each of those levels there. Safe because everything before that point
//   had all its answers and answers never change, so a full replay would reach the same point
//   with the same counts; the only other state (the validated PTR names) is recomputed from
//   the answers on first use. A mechanism that stops after expanding macros in its target
//   hands the expansion to the deepest resume point, and the pass resuming there uses it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/spf.hpp"
#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/auth/spf_record.hpp"

namespace mailsim::auth {

class spf_engine {
 public:
  explicit spf_engine(spf_evaluation& e);

  // The first pass without the machinery, when the domain is checkable (and the query cap
  // not 0): its only question is the domain's TXT record (§4.4). False: run a pass.
  static bool first_question(spf_evaluation& e);

  // One pass: true when it reached the outcome (written into the evaluation), false when it
  // stopped at answers it lacks (then listed in the evaluation's queries()).
  bool evaluate();

 private:
  using stored_answer = spf_evaluation::stored_answer;
  using kept_answer = spf_evaluation::kept_answer;
  using record_range = spf_evaluation::record_range;

  enum class match { no, yes, error, blocked };

  // What one check_host() level decided. (A constructor, not an aggregate: GCC clears a whole
  // aggregate this size with `rep stos` first, a slow start for every result.)
  struct host_result {
    host_result(spf_result r, std::string_view matched, std::string why,
                const spf_modifier* explain, std::string deciding_domain)
        : result(r),
          mechanism(matched),
          problem(std::move(why)),
          exp(explain),
          domain(std::move(deciding_domain)) {}

    spf_result result = spf_result::neutral;
    std::string_view mechanism;  // the matching term, in a record the evaluation holds
    std::string problem;
    const spf_modifier* exp = nullptr;  // the deciding record's exp=
    std::string domain;                 // fail only: that record's <domain>, for §6.2
  };

  // The PTR names of the client that validate (§5.5), found once per pass.
  struct validated_names {
    bool dns_error = false;  // the PTR lookup failed
    bool void_answer = false;
    std::vector<std::string> names;  // keys (spf_name_key)
  };

  static bool failed(const kept_answer& a) {
    return a.status == core::dns_status::servfail || a.status == core::dns_status::timeout;
  }
  // §4.6.4 void lookup: NXDOMAIN, or NOERROR with no answer records.
  static bool is_void(const kept_answer& a) {
    return !failed(a) && (a.status != core::dns_status::ok || (a.records.empty() && a.mx.empty()));
  }

  // The records of a kept answer (views valid for the pass).
  record_range records(const kept_answer& a) const { return a.records.in(e_.texts_); }

  // spf_eval.cpp: answers, limits, errors, check_host() and the walk through a record.
  stored_answer* lookup(std::string_view name, core::rr_type type);
  bool room_for(std::string_view name, core::rr_type type) const;
  match error(spf_result r, std::string problem);
  match dns_error(const kept_answer& a, std::string_view name, core::rr_type type,
                  std::string_view term);
  bool count_term(std::string_view term);
  bool count_void(std::string_view term, std::string_view name);
  std::optional<host_result> check_host(std::string_view domain, unsigned depth,
                                        std::string_view via);
  std::size_t select_record(stored_answer& txt);
  const spf_parse_result& parsed(stored_answer& txt);
  std::optional<host_result> run_record(const spf_record& record, std::string_view domain,
                                        unsigned depth);
  std::size_t resume(const spf_record& record, unsigned depth);
  void stopped(unsigned depth, std::size_t index, unsigned lookups, unsigned voids);
  match blocked_after(std::string& scratch, std::string_view target);
  bool carried(std::string_view target) const {
    return !carried_.empty() && target.data() == carried_.data();
  }
  // A target known to be a DNS name: the current <domain> (check_host() made sure), or one
  // carried from the last pass (looked up then).
  bool known_name(const spf_mechanism& m, std::string_view target) const {
    return m.domain_spec.empty() || carried(target);
  }
  std::optional<host_result> redirect(const spf_modifier& r, std::string_view domain,
                                      unsigned depth);
  std::optional<std::string> explanation(const host_result& r);

  // spf_mechanisms.cpp: the mechanisms (§5), macro expansion and the validated names.
  core::rr_type family() const { return ip_.v6 ? core::rr_type::aaaa : core::rr_type::a; }
  unsigned prefix(const spf_mechanism& m) const { return ip_.v6 ? m.prefix6 : m.prefix4; }
  bool matches(const kept_answer& a, unsigned bits) const;
  spf_macro_values values(std::string_view domain) const;
  const validated_names* validated();
  std::string_view validated_for(const validated_names& v, std::string_view domain) const;
  match expand(std::string_view spec, spf_macro_context context, std::string_view domain,
               std::string& scratch, std::string_view& out,
               const spf_macro_pieces* pieces = nullptr);
  match target(const spf_mechanism& m, std::string_view domain, std::string& scratch,
               std::string_view& out);
  match mechanism(const spf_mechanism& m, std::string_view domain, unsigned depth);
  match address_mechanism(const spf_mechanism& m, std::string_view domain);
  match mx_mechanism(const spf_mechanism& m, std::string_view domain);
  match mx_hosts(const spf_mechanism& m, stored_answer& mx);
  std::optional<match> mx_host(const spf_mechanism& m, const core::mx_record& host);
  match ptr_mechanism(const spf_mechanism& m, std::string_view domain);
  match include_mechanism(const spf_mechanism& m, std::string_view domain, unsigned depth);

  spf_evaluation& e_;
  const spf_evaluation::settings& options_;
  const spf_outcome& identity_;  // identity, domain, sender
  core::ip_address ip_;          // the client, an IPv4-mapped address as IPv4 (§5)
  bool blocked_ = false;
  bool over_cap_ = false;
  bool resuming_ = true;         // still following the resume points down
  bool stopping_ = false;        // noting new resume points on the way up
  std::size_t next_resume_ = 0;  // the level the next resumed record is at
  unsigned stop_depth_ = 0;      // the deepest level this pass stopped at
  // The resumed mechanism whose target comes from the last pass, and that target.
  const spf_mechanism* carried_for_ = nullptr;
  std::string_view carried_;
  // A target expansion for this pass's deepest resume point: its own (`candidate_`), or the
  // carried one again (`carry_again_`).
  std::string candidate_;
  std::size_t candidate_offset_ = 0, candidate_size_ = 0;
  bool carry_again_ = false;
  spf_result error_result_ = spf_result::permerror;
  std::string error_problem_;
  std::optional<validated_names> validated_;
  unsigned lookups_ = 0, voids_ = 0;
};

}  // namespace mailsim::auth
