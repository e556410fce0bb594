// Server mechanisms: PLAIN, LOGIN and SCRAM-SHA-256 (including the RFC 7677 §3 exchange).
#include "reference-server/sasl/mechanism.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sasl/sasl_vectors.hpp"

#include <map>
#include <string>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using namespace mailsim::sasl::test;

using status = step_result::status;
using namespace std::string_literals;

class map_store final : public credential_store {
 public:
  std::map<std::string, std::string, std::less<>> hashes;
  std::string secret;

  std::optional<std::string> password_hash(std::string_view user) const override {
    auto it = hashes.find(user);
    if (it == hashes.end()) return std::nullopt;
    return it->second;
  }
  std::string scram_mock_secret() const override { return secret; }
};

// RFC 7677 §3.


class server_test : public ::testing::Test {
 protected:
  server_test() {
    auto salt = core::base64_decode(rfc_salt_b64);
    store_.hashes["user"] =
        hash_password_with_salt("pencil", cheap(hash_scheme::pbkdf2_sha256), *salt);
    store_.hashes["scrypt-user"] = hash_password("pencil", cheap(hash_scheme::scrypt), random_);
  }

  std::unique_ptr<server_mechanism> make(std::string_view name) {
    return make_server_mechanism(name, store_, random_);
  }
  std::unique_ptr<server_mechanism> rfc_scram() {
    return make_scram_sha256_server(store_, random_, rfc_server_nonce);
  }

  core::splitmix_random random_{42};
  map_store store_;
};

TEST_F(server_test, names) {
  EXPECT_EQ(supported_mechanisms(), (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN", "LOGIN"}));
  for (const auto& name : supported_mechanisms()) EXPECT_NE(make(name), nullptr) << name;
  EXPECT_NE(make("plain"), nullptr);
  EXPECT_EQ(make("CRAM-MD5"), nullptr);
  EXPECT_EQ(make("SCRAM-SHA-256-PLUS"), nullptr);
  EXPECT_EQ(make(""), nullptr);
}

// PLAIN, RFC 4616.

TEST_F(server_test, plain_initial_response_success) {
  auto m = make("PLAIN");
  auto r = m->start("\0user\0pencil"s);
  EXPECT_EQ(r.state, status::success) << r.reason;
  EXPECT_EQ(r.user, "user");
  EXPECT_EQ(r.data, "");
  EXPECT_EQ(m->step("\0user\0pencil"s).state, status::malformed);  // finished
}

TEST_F(server_test, plain_after_empty_challenge) {
  auto m = make("PLAIN");
  auto first = m->start(std::nullopt);
  EXPECT_EQ(first.state, status::challenge);
  EXPECT_EQ(first.data, "");
  EXPECT_EQ(m->step("user\0user\0pencil"s).state, status::success);
}

// "=" on the wire (RFC 4954 §4, RFC 4959 §3, RFC 5034 §4) is an empty initial response:
// what the client sent, so a failed login, not a request for a challenge.
TEST_F(server_test, plain_empty_initial_response_fails) {
  auto m = make("PLAIN");
  EXPECT_EQ(m->start(std::string_view("")).state, status::failure);
  EXPECT_EQ(m->step("user\0user\0pencil"s).state, status::malformed);
}

TEST_F(server_test, plain_failures) {
  EXPECT_EQ(make("PLAIN")->start("\0user\0pencil2"s).state, status::failure);
  EXPECT_EQ(make("PLAIN")->start("\0nobody\0pencil"s).state, status::failure);
  EXPECT_EQ(make("PLAIN")->start("admin\0user\0pencil"s).state, status::failure);
  // scrypt hashes serve PLAIN.
  EXPECT_EQ(make("PLAIN")->start("\0scrypt-user\0pencil"s).state, status::success);
  EXPECT_EQ(make("PLAIN")->start("\0scrypt-user\0pencil!"s).state, status::failure);
}

TEST_F(server_test, plain_malformed) {
  const std::string long_field(256, 'x');
  const std::string cases[] = {
      "user\0pencil"s,
      "userpencil"s,
      "\0\0pencil"s,
      "\0user\0"s,
      "\0user\0pen\0cil"s,
      "\0"s + long_field + "\0pencil"s,
      "\0user\0"s + long_field,
      long_field + "\0user\0pencil"s,
  };
  for (const auto& message : cases) {
    EXPECT_EQ(make("PLAIN")->start(message).state, status::malformed) << message.size();
  }
  auto m = make("PLAIN");
  m->start(std::nullopt);
  EXPECT_EQ(m->step("").state, status::malformed);
}

// LOGIN, draft-murchison-sasl-login.

TEST_F(server_test, login_success) {
  auto m = make("LOGIN");
  auto r = m->start(std::nullopt);
  EXPECT_EQ(r.state, status::challenge);
  EXPECT_EQ(r.data, "Username:");
  r = m->step("user");
  EXPECT_EQ(r.state, status::challenge);
  EXPECT_EQ(r.data, "Password:");
  r = m->step("pencil");
  EXPECT_EQ(r.state, status::success);
  EXPECT_EQ(r.user, "user");
  EXPECT_EQ(m->step("pencil").state, status::malformed);
}

TEST_F(server_test, login_user_as_initial_response) {
  auto m = make("LOGIN");
  auto r = m->start("user");
  EXPECT_EQ(r.data, "Password:");
  EXPECT_EQ(m->step("pencil").state, status::success);
}

TEST_F(server_test, login_failures_and_malformed) {
  auto wrong = make("LOGIN");
  wrong->start("user");
  EXPECT_EQ(wrong->step("pencils").state, status::failure);
  auto unknown = make("LOGIN");
  unknown->start("nobody");
  EXPECT_EQ(unknown->step("pencil").state, status::failure);
  auto empty_user = make("LOGIN");
  empty_user->start(std::nullopt);
  EXPECT_EQ(empty_user->step("").state, status::malformed);
  auto nul = make("LOGIN");
  nul->start("user");
  EXPECT_EQ(nul->step("pen\0cil"s).state, status::malformed);
}

// SCRAM-SHA-256, RFC 7677 / RFC 5802.

TEST_F(server_test, scram_rfc7677_exchange) {
  auto m = rfc_scram();
  auto first = m->start(rfc_client_first);
  ASSERT_EQ(first.state, status::challenge) << first.reason;
  EXPECT_EQ(first.data, rfc_server_first);
  auto final = m->step(rfc_client_final);
  ASSERT_EQ(final.state, status::success) << final.reason;
  EXPECT_EQ(final.data, rfc_server_final);
  EXPECT_EQ(final.user, "user");
  EXPECT_EQ(m->step(rfc_client_final).state, status::malformed);  // finished
}

TEST_F(server_test, scram_scram_scheme_gives_the_same_exchange) {
  auto salt = core::base64_decode(rfc_salt_b64);
  store_.hashes["user"] =
      hash_password_with_salt("pencil", cheap(hash_scheme::scram_sha256), *salt);
  auto m = rfc_scram();
  EXPECT_EQ(m->start(rfc_client_first).data, rfc_server_first);
  EXPECT_EQ(m->step(rfc_client_final).data, rfc_server_final);
}

TEST_F(server_test, scram_without_initial_response) {
  auto m = rfc_scram();
  auto empty = m->start(std::nullopt);
  EXPECT_EQ(empty.state, status::challenge);
  EXPECT_EQ(empty.data, "");
  EXPECT_EQ(m->step(rfc_client_first).data, rfc_server_first);
  EXPECT_EQ(m->step(rfc_client_final).state, status::success);
}

TEST_F(server_test, scram_random_server_nonce) {
  auto m = make("SCRAM-SHA-256");
  auto first = m->start(rfc_client_first);
  ASSERT_EQ(first.state, status::challenge);
  // r=<client nonce><24 base64 characters>,s=...,i=4096
  std::string prefix = "r=rOprNGfwEbeRWgbNEkqO";
  ASSERT_TRUE(first.data.starts_with(prefix));
  auto comma = first.data.find(',');
  EXPECT_EQ(comma - prefix.size(), 24U);
  EXPECT_TRUE(first.data.ends_with(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
}

TEST_F(server_test, scram_wrong_proof) {
  std::string final(rfc_client_final);
  final[final.size() - 3] = final[final.size() - 3] == 'A' ? 'B' : 'A';
  auto m = rfc_scram();
  m->start(rfc_client_first);
  auto r = m->step(final);
  EXPECT_EQ(r.state, status::failure);
  EXPECT_EQ(r.data, "");
}

TEST_F(server_test, scram_wrong_password) {
  auto salt = core::base64_decode(rfc_salt_b64);
  store_.hashes["user"] =
      hash_password_with_salt("pencils", cheap(hash_scheme::pbkdf2_sha256), *salt);
  auto m = rfc_scram();
  EXPECT_EQ(m->start(rfc_client_first).data, rfc_server_first);
  EXPECT_EQ(m->step(rfc_client_final).state, status::failure);
}

TEST_F(server_test, scram_wrong_nonce) {
  auto m = rfc_scram();
  m->start(rfc_client_first);
  std::string final(rfc_client_final);
  final.replace(final.find("k0,"), 2, "k1");
  EXPECT_EQ(m->step(final).state, status::failure);
}

TEST_F(server_test, scram_channel_binding_mismatch) {
  auto m = rfc_scram();
  m->start(rfc_client_first);
  std::string final(rfc_client_final);
  final.replace(0, 6, "c=eSws");  // base64("y,,") where "n,," was sent
  EXPECT_EQ(m->step(final).state, status::failure);
}

TEST_F(server_test, scram_refuses_channel_binding_requests) {
  auto r = rfc_scram()->start("p=tls-unique,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(r.state, status::failure);
  EXPECT_EQ(r.data, "");
}

TEST_F(server_test, scram_accepts_y_flag_and_matching_authzid) {
  auto y = rfc_scram()->start("y,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(y.state, status::challenge);
  EXPECT_EQ(y.data, rfc_server_first);
  auto a = rfc_scram()->start("n,a=user,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(a.data, rfc_server_first);
  EXPECT_EQ(rfc_scram()->start("n,a=admin,n=user,r=abc").state, status::failure);
}

TEST_F(server_test, scram_unknown_user_looks_real_then_fails) {
  auto first_probe = rfc_scram()->start("n,,n=nobody,r=abc");
  auto second_probe = rfc_scram()->start("n,,n=nobody,r=abc");
  auto other_user = rfc_scram()->start("n,,n=somebody,r=abc");
  ASSERT_EQ(first_probe.state, status::challenge);
  // The same fake salt every time, 16 bytes like a real one, with the default iterations.
  EXPECT_EQ(first_probe.data, second_probe.data);
  EXPECT_NE(first_probe.data, other_user.data);
  auto salt_at = first_probe.data.find(",s=") + 3;
  auto salt_b64 = first_probe.data.substr(salt_at, first_probe.data.find(',', salt_at) - salt_at);
  EXPECT_EQ(core::base64_decode(salt_b64)->size(), 16U);
  EXPECT_TRUE(first_probe.data.ends_with(",i=600000"));

  auto m = rfc_scram();
  m->start("n,,n=nobody,r=abc");
  auto r = m->step("c=biws,r=abc" + std::string(rfc_server_nonce) +
                   ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_EQ(r.state, status::failure);
}

TEST_F(server_test, scram_fake_salt_depends_on_the_store_secret) {
  auto without_secret = rfc_scram()->start("n,,n=nobody,r=abc").data;
  store_.secret = "configured secret";
  auto with_secret = rfc_scram()->start("n,,n=nobody,r=abc").data;
  EXPECT_NE(without_secret, with_secret);
}

TEST_F(server_test, scram_scrypt_user_is_treated_like_unknown) {
  auto m = rfc_scram();
  auto first = m->start("n,,n=scrypt-user,r=abc");
  ASSERT_EQ(first.state, status::challenge);
  EXPECT_TRUE(first.data.ends_with(",i=600000"));
  EXPECT_EQ(m->step("c=biws,r=abc" + std::string(rfc_server_nonce) +
                    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
                .state,
            status::failure);
}

TEST_F(server_test, scram_user_names_outside_the_saslprep_subset_fail) {
  EXPECT_EQ(rfc_scram()->start("n,,n=j\xC3\xB6rg,r=abc").state, status::failure);
  EXPECT_EQ(rfc_scram()->start("n,,n=a\tb,r=abc").state, status::failure);
}

TEST_F(server_test, scram_malformed_client_first) {
  const std::string cases[] = {
      "n",
      "n,,",
      "x,,n=user,r=abc",
      "n,n=user,r=abc",
      "n,b=user,n=user,r=abc",
      "n,a=,n=user,r=abc",
      "n,,r=abc,n=user",
      "n,,n=user",
      "n,,n=,r=abc",
      "n,,n=us=er,r=abc",
      "n,,n=us=2Xer,r=abc",
      "n,,n=user,r=",
      "n,,n=user,r=a b",
      "n,,n=user,r=abc,",
      "n,,n=user,r=abc,1=x",
      "n,,m=ext,n=user,r=abc",
      "n,,n=user,r=" + std::string(257, 'a'),
      "n,,n=user,r=abc,x=" + std::string(4096, 'a'),
  };
  for (const auto& message : cases) {
    EXPECT_EQ(rfc_scram()->start(message).state, status::malformed) << message;
  }
  // An empty initial response asks for an empty challenge; an empty answer to it is broken.
  auto m = rfc_scram();
  EXPECT_EQ(m->start("").state, status::challenge);
  EXPECT_EQ(m->step("").state, status::malformed);
}

TEST_F(server_test, scram_escaped_names_and_extensions) {
  store_.hashes["a,b=c"] = store_.hashes["user"];
  auto r = rfc_scram()->start("n,,n=a=2Cb=3Dc,r=rOprNGfwEbeRWgbNEkqO,x=extension");
  EXPECT_EQ(r.state, status::challenge);
  EXPECT_EQ(r.data, rfc_server_first);  // the same hash, so the same salt and count
}

TEST_F(server_test, scram_malformed_client_final) {
  std::string nonce = "rOprNGfwEbeRWgbNEkqO" + std::string(rfc_server_nonce);
  const std::string cases[] = {
      "",
      "c=biws,r=" + nonce,
      "r=" + nonce + ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
      "c=biws,r=" + nonce + ",p=",
      "c=biws,r=" + nonce + ",p=not base64",
      "c=bi,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
      "c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  };
  for (const auto& message : cases) {
    auto m = rfc_scram();
    ASSERT_EQ(m->start(rfc_client_first).state, status::challenge);
    EXPECT_EQ(m->step(message).state, status::malformed) << message;
  }
}

}  // namespace
}  // namespace mailsim::sasl
