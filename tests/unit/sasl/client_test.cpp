// Client mechanisms, alone and in round trips against the server mechanisms.
#include "reference-server/sasl/client.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sasl/sasl_vectors.hpp"

#include <map>
#include <string>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using namespace mailsim::sasl::test;

using client_status = client_step_result::status;
using server_status = step_result::status;
using namespace std::string_literals;

class map_store final : public credential_store {
 public:
  std::map<std::string, std::string, std::less<>> hashes;

  std::optional<std::string> password_hash(std::string_view user) const override {
    auto it = hashes.find(user);
    if (it == hashes.end()) return std::nullopt;
    return it->second;
  }
};

// RFC 7677 §3.


std::unique_ptr<client_mechanism> rfc_client(core::random_source& random) {
  return make_scram_sha256_client("user", "pencil", random, rfc_client_nonce);
}

TEST(scram_client, rfc7677_exchange) {
  core::splitmix_random random(1);
  auto c = rfc_client(random);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->initial_response(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto final = c->step(rfc_server_first);
  EXPECT_EQ(final.state, client_status::respond);
  EXPECT_EQ(final.data, rfc_client_final);
  EXPECT_FALSE(c->complete());
  auto done = c->step(rfc_server_final);
  EXPECT_EQ(done.state, client_status::done) << done.reason;
  EXPECT_TRUE(c->complete());
  EXPECT_EQ(c->step("").state, client_status::error);
}

TEST(scram_client, empty_challenge_asks_for_the_first_message) {
  core::splitmix_random random(1);
  auto c = rfc_client(random);
  auto first = c->step("");
  EXPECT_EQ(first.state, client_status::respond);
  EXPECT_EQ(first.data, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
}

TEST(scram_client, rejects_a_wrong_server_signature) {
  core::splitmix_random random(1);
  const std::string wrong_finals[] = {
      "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "v=", "v=%%%", "e=invalid-proof", "x=1", "",
  };
  for (const auto& wrong : wrong_finals) {
    auto c = rfc_client(random);
    c->step(rfc_server_first);
    EXPECT_EQ(c->step(wrong).state, client_status::error) << wrong;
    EXPECT_FALSE(c->complete());
  }
}

TEST(scram_client, rejects_bad_server_first_messages) {
  core::splitmix_random random(1);
  const std::string cases[] = {
      "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",     // no server part
      "r=someoneelse12345678901,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",   // not our nonce
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",  // too few iterations
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=***,i=4096",
      "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
      "m=x,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
      "garbage",
  };
  for (const auto& message : cases) {
    auto c = rfc_client(random);
    EXPECT_EQ(c->step(message).state, client_status::error) << message;
  }
}

TEST(client, factory) {
  core::splitmix_random random(1);
  EXPECT_NE(make_client_mechanism("SCRAM-SHA-256", "user", "pencil", random), nullptr);
  EXPECT_NE(make_client_mechanism("plain", "user", "pencil", random), nullptr);
  EXPECT_NE(make_client_mechanism("LOGIN", "user", "pencil", random), nullptr);
  EXPECT_EQ(make_client_mechanism("CRAM-MD5", "user", "pencil", random), nullptr);
  // Outside the SASLprep subset SCRAM would need a normalization it does not have.
  EXPECT_EQ(make_client_mechanism("SCRAM-SHA-256", "user", "p\xC3\xA4ss", random), nullptr);
  EXPECT_NE(make_client_mechanism("PLAIN", "user", "p\xC3\xA4ss", random), nullptr);
  EXPECT_EQ(make_client_mechanism("PLAIN", "user", "pen\0cil"s, random), nullptr);
  EXPECT_EQ(make_client_mechanism("LOGIN", "", "pencil", random), nullptr);
  EXPECT_EQ(make_client_mechanism("PLAIN", std::string(256, 'u'), "pencil", random), nullptr);
}

TEST(client, plain_and_login_messages) {
  core::splitmix_random random(1);
  auto plain = make_client_mechanism("PLAIN", "user", "pencil", random);
  EXPECT_EQ(plain->initial_response(), "\0user\0pencil"s);
  EXPECT_EQ(plain->step("unexpected").state, client_status::error);
  auto login = make_client_mechanism("LOGIN", "user", "pencil", random);
  EXPECT_EQ(login->initial_response(), std::nullopt);
  EXPECT_EQ(login->step("Username:").data, "user");
  EXPECT_FALSE(login->complete());
  EXPECT_EQ(login->step("Password:").data, "pencil");
  EXPECT_TRUE(login->complete());
  EXPECT_EQ(login->step("Again:").state, client_status::error);
}

// Round trips: the client and the server mechanism talk until one of them stops.

struct outcome {
  step_result server;
  bool client_complete = false;
  bool client_error = false;
};

outcome run_exchange(client_mechanism& client, server_mechanism& server, bool use_initial) {
  auto initial = use_initial ? client.initial_response() : std::nullopt;
  step_result r = server.start(initial ? std::optional<std::string_view>(*initial) : std::nullopt);
  for (int round = 0; round < 8 && r.state == server_status::challenge; ++round) {
    auto answer = client.step(r.data);
    if (answer.state == client_status::error) return {r, false, true};
    r = server.step(answer.data);
  }
  // RFC 4954 §4: additional data with success (SCRAM's v=) still goes to the client.
  if (r.state == server_status::success && !r.data.empty()) {
    if (client.step(r.data).state != client_status::done) return {r, false, true};
  }
  return {r, client.complete(), false};
}

struct round_trip_case {
  std::string_view mechanism;
  hash_scheme scheme;
  bool use_initial;
};

class round_trip : public ::testing::TestWithParam<round_trip_case> {
 protected:
  round_trip() {
    store_.hashes["alice"] = hash_password("s3cret pass", cheap(GetParam().scheme), random_);
    store_.hashes["a,b=c"] = store_.hashes["alice"];
  }

  outcome run(std::string_view user, std::string_view password) {
    auto client = make_client_mechanism(GetParam().mechanism, user, password, random_);
    auto server = make_server_mechanism(GetParam().mechanism, store_, random_);
    EXPECT_TRUE(client && server);
    return run_exchange(*client, *server, GetParam().use_initial);
  }

  core::splitmix_random random_{11};
  map_store store_;
};

TEST_P(round_trip, success) {
  auto result = run("alice", "s3cret pass");
  EXPECT_EQ(result.server.state, server_status::success) << result.server.reason;
  EXPECT_EQ(result.server.user, "alice");
  EXPECT_TRUE(result.client_complete);
  EXPECT_FALSE(result.client_error);
}

TEST_P(round_trip, names_with_scram_escapes) {
  auto result = run("a,b=c", "s3cret pass");
  EXPECT_EQ(result.server.state, server_status::success) << result.server.reason;
  EXPECT_EQ(result.server.user, "a,b=c");
}

TEST_P(round_trip, wrong_password) {
  auto result = run("alice", "s3cret pasS");
  EXPECT_EQ(result.server.state, server_status::failure);
  EXPECT_FALSE(result.client_error);
}

TEST_P(round_trip, unknown_user) {
  auto result = run("mallory", "s3cret pass");
  EXPECT_EQ(result.server.state, server_status::failure);
}

INSTANTIATE_TEST_SUITE_P(
    sasl, round_trip,
    ::testing::Values(round_trip_case{"SCRAM-SHA-256", hash_scheme::pbkdf2_sha256, true},
                      round_trip_case{"SCRAM-SHA-256", hash_scheme::pbkdf2_sha256, false},
                      round_trip_case{"SCRAM-SHA-256", hash_scheme::scram_sha256, true},
                      round_trip_case{"PLAIN", hash_scheme::pbkdf2_sha256, true},
                      round_trip_case{"PLAIN", hash_scheme::pbkdf2_sha256, false},
                      round_trip_case{"PLAIN", hash_scheme::scrypt, true},
                      round_trip_case{"PLAIN", hash_scheme::scram_sha256, true},
                      round_trip_case{"LOGIN", hash_scheme::pbkdf2_sha256, false},
                      round_trip_case{"LOGIN", hash_scheme::scrypt, false}));

TEST(round_trip_scram, scrypt_hashes_cannot_serve_scram) {
  core::splitmix_random random(3);
  map_store store;
  store.hashes["alice"] = hash_password("pw", cheap(hash_scheme::scrypt), random);
  auto client = make_client_mechanism("SCRAM-SHA-256", "alice", "pw", random);
  auto server = make_server_mechanism("SCRAM-SHA-256", store, random);
  auto result = run_exchange(*client, *server, true);
  EXPECT_EQ(result.server.state, server_status::failure);
}

TEST(round_trip_scram, an_impostor_server_is_detected) {
  // A server that knows a different password's keys fails the proof; a server that says
  // success with a forged v= is caught by the client.
  core::splitmix_random random(3);
  auto client = make_client_mechanism("SCRAM-SHA-256", "alice", "pw", random);
  auto first = client->initial_response();
  ASSERT_TRUE(first);
  std::string client_nonce = first->substr(first->find(",r=") + 3);
  auto final =
      client->step("r=" + client_nonce + "srv,s=" + core::base64_encode("salt") + ",i=4096");
  ASSERT_EQ(final.state, client_status::respond);
  EXPECT_EQ(client->step("v=" + core::base64_encode(std::string(32, 'x'))).state,
            client_status::error);
  EXPECT_FALSE(client->complete());
}

}  // namespace
}  // namespace mailsim::sasl
