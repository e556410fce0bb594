#include "reference-server/auth/key_check.hpp"

#include <algorithm>

namespace mailsim::auth {
namespace {

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

std::string key_query_name(std::string_view selector, std::string_view domain) {
  return to_lower(selector) + "._domainkey." + std::string(domain);
}

void add_query(std::vector<std::string>& queries, const std::string& query) {
  if (!has(queries, query)) queries.push_back(query);
}

std::optional<std::string> take_query(std::vector<std::string>& queries, std::string_view name) {
  std::string query = to_lower(name);
  if (!query.empty() && query.back() == '.') query.pop_back();
  auto it = std::find(queries.begin(), queries.end(), query);
  if (it == queries.end()) return std::nullopt;
  queries.erase(it);
  return query;
}

void check_key_record(std::string_view txt, const key_check& c, const key_lookup& how,
                      dkim_result& r) {
  key_record_result parsed = parse_key_record(txt);
  if (!parsed.ok()) return set_status(r, dkim_status::permerror, parsed.error);
  const key_record& key = parsed.record;
  r.testing = key.testing;
  // §6.1.2 steps 5 to 7: hash algorithm, revocation, key type; then §3.6.1 s= and t=s.
  if (!key.hashes.empty() && !has(key.hashes, "sha256"))
    return set_status(r, dkim_status::permerror, "key does not allow sha256");
  if (key.public_key.empty()) return set_status(r, dkim_status::permerror, "key revoked");
  if (key.type != key_type_of(c.algorithm))
    return set_status(r, dkim_status::permerror, "key type does not match a=");
  if (!key.services.empty() && !has(key.services, "*") && !has(key.services, "email"))
    return set_status(r, dkim_status::permerror, "key not for email");
  if (key.strict_identity && c.identity_host && *c.identity_host != r.domain)
    return set_status(r, dkim_status::permerror, "i= must equal d= (t=s)");
  verify_outcome outcome =
      how.keys != nullptr
          ? how.keys->verify(key.type, key.public_key, c.digest, c.signature, how.rsa_bits_floor)
          : verify_digest(key.type, key.public_key, c.digest, c.signature, how.rsa_bits_floor);
  switch (outcome) {
    case verify_outcome::bad_key:
      return set_status(r, dkim_status::permerror, "bad key record");
    case verify_outcome::key_too_short:
      return set_status(r, dkim_status::permerror, "key too short");
    case verify_outcome::bad_signature:
      return set_status(r, dkim_status::fail,
                        c.body_ok ? "signature did not verify" : "body hash did not verify");
    case verify_outcome::good:
      break;
  }
  if (!c.body_ok) return set_status(r, dkim_status::fail, "body hash did not verify");
  set_status(r, dkim_status::pass, {});
}

void settle_key_answer(const core::dns_answer& answer, const key_check& c, const key_lookup& how,
                       dkim_result& r) {
  if (answer.status == core::dns_status::servfail)
    return set_status(r, dkim_status::temperror, "key lookup failed");
  if (answer.status == core::dns_status::timeout)
    return set_status(r, dkim_status::temperror, "key lookup timed out");
  if (answer.status != core::dns_status::ok || answer.records.empty())
    return set_status(r, dkim_status::permerror, "no key");
  std::size_t tries = std::min(answer.records.size(), std::max<std::size_t>(1, how.records_max));
  dkim_result first;
  for (std::size_t k = 0; k < tries; ++k) {
    dkim_result attempt = r;
    check_key_record(answer.records[k], c, how, attempt);
    if (k == 0 || attempt.status == dkim_status::pass) first = attempt;
    if (attempt.status == dkim_status::pass) break;
  }
  r = std::move(first);
}

const std::string& canonical_bodies::get(canon c) {
  std::optional<std::string>& slot = c == canon::simple ? simple_ : relaxed_;
  if (!slot) slot = canonicalize_body(c, body_);
  return *slot;
}

}  // namespace mailsim::auth
