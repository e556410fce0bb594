// The server exchange shared by SMTP AUTH, POP3 AUTH and IMAP AUTHENTICATE: initial
// responses, client lines, mechanism results and the offered mechanisms.
#include "reference-server/sasl/exchange.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mailsim::sasl {
namespace {

using namespace std::string_literals;
using line_kind = line_action::kind;
using step_kind = step_action::kind;
using status = step_result::status;

constexpr line_rules pop3_rules{.equals_is_empty = true};

step_result result(status state, std::string data = {}, std::string user = {}) {
  step_result r;
  r.state = state;
  r.data = std::move(data);
  r.user = std::move(user);
  return r;
}

// RFC 4954 §4, RFC 5034 §4, RFC 4959 §3.
TEST(exchange_initial_response, equals_is_empty) {
  EXPECT_EQ(decode_initial_response("="), std::optional<std::string>(""));
}

TEST(exchange_initial_response, valid_base64_is_decoded) {
  EXPECT_EQ(decode_initial_response("AHVzZXIAcGVuY2ls"),
            std::optional<std::string>("\0user\0pencil"s));
  EXPECT_EQ(decode_initial_response("dXNlcg=="), std::optional<std::string>("user"));
}

TEST(exchange_initial_response, invalid_base64_is_refused) {
  for (const char* text : {"dXNlcg", "dXN=cg==", "dX Nl", "==", "*"}) {
    EXPECT_EQ(decode_initial_response(text), std::nullopt) << text;
  }
}

TEST(exchange_line, star_cancels) {
  std::optional<std::string> final_user;
  EXPECT_EQ(on_line("*", final_user).what, line_kind::cancel);
  final_user = "user";
  EXPECT_EQ(on_line("*", final_user, pop3_rules).what, line_kind::cancel);
  EXPECT_EQ(final_user, std::nullopt);
}

TEST(exchange_line, base64_is_a_response) {
  std::optional<std::string> final_user;
  line_action a = on_line("dXNlcg==", final_user);
  EXPECT_EQ(a.what, line_kind::response);
  EXPECT_EQ(a.data, "user");
  a = on_line("", final_user);  // an empty message (e.g. to an empty challenge)
  EXPECT_EQ(a.what, line_kind::response);
  EXPECT_EQ(a.data, "");
}

TEST(exchange_line, invalid_base64_is_refused) {
  std::optional<std::string> final_user;
  for (const char* line : {"dXNlcg", "not base64!", "dXNlcg==\r"}) {
    EXPECT_EQ(on_line(line, final_user).what, line_kind::invalid_base64) << line;
  }
}

TEST(exchange_line, equals_is_empty_only_when_the_protocol_says_so) {
  std::optional<std::string> final_user;
  EXPECT_EQ(on_line("=", final_user).what, line_kind::invalid_base64);
  line_action a = on_line("=", final_user, pop3_rules);
  EXPECT_EQ(a.what, line_kind::response);
  EXPECT_EQ(a.data, "");
}

TEST(exchange_line, empty_line_acknowledges_final_data) {
  std::optional<std::string> final_user = "user";
  line_action a = on_line("", final_user);
  EXPECT_EQ(a.what, line_kind::acknowledged);
  EXPECT_EQ(a.data, "user");
  EXPECT_EQ(final_user, std::nullopt);
}

TEST(exchange_line, anything_else_refuses_final_data) {
  for (const char* line : {"dXNlcg==", "x", "="}) {
    std::optional<std::string> final_user = "user";
    EXPECT_EQ(on_line(line, final_user).what, line_kind::not_acknowledged) << line;
    EXPECT_EQ(final_user, std::nullopt) << line;
  }
}

TEST(exchange_line, equals_acknowledges_final_data_when_allowed) {
  std::optional<std::string> final_user = "user";
  line_action a = on_line("=", final_user, pop3_rules);
  EXPECT_EQ(a.what, line_kind::acknowledged);
  EXPECT_EQ(a.data, "user");
  final_user = "user";
  EXPECT_EQ(on_line("dXNlcg==", final_user, pop3_rules).what, line_kind::not_acknowledged);
}

TEST(exchange_step, challenge_is_sent_in_base64) {
  std::optional<std::string> final_user;
  step_action a = on_step(result(status::challenge, "Username:"), final_user);
  EXPECT_EQ(a.what, step_kind::challenge);
  EXPECT_EQ(a.data, "VXNlcm5hbWU6");
  a = on_step(result(status::challenge), final_user);  // RFC 4954 §4: an empty challenge
  EXPECT_EQ(a.what, step_kind::challenge);
  EXPECT_EQ(a.data, "");
  EXPECT_EQ(final_user, std::nullopt);
}

TEST(exchange_step, success_without_data) {
  std::optional<std::string> final_user;
  step_action a = on_step(result(status::success, "", "user"), final_user);
  EXPECT_EQ(a.what, step_kind::succeeded);
  EXPECT_EQ(a.data, "user");
  EXPECT_EQ(final_user, std::nullopt);
}

TEST(exchange_step, success_with_data_waits_for_the_acknowledgement) {
  std::optional<std::string> final_user;
  step_action a = on_step(result(status::success, "v=abc", "user"), final_user);
  EXPECT_EQ(a.what, step_kind::final_data);
  EXPECT_EQ(a.data, "dj1hYmM=");
  EXPECT_EQ(final_user, std::optional<std::string>("user"));
  line_action ack = on_line("", final_user);
  EXPECT_EQ(ack.what, line_kind::acknowledged);
  EXPECT_EQ(ack.data, "user");
}

TEST(exchange_step, failure_and_malformed) {
  std::optional<std::string> final_user;
  EXPECT_EQ(on_step(result(status::failure), final_user).what, step_kind::failed);
  EXPECT_EQ(on_step(result(status::malformed), final_user).what, step_kind::malformed);
  EXPECT_EQ(final_user, std::nullopt);
}

TEST(exchange_offer, plaintext_mechanisms) {
  EXPECT_TRUE(is_plaintext_mechanism("PLAIN"));
  EXPECT_TRUE(is_plaintext_mechanism("LOGIN"));
  EXPECT_FALSE(is_plaintext_mechanism("SCRAM-SHA-256"));
}

TEST(exchange_offer, configured_implemented_upper_cased_once) {
  const std::vector<std::string> configured = {"plain", "CRAM-MD5", "scram-sha-256",
                                               "PLAIN", "Login",    "SCRAM-SHA-256"};
  EXPECT_EQ(offered_mechanisms(configured, true),
            (std::vector<std::string>{"PLAIN", "SCRAM-SHA-256", "LOGIN"}));
  EXPECT_EQ(offered_mechanisms(configured, false), (std::vector<std::string>{"SCRAM-SHA-256"}));
  EXPECT_EQ(offered_mechanisms({}, true), (std::vector<std::string>{}));
}

TEST(exchange_offer, check_offered_says_why_not) {
  const std::vector<std::string> configured = {"SCRAM-SHA-256", "PLAIN"};
  EXPECT_EQ(check_offered(configured, true, "plain"), offer_status::offered);
  EXPECT_EQ(check_offered(configured, true, "SCRAM-SHA-256"), offer_status::offered);
  EXPECT_EQ(check_offered(configured, false, "PLAIN"), offer_status::plaintext_refused);
  // A plaintext mechanism is refused as such even when it is not configured.
  EXPECT_EQ(check_offered(configured, false, "LOGIN"), offer_status::plaintext_refused);
  EXPECT_EQ(check_offered(configured, true, "LOGIN"), offer_status::unsupported);
  EXPECT_EQ(check_offered(configured, true, "CRAM-MD5"), offer_status::unsupported);
  EXPECT_EQ(check_offered({}, false, "SCRAM-SHA-256"), offer_status::unsupported);
}

}  // namespace
}  // namespace mailsim::sasl
