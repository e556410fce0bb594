#include "reference-server/auth/dmarc.hpp"

#include <algorithm>
#include <memory>

#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/canonicalization.hpp"

namespace mailsim::auth {
namespace {

std::string query_for(std::string_view domain) {
  return "_dmarc." + std::string(domain);
}

std::string dns_name(std::string_view name) {
  std::string out = to_lower(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Issues the evaluation's next query; the callback either asks the next one or finishes.
void ask(core::resolver& resolver, const std::shared_ptr<dmarc_evaluation>& state,
         const std::shared_ptr<dmarc_checker::done_fn>& finish) {
  const std::string name = state->queries().front();
  core::resolver* r = &resolver;
  resolver.resolve(name, core::rr_type::txt, [r, state, finish, name](const core::dns_answer& a) {
    state->on_answer(name, a);
    if (!state->complete()) {
      if (!state->queries().empty()) ask(*r, state, finish);
      return;
    }
    dmarc_checker::done_fn call = std::move(*finish);
    *finish = nullptr;
    if (call) call(state->outcome());
  });
}

}  // namespace

const char* to_string(dmarc_status s) {
  switch (s) {
    case dmarc_status::none:
      return "none";
    case dmarc_status::pass:
      return "pass";
    case dmarc_status::fail:
      return "fail";
    case dmarc_status::temperror:
      return "temperror";
    case dmarc_status::permerror:
      return "permerror";
  }
  return "none";
}

std::string authres_text(const dmarc_outcome& o) {
  std::string out = std::string("dmarc=") + to_string(o.status);
  const bool evaluated = o.status == dmarc_status::pass || o.status == dmarc_status::fail;
  if (evaluated && o.record) {
    out += std::string(" (p=") + to_string(o.record->policy);
    if (o.record->subdomain_policy)
      out += std::string(" sp=") + to_string(*o.record->subdomain_policy);
    if (o.record->percent != 100) out += " pct=" + std::to_string(o.record->percent);
    out += std::string(" dis=") + to_string(o.disposition) + ")";
  }
  if ((o.status == dmarc_status::permerror || o.status == dmarc_status::temperror) &&
      !o.reason.empty())
    out += " reason=" + quoted_string(o.reason);
  if (!o.header_from.empty()) out += " header.from=" + authres_value(o.header_from);
  return out;
}

dmarc_evaluation::dmarc_evaluation(dmarc_identifiers ids, const public_suffix_list& psl,
                                   core::random_source& random, dmarc_options options)
    : random_(&random), options_(std::move(options)) {
  outcome_.spf_domain = to_lower(ids.spf_domain);
  outcome_.spf_result = to_lower(ids.spf_result);
  for (const dkim_result& r : ids.dkim)
    outcome_.dkim.push_back({to_lower(r.domain), r.selector, r.status, r.testing, false});
  if (ids.header_from.empty()) {
    finish(dmarc_status::permerror, "no single RFC5322.From domain (RFC 7489 6.6.1)");
    return;
  }
  std::optional<std::string> from = domain_to_ascii(ids.header_from);
  if (!from) {
    outcome_.header_from = to_lower(ids.header_from);
    finish(dmarc_status::permerror, "the RFC5322.From domain is not a domain name");
    return;
  }
  outcome_.header_from = *from;
  outcome_.organizational_domain = psl.organizational_domain(*from).value_or(*from);
  // RFC 7489 §3.1.1 and §3.1.2: relaxed compares organizational domains, strict the names.
  auto align = [&](std::string_view domain) -> std::array<bool, 2> {
    std::optional<std::string> d = domain_to_ascii(domain);
    if (!d) return {false, false};
    return {psl.organizational_domain(*d) == outcome_.organizational_domain,
            *d == outcome_.header_from};
  };
  if (!ids.spf_domain.empty()) spf_aligned_ = align(ids.spf_domain);
  for (const dkim_result& r : ids.dkim) dkim_aligned_.push_back(align(r.domain));
  // Until a record says otherwise (and when there is none), the modes are relaxed.
  outcome_.spf_domain_aligned = spf_aligned_[0];
  for (std::size_t i = 0; i < outcome_.dkim.size(); ++i)
    outcome_.dkim[i].aligned = dkim_aligned_[i][0];
  queries_.push_back(query_for(outcome_.header_from));
}

void dmarc_evaluation::finish(dmarc_status status, std::string reason) {
  outcome_.status = status;
  outcome_.reason = std::move(reason);
  queries_.clear();
  complete_ = true;
}

void dmarc_evaluation::on_answer(std::string_view name, const core::dns_answer& answer) {
  if (complete_ || queries_.empty() || dns_name(name) != queries_.front()) return;
  const std::string asked = queries_.front();
  queries_.clear();
  if (answer.status == core::dns_status::servfail)
    return finish(dmarc_status::temperror, "DNS lookup of " + asked + " failed");
  if (answer.status == core::dns_status::timeout)
    return finish(dmarc_status::temperror, "DNS lookup of " + asked + " timed out");
  std::vector<std::string_view> records;
  if (answer.status == core::dns_status::ok) {
    std::size_t n = std::min(answer.records.size(), options_.txt_records_max);
    for (std::size_t i = 0; i < n; ++i) {
      // §6.6.3 step 5: TXT records that are not DMARC records are discarded.
      if (is_dmarc_record(answer.records[i])) records.push_back(answer.records[i]);
    }
  }
  take_records(records);
}

void dmarc_evaluation::take_records(const std::vector<std::string_view>& records) {
  const std::string& org = outcome_.organizational_domain;
  if (records.empty()) {
    if (!at_org_domain_ && org != outcome_.header_from) {
      at_org_domain_ = true;  // §6.6.3 step 3
      queries_.push_back(query_for(org));
      return;
    }
    return finish(dmarc_status::none, "no DMARC record");
  }
  outcome_.policy_domain = at_org_domain_ ? org : outcome_.header_from;
  if (records.size() > 1)
    return finish(dmarc_status::none,
                  "several DMARC records at " + query_for(outcome_.policy_domain));
  outcome_.record_text = std::string(records.front());
  dmarc_record_result parsed = parse_dmarc_record(records.front(), options_.record_limits);
  if (parsed.error == dmarc_errc::no_valid_policy)
    return finish(dmarc_status::none, parsed.record.detail + " and there is no valid rua=");
  if (!parsed.ok()) {
    std::string detail = parsed.record.detail.empty() ? "" : ": " + parsed.record.detail;
    return finish(dmarc_status::permerror, parsed.error.message() + detail);
  }
  evaluate(std::move(parsed.record));
}

void dmarc_evaluation::evaluate(dmarc_record record) {
  const dmarc_record& r = outcome_.record.emplace(std::move(record));
  // §6.6.3: sp= is for subdomains of the organizational domain that found no record.
  outcome_.subdomain_policy = at_org_domain_ && r.subdomain_policy.has_value();
  outcome_.requested = outcome_.subdomain_policy ? *r.subdomain_policy : r.policy;
  const std::size_t spf_mode = r.spf_alignment == dmarc_alignment::strict ? 1 : 0;
  outcome_.spf_domain_aligned = spf_aligned_[spf_mode];
  outcome_.spf_aligned = outcome_.spf_domain_aligned && outcome_.spf_result == "pass";
  const std::size_t dkim_mode = r.dkim_alignment == dmarc_alignment::strict ? 1 : 0;
  for (std::size_t i = 0; i < outcome_.dkim.size(); ++i) {
    dmarc_dkim_check& c = outcome_.dkim[i];
    c.aligned = dkim_aligned_[i][dkim_mode];
    // RFC 6376 §3.6.1: a t=y key's signature is treated as absent.
    if (c.aligned && c.status == dkim_status::pass && !c.testing) outcome_.dkim_aligned = true;
  }
  finish(outcome_.spf_aligned || outcome_.dkim_aligned ? dmarc_status::pass : dmarc_status::fail,
         {});
  apply_policy();
}

void dmarc_evaluation::apply_policy() {
  outcome_.disposition = dmarc_policy::none;
  if (outcome_.status != dmarc_status::fail || outcome_.requested == dmarc_policy::none) return;
  // §6.6.4: the policy is enacted on at most pct percent of the failing messages; the rest
  // get the next weaker policy. No draw for 0 and 100, so those need no randomness.
  const unsigned pct = outcome_.record->percent;
  const bool enacted = pct >= 100 || (pct > 0 && random_->uniform(100) < pct);
  if (enacted) {
    outcome_.disposition = outcome_.requested;
    return;
  }
  outcome_.sampled_out = true;
  outcome_.disposition =
      outcome_.requested == dmarc_policy::reject ? dmarc_policy::quarantine : dmarc_policy::none;
}

dmarc_checker::dmarc_checker(core::resolver& resolver, const public_suffix_list& psl,
                             core::random_source& random, dmarc_options options)
    : resolver_(resolver), psl_(psl), random_(random), options_(std::move(options)) {}

std::optional<dmarc_outcome> dmarc_checker::check(dmarc_identifiers ids, done_fn done) {
  auto state = std::make_shared<dmarc_evaluation>(std::move(ids), psl_, random_, options_);
  if (state->complete()) return state->outcome();
  ask(resolver_, state, std::make_shared<done_fn>(std::move(done)));
  return std::nullopt;
}

}  // namespace mailsim::auth
