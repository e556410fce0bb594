// The mail-reading parts of the configuration: the pop3, pop3s, imap and imaps listener
// roles and the `pop3:` and `imap:` sections.
#include <gtest/gtest.h>

#include <string>

#include "reference-server/config/config.hpp"

namespace mailsim::config {
namespace {

constexpr const char* head = R"(server:
  maildir_root: /srv/mail
)";

constexpr const char* tls = R"(tls:
  certificate: /etc/ssl/mail.crt
  private_key: /etc/ssl/mail.key
)";

load_result load(const std::string& body) { return load_string(head + body, "t.yaml"); }

TEST(access_config, roles_set_ports_and_implicit_tls) {
  const load_result r = load(std::string(tls) + R"(listeners:
  - role: pop3
  - role: pop3s
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& l = r.config().listeners;
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].role, listener_role::pop3);
  EXPECT_EQ(l[0].name, "pop3");
  EXPECT_EQ(l[0].port, 110);
  EXPECT_FALSE(l[0].implicit_tls);
  EXPECT_EQ(l[1].role, listener_role::pop3s);
  EXPECT_EQ(l[1].port, 995);
  EXPECT_TRUE(l[1].implicit_tls);
  EXPECT_FALSE(is_smtp(listener_role::pop3));
  EXPECT_FALSE(is_smtp(listener_role::imaps));
  EXPECT_TRUE(is_smtp(listener_role::submissions));
  EXPECT_EQ(to_string(listener_role::pop3s), "pop3s");
}

TEST(access_config, imap_roles_set_ports_and_implicit_tls) {
  const load_result r = load(std::string(tls) + R"(listeners:
  - role: imap
  - role: imaps
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& l = r.config().listeners;
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].role, listener_role::imap);
  EXPECT_EQ(l[0].port, 143);
  EXPECT_FALSE(l[0].implicit_tls);
  EXPECT_EQ(l[1].role, listener_role::imaps);
  EXPECT_EQ(l[1].port, 993);
  EXPECT_TRUE(l[1].implicit_tls);
  EXPECT_EQ(to_string(listener_role::imap), "imap");
}

TEST(access_config, imap_section_defaults_and_values) {
  const load_result defaults = load(std::string(tls) + "listeners:\n  - role: imap\n");
  ASSERT_TRUE(defaults.ok()) << defaults.error().to_string();
  EXPECT_EQ(defaults.config().imap.greeting, "IMAP mailsim ready");
  EXPECT_EQ(defaults.config().imap.idle_timeout, std::chrono::minutes(30));
  const load_result r = load(std::string(tls) + R"(listeners:
  - role: imap
imap:
  auth_mechanisms: [SCRAM-SHA-256]
  idle_timeout: 1h
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.config().imap.auth_mechanisms, std::vector<std::string>{"SCRAM-SHA-256"});
  EXPECT_EQ(r.config().imap.idle_timeout, std::chrono::hours(1));
}

TEST(access_config, session_limits_defaults_and_values) {
  const load_result defaults =
      load(std::string(tls) + "listeners:\n  - role: imap\n  - role: pop3\n");
  ASSERT_TRUE(defaults.ok()) << defaults.error().to_string();
  const mail_access_config& imap = defaults.config().imap;
  EXPECT_EQ(imap.command_line_bytes_max, 64u * 1024);
  EXPECT_EQ(imap.errors_max, 20u);
  EXPECT_EQ(imap.auth_failures_max, 3u);
  EXPECT_EQ(imap.login_timeout, std::chrono::minutes(1));
  EXPECT_EQ(defaults.config().pop3.command_line_bytes_max, 1024u);
  const load_result r = load(std::string(tls) + R"(listeners:
  - role: imap
  - role: pop3
imap:
  command_line_max: 8KiB
  errors_max: 5
  auth_failures_max: 1
  login_timeout: 15s
pop3:
  command_line_max: 255
  errors_max: 2
  auth_failures_max: 4
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.config().imap.command_line_bytes_max, 8u * 1024);
  EXPECT_EQ(r.config().imap.errors_max, 5u);
  EXPECT_EQ(r.config().imap.auth_failures_max, 1u);
  EXPECT_EQ(r.config().imap.login_timeout, std::chrono::seconds(15));
  EXPECT_EQ(r.config().pop3.command_line_bytes_max, 255u);
  EXPECT_EQ(r.config().pop3.errors_max, 2u);
  EXPECT_EQ(r.config().pop3.auth_failures_max, 4u);
}

TEST(access_config, section_defaults_and_values) {
  const load_result defaults = load(std::string(tls) + "listeners:\n  - role: pop3\n");
  ASSERT_TRUE(defaults.ok()) << defaults.error().to_string();
  EXPECT_EQ(defaults.config().pop3.auth_mechanisms,
            (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"}));
  EXPECT_EQ(defaults.config().pop3.idle_timeout, std::chrono::minutes(10));

  const load_result r = load(std::string(tls) + R"(listeners:
  - role: pop3
pop3:
  auth_mechanisms: [plain]
  greeting: ready for you
  idle_timeout: 30m
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.config().pop3.auth_mechanisms, std::vector<std::string>{"PLAIN"});
  EXPECT_EQ(r.config().pop3.greeting, "ready for you");
  EXPECT_EQ(r.config().pop3.idle_timeout, std::chrono::minutes(30));
}

struct bad_case {
  std::string body;
  int line;
  int column;
  std::string message_part;
};

TEST(access_config, errors_name_line_column_and_what_is_wrong) {
  const bad_case cases[] = {
      // Passwords only under TLS (RFC 2595 §2): a POP3 listener needs the tls section.
      {"listeners:\n  - role: pop3\n", 4, 5, "serves POP3"},
      {"listeners:\n  - role: pop3s\n", 4, 5, "implicit TLS"},
      {std::string(tls) + "listeners:\n  - role: pop3\n    require_auth: true\n", 8, 5,
       "applies to SMTP listeners only"},
      {std::string(tls) + "listeners:\n  - role: pop3\npop3:\n  idle_timeout: 5m\n", 9, 17,
       "at least 10m"},
      {std::string(tls) + "listeners:\n  - role: pop3\npop3:\n  auth_mechanisms: [APOP]\n", 9,
       21, "one of"},
      {std::string(tls) + "listeners:\n  - role: pop3\npop3:\n  colour: blue\n", 9, 3,
       "colour"},
      {"listeners:\n  - role: imaps\n", 4, 5, "implicit TLS"},
      {"listeners:\n  - role: imap\n", 4, 5, "serves IMAP"},
      {std::string(tls) + "listeners:\n  - role: imap\nimap:\n  idle_timeout: 29m\n", 9, 17,
       "at least 30m (RFC 9051"},
      {std::string(tls) + "listeners:\n  - role: pop3\npop3:\n  command_line_max: 254\n", 9, 21,
       "at least 255B (RFC 2449"},
      {std::string(tls) + "listeners:\n  - role: imap\nimap:\n  command_line_max: 2MiB\n", 9,
       21, "at most 1MiB"},
      {std::string(tls) + "listeners:\n  - role: imap\nimap:\n  errors_max: 0\n", 9, 15,
       "at least 1"},
      {std::string(tls) + "listeners:\n  - role: imap\nimap:\n  login_timeout: 0s\n", 9, 18,
       "longer than 0s"},
      {std::string(tls) + "listeners:\n  - role: pop3\npop3:\n  login_timeout: 1m\n", 9, 3,
       "login_timeout"},
  };
  for (const bad_case& c : cases) {
    const load_result r = load(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().line, c.line) << r.error().to_string();
    EXPECT_EQ(r.error().column, c.column) << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << r.error().to_string();
  }
}

TEST(access_config, auth_without_tls_allows_a_lab_listener_without_certificates) {
  const load_result r = load("listeners:\n  - role: pop3\n    auth_without_tls: true\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.config().listeners[0].auth_without_tls);
}

}  // namespace
}  // namespace mailsim::config
