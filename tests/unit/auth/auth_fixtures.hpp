// Shared pieces of the auth tests: keys generated once from fixed seeds (so every run signs
// with the same keys), a sample message, and a synchronous way to run the asynchronous
// verifier against the fake resolver.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "fake_resolver.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"

namespace mailsim::auth::test {

inline private_key make_key(key_type type, unsigned bits, std::uint64_t seed) {
  core::splitmix_random random(seed);
  private_key_result r = generate_key(type, bits, random);
  if (!r.ok()) {
    ADD_FAILURE() << "key generation failed: " << r.error.message();
    std::abort();
  }
  return *r.key;
}

inline const private_key& rsa2048_key() {
  static const private_key key = make_key(key_type::rsa, 2048, 2048);
  return key;
}
inline const private_key& rsa1024_key() {
  static const private_key key = make_key(key_type::rsa, 1024, 1024);
  return key;
}
inline const private_key& ed25519_key() {
  static const private_key key = make_key(key_type::ed25519, 0, 25519);
  return key;
}

inline core::time_point test_now() {
  return core::from_epoch_ms(1'700'000'000'000);
}

inline std::string sample_message() {
  return "From: Joe SixPack <joe@football.example.com>\r\n"
         "To: Suzie Q <suzie@shopping.example.net>\r\n"
         "Subject: Is dinner ready?\r\n"
         "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
         "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
         "\r\n"
         "Hi.\r\n"
         "\r\n"
         "We lost the game.  Are you hungry yet?\r\n"
         "\r\n"
         "Joe.\r\n";
}

inline sign_options options_for(std::string domain, std::string selector) {
  sign_options o;
  o.domain = std::move(domain);
  o.selector = std::move(selector);
  return o;
}

// Signs `message` and returns it with the field prepended.
inline std::string signed_copy(const private_key& key, const sign_options& o,
                               const std::string& message, core::time_point now = test_now()) {
  sign_result r = dkim_signer(key, o).sign(message, now);
  EXPECT_TRUE(r.ok()) << r.error.message();
  return r.field + message;
}

// Runs dkim_verifier to the end: issues the lookups, drains the resolver, returns the results.
inline std::vector<dkim_result> verify_all(const std::string& message, fake_resolver& dns,
                                           core::time_point now = test_now(),
                                           verify_options options = {}) {
  core::manual_clock clock(now);
  dkim_verifier verifier(dns, clock, options);
  std::optional<std::vector<dkim_result>> results;
  std::optional<std::vector<dkim_result>> immediate =
      verifier.verify(message, [&](std::vector<dkim_result> r) {
        EXPECT_FALSE(results.has_value()) << "done called twice";
        results = std::move(r);
      });
  if (immediate) {
    EXPECT_EQ(dns.pending(), 0u);
    return *immediate;
  }
  EXPECT_FALSE(results.has_value()) << "done ran inside verify()";
  dns.drain();
  EXPECT_TRUE(results.has_value()) << "done never called";
  return results.value_or(std::vector<dkim_result>{});
}

inline std::string key_name(const std::string& selector, const std::string& domain) {
  return selector + "._domainkey." + domain;
}

}  // namespace mailsim::auth::test
