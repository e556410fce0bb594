// Password hashes: round trips, wrong passwords, RFC 7914 vectors, malformed encodings.
#include "reference-server/sasl/password.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "reference-server/core/base64.hpp"

namespace mailsim::sasl {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::string b64(std::string_view bytes) {
  return core::base64_encode(bytes);
}

// Costs low enough for unit tests; the defaults are exercised once per scheme below.
hash_params cheap(hash_scheme scheme) {
  hash_params p;
  p.scheme = scheme;
  p.iterations = 4096;
  p.scrypt_log2_n = 10;
  p.scrypt_r = 8;
  p.scrypt_p = 1;
  return p;
}

class every_scheme : public ::testing::TestWithParam<hash_scheme> {};

TEST_P(every_scheme, round_trip_and_wrong_password) {
  core::splitmix_random random(7);
  std::string hash = hash_password("correct horse", cheap(GetParam()), random);
  ASSERT_FALSE(hash.empty());
  EXPECT_TRUE(is_password_hash(hash));
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct horsf", hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_FALSE(verify_password("correct horse ", hash));
}

TEST_P(every_scheme, salt_comes_from_the_random_source) {
  core::splitmix_random a(1);
  core::splitmix_random b(1);
  core::splitmix_random c(2);
  std::string first = hash_password("pw", cheap(GetParam()), a);
  EXPECT_EQ(first, hash_password("pw", cheap(GetParam()), b));  // same seed, same hash
  EXPECT_NE(first, hash_password("pw", cheap(GetParam()), c));
  EXPECT_NE(first, hash_password("pw", cheap(GetParam()), a));  // a fresh salt each time
}

INSTANTIATE_TEST_SUITE_P(sasl, every_scheme,
                         ::testing::Values(hash_scheme::pbkdf2_sha256, hash_scheme::scrypt,
                                           hash_scheme::scram_sha256));

TEST(password, default_costs_are_encoded) {
  core::splitmix_random random(3);
  std::string pbkdf2 = hash_password("secret", hash_scheme::pbkdf2_sha256, random);
  std::string scrypt = hash_password("secret", hash_scheme::scrypt, random);
  EXPECT_TRUE(pbkdf2.starts_with("$pbkdf2-sha256$i=600000$")) << pbkdf2;
  EXPECT_TRUE(scrypt.starts_with("$scrypt$ln=15,r=8,p=3$")) << scrypt;
  EXPECT_TRUE(verify_password("secret", pbkdf2));
  EXPECT_TRUE(verify_password("secret", scrypt));
  EXPECT_FALSE(verify_password("Secret", scrypt));
  // "$", tag, cost, 16-byte salt (24 base64 chars), 32-byte hash (44 chars).
  EXPECT_EQ(pbkdf2.size(), std::string("$pbkdf2-sha256$i=600000$").size() + 24 + 1 + 44);
}

// RFC 7914 §11: PBKDF2-HMAC-SHA256 vectors. PBKDF2's first 32 output bytes do not depend on
// dkLen, so the 64-byte vectors' first halves are what a 32-byte hash must hold.
TEST(password, pbkdf2_rfc7914_vectors) {
  struct vector {
    std::string_view password, salt;
    std::uint32_t iterations;
    std::string_view dk_hex;
  };
  const vector vectors[] = {
      {"passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"},
      {"Password", "NaCl", 80000,
       "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"},
  };
  for (const auto& v : vectors) {
    std::string encoded = "$pbkdf2-sha256$i=" + std::to_string(v.iterations) + "$" + b64(v.salt) +
                          "$" + b64(from_hex(v.dk_hex));
    EXPECT_TRUE(verify_password(v.password, encoded)) << encoded;
    hash_params params;
    params.iterations = v.iterations;
    EXPECT_EQ(hash_password_with_salt(v.password, params, v.salt), encoded);
  }
}

// RFC 7914 §12: scrypt("password", "NaCl", N=1024, r=8, p=16), first 32 bytes.
TEST(password, scrypt_rfc7914_vector) {
  std::string encoded = "$scrypt$ln=10,r=8,p=16$" + b64("NaCl") + "$" +
                        b64(from_hex("fdbabe1c9d3472007856e7190d01e9fe"
                                     "7c6ad7cbc8237830e77376634b373162"));
  EXPECT_TRUE(verify_password("password", encoded));
  EXPECT_FALSE(verify_password("passwore", encoded));
  hash_params params = cheap(hash_scheme::scrypt);
  params.scrypt_p = 16;
  EXPECT_EQ(hash_password_with_salt("password", params, "NaCl"), encoded);
}

TEST(password, malformed_encodings_never_verify) {
  const std::string salt = b64("0123456789abcdef");
  const std::string key = b64(std::string(32, 'k'));
  const std::string cases[] = {
      "",
      "pencil",  // a plaintext password
      "$",
      "$pbkdf2-sha256$i=4096$" + salt,
      "$pbkdf2-sha256$i=4096$" + salt + "$",
      "$pbkdf2-sha256$i=4096$" + salt + "$" + key + "$",
      "pbkdf2-sha256$i=4096$" + salt + "$" + key,
      "$pbkdf2-sha256$i=0$" + salt + "$" + key,
      "$pbkdf2-sha256$i=04096$" + salt + "$" + key,
      "$pbkdf2-sha256$i=+4096$" + salt + "$" + key,
      "$pbkdf2-sha256$i=99999999999$" + salt + "$" + key,
      "$pbkdf2-sha256$i=10000001$" + salt + "$" + key,
      "$pbkdf2-sha256$iterations=4096$" + salt + "$" + key,
      "$pbkdf2-sha256$i=4096$$" + key,
      "$pbkdf2-sha256$i=4096$" + salt + "$" + b64(std::string(31, 'k')),
      "$pbkdf2-sha256$i=4096$" + salt + "$" + key.substr(1),
      "$pbkdf2-sha256$i=4096$" + salt + "$" + key + " ",
      "$pbkdf2-sha256$i=4096$" + b64(std::string(65, 's')) + "$" + key,
      "$PBKDF2-SHA256$i=4096$" + salt + "$" + key,
      "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key,
      "$scrypt$r=8,ln=10,p=1$" + salt + "$" + key,
      "$scrypt$ln=10,r=8$" + salt + "$" + key,
      "$scrypt$ln=10,r=8,p=1,x=1$" + salt + "$" + key,
      "$scrypt$ln=0,r=8,p=1$" + salt + "$" + key,
      "$scrypt$ln=23,r=1,p=1$" + salt + "$" + key,
      "$scrypt$ln=22,r=32,p=1$" + salt + "$" + key,  // 16 GiB
      "$scrypt$ln=10,r=8,p=0$" + salt + "$" + key,
      "$scrypt$ln=10,r=8,p=17$" + salt + "$" + key,
      "$scram-sha-256$i=4096$" + salt + "$" + key,
      "$scram-sha-256$i=4096$" + salt + "$" + key + "$" + key.substr(4),
  };
  for (const auto& encoded : cases) {
    EXPECT_FALSE(is_password_hash(encoded)) << encoded;
    EXPECT_FALSE(verify_password("pencil", encoded)) << encoded;
    EXPECT_FALSE(scram_secrets_from_hash(encoded).has_value()) << encoded;
  }
}

TEST(password, out_of_bounds_parameters_give_no_hash) {
  core::splitmix_random random(5);
  hash_params params = cheap(hash_scheme::pbkdf2_sha256);
  params.iterations = 0;
  EXPECT_EQ(hash_password("pw", params, random), "");
  params = cheap(hash_scheme::scrypt);
  params.scrypt_log2_n = 40;
  EXPECT_EQ(hash_password("pw", params, random), "");
  EXPECT_EQ(hash_password_with_salt("pw", cheap(hash_scheme::pbkdf2_sha256), ""), "");
}

TEST(password, scram_secrets_agree_across_schemes) {
  const std::string salt = "sixteen byte slt";
  std::string pbkdf2 = hash_password_with_salt("pencil", cheap(hash_scheme::pbkdf2_sha256), salt);
  std::string scram = hash_password_with_salt("pencil", cheap(hash_scheme::scram_sha256), salt);
  auto a = scram_secrets_from_hash(pbkdf2);
  auto b = scram_secrets_from_hash(scram);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->salt, salt);
  EXPECT_EQ(a->iterations, 4096U);
  EXPECT_EQ(a->stored_key, b->stored_key);
  EXPECT_EQ(a->server_key, b->server_key);
  EXPECT_EQ(a->stored_key.size(), 32U);
  // The scram-sha-256 encoding keeps no password-equivalent: its keys are not the PBKDF2 hash.
  EXPECT_EQ(scram.find(pbkdf2.substr(pbkdf2.rfind('$') + 1)), std::string::npos);
}

TEST(password, scrypt_hashes_have_no_scram_secrets) {
  core::splitmix_random random(9);
  std::string hash = hash_password("pencil", cheap(hash_scheme::scrypt), random);
  ASSERT_TRUE(is_password_hash(hash));
  EXPECT_FALSE(scram_secrets_from_hash(hash).has_value());
}

}  // namespace
}  // namespace mailsim::sasl
