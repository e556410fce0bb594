// ARC chain validation (RFC 8617 §5.2) and its Authentication-Results text (§10.1).
#include <algorithm>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/key_check.hpp"

namespace mailsim::auth {

struct arc_verification::pending {
  unsigned instance = 0;
  bool seal = false;     // the AS of the instance, else its AMS
  bool decided = false;  // a result is known
  bool skipped = false;  // not needed: the chain failed before any key was asked for
  dkim_result result;
  std::string query;  // "<s>._domainkey.<d>", lower-case
  // The key record checks of DKIM (RFC 6376 §6.1.2); t=s has no meaning without an AUID
  // (RFC 8617 §4.1.2), so identity_host stays empty.
  key_check check;
};

namespace {

void name_ams(const dkim_signature& sig, dkim_result& r) {
  r.domain = sig.domain;
  r.selector = sig.selector;
  r.algorithm = sig.algorithm_text;
  r.signature = sig.signature_text;
}

void name_seal(const arc_seal_tags& t, dkim_result& r) {
  r.domain = t.domain;
  r.selector = t.selector;
  r.algorithm = t.algorithm_text;
  r.signature = t.signature_text;
}

// What a structurally broken chain can still show: names and cv= of each set found.
void describe_sets(const arc_chain& chain, arc_outcome& out) {
  for (const arc_set_fields& s : chain.sets) {
    arc_set_result& r = out.sets.emplace_back();
    r.instance = s.instance;
    if (s.ams != nullptr) name_ams(parse_arc_message_signature(s.ams->raw).parsed.signature, r.ams);
    if (s.seal != nullptr) {
      arc_seal_tags t = parse_arc_seal(s.seal->raw);
      r.cv = t.cv;
      name_seal(t, r.seal);
    }
  }
}

std::string label(unsigned instance, bool seal) {
  return "i=" + std::to_string(instance) + ": " +
         std::string(seal ? arc_seal_name : arc_message_signature_name) + ": ";
}

}  // namespace

const char* to_string(arc_status s) {
  switch (s) {
    case arc_status::none:
      return "none";
    case arc_status::pass:
      return "pass";
    case arc_status::fail:
      return "fail";
  }
  return "none";
}

std::string authres_text(const arc_outcome& o, std::string_view remote_ip) {
  std::string out = std::string("arc=") + to_string(o.status);
  if (o.status == arc_status::fail && !o.reason.empty())
    out += " reason=" + quoted_string(o.reason);
  if (o.status == arc_status::pass && o.oldest_pass > 0)
    out += " header.oldest-pass=" + std::to_string(o.oldest_pass);
  if (!remote_ip.empty()) out += " smtp.remote-ip=" + authres_value(remote_ip);
  return out;
}

arc_verification::arc_verification(std::string_view message, core::time_point now,
                                   arc_verify_options options,
                                   std::shared_ptr<public_key_cache> keys)
    : options_(options), keys_(std::move(keys)) {
  message_parts parts = split_message(message);
  arc_chain chain = parse_arc_chain(parts, options_.limits);
  base_.instances = static_cast<unsigned>(chain.sets.size());
  if (chain.fields == 0) return;  // none: §5.2 step 1
  if (!chain.well_formed()) {
    base_.status = arc_status::fail;
    base_.reason = chain.error;
    describe_sets(chain, base_);
    return;
  }
  base_.status = arc_status::pass;  // until a signature says otherwise
  base_.sets.resize(chain.sets.size());
  std::vector<arc_ams_tags> ams(chain.sets.size());
  std::vector<arc_seal_tags> seals(chain.sets.size());
  read_signatures(chain, now, ams, seals);
  // A chain already known to fail needs no hashing and no key: what hostile input adds
  // costs neither.
  if (!failed_early()) hash_signatures(parts, chain, ams, seals);
  bool failed = failed_early();
  for (pending& p : signatures_) {
    if (failed && !p.decided) p.skipped = true;
    if (!p.decided && !p.skipped) add_query(queries_, p.query);
  }
}

void arc_verification::read_signatures(const arc_chain& chain, core::time_point now,
                                       std::vector<arc_ams_tags>& ams,
                                       std::vector<arc_seal_tags>& seals) {
  std::int64_t now_s = epoch_seconds(now);
  std::int64_t skew_s = options_.clock_skew.count();
  auto n = static_cast<unsigned>(chain.sets.size());
  for (unsigned k = n; k >= 1; --k) {
    const arc_set_fields& s = chain.sets[k - 1];
    base_.sets[k - 1].instance = k;
    // Steps 4 to 7: the newest AMS always, the older ones for oldest-pass.
    if (k == n || options_.oldest_pass) {
      pending& p = signatures_.emplace_back();
      p.instance = k;
      const arc_ams_tags& t = ams[k - 1] = parse_arc_message_signature(s.ams->raw);
      const dkim_signature& sig = t.parsed.signature;
      name_ams(sig, p.result);
      p.decided = true;
      if (!t.ok()) {
        set_status(p.result, dkim_status::permerror, t.parsed.error);
      } else if (sig.expiration && *sig.expiration + skew_s < now_s) {
        set_status(p.result, dkim_status::permerror, "signature expired");
      } else if (sig.timestamp && *sig.timestamp > now_s + skew_s) {
        set_status(p.result, dkim_status::permerror, "signature in the future");
      } else {
        p.decided = false;
      }
    }
    // Step 8: every AS.
    pending& p = signatures_.emplace_back();
    p.instance = k;
    p.seal = true;
    const arc_seal_tags& t = seals[k - 1] = parse_arc_seal(s.seal->raw);
    name_seal(t, p.result);
    base_.sets[k - 1].cv = t.cv;
    p.decided = true;
    if (!t.ok()) {
      set_status(p.result, dkim_status::permerror, t.error);
    } else if (t.timestamp && *t.timestamp > now_s + skew_s) {
      set_status(p.result, dkim_status::permerror, "signature in the future");
    } else {
      p.decided = false;
    }
  }
}

void arc_verification::hash_signatures(const message_parts& parts, const arc_chain& chain,
                                       const std::vector<arc_ams_tags>& ams,
                                       const std::vector<arc_seal_tags>& seals) {
  canonical_bodies bodies(parts.body);
  std::vector<pending*> seal_of(chain.sets.size() + 1, nullptr);
  for (pending& p : signatures_) {
    if (p.decided) continue;
    if (p.seal) {
      seal_of[p.instance] = &p;
      continue;
    }
    const arc_set_fields& s = chain.sets[p.instance - 1];
    const dkim_signature& sig = ams[p.instance - 1].parsed.signature;
    std::optional<std::string> bh = body_digest(bodies.get(sig.body_canon), sig.body_length);
    if (!bh) {
      p.decided = true;
      set_status(p.result, dkim_status::permerror, "l= exceeds body length");
      continue;
    }
    p.check.body_ok = *bh == sig.body_hash;
    p.check.algorithm = sig.algorithm;
    p.check.signature = sig.signature;
    p.check.digest =
        header_digest(parts, sig.headers, sig.header_canon, ams[p.instance - 1].without_b, s.ams);
    p.query = key_query_name(sig.selector, sig.domain);
  }
  // Each AS covers the sets below it and its own (§5.1.1): one growing canonical prefix
  // keeps the work linear in the chain's size, not quadratic.
  std::string below;
  for (unsigned k = 1; k <= chain.sets.size(); ++k) {
    const arc_set_fields& s = chain.sets[k - 1];
    std::string own;
    canonicalize_header(canon::relaxed, s.aar->raw, own);
    canonicalize_header(canon::relaxed, s.ams->raw, own);
    if (pending* p = seal_of[k]) {
      const arc_seal_tags& t = seals[k - 1];
      p->check.body_ok = true;  // an AS signs no body
      p->check.algorithm = t.algorithm;
      p->check.signature = t.signature;
      p->check.digest = arc_seal_digest_after(below + own, t.without_b);
      p->query = key_query_name(t.selector, t.domain);
    }
    below += own;
    canonicalize_header(canon::relaxed, s.seal->raw, below);
  }
}

// Any signature §5.2 requires (the newest AMS, every AS) that failed before a lookup.
bool arc_verification::failed_early() const {
  auto n = static_cast<unsigned>(base_.sets.size());
  return std::any_of(signatures_.begin(), signatures_.end(),
                     [n](const pending& p) { return p.decided && (p.seal || p.instance == n); });
}

arc_verification::~arc_verification() = default;
arc_verification::arc_verification(arc_verification&&) noexcept = default;
arc_verification& arc_verification::operator=(arc_verification&&) noexcept = default;

void arc_verification::on_key_answer(std::string_view name, const core::dns_answer& answer) {
  std::optional<std::string> query = take_query(queries_, name);
  if (!query) return;
  key_lookup how{options_.key_records_max, options_.rsa_bits_floor, keys_.get()};
  for (pending& p : signatures_) {
    if (p.decided || p.skipped || p.query != *query) continue;
    p.decided = true;
    settle_key_answer(answer, p.check, how, p.result);
  }
}

arc_outcome arc_verification::outcome() const {
  arc_outcome out = base_;
  if (out.status != arc_status::pass) return out;
  auto n = static_cast<unsigned>(out.sets.size());
  for (const pending& p : signatures_) {
    arc_set_result& s = out.sets[p.instance - 1];
    dkim_result& r = p.seal ? s.seal : s.ams;
    r = p.result;
    if (!p.decided && !p.skipped) set_status(r, dkim_status::temperror, "no key answer");
  }
  // §5.2 step 4, then step 8 from N down; a permanent failure outranks a temporary one.
  std::vector<std::pair<unsigned, bool>> order{{n, false}};
  for (unsigned k = n; k >= 1; --k) order.emplace_back(k, true);
  const dkim_result* failed = nullptr;
  std::pair<unsigned, bool> failed_at;
  for (const auto& [k, seal] : order) {
    const dkim_result& r = seal ? out.sets[k - 1].seal : out.sets[k - 1].ams;
    bool skipped = r.status == dkim_status::none;
    if (r.status == dkim_status::pass || skipped) continue;
    if (failed == nullptr ||
        (failed->status == dkim_status::temperror && r.status != dkim_status::temperror)) {
      failed = &r;
      failed_at = {k, seal};
    }
  }
  if (failed != nullptr) {
    out.status = arc_status::fail;
    out.temporary = failed->status == dkim_status::temperror;
    out.reason = label(failed_at.first, failed_at.second) + failed->reason;
    return out;
  }
  // Steps 5 to 7: the lowest instance from which every AMS up to N verifies; 0 for all.
  if (options_.oldest_pass) {
    for (unsigned k = n - 1; k >= 1; --k) {
      if (out.sets[k - 1].ams.status != dkim_status::pass) {
        out.oldest_pass = static_cast<int>(k + 1);
        break;
      }
    }
  }
  return out;
}

arc_verifier::arc_verifier(core::resolver& resolver, const core::clock& clock,
                           arc_verify_options options)
    : resolver_(resolver),
      clock_(clock),
      options_(options),
      keys_(std::make_shared<public_key_cache>()) {}

std::optional<arc_outcome> arc_verifier::verify(std::string_view message, done_fn done) {
  auto state = std::make_shared<arc_verification>(message, clock_.now(), options_, keys_);
  return drive_key_lookups(resolver_, std::move(state), std::move(done),
                           &arc_verification::outcome);
}

}  // namespace mailsim::auth
