#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reference-server/config/config.hpp"

namespace mailsim::config {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;

fs::path source_root() {
  return fs::canonical(MAILSIM_SOURCE_DIR);
}

// The smallest valid file: one MX listener, no TLS, no users.
constexpr const char* minimal = R"(server:
  maildir_root: /srv/mail
listeners:
  - role: smtp
)";

TEST(load_file, demo_config_loads_with_the_expected_values) {
  const auto path = source_root() / "reference-server/config/demo.yaml";
  const load_result result = load_file(path.string());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const server_config& c = result.config();
  const fs::path root = source_root();

  EXPECT_EQ(c.server.hostname, "mail.mailsim.test");
  EXPECT_EQ(c.server.state_dir, (root / "var/demo").string());
  EXPECT_EQ(c.server.maildir_root, (root / "var/demo/maildir").string());
  EXPECT_EQ(c.server.log.file, (root / "var/demo/mailsim-server.log").string());
  EXPECT_EQ(c.server.log.level, log_level::info);

  ASSERT_EQ(c.listeners.size(), 7u);
  const listener& mx = c.listeners[0];
  EXPECT_EQ(mx.name, "mx");
  EXPECT_EQ(mx.role, listener_role::smtp);
  EXPECT_EQ(mx.address, "127.0.0.1");
  EXPECT_EQ(mx.port, 2525);
  EXPECT_FALSE(mx.implicit_tls);
  EXPECT_FALSE(mx.require_tls);
  EXPECT_FALSE(mx.require_auth);
  const listener& submission = c.listeners[1];
  EXPECT_EQ(submission.name, "submission");
  EXPECT_EQ(submission.role, listener_role::submission);
  EXPECT_EQ(submission.port, 2587);
  EXPECT_FALSE(submission.implicit_tls);
  EXPECT_TRUE(submission.require_tls);
  EXPECT_TRUE(submission.require_auth);
  const listener& submissions = c.listeners[2];
  EXPECT_EQ(submissions.role, listener_role::submissions);
  EXPECT_EQ(submissions.address, "127.0.0.1");
  EXPECT_EQ(submissions.port, 2465);
  EXPECT_TRUE(submissions.implicit_tls);
  EXPECT_TRUE(submissions.require_auth);
  for (const auto& l : c.listeners) EXPECT_FALSE(l.auth_without_tls) << l.name;

  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->certificate, (root / "var/tls/demo.crt").string());
  EXPECT_EQ(c.tls->private_key, (root / "var/tls/demo.key").string());
  EXPECT_EQ(c.tls->min_version, tls_version::v1_2);

  EXPECT_EQ(c.domains, std::vector<std::string>{"mailsim.test"});
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].address, "demo@mailsim.test");
  EXPECT_EQ(c.users[0].password_hash.rfind("$pbkdf2-sha256$i=100000$", 0), 0u);
  EXPECT_EQ(c.users[0].quota_bytes, 1024 * mib);
  EXPECT_EQ(c.aliases.at("postmaster@mailsim.test"), std::vector<std::string>{"demo@mailsim.test"});
  EXPECT_EQ(c.aliases.at("abuse@mailsim.test"), std::vector<std::string>{"demo@mailsim.test"});
  EXPECT_TRUE(c.catch_all.empty());

  EXPECT_EQ(c.limits.smtp.message_bytes_max, 25 * mib);
  EXPECT_EQ(c.limits.smtp.recipients_max, 1000u);
  EXPECT_EQ(c.limits.smtp.command_timeout, std::chrono::minutes(5));
  EXPECT_EQ(c.limits.smtp.data_timeout, std::chrono::minutes(5));
  EXPECT_EQ(c.limits.connections_max, 100u);
  EXPECT_EQ(c.limits.connections_per_ip_max, 20u);
  EXPECT_EQ(c.limits.shutdown_grace, std::chrono::seconds(30));

  EXPECT_FALSE(c.smtp.vrfy);
  EXPECT_EQ(c.smtp.bare_newlines, smtp::bare_newline_policy::reject);
  EXPECT_EQ(c.smtp.auth_mechanisms, (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN", "LOGIN"}));
  EXPECT_EQ(c.smtp.greeting, "ESMTP mailsim demo");
  EXPECT_EQ(c.delivery.durability, durability_mode::journal);
}

TEST(load_file, demo_config_maps_onto_session_options) {
  const auto result = load_file((source_root() / "reference-server/config/demo.yaml").string());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const server_config& c = result.config();

  const smtp::server_options mx = session_options(c, c.listeners[0]);
  EXPECT_EQ(mx.hostname, "mail.mailsim.test");
  EXPECT_EQ(mx.greeting_text, "ESMTP mailsim demo");
  EXPECT_TRUE(mx.tls_available);
  EXPECT_FALSE(mx.tls_active);
  EXPECT_FALSE(mx.require_tls);
  EXPECT_FALSE(mx.require_auth);
  EXPECT_TRUE(mx.auth_requires_tls);
  EXPECT_EQ(mx.auth_mechanisms, c.smtp.auth_mechanisms);
  EXPECT_FALSE(mx.vrfy_enabled);
  EXPECT_EQ(mx.bare_newlines, smtp::bare_newline_policy::reject);

  const smtp::server_options submission = session_options(c, c.listeners[1]);
  EXPECT_TRUE(submission.tls_available);
  EXPECT_FALSE(submission.tls_active);
  EXPECT_TRUE(submission.require_tls);
  EXPECT_TRUE(submission.require_auth);
  EXPECT_TRUE(submission.auth_requires_tls);

  const smtp::server_options submissions = session_options(c, c.listeners[2]);
  EXPECT_FALSE(submissions.tls_available);  // no STARTTLS inside TLS
  EXPECT_TRUE(submissions.tls_active);
  EXPECT_TRUE(submissions.require_auth);
}

TEST(load_string, minimal_config_gets_the_documented_defaults) {
  const auto result = load_string(minimal, "min.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const server_config& c = result.config();
  const server_config defaults;
  EXPECT_EQ(c.server.hostname, "localhost");
  EXPECT_EQ(c.server.state_dir, "/var/lib/mailsim");
  EXPECT_EQ(c.server.maildir_root, "/srv/mail");
  EXPECT_EQ(c.server.log.file, "-");
  EXPECT_EQ(c.server.log.level, log_level::info);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "smtp");
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 25);
  EXPECT_FALSE(c.tls.has_value());
  EXPECT_TRUE(c.domains.empty());
  EXPECT_TRUE(c.users.empty());
  EXPECT_TRUE(c.aliases.empty());
  EXPECT_TRUE(c.catch_all.empty());

  const smtp::limits l;
  EXPECT_EQ(c.limits.smtp.command_line_bytes_max, l.command_line_bytes_max);
  EXPECT_EQ(c.limits.smtp.recipients_max, 1000u);
  EXPECT_EQ(c.limits.smtp.message_bytes_max, 25 * mib);
  EXPECT_EQ(c.limits.smtp.auth_line_bytes_max, 12288u);
  EXPECT_EQ(c.limits.smtp.errors_max, l.errors_max);
  EXPECT_EQ(c.limits.smtp.auth_failures_max, l.auth_failures_max);
  EXPECT_EQ(c.limits.smtp.auth_failure_delay, l.auth_failure_delay);
  EXPECT_EQ(c.limits.smtp.command_timeout, std::chrono::minutes(5));
  EXPECT_EQ(c.limits.smtp.data_timeout, std::chrono::minutes(5));
  EXPECT_EQ(c.limits.smtp.transactions_max, 0u);
  EXPECT_EQ(c.limits.connections_max, 1000u);
  EXPECT_EQ(c.limits.connections_per_ip_max, 50u);
  EXPECT_EQ(c.limits.shutdown_grace, std::chrono::seconds(30));

  EXPECT_FALSE(c.smtp.vrfy);
  EXPECT_EQ(c.smtp.bare_newlines, smtp::bare_newline_policy::reject);
  EXPECT_EQ(c.smtp.auth_mechanisms, defaults.smtp.auth_mechanisms);
  EXPECT_EQ(c.smtp.greeting, "ESMTP mailsim");
  EXPECT_EQ(c.delivery.durability, durability_mode::journal);
  EXPECT_EQ(c.delivery.journal_size, std::uint64_t{32} << 20);
}

TEST(load_string, every_key_is_read) {
  const auto result = load_string(R"(
server:
  hostname: MX.Example.TEST
  state_dir: state
  maildir_root: ./mail/../maildirs
  log: {file: log/server.log, level: debug}
listeners:
  - {name: a, role: smtp, address: "::1", port: 2525, require_tls: true}
  - {name: b, role: submission, address: 0:0::1, port: 2587, require_tls: false,
     require_auth: false, auth_without_tls: true}
  - {name: c, role: submissions}
tls: {certificate: /etc/tls/c.pem, private_key: k.pem, min_version: "1.3"}
domains: [Example.TEST, other.test]
users:
  - {address: Ann@EXAMPLE.test, password_hash: "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"}
aliases:
  info@example.test: ann@example.test
  team@other.test: [ann@example.test, someone@remote.test]
catch_all:
  other.test: Ann@example.test
limits:
  command_line_max: 4KiB
  recipients_max: 100
  message_size_max: 10MB
  auth_line_max: 16KiB
  errors_max: 5
  auth_failures_max: 2
  auth_failure_delay: 1500ms
  command_timeout: 10m
  data_timeout: 1h
  transactions_max: 20
  connections_max: 10
  connections_per_ip_max: 10
  shutdown_grace: 0
smtp:
  vrfy: true
  bare_newlines: normalize
  auth_mechanisms: [plain]
  greeting: Hello there
delivery:
  durability: fsync_each
  journal_size: 1MiB
)",
                                  "all.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const server_config& c = result.config();
  const fs::path cwd = fs::current_path();
  EXPECT_EQ(c.server.hostname, "mx.example.test");
  EXPECT_EQ(c.server.state_dir, (cwd / "state").string());
  EXPECT_EQ(c.server.maildir_root, (cwd / "maildirs").string());
  EXPECT_EQ(c.server.log.file, (cwd / "log/server.log").string());
  EXPECT_EQ(c.server.log.level, log_level::debug);

  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].address, "::1");
  EXPECT_TRUE(c.listeners[0].require_tls);
  EXPECT_EQ(c.listeners[1].address, "::1");  // canonical form; port differs, so no clash
  EXPECT_FALSE(c.listeners[1].require_tls);
  EXPECT_FALSE(c.listeners[1].require_auth);
  EXPECT_TRUE(c.listeners[1].auth_without_tls);
  EXPECT_FALSE(session_options(c, c.listeners[1]).auth_requires_tls);
  EXPECT_EQ(c.listeners[2].name, "c");
  EXPECT_EQ(c.listeners[2].port, 465);

  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->certificate, "/etc/tls/c.pem");
  EXPECT_EQ(c.tls->private_key, (cwd / "k.pem").string());
  EXPECT_EQ(c.tls->min_version, tls_version::v1_3);

  EXPECT_EQ(c.domains, (std::vector<std::string>{"example.test", "other.test"}));
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].address, "Ann@example.test");  // the local part keeps its case
  EXPECT_FALSE(c.users[0].quota_bytes.has_value());
  EXPECT_EQ(c.aliases.at("team@other.test"),
            (std::vector<std::string>{"ann@example.test", "someone@remote.test"}));
  EXPECT_EQ(c.catch_all.at("other.test"), "Ann@example.test");

  EXPECT_EQ(c.limits.smtp.command_line_bytes_max, 4096u);
  EXPECT_EQ(c.limits.smtp.recipients_max, 100u);
  EXPECT_EQ(c.limits.smtp.message_bytes_max, 10'000'000u);
  EXPECT_EQ(c.limits.smtp.auth_line_bytes_max, 16384u);
  EXPECT_EQ(c.limits.smtp.errors_max, 5u);
  EXPECT_EQ(c.limits.smtp.auth_failures_max, 2u);
  EXPECT_EQ(c.limits.smtp.auth_failure_delay, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.limits.smtp.command_timeout, std::chrono::minutes(10));
  EXPECT_EQ(c.limits.smtp.data_timeout, std::chrono::hours(1));
  EXPECT_EQ(c.limits.smtp.transactions_max, 20u);
  EXPECT_EQ(c.limits.connections_max, 10u);
  EXPECT_EQ(c.limits.connections_per_ip_max, 10u);
  EXPECT_EQ(c.limits.shutdown_grace, std::chrono::milliseconds(0));

  EXPECT_TRUE(c.smtp.vrfy);
  EXPECT_EQ(c.smtp.bare_newlines, smtp::bare_newline_policy::normalize);
  EXPECT_EQ(c.smtp.auth_mechanisms, std::vector<std::string>{"PLAIN"});
  EXPECT_EQ(c.smtp.greeting, "Hello there");
  EXPECT_EQ(c.delivery.durability, durability_mode::fsync_each);
  EXPECT_EQ(c.delivery.journal_size, std::uint64_t{1} << 20);
}

TEST(load_string, listeners_share_a_port_on_distinct_addresses) {
  const auto result = load_string(R"(server: {maildir_root: /m}
listeners:
  - {name: v4, role: smtp, address: 127.0.0.1, port: 25}
  - {name: v6, role: smtp, address: "::1", port: 25}
  - {name: any4, role: smtp, address: 0.0.0.0, port: 26}
  - {name: v6b, role: smtp, address: "::1", port: 26}
)",
                                  "ports.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result.config().listeners.size(), 4u);
  // A dual-stack wildcard takes the port on every address.
  const auto clash = load_string(R"(server: {maildir_root: /m}
listeners:
  - {name: v4, role: smtp, address: 127.0.0.1, port: 25}
  - {name: any, role: smtp, address: "::", port: 25}
)",
                                 "ports.yaml");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().to_string(),
            "ports.yaml:4:50: listener 'any': port 25 is already used by listener 'v4' (line 3)");
}

TEST(load_string, empty_optional_sections_count_as_absent) {
  const auto result =
      load_string(std::string(minimal) + "domains:\nusers:\naliases:\nlimits:\n", "empty.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_TRUE(result.config().domains.empty());
}

TEST(load_string, a_smaller_connection_total_caps_the_per_address_default) {
  const auto result = load_string(std::string(minimal) + "limits: {connections_max: 8}\n", "x");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result.config().limits.connections_per_ip_max, 8u);
}

struct bad_case {
  std::string name;
  std::string yaml;
  std::string error;  // the whole "file:line:col: message"
};

TEST(load_string, bad_configs_name_the_place_and_what_was_expected) {
  const std::string head = "server:\n  maildir_root: /m\n";                   // lines 1-2
  const std::string tls = "tls: {certificate: c.pem, private_key: k.pem}\n";  // one line
  const std::vector<bad_case> cases = {
      {"unknown_key", "server:\n  lisen: 1\n  maildir_root: /m\nlisteners: [{role: smtp}]\n",
       "bad.yaml:2:3: unknown key 'lisen' in 'server'; expected one of: hostname, state_dir, "
       "maildir_root, log"},
      {"unknown_top_level_key", head + "listener:\n  - role: smtp\n",
       "bad.yaml:3:1: unknown top-level key 'listener'; expected one of: server, listeners, tls, "
       "domains, users, aliases, catch_all, limits, smtp, pop3, imap, delivery, queue, dns, dkim, "
       "inbound"},
      {"unknown_listener_key", head + "listeners:\n  - role: smtp\n    prot: 25\n",
       "bad.yaml:5:5: unknown key 'prot' in 'listeners'; expected one of: name, role, address, "
       "port, require_tls, require_auth, auth_without_tls"},
      {"duplicate_key",
       "server:\n  maildir_root: /a\n  maildir_root: /b\nlisteners: [{role: smtp}]\n",
       "bad.yaml:3:3: duplicate key 'maildir_root' in 'server' (first on line 2)"},
      {"missing_required_key", "server:\n  hostname: a.test\nlisteners: [{role: smtp}]\n",
       "bad.yaml:1:1: missing key 'maildir_root' in 'server'"},
      {"listener_without_role", head + "listeners:\n  - {role: smtp}\n  - name: x\n",
       "bad.yaml:5:5: missing key 'role' in 'listeners'"},
      {"missing_listeners", head, "bad.yaml:1:1: missing top-level key 'listeners'"},
      {"no_listeners", head + "listeners: []\n",
       "bad.yaml:3:12: expected at least one listener in 'listeners'"},
      {"section_of_wrong_type", "server: [a]\nlisteners: [{role: smtp}]\n",
       "bad.yaml:1:9: expected a mapping for 'server', got a list"},
      {"wrong_type_bool", head + "listeners: [{role: smtp}]\nsmtp:\n  vrfy: maybe\n",
       "bad.yaml:5:9: expected true or false for 'vrfy', got 'maybe'"},
      {"wrong_type_count", head + "listeners: [{role: smtp}]\nlimits:\n  errors_max: [1]\n",
       "bad.yaml:5:15: expected a whole number for 'errors_max', got a list"},
      {"bad_choice", head + "  log: {level: verbose}\nlisteners: [{role: smtp}]\n",
       "bad.yaml:3:16: expected one of info, debug for 'level', got 'verbose'"},
      {"bad_role", head + "listeners: [{role: lmtp}]\n",
       "bad.yaml:3:20: expected one of smtp, submission, submissions, pop3, pop3s, imap, imaps for "
       "'role', got 'lmtp'"},
      {"bad_port", head + "listeners:\n  - role: smtp\n    port: 70000\n",
       "bad.yaml:5:11: expected a port number 1-65535 for 'port', got '70000'"},
      {"port_zero", head + "listeners: [{role: smtp, port: 0}]\n",
       "bad.yaml:3:32: expected a port number 1-65535 for 'port', got '0'"},
      {"empty_port", head + "listeners:\n  - role: smtp\n    port:\n",
       "bad.yaml:5:5: expected a port number 1-65535 for 'port', got nothing"},
      {"bad_address", head + "listeners: [{role: smtp, address: localhost}]\n",
       "bad.yaml:3:35: expected an IPv4 or IPv6 address like 127.0.0.1 or ::1 for 'address', "
       "got 'localhost'"},
      {"bad_size", head + "listeners: [{role: smtp}]\nlimits:\n  message_size_max: 25M\n",
       "bad.yaml:5:21: expected a size like 25MiB for 'message_size_max', got '25M'"},
      {"size_below_rfc_minimum",
       head + "listeners: [{role: smtp}]\nlimits:\n  message_size_max: 1KiB\n",
       "bad.yaml:5:21: 'message_size_max' must be at least 64KiB (RFC 5321 §4.5.3.1.7), got 1KiB"},
      {"journal_too_small", head + "listeners: [{role: smtp}]\ndelivery:\n  journal_size: 4KiB\n",
       "bad.yaml:5:17: 'journal_size' must be at least 256KiB, got 4KiB"},
      {"journal_too_large", head + "listeners: [{role: smtp}]\ndelivery:\n  journal_size: 2GiB\n",
       "bad.yaml:5:17: 'journal_size' must be at most 1GiB"},
      {"queue_has_no_journal", head + "listeners: [{role: smtp}]\nqueue:\n  durability: journal\n",
       "bad.yaml:5:15: expected one of syncfs, fsync_each for 'durability', got 'journal'"},
      {"recipients_below_rfc_minimum",
       head + "listeners: [{role: smtp}]\nlimits:\n  recipients_max: 50\n",
       "bad.yaml:5:19: 'recipients_max' must be at least 100 (RFC 5321 §4.5.3.1.8), got 50"},
      {"bad_duration", head + "listeners: [{role: smtp}]\nlimits:\n  command_timeout: 300\n",
       "bad.yaml:5:20: expected a duration like 5m for 'command_timeout', got '300'"},
      {"zero_timeout", head + "listeners: [{role: smtp}]\nlimits:\n  data_timeout: 0s\n",
       "bad.yaml:5:17: 'data_timeout' must be longer than 0s"},
      {"per_ip_above_total",
       head +
           "listeners: [{role: smtp}]\nlimits: {connections_max: 10, connections_per_ip_max: 11}\n",
       "bad.yaml:4:55: 'connections_per_ip_max' (11) must not exceed 'connections_max' (10)"},
      {"plaintext_password",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\nusers:\n  - address: u@a.test\n"
              "    password_hash: hunter2\n",
       "bad.yaml:7:20: 'password_hash' of user 'u@a.test' is not a password hash "
       "($pbkdf2-sha256$... or $scrypt$...); plaintext passwords are refused, make a hash with "
       "`mailsim-server hash-password`"},
      {"user_in_unknown_domain",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\nusers:\n  - address: u@b.test\n"
              "    password_hash: $scrypt$x\n",
       "bad.yaml:6:14: user 'u@b.test' is not in a local domain; 'b.test' is not listed in "
       "'domains'"},
      {"bad_user_address",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\nusers:\n  - address: u..v@a.test\n",
       "bad.yaml:6:14: expected an address like user@example.test for 'address', got "
       "'u..v@a.test'"},
      {"duplicate_user",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\nusers:\n"
              "  - {address: u@a.test, password_hash: $scrypt$x}\n"
              "  - {address: u@A.TEST, password_hash: $scrypt$y}\n",
       "bad.yaml:7:15: duplicate user 'u@a.test'"},
      {"alias_in_unknown_domain",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\naliases:\n  x@b.test: u@a.test\n",
       "bad.yaml:6:3: alias 'x@b.test' is not in a local domain; 'b.test' is not listed in "
       "'domains'"},
      {"alias_to_nothing",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\naliases:\n  x@a.test: []\n",
       "bad.yaml:6:13: expected an address or a list of addresses for 'x@a.test', got an empty "
       "list"},
      {"catch_all_unknown_domain",
       head + "listeners: [{role: smtp}]\ndomains: [a.test]\ncatch_all: {b.test: u@a.test}\n",
       "bad.yaml:5:13: catch_all domain 'b.test' is not listed in 'domains'"},
      {"submissions_without_tls", head + "listeners:\n  - name: secure\n    role: submissions\n",
       "bad.yaml:4:5: listener 'secure' has role 'submissions' (implicit TLS, RFC 8314) but "
       "there is no 'tls' section"},
      {"submission_without_tls", head + "listeners:\n  - role: submission\n",
       "bad.yaml:4:5: listener 'submission' requires TLS but there is no 'tls' section"},
      {"auth_without_tls_section",
       head + "listeners:\n  - {role: submission, require_tls: false}\n",
       "bad.yaml:4:5: listener 'submission' requires AUTH, which is offered only under TLS, but "
       "there is no 'tls' section (auth_without_tls: true allows it in a lab)"},
      {"auth_required_without_mechanisms",
       head + tls + "smtp: {auth_mechanisms: []}\nlisteners: [{role: submission}]\n",
       "bad.yaml:5:13: listener 'submission' requires AUTH but 'smtp.auth_mechanisms' is empty"},
      {"unknown_mechanism",
       head + "listeners: [{role: smtp}]\nsmtp: {auth_mechanisms: [CRAM-MD5]}\n",
       "bad.yaml:4:26: expected one of SCRAM-SHA-256, PLAIN, LOGIN for 'auth_mechanisms', got "
       "'CRAM-MD5'"},
      {"duplicate_listener_port",
       head + "listeners:\n  - {name: one, role: smtp, port: 2525}\n"
              "  - {name: two, role: smtp, port: 2525, address: 0.0.0.0}\n",
       "bad.yaml:5:35: listener 'two': port 2525 is already used by listener 'one' (line 4)"},
      {"duplicate_listener_name",
       head + "listeners:\n  - {role: smtp, port: 25}\n  - {role: smtp, port: 26}\n",
       "bad.yaml:5:5: duplicate listener name 'smtp' (first on line 4)"},
      {"bad_hostname",
       "server:\n  hostname: mail_host\n  maildir_root: /m\nlisteners: [{role: smtp}]\n",
       "bad.yaml:2:13: expected a host name like mail.example.test for 'hostname', got "
       "'mail_host'"},
      {"bad_tls_version",
       head +
           "tls: {certificate: c, private_key: k, min_version: 1.1}\nlisteners: [{role: smtp}]\n",
       "bad.yaml:3:52: expected one of 1.2, 1.3 for 'min_version', got '1.1'"},
      {"tls_without_key", head + "tls: {certificate: c}\nlisteners: [{role: smtp}]\n",
       "bad.yaml:3:1: missing key 'private_key' in 'tls'"},
      {"greeting_with_control_character",
       head + "listeners: [{role: smtp}]\nsmtp: {greeting: \"a\\r\\nb\"}\n",
       "bad.yaml:4:18: 'greeting' must be one line of text without control characters"},
      {"yaml_syntax_error", head + "listeners: [{role: smtp}\n",
       "bad.yaml:4:1: YAML syntax error: end of sequence flow not found"},
      {"yaml_tab_indentation", "server:\n\tmaildir_root: /m\n",
       "bad.yaml:2:1: YAML syntax error: a tab in the indentation (YAML indents with spaces "
       "only)"},
      {"empty_file", "# nothing here\n",
       "bad.yaml:1:1: the file is empty; expected a mapping with 'server' and 'listeners'"},
      {"not_a_mapping", "- a\n- b\n",
       "bad.yaml:1:1: expected a mapping with 'server' and 'listeners' at the top level, got a "
       "list"},
      // yaml-cpp 0.7's LoadAll() would loop forever on this one (yaml-cpp issue #1040).
      {"stray_comma", ", x\nserver: {}\n", "bad.yaml:1:1: YAML syntax error: unexpected ','"},
      {"two_documents", std::string(minimal) + "---\nserver: {}\n",
       "bad.yaml:5:1: expected one YAML document, found a second one"},
  };
  for (const auto& c : cases) {
    const load_result result = load_string(c.yaml, "bad.yaml");
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.error().to_string(), c.error) << c.name;
  }
}

TEST(load_string, a_plaintext_password_is_never_echoed) {
  const auto result =
      load_string(std::string(minimal) +
                      "domains: [a.test]\nusers: [{address: u@a.test, password_hash: s3cret}]\n",
                  "x.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.find("s3cret"), std::string::npos) << result.error().message;
}

TEST(load_file, relative_paths_resolve_against_the_config_folder) {
  const fs::path dir = fs::temp_directory_path() / "mailsim_config_test";
  fs::create_directories(dir / "etc");
  const fs::path file = dir / "etc" / "server.yaml";
  {
    std::ofstream out(file);
    out << "server:\n  maildir_root: ../mail\n  state_dir: state\n  log: {file: '-'}\n"
           "listeners: [{role: smtp}]\n";
  }
  const auto result = load_file(file.string());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const fs::path base = fs::canonical(dir);
  EXPECT_EQ(result.config().server.maildir_root, (base / "mail").string());
  EXPECT_EQ(result.config().server.state_dir, (base / "etc/state").string());
  EXPECT_EQ(result.config().server.log.file, "-");

  {
    std::ofstream out(file);
    out << "server:\n  maildir_root: /m\nlisteners: [{role: smtp, port: 99999}]\n";
  }
  const auto bad = load_file(file.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(),
            file.string() + ":3:32: expected a port number 1-65535 for 'port', got '99999'");
  fs::remove_all(dir);
}

TEST(load_file, an_unreadable_file_has_no_position) {
  const auto result = load_file("/nonexistent/mailsim.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().line, 0);
  EXPECT_EQ(result.error().to_string(),
            "/nonexistent/mailsim.yaml: cannot read: No such file or directory");
  const auto dir = load_file("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().to_string(), "/: cannot read: is a directory");
}

TEST(config_error, formats_with_and_without_a_position) {
  EXPECT_EQ((config_error{"a.yaml", 3, 7, "boom"}.to_string()), "a.yaml:3:7: boom");
  EXPECT_EQ((config_error{"a.yaml", 0, 0, "gone"}.to_string()), "a.yaml: gone");
}

}  // namespace
}  // namespace mailsim::config
