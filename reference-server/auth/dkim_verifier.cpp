#include "reference-server/auth/dkim_verifier.hpp"

#include <algorithm>

#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/key_check.hpp"

namespace mailsim::auth {

struct dkim_verification::pending {
  dkim_result result;
  bool decided = false;
  std::string query;  // "<s>._domainkey.<d>", lower-case
  key_check check;
};

namespace {

struct verdict {
  dkim_status status;
  std::string reason;
};

// The RFC 6376 §6.1.1 refusals, with those that need the clock or this verifier's options;
// nullopt when the signature goes on to the key lookup. `index` counts from 1.
std::optional<verdict> early_verdict(const signature_parse_result& parsed, std::size_t index,
                                     const verify_options& o, std::int64_t now_s) {
  const dkim_signature& sig = parsed.signature;
  std::int64_t skew_s = o.clock_skew.count();
  if (index > o.signatures_max) return verdict{dkim_status::policy, "too many signatures"};
  if (!parsed.ok()) return verdict{dkim_status::permerror, parsed.error};
  if (sig.expiration && *sig.expiration + skew_s < now_s)
    return verdict{dkim_status::permerror, "signature expired"};
  // §3.5 t=: verifiers may ignore signatures dated in the future.
  if (sig.timestamp && *sig.timestamp > now_s + skew_s)
    return verdict{dkim_status::permerror, "signature in the future"};
  if (sig.body_length && !o.accept_body_length)
    return verdict{dkim_status::policy, "l= not accepted"};
  return std::nullopt;
}

}  // namespace

const char* to_string(dkim_status s) {
  switch (s) {
    case dkim_status::none:
      return "none";
    case dkim_status::pass:
      return "pass";
    case dkim_status::fail:
      return "fail";
    case dkim_status::policy:
      return "policy";
    case dkim_status::neutral:
      return "neutral";
    case dkim_status::temperror:
      return "temperror";
    case dkim_status::permerror:
      return "permerror";
  }
  return "none";
}

std::string authres_text(const dkim_result& r) {
  std::string out = std::string("dkim=") + to_string(r.status);
  if (!r.reason.empty()) out += " reason=" + quoted_string(r.reason);
  // Property values are RFC 8601 "value"s; d=, s= and a= as parsed never hold white space.
  if (!r.domain.empty()) out += " header.d=" + r.domain;
  if (!r.selector.empty()) out += " header.s=" + r.selector;
  if (!r.algorithm.empty()) out += " header.a=" + r.algorithm;
  return out;
}

dkim_verification::dkim_verification(std::string_view message, core::time_point now,
                                     verify_options options, std::shared_ptr<public_key_cache> keys)
    : options_(options), keys_(std::move(keys)) {
  message_parts parts = split_message(message);
  canonical_bodies bodies(parts.body);
  std::int64_t now_s = epoch_seconds(now);
  for (const header_field& field : parts.fields) {
    if (!iequals(field.name, dkim_signature_name)) continue;
    pending& p = signatures_.emplace_back();
    dkim_result& r = p.result;
    signature_parse_result parsed = parse_signature(field.raw);
    const dkim_signature& sig = parsed.signature;
    r.domain = sig.domain;
    r.selector = sig.selector;
    r.algorithm = sig.algorithm_text;
    r.identity = sig.identity;
    r.signature = sig.signature_text;
    if (std::optional<verdict> v = early_verdict(parsed, signatures_.size(), options_, now_s)) {
      set_status(r, v->status, v->reason);
      p.decided = true;
      continue;
    }
    std::optional<std::string> bh = body_digest(bodies.get(sig.body_canon), sig.body_length);
    if (!bh) {
      set_status(r, dkim_status::permerror, "l= exceeds body length");
      p.decided = true;
      continue;
    }
    p.check.body_ok = *bh == sig.body_hash;
    p.check.algorithm = sig.algorithm;
    p.check.signature = sig.signature;
    p.check.digest = header_digest(parts, sig.headers, sig.header_canon,
                                   without_b_value(field.raw, sig), &field);
    p.check.identity_host = to_lower(sig.identity.substr(sig.identity.rfind('@') + 1));
    p.query = key_query_name(sig.selector, sig.domain);
    add_query(queries_, p.query);
  }
}

dkim_verification::~dkim_verification() = default;
dkim_verification::dkim_verification(dkim_verification&&) noexcept = default;
dkim_verification& dkim_verification::operator=(dkim_verification&&) noexcept = default;

void dkim_verification::on_key_answer(std::string_view name, const core::dns_answer& answer) {
  std::optional<std::string> query = take_query(queries_, name);
  if (!query) return;
  key_lookup how{options_.key_records_max, options_.rsa_bits_floor, keys_.get()};
  for (pending& p : signatures_) {
    if (p.decided || p.query != *query) continue;
    p.decided = true;
    settle_key_answer(answer, p.check, how, p.result);
  }
}

std::vector<dkim_result> dkim_verification::results() const {
  std::vector<dkim_result> out;
  out.reserve(signatures_.size());
  for (const pending& p : signatures_) {
    out.push_back(p.result);
    if (!p.decided) {
      out.back().status = dkim_status::temperror;
      out.back().reason = "no key answer";
    }
  }
  return out;
}

dkim_verifier::dkim_verifier(core::resolver& resolver, const core::clock& clock,
                             verify_options options)
    : resolver_(resolver),
      clock_(clock),
      options_(options),
      keys_(std::make_shared<public_key_cache>()) {}

std::optional<std::vector<dkim_result>> dkim_verifier::verify(std::string_view message,
                                                              done_fn done) {
  auto state = std::make_shared<dkim_verification>(message, clock_.now(), options_, keys_);
  return drive_key_lookups(resolver_, std::move(state), std::move(done),
                           &dkim_verification::results);
}

}  // namespace mailsim::auth
