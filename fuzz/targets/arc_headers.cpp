// Fuzz target: ARC fields and chains (reference-server/auth/arc.hpp). The input (up to
// 64 KiB) is a message, usually just a header block: parse_arc_chain() groups its ARC
// fields, each is read with parse_arc_seal() / parse_arc_message_signature(), an
// arc_verification runs with every key lookup answered NXDOMAIN, and arc_seal() adds a set
// with a fixed Ed25519 key whose record is then the only one found.
// Checked beyond the sanitizers:
// - the chain: sets in increasing instance order; a well-formed chain has N complete sets
//   numbered 1..N, N <= 50, 3N fields, and its newest cv= is not fail;
// - verification: none exactly when there is no ARC field, never pass without keys, a fail
//   has a reason, a structural failure asks for no key;
// - sealing: a message without ARC fields (whose first line is not a continuation, which
//   prepended fields would absorb) that can be sealed verifies as pass; sealing a chain that
//   failed gives cv=fail, which then fails; a refused seal says why with an arc_errc or
//   errc::no_from_field.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/core/random.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;
constexpr std::string_view key_name = "fz._domainkey.fuzz.example";

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "arc_headers property violated: %s\n", what);
  std::abort();
}

const auth::private_key& fuzz_key() {
  static const auth::private_key key = [] {
    core::splitmix_random random(8617);
    return *auth::generate_key(auth::key_type::ed25519, 0, random).key;
  }();
  return key;
}

core::time_point now() {
  return core::from_epoch_ms(1'700'000'000'000);
}

void check_chain(const auth::arc_chain& c) {
  for (std::size_t k = 1; k < c.sets.size(); ++k)
    require(c.sets[k - 1].instance < c.sets[k].instance, "sets out of order");
  if (!c.sets.empty()) require(c.sets.back().instance == c.highest_instance, "highest instance");
  if (!c.well_formed()) return;
  require(c.highest_instance <= auth::arc_instances_max, "more than 50 sets accepted");
  require(c.sets.size() == c.highest_instance && c.fields == 3 * c.sets.size(), "set count");
  require(c.newest_cv != "fail", "cv=fail accepted as newest");
  for (std::size_t k = 0; k < c.sets.size(); ++k) {
    const auth::arc_set_fields& s = c.sets[k];
    require(s.instance == k + 1 && s.aar && s.ams && s.seal, "incomplete set accepted");
    const auth::arc_seal_tags seal = auth::parse_arc_seal(s.seal->raw);
    require(seal.cv == (k == 0 ? "none" : "pass"), "cv= rule not applied");
    const auth::arc_ams_tags ams = auth::parse_arc_message_signature(s.ams->raw);
    if (ams.ok()) require(ams.instance == k + 1, "AMS instance differs");
    if (seal.ok()) require(seal.instance == k + 1 && !seal.signature.empty(), "AS read wrong");
  }
}

// Verifies with `ours` answered (when given) and every other name NXDOMAIN.
auth::arc_outcome verify(std::string_view message, const std::string* ours) {
  auth::arc_verification v(message, now());
  const std::vector<std::string> names = v.key_queries();
  for (const std::string& name : names) {
    core::dns_answer a;
    a.status = core::dns_status::nxdomain;
    if (ours != nullptr && name == key_name) {
      a.status = core::dns_status::ok;
      a.records = {*ours};
    }
    v.on_key_answer(name, a);
  }
  require(v.complete(), "answers left the verification incomplete");
  return v.outcome();
}

void check_seal(std::string_view message, const auth::arc_chain& chain,
                const auth::arc_outcome& outcome) {
  auth::arc_seal_options o;
  o.domain = "fuzz.example";
  o.selector = "fz";
  o.authserv_id = "mx.fuzz.example";
  const auth::arc_seal_result r =
      auth::arc_seal(message, fuzz_key(), o, outcome, "spf=pass smtp.mailfrom=fuzz.example", now());
  if (!r.ok()) {
    require(r.error.category() == auth::arc_category() || r.error == auth::errc::no_from_field,
            "undocumented seal error");
    return;
  }
  require(r.cv == outcome.status && r.instance == chain.highest_instance + 1, "seal numbering");
  const std::string sealed = r.fields + std::string(message);
  const std::string record = fuzz_key().dns_record();
  const auth::arc_outcome again = verify(sealed, &record);
  const bool clean =
      chain.fields == 0 && !message.empty() && message[0] != ' ' && message[0] != '\t';
  if (clean) require(again.status == auth::arc_status::pass, "own seal did not verify");
  if (outcome.status == auth::arc_status::fail)
    require(again.status == auth::arc_status::fail, "a sealed failure did not fail");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auth::message_parts parts = auth::split_message(text);
  const auth::arc_chain chain = auth::parse_arc_chain(parts);
  check_chain(chain);
  for (const auth::header_field& f : parts.fields) {
    (void)auth::arc_instance_of(f);
    const auth::arc_seal_tags seal = auth::parse_arc_seal(f.raw);
    require(seal.without_b.size() <= f.raw.size(), "AS without b= grew");
    const auth::arc_ams_tags ams = auth::parse_arc_message_signature(f.raw);
    require(ams.without_b.size() <= f.raw.size(), "AMS without b= grew");
  }
  const auth::arc_verification first(text, now());
  if (!chain.error.empty()) require(first.complete(), "a broken chain asked for keys");
  const auth::arc_outcome outcome = verify(text, nullptr);
  require((outcome.status == auth::arc_status::none) == (chain.fields == 0), "none iff no field");
  require(outcome.status != auth::arc_status::pass, "passed without keys");
  if (outcome.status == auth::arc_status::fail) require(!outcome.reason.empty(), "no reason");
  require(outcome.instances == chain.sets.size(), "instances miscounted");
  check_seal(text, chain, outcome);
  return 0;
}
