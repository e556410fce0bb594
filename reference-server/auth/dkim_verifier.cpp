#include "reference-server/auth/dkim_verifier.hpp"

#include <algorithm>

#include "reference-server/auth/canonicalization.hpp"

namespace mailsim::auth {

namespace {

// What a key record is checked against once the signature has been read and hashed.
struct key_check {
  dkim_algorithm algorithm = dkim_algorithm::rsa_sha256;
  std::string header_digest;
  std::string signature;
  bool body_ok = false;
  std::string identity_host;  // the domain of i=, lower-case, for a key's t=s
};

}  // namespace

struct dkim_verification::pending {
  dkim_result result;
  bool decided = false;
  std::string query;  // "<s>._domainkey.<d>", lower-case
  key_check check;
};

namespace {

void set(dkim_result& r, dkim_status status, std::string reason) {
  r.status = status;
  r.reason = std::move(reason);
}

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::int64_t seconds_of(core::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The canonical body in one of the two forms, made once per message whatever the number of
// signatures using it.
class body_cache {
 public:
  explicit body_cache(std::string_view body) : body_(body) {}
  const std::string& get(canon c) {
    std::optional<std::string>& slot = c == canon::simple ? simple_ : relaxed_;
    if (!slot) slot = canonicalize_body(c, body_);
    return *slot;
  }

 private:
  std::string_view body_;
  std::optional<std::string> simple_;
  std::optional<std::string> relaxed_;
};

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

// RFC 6376 §6.1.2 steps that concern the key record, then §6.1.3.
void check_with_record(const verify_options& options, public_key_cache* keys, const key_check& c,
                       std::string_view txt, dkim_result& r) {
  key_record_result parsed = parse_key_record(txt);
  if (!parsed.ok()) return set(r, dkim_status::permerror, parsed.error);
  const key_record& key = parsed.record;
  r.testing = key.testing;
  // §6.1.2 steps 5 to 7: hash algorithm, revocation, key type; then §3.6.1 s= and t=s.
  if (!key.hashes.empty() && !has(key.hashes, "sha256"))
    return set(r, dkim_status::permerror, "key does not allow sha256");
  if (key.public_key.empty()) return set(r, dkim_status::permerror, "key revoked");
  if (key.type != key_type_of(c.algorithm))
    return set(r, dkim_status::permerror, "key type does not match a=");
  if (!key.services.empty() && !has(key.services, "*") && !has(key.services, "email"))
    return set(r, dkim_status::permerror, "key not for email");
  if (key.strict_identity && c.identity_host != r.domain)
    return set(r, dkim_status::permerror, "i= must equal d= (t=s)");
  verify_outcome outcome = keys != nullptr
                               ? keys->verify(key.type, key.public_key, c.header_digest,
                                              c.signature, options.rsa_bits_floor)
                               : verify_digest(key.type, key.public_key, c.header_digest,
                                               c.signature, options.rsa_bits_floor);
  switch (outcome) {
    case verify_outcome::bad_key:
      return set(r, dkim_status::permerror, "bad key record");
    case verify_outcome::key_too_short:
      return set(r, dkim_status::permerror, "key too short");
    case verify_outcome::bad_signature:
      return set(r, dkim_status::fail,
                 c.body_ok ? "signature did not verify" : "body hash did not verify");
    case verify_outcome::good:
      break;
  }
  if (!c.body_ok) return set(r, dkim_status::fail, "body hash did not verify");
  set(r, dkim_status::pass, {});
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
  if (!r.reason.empty()) {
    out += " reason=\"";
    for (char c : r.reason) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
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
  body_cache bodies(parts.body);
  std::int64_t now_s = seconds_of(now);
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
      set(r, v->status, v->reason);
      p.decided = true;
      continue;
    }
    std::optional<std::string> bh = body_digest(bodies.get(sig.body_canon), sig.body_length);
    if (!bh) {
      set(r, dkim_status::permerror, "l= exceeds body length");
      p.decided = true;
      continue;
    }
    p.check.body_ok = *bh == sig.body_hash;
    p.check.algorithm = sig.algorithm;
    p.check.signature = sig.signature;
    p.check.header_digest = header_digest(parts, sig.headers, sig.header_canon,
                                          without_b_value(field.raw, sig), &field);
    p.check.identity_host = to_lower(sig.identity.substr(sig.identity.rfind('@') + 1));
    p.query = to_lower(sig.selector) + "._domainkey." + sig.domain;
    if (!has(queries_, p.query)) queries_.push_back(p.query);
  }
}

dkim_verification::~dkim_verification() = default;
dkim_verification::dkim_verification(dkim_verification&&) noexcept = default;
dkim_verification& dkim_verification::operator=(dkim_verification&&) noexcept = default;

void dkim_verification::on_key_answer(std::string_view name, const core::dns_answer& answer) {
  std::string query = to_lower(name);
  if (!query.empty() && query.back() == '.') query.pop_back();
  auto it = std::find(queries_.begin(), queries_.end(), query);
  if (it == queries_.end()) return;
  queries_.erase(it);
  for (pending& p : signatures_) {
    if (p.decided || p.query != query) continue;
    p.decided = true;
    if (answer.status == core::dns_status::servfail) {
      set(p.result, dkim_status::temperror, "key lookup failed");
    } else if (answer.status == core::dns_status::timeout) {
      set(p.result, dkim_status::temperror, "key lookup timed out");
    } else if (answer.status != core::dns_status::ok || answer.records.empty()) {
      set(p.result, dkim_status::permerror, "no key");
    } else {
      std::size_t tries =
          std::min(answer.records.size(), std::max<std::size_t>(1, options_.key_records_max));
      dkim_result first;
      for (std::size_t k = 0; k < tries; ++k) {
        dkim_result attempt = p.result;
        check_with_record(options_, keys_.get(), p.check, answer.records[k], attempt);
        if (k == 0) first = attempt;
        if (attempt.status == dkim_status::pass) {
          first = attempt;
          break;
        }
      }
      p.result = std::move(first);
    }
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
  if (state->complete()) return state->results();
  auto finish = std::make_shared<done_fn>(std::move(done));
  std::vector<std::string> names = state->key_queries();  // answers shrink the original
  for (const std::string& name : names) {
    resolver_.resolve(name, core::rr_type::txt,
                      [state, finish, name](const core::dns_answer& answer) {
                        state->on_key_answer(name, answer);
                        if (!state->complete() || !*finish) return;
                        done_fn call = std::move(*finish);
                        *finish = nullptr;
                        call(state->results());
                      });
  }
  return std::nullopt;
}

}  // namespace mailsim::auth
