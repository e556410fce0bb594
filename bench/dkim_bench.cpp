// mailsim DKIM benchmarks: signing and verifying a 1 KiB message with relaxed/relaxed
// canonicalization, RSA-2048 and Ed25519, on one core.
//
// What is measured: dkim_signer::sign (split, canonicalize, body hash, header hash, sign,
// base64 and fold) and the sans-IO dkim_verification (parse, canonicalize, both hashes, key
// record parse, signature check), the key answer handed over in memory, so no DNS time is
// counted; "cold_key" decodes the public key for every message, the others keep it in a
// public_key_cache as dkim_verifier does. For reference, the raw signature primitive through the
// same key object (private_key::sign_digest, verify_digest): the gap between the two is DKIM's own
// cost. Issue goal: the DKIM rate within 2x of OpenSSL's raw signature rate for the same key
// (bench/run_dkim.sh prints them side by side with `openssl speed` and dkimpy).
// Keys are generated once from fixed seeds, outside the timed loops.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "reference-server/auth/digest.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/core/random.hpp"

namespace {

using namespace mailsim;

const core::time_point now = core::from_epoch_ms(1'700'000'000'000);

const auth::private_key& key_for(auth::key_type type) {
  static const auth::private_key rsa = [] {
    core::splitmix_random random(2048);
    return *auth::generate_key(auth::key_type::rsa, 2048, random).key;
  }();
  static const auth::private_key ed = [] {
    core::splitmix_random random(25519);
    return *auth::generate_key(auth::key_type::ed25519, 0, random).key;
  }();
  return type == auth::key_type::rsa ? rsa : ed;
}

// About 1 KiB: a usual header block and a plain-text body of 72-column lines.
std::string message_1k() {
  std::string m =
      "From: Newsletter <news@example.com>\r\n"
      "To: Alice Example <alice@example.org>\r\n"
      "Subject: Your weekly digest of things worth reading\r\n"
      "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
      "Message-ID: <digest-2024-01-01.42@example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n";
  const std::string line =
      "Lorem ipsum dolor sit amet,  consectetur adipiscing elit, sed do eiusmod\r\n";
  while (m.size() + line.size() <= 1024) m += line;
  return m;
}

auth::dkim_signer signer_for(auth::key_type type) {
  auth::sign_options o;
  o.domain = "example.com";
  o.selector = "bench";
  o.header_canon = auth::canon::relaxed;
  o.body_canon = auth::canon::relaxed;
  return auth::dkim_signer(key_for(type), o);
}

void sign(benchmark::State& state, auth::key_type type) {
  auth::dkim_signer signer = signer_for(type);
  std::string message = message_1k();
  for (auto _ : state) {
    auth::sign_result r = signer.sign(message, now);
    benchmark::DoNotOptimize(r);
    if (!r.ok()) state.SkipWithError("sign failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// `cached`: through a public_key_cache, as dkim_verifier does, so a sender's key is decoded
// once (the steady state of a receiver); otherwise p= is decoded for every message.
void verify(benchmark::State& state, auth::key_type type, bool cached) {
  std::string message = message_1k();
  std::string signed_message = signer_for(type).sign(message, now).field + message;
  core::dns_answer answer;
  answer.status = core::dns_status::ok;
  answer.records = {key_for(type).dns_record()};
  auto keys = cached ? std::make_shared<auth::public_key_cache>() : nullptr;
  for (auto _ : state) {
    auth::dkim_verification v(signed_message, now, {}, keys);
    v.on_key_answer("bench._domainkey.example.com", answer);
    std::vector<auth::dkim_result> r = v.results();
    if (r.size() != 1 || r[0].status != auth::dkim_status::pass) state.SkipWithError("no pass");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void raw_sign(benchmark::State& state, auth::key_type type) {
  const auth::private_key& key = key_for(type);
  std::string digest = auth::detail::sha256("data");
  for (auto _ : state) benchmark::DoNotOptimize(key.sign_digest(digest));
  state.SetItemsProcessed(state.iterations());
}

void raw_verify(benchmark::State& state, auth::key_type type) {
  const auth::private_key& key = key_for(type);
  std::string digest = auth::detail::sha256("data");
  std::string signature = key.sign_digest(digest);
  std::string public_key = key.public_key_data();
  for (auto _ : state) {
    if (auth::verify_digest(type, public_key, digest, signature) != auth::verify_outcome::good)
      state.SkipWithError("no match");
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(sign, rsa2048, auth::key_type::rsa);
BENCHMARK_CAPTURE(verify, rsa2048, auth::key_type::rsa, true);
BENCHMARK_CAPTURE(verify, rsa2048_cold_key, auth::key_type::rsa, false);
BENCHMARK_CAPTURE(sign, ed25519, auth::key_type::ed25519);
BENCHMARK_CAPTURE(verify, ed25519, auth::key_type::ed25519, true);
BENCHMARK_CAPTURE(verify, ed25519_cold_key, auth::key_type::ed25519, false);
BENCHMARK_CAPTURE(raw_sign, rsa2048, auth::key_type::rsa);
BENCHMARK_CAPTURE(raw_verify, rsa2048, auth::key_type::rsa);
BENCHMARK_CAPTURE(raw_sign, ed25519, auth::key_type::ed25519);
BENCHMARK_CAPTURE(raw_verify, ed25519, auth::key_type::ed25519);

}  // namespace

BENCHMARK_MAIN();
