// Private keys: the formats accepted and refused, generation from the injected random source,
// the published record, and the raw sign/verify primitives.
#include "reference-server/auth/dkim_key.hpp"

#include <gtest/gtest.h>

#include "auth_fixtures.hpp"
#include "key_files.hpp"
#include "reference-server/auth/digest.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

// RFC 8463 Appendix A.1 (private seed) and A.2 (its public key).
constexpr std::string_view rfc8463_seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
constexpr std::string_view rfc8463_public = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

TEST(PrivateKey, LoadsTheRfc8463SeedFormat) {
  private_key_result r = private_key::load(std::string(rfc8463_seed) + "\n");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.key->type(), key_type::ed25519);
  EXPECT_EQ(r.key->dns_record(), "v=DKIM1; k=ed25519; p=" + std::string(rfc8463_public));
}

TEST(PrivateKey, PemRoundTripKeepsTheKey) {
  for (const private_key* key : {&test::rsa2048_key(), &test::ed25519_key()}) {
    std::string pem = key->pem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);  // PKCS#8
    private_key_result again = private_key::load(pem);
    ASSERT_TRUE(again.ok()) << again.error.message();
    EXPECT_EQ(again.key->type(), key->type());
    EXPECT_EQ(again.key->public_key_data(), key->public_key_data());
  }
}

TEST(PrivateKey, LoadsTraditionalRsaPem) {
  private_key_result r = private_key::load(test::traditional_rsa_1024_pem);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.key->type(), key_type::rsa);
  EXPECT_EQ(r.key->bits(), 1024u);
}

TEST(PrivateKey, RefusesWhatDkimCannotUse) {
  EXPECT_EQ(private_key::load(test::rsa_512_pem).error, make_error_code(errc::key_size));
  EXPECT_EQ(private_key::load(test::ec_p256_pem).error, make_error_code(errc::key_unsupported));
  EXPECT_EQ(private_key::load(test::encrypted_pkcs8_pem).error,
            make_error_code(errc::key_encrypted));
  EXPECT_EQ(private_key::load("hello").error, make_error_code(errc::key_unreadable));
  EXPECT_EQ(
      private_key::load("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").error,
      make_error_code(errc::key_unreadable));
  // A seed must be exactly 32 octets.
  EXPECT_EQ(private_key::load(core::base64_encode(std::string(31, 'x'))).error,
            make_error_code(errc::key_unreadable));
}

TEST(GenerateKey, SameSeedSameKeyOtherSeedOtherKey) {
  private_key a = test::make_key(key_type::rsa, 1024, 7);
  private_key b = test::make_key(key_type::rsa, 1024, 7);
  private_key c = test::make_key(key_type::rsa, 1024, 8);
  EXPECT_EQ(a.bits(), 1024u);
  EXPECT_EQ(a.public_key_data(), b.public_key_data());
  EXPECT_NE(a.public_key_data(), c.public_key_data());
  EXPECT_EQ(test::make_key(key_type::ed25519, 0, 7).public_key_data(),
            test::make_key(key_type::ed25519, 0, 7).public_key_data());
}

TEST(GenerateKey, RecordsNameTheKeyType) {
  EXPECT_EQ(test::rsa2048_key().bits(), 2048u);
  EXPECT_EQ(test::rsa2048_key().dns_record().rfind("v=DKIM1; k=rsa; p=MII", 0), 0u);
  EXPECT_EQ(test::ed25519_key().dns_record().rfind("v=DKIM1; k=ed25519; p=", 0), 0u);
  key_record_result parsed = parse_key_record(test::rsa2048_key().dns_record());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.record.public_key, test::rsa2048_key().public_key_data());
}

TEST(GenerateKey, RefusesRsaSizesOutsideTheRange) {
  core::splitmix_random random(1);
  EXPECT_EQ(generate_key(key_type::rsa, 512, random).error, make_error_code(errc::key_size));
  EXPECT_EQ(generate_key(key_type::rsa, 8192, random).error, make_error_code(errc::key_size));
  EXPECT_EQ(generate_key(key_type::rsa, 1030, random).error, make_error_code(errc::key_size));
}

TEST(SignDigest, VerifiesAndDetectsChanges) {
  std::string digest = detail::sha256("signed data");
  for (const private_key* key : {&test::rsa2048_key(), &test::ed25519_key()}) {
    std::string sig = key->sign_digest(digest);
    ASSERT_FALSE(sig.empty());
    EXPECT_EQ(sig, key->sign_digest(digest));  // both schemes are deterministic
    std::string data = key->public_key_data();
    EXPECT_EQ(verify_digest(key->type(), data, digest, sig), verify_outcome::good);
    std::string other = detail::sha256("other data");
    EXPECT_EQ(verify_digest(key->type(), data, other, sig), verify_outcome::bad_signature);
    sig[3] = static_cast<char>(sig[3] ^ 1);
    EXPECT_EQ(verify_digest(key->type(), data, digest, sig), verify_outcome::bad_signature);
    EXPECT_EQ(verify_digest(key->type(), data.substr(1), digest, sig), verify_outcome::bad_key);
  }
}

TEST(SignDigest, RsaKeyDataInBothPublishedForms) {
  std::string digest = detail::sha256("x");
  const private_key& key = test::rsa2048_key();
  std::string sig = key.sign_digest(digest);
  std::string spki = key.public_key_data();
  // A 2048-bit SubjectPublicKeyInfo is a 24-octet prefix around the PKCS#1 RSAPublicKey.
  ASSERT_EQ(spki.size(), 294u);
  std::string pkcs1 = spki.substr(24);
  EXPECT_EQ(verify_digest(key_type::rsa, pkcs1, digest, sig), verify_outcome::good);
  EXPECT_EQ(verify_digest(key_type::rsa, spki + "x", digest, sig), verify_outcome::bad_key);
  // Every truncation is refused as a bad key (the DER reader stays inside the data).
  for (std::size_t n = 0; n < spki.size(); ++n) {
    EXPECT_EQ(verify_digest(key_type::rsa, spki.substr(0, n), digest, sig), verify_outcome::bad_key)
        << n;
  }
  // A lie in a length octet: refused, not read past the end.
  std::string bad_length = spki;
  bad_length[3] = static_cast<char>(0xff);
  EXPECT_EQ(verify_digest(key_type::rsa, bad_length, digest, sig), verify_outcome::bad_key);
}

TEST(SignDigest, ShortRsaKeyIsReportedAsSuch) {
  std::string digest = detail::sha256("x");
  const private_key& key = test::rsa1024_key();
  std::string sig = key.sign_digest(digest);
  EXPECT_EQ(verify_digest(key_type::rsa, key.public_key_data(), digest, sig), verify_outcome::good);
  EXPECT_EQ(verify_digest(key_type::rsa, key.public_key_data(), digest, sig, 2048),
            verify_outcome::key_too_short);
}

// A DER element (definite length) and an RSAPublicKey made of two magnitudes, for keys that
// private_key would never produce.
std::string der(char tag, const std::string& content) {
  std::string out(1, tag);
  if (content.size() < 0x80) {
    out += static_cast<char>(content.size());
  } else {
    std::string octets;
    for (std::size_t n = content.size(); n != 0; n >>= 8) octets.insert(0, 1, static_cast<char>(n));
    out += static_cast<char>(0x80 | octets.size());
    out += octets;
  }
  return out + content;
}
std::string rsa_public_key(std::string n, std::string e) {
  for (std::string* v : {&n, &e}) {
    if ((static_cast<unsigned char>(v->front()) & 0x80) != 0) v->insert(0, 1, '\0');
  }
  return der('\x30', der('\x02', n) + der('\x02', e));
}

// Key values that parse but that RSA cannot use: OpenSSL refuses them at verification time,
// which is a failed signature, not a bad key record; only the size bounds make a bad key or a
// short one. Each answer is asked twice through a cache too (the second time the key's
// Montgomery set-up, if any, is reused), and must not change.
TEST(SignDigest, UnusableRsaKeyValuesFailTheSignature) {
  const private_key& key = test::rsa2048_key();
  std::string digest = detail::sha256("x");
  std::string sig = key.sign_digest(digest);
  const std::string n = key.public_key_data().substr(33, 256);  // after the SPKI and INTEGER heads
  const std::string f4("\x01\x00\x01", 3);
  ASSERT_EQ(verify_digest(key_type::rsa, rsa_public_key(n, f4), digest, sig), verify_outcome::good);
  std::string even = n;
  even.back() = static_cast<char>(even.back() & ~1);
  std::string huge(1025, '\x5b');  // 8,199 bits: above twice the 4,096 verifiers must handle
  std::string large(1024, '\x5b');  // 8,191 bits: still verified, and fails
  struct odd_key {
    std::string data, signature, digest;
    unsigned floor;
    verify_outcome expected;
  };
  const odd_key cases[] = {
      {rsa_public_key(std::string(1, '\0'), f4), sig, digest, 0, verify_outcome::bad_signature},
      {rsa_public_key(std::string(1, '\0'), f4), sig, digest, 1024, verify_outcome::key_too_short},
      {rsa_public_key(even, f4), sig, digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, std::string(1, '\0')), sig, digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, std::string(1, '\1')), sig, digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, n), sig, digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, f4), sig.substr(1), digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, f4), sig + '\0', digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, f4), sig, digest.substr(0, 20), 1024, verify_outcome::bad_signature},
      {rsa_public_key(n, f4), std::string(256, '\xff'), digest, 1024, verify_outcome::bad_signature},
      {rsa_public_key(huge, f4), std::string(1025, '\1'), digest, 1024, verify_outcome::bad_key},
      {rsa_public_key(large, f4), std::string(1024, '\1'), digest, 1024,
       verify_outcome::bad_signature},
  };
  public_key_cache cache(4);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const odd_key& c = cases[i];
    EXPECT_EQ(verify_digest(key_type::rsa, c.data, c.digest, c.signature, c.floor), c.expected)
        << i;
    for (int round = 0; round < 2; ++round) {
      EXPECT_EQ(cache.verify(key_type::rsa, c.data, c.digest, c.signature, c.floor), c.expected)
          << i << " round " << round;
    }
  }
  // The valid key again after all that, through the cache: its set-up is still good.
  EXPECT_EQ(cache.verify(key_type::rsa, rsa_public_key(n, f4), digest, sig), verify_outcome::good);
}

TEST(PublicKeyCache, AnswersLikeVerifyDigestAndStaysBounded) {
  public_key_cache cache(2);
  std::string digest = detail::sha256("cached");
  for (int round = 0; round < 3; ++round) {
    for (const private_key* key :
         {&test::rsa2048_key(), &test::ed25519_key(), &test::rsa1024_key()}) {
      std::string data = key->public_key_data();
      std::string sig = key->sign_digest(digest);
      EXPECT_EQ(cache.verify(key->type(), data, digest, sig), verify_outcome::good);
      std::string other = sig;
      other[0] = static_cast<char>(other[0] ^ 1);
      EXPECT_EQ(cache.verify(key->type(), data, digest, other), verify_outcome::bad_signature);
      EXPECT_EQ(
          cache.verify(key->type(), data, digest, sig, 4096),
          key->type() == key_type::rsa ? verify_outcome::key_too_short : verify_outcome::good);
      EXPECT_EQ(cache.verify(key->type(), data.substr(2), digest, sig), verify_outcome::bad_key);
      EXPECT_LE(cache.size(), 2u);
    }
  }
  // The same data under the other key type is a different entry, and not a valid key.
  EXPECT_EQ(cache.verify(key_type::rsa, test::ed25519_key().public_key_data(), digest, "x"),
            verify_outcome::bad_key);
}

}  // namespace
}  // namespace mailsim::auth
