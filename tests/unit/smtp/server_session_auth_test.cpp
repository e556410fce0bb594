// AUTH in the server session (RFC 4954): PLAIN, LOGIN, failures answered late, the limit on
// failures, cancellation and malformed responses.
#include <gtest/gtest.h>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"
#include "tests/unit/smtp/session_harness.hpp"

namespace mailsim::smtp {
namespace {

using mailsim::test::printable;

class one_user final : public sasl::credential_store {
 public:
  one_user() : hash_(sasl::hash_password_with_salt("secret", {sasl::hash_scheme::pbkdf2_sha256, 4096}, "0123456789abcdef")) {}
  std::optional<std::string> password_hash(std::string_view user) const override {
    if (user == "alice@mx.test") return hash_;
    return std::nullopt;
  }

 private:
  std::string hash_;
};

const one_user& credentials() {
  static const one_user store;
  return store;
}

test::harness_config auth_config() {
  test::harness_config c;
  c.options.hostname = "mx.test";
  c.options.tls_active = true;
  c.options.auth_mechanisms = {"PLAIN", "LOGIN"};
  c.credentials = &credentials();
  return c;
}

std::string plain(std::string_view user, std::string_view password) {
  std::string raw = std::string("\0", 1) + std::string(user) + '\0' + std::string(password);
  return core::base64_encode(raw);
}

TEST(server_session_auth, plain_with_initial_response_authenticates) {
  auto run = test::run_every_split(
      "EHLO c.test\r\nAUTH PLAIN " + plain("alice@mx.test", "secret") +
          "\r\nMAIL FROM:<alice@mx.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nx\r\n.\r\n",
      auth_config());
  EXPECT_NE(run.output.find("250 AUTH PLAIN LOGIN\r\n235 2.7.0 Authentication successful\r\n"),
            std::string::npos) << printable(run.output);
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_EQ(run.messages[0].env.auth_user, "alice@mx.test");
}

TEST(server_session_auth, login_exchange_authenticates) {
  auto run = test::run_every_split(
      "EHLO c.test\r\nAUTH LOGIN\r\n" + core::base64_encode("alice@mx.test") + "\r\n" +
          core::base64_encode("secret") + "\r\n",
      auth_config());
  EXPECT_NE(run.output.find("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0"),
            std::string::npos) << printable(run.output);
}

// RFC 4954 §4: "=" is an empty initial response; PLAIN cannot accept it, so it is a failed
// login (535 after the delay), not a request for a challenge.
TEST(server_session_auth, empty_initial_response_is_a_failed_login) {
  test::manual_session m(auth_config());
  server_session& s = m.s;
  s.feed("EHLO c.test\r\nAUTH PLAIN =\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::helo);
  s.submit(decision::accept());
  ASSERT_EQ(s.next_event().kind, server_event_kind::auth);
  s.run_auth();
  EXPECT_EQ(s.next_event().kind, server_event_kind::waiting);
  s.take_output();
  m.clock.set(*s.next_deadline());
  s.on_timeout(m.clock.now());
  EXPECT_EQ(s.take_output(), "535 5.7.8 Error: authentication credentials invalid\r\n");
  EXPECT_EQ(s.stats().auth_failures, 1U);
}

TEST(server_session_auth, wrong_password_is_answered_late_then_the_session_closes) {
  auto config = auth_config();
  config.lim.auth_failures_max = 2;
  test::manual_session m(config);
  server_session& s = m.s;
  core::manual_clock& clock = m.clock;
  s.feed("EHLO c.test\r\nAUTH PLAIN " + plain("alice@mx.test", "wrong") + "\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::helo);
  s.submit(decision::accept());
  ASSERT_EQ(s.next_event().kind, server_event_kind::auth);
  s.run_auth();
  EXPECT_EQ(s.next_event().kind, server_event_kind::waiting);
  s.take_output();
  auto deadline = s.next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline - clock.now(), config.lim.auth_failure_delay);
  s.on_timeout(clock.now());  // too early: nothing yet
  EXPECT_EQ(s.take_output(), "");
  clock.set(*deadline);
  s.on_timeout(clock.now());
  EXPECT_EQ(s.take_output(), "535 5.7.8 Error: authentication credentials invalid\r\n");
  s.feed("AUTH PLAIN " + plain("nobody@mx.test", "secret") + "\r\n");
  ASSERT_EQ(s.next_event().kind, server_event_kind::auth);
  s.run_auth();
  EXPECT_EQ(s.next_event().kind, server_event_kind::waiting);
  EXPECT_EQ(*s.next_deadline() - clock.now(), 2 * config.lim.auth_failure_delay);  // slower
  clock.set(*s.next_deadline());
  s.on_timeout(clock.now());
  EXPECT_EQ(printable(s.take_output()),
            printable("535 5.7.8 Error: authentication credentials invalid\r\n"
                      "421 4.7.0 mx.test Error: too many failed authentications\r\n"));
  EXPECT_EQ(s.next_event().kind, server_event_kind::close);
  EXPECT_EQ(s.stats().auth_failures, 2u);
}

TEST(server_session_auth, errors_and_refusals) {
  struct error_case {
    std::string name, input, expected;
  };
  const std::string ehlo = "EHLO c.test\r\n";
  const std::vector<error_case> cases = {
      {"cancel", ehlo + "AUTH LOGIN\r\n*\r\n", "501 5.0.0 Authentication aborted\r\n"},
      {"too_long", ehlo + "AUTH LOGIN\r\n" + std::string(13000, 'Q') + "\r\nNOOP\r\n",
       "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n"},
      {"bad_base64", ehlo + "AUTH PLAIN %%%%\r\n", "501 5.5.4"},
      {"bad_padding", ehlo + "AUTH PLAIN QQ=A\r\n", "501 5.5."},
      {"bad_base64_later", ehlo + "AUTH LOGIN\r\n!!\r\n", "501 5.5.2 Error: invalid base64 data\r\n"},
      {"unknown_mechanism", ehlo + "AUTH CRAM-MD5\r\n", "504 5.5.4"},
      {"before_ehlo", "AUTH PLAIN\r\n", "503 5.5.1 Error: send EHLO first\r\n"},
      {"twice", ehlo + "AUTH PLAIN " + plain("alice@mx.test", "secret") + "\r\nAUTH PLAIN " +
                    plain("alice@mx.test", "secret") + "\r\n",
       "503 5.5.1 Error: already authenticated\r\n"},
      {"in_transaction", ehlo + "MAIL FROM:<a@c.test>\r\nAUTH PLAIN\r\n",
       "503 5.5.1 Error: AUTH not permitted during a mail transaction\r\n"},
  };
  for (const auto& c : cases) {
    auto run = test::run_every_split(c.input, auth_config());
    EXPECT_NE(run.output.find(c.expected), std::string::npos) << c.name << ": " << printable(run.output);
  }
}

TEST(server_session_auth, not_offered_without_tls_when_tls_is_required_for_it) {
  auto config = auth_config();
  config.options.tls_active = false;
  auto run = test::run_every_split("EHLO c.test\r\nAUTH PLAIN\r\n", config);
  EXPECT_EQ(run.output.find("AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_NE(run.output.find("538 5.7.11"), std::string::npos);
}

TEST(server_session_auth, require_tls_refuses_auth_before_starttls_even_in_clear_text_labs) {
  auto config = auth_config();
  config.options.tls_active = false;
  config.options.tls_available = true;
  config.options.require_tls = true;
  config.options.auth_requires_tls = false;
  auto run = test::run_every_split(
      "EHLO c.test\r\nAUTH PLAIN " + plain("alice@mx.test", "secret") + "\r\n", config);
  EXPECT_EQ(run.output.find("AUTH PLAIN LOGIN"), std::string::npos) << printable(run.output);
  EXPECT_NE(run.output.find("530 5.7.0 Must issue a STARTTLS command first\r\n"),
            std::string::npos);
  EXPECT_EQ(run.output.find("235"), std::string::npos);
}

}  // namespace
}  // namespace mailsim::smtp
