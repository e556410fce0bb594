// mailsim::config — the mailsim-server configuration file, loaded into a typed struct.
//
// Contract: load_file() and load_string() read YAML (yaml-cpp, used only inside this
// module's .cpp files) and return either a complete server_config, with every default filled
// in and every cross-reference checked, or the first problem found as a config_error that
// names file:line:column (1-based) and what was expected there. They never throw: YAML
// syntax errors, unreadable files and allocation failures all become config_errors.
// Unknown keys are refused (a misspelt key must not silently keep its default), and so are
// duplicate keys, plaintext passwords and values outside the ranges RFC 5321 requires.
//
// Relative paths (server.state_dir, server.maildir_root, server.log.file, tls.certificate,
// tls.private_key) are resolved against the folder of the config file by load_file(), and
// against the current directory by load_string(); the struct always holds absolute paths.
// The loader reads only the config file itself: whether the certificate, key and folders
// exist is checked by the server at start-up, where the error can name the OS reason.
//
// Every key, its type, default and the source of the default: docs/configuration.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "reference-server/config/inbound.hpp"
#include "reference-server/config/outbound.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/smtp/data_reader.hpp"
#include "reference-server/smtp/limits.hpp"
#include "reference-server/smtp/server_session.hpp"

namespace mailsim::config {

enum class log_level { info, debug };

struct log_config {
  std::string file = "-";  // absolute path, or "-" for standard output
  log_level level = log_level::info;
};

struct server_section {
  std::string hostname = "localhost";          // greeting, EHLO, Received (RFC 5321 §4.1.1.1)
  std::string state_dir = "/var/lib/mailsim";  // queue, indexes, logs (FHS /var/lib)
  std::string maildir_root;                    // required: where the users' Maildirs live
  log_config log;
};

// smtp: RFC 5321 relay (the MX); submission: RFC 6409 with STARTTLS; submissions: RFC 8314
// implicit TLS; pop3: RFC 1939 with STLS (RFC 2595); pop3s: POP3 over implicit TLS (RFC
// 8314); imap: RFC 9051 with STARTTLS; imaps: IMAP over implicit TLS. The role sets the
// port and the TLS and AUTH rules (docs/configuration.md).
enum class listener_role { smtp, submission, submissions, pop3, pop3s, imap, imaps };

// Whether a listener of this role speaks SMTP (the others serve mail to its owners).
bool is_smtp(listener_role role);

struct listener {
  std::string name;  // unique; defaults to the role's name
  listener_role role = listener_role::smtp;
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal, in canonical form
  std::uint16_t port = 25;            // defaults by role: 25, 587, 465, 110, 995, 143, 993
  bool implicit_tls = false;          // submissions, pop3s, imaps: TLS from the first byte
  bool require_tls = false;           // submission: STARTTLS before MAIL or AUTH (RFC 3207)
  bool require_auth = false;          // submission(s): AUTH before MAIL (RFC 6409 §4.3)
  bool auth_without_tls = false;      // lab only: take passwords on an unencrypted connection
};

enum class tls_version { v1_2, v1_3 };

struct tls_config {
  std::string certificate;                      // absolute path of a PEM certificate chain
  std::string private_key;                      // absolute path of the PEM private key
  tls_version min_version = tls_version::v1_2;  // RFC 8996 retired 1.0 and 1.1
};

struct user {
  std::string address;                       // local@domain, domain in lower case
  std::string password_hash;                 // "$pbkdf2-sha256$..." or "$scrypt$..."
  std::optional<std::uint64_t> quota_bytes;  // none: no quota
};

struct limits_config {
  smtp::limits smtp;                         // per session
  std::size_t connections_max = 1000;        // all listeners together
  std::size_t connections_per_ip_max = 50;   // per client address
  core::duration_ms shutdown_grace{30'000};  // sessions may finish before they are cut
};

struct smtp_config {
  bool vrfy = false;  // false: VRFY answers 252 (RFC 5321 §3.5.3), no address harvesting
  smtp::bare_newline_policy bare_newlines = smtp::bare_newline_policy::reject;
  std::vector<std::string> auth_mechanisms = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};
  std::string greeting = "ESMTP mailsim";  // the 220 text after the host name
};

// The sessions of the mail-reading listeners: `pop3:` and `imap:`.
struct mail_access_config {
  // SASL mechanisms of POP3 AUTH / IMAP AUTHENTICATE; USER/PASS and LOGIN are always there.
  std::vector<std::string> auth_mechanisms = {"SCRAM-SHA-256", "PLAIN"};
  std::string greeting;            // the text of the greeting line
  core::duration_ms idle_timeout;  // autologout once logged in
  std::size_t command_line_bytes_max = 1024;  // one command line (IMAP: its literals aside)
  std::size_t errors_max = 20;                // protocol errors, then the server closes
  std::size_t auth_failures_max = 3;          // failed logins, then the server closes
  // IMAP: the autologout timer before login (RFC 9051 §5.4 bounds only the one after it).
  // POP3 has none of its own: its idle_timeout runs from the greeting.
  core::duration_ms login_timeout{0};
};

struct delivery_config {
  durability_mode durability = durability_mode::journal;
  std::uint64_t journal_size = std::uint64_t{32} << 20;  // the journal file, when it is made
};

// Where the server's DNS answers come from: the libunbound resolver of reference-server/net
// (unbound_options). Forwarders when any are given; otherwise local zones and data alone
// (nothing leaves the process); with none of the three, /etc/resolv.conf and /etc/hosts.
struct dns_config {
  std::vector<std::string> forwarders;   // "ip@port": canonical IP, port filled in (53)
  std::vector<std::string> local_zones;  // "name. type": lower case, with the final dot
  std::vector<std::string> local_data;   // records as written, "name TTL IN TYPE rdata"
  core::duration_ms timeout{10'000};     // per query; then the answer is "timeout"

  bool uses_system_resolver() const {
    return forwarders.empty() && local_zones.empty() && local_data.empty();
  }
};

struct server_config {
  server_section server;
  std::vector<listener> listeners;   // at least one
  std::optional<tls_config> tls;     // none: no STARTTLS, no implicit TLS
  std::vector<std::string> domains;  // local domains, lower case, in file order
  std::vector<user> users;
  // Alias address -> target addresses (at least one); aliases win over users of the same
  // address, like Postfix virtual_alias_maps. Keys have their domain in lower case.
  std::map<std::string, std::vector<std::string>> aliases;
  std::map<std::string, std::string> catch_all;  // local domain -> address
  limits_config limits;
  smtp_config smtp;
  // RFC 1939 §3: the POP3 autologout timer is at least 10 minutes; RFC 9051 §5.4: IMAP's
  // at least 30 minutes.
  mail_access_config pop3{{"SCRAM-SHA-256", "PLAIN"}, "POP3 mailsim ready", std::chrono::minutes(10),
                          1024, 20, 3, core::duration_ms{0}};
  mail_access_config imap{{"SCRAM-SHA-256", "PLAIN"}, "IMAP mailsim ready", std::chrono::minutes(30),
                          64 * 1024, 20, 3, std::chrono::minutes(1)};
  delivery_config delivery;
  outbound_config outbound;  // queue: (config/outbound.hpp)
  dns_config dns;
  inbound_config inbound;    // inbound: (config/inbound.hpp)
};

struct config_error {
  std::string file;
  int line = 0;    // 1-based; 0 when the error has no position (e.g. an unreadable file)
  int column = 0;  // 1-based
  std::string message;

  // "file:line:column: message", or "file: message" without a position.
  std::string to_string() const;
};

class load_result {
 public:
  load_result(server_config value) : value_(std::move(value)) {}
  load_result(config_error value) : value_(std::move(value)) {}

  bool ok() const noexcept { return std::holds_alternative<server_config>(value_); }
  explicit operator bool() const noexcept { return ok(); }

  // Precondition: ok(). (std::get throws std::bad_variant_access otherwise.)
  const server_config& config() const { return std::get<server_config>(value_); }
  server_config& config() { return std::get<server_config>(value_); }
  // Precondition: !ok().
  const config_error& error() const { return std::get<config_error>(value_); }

 private:
  std::variant<server_config, config_error> value_;
};

// Reads and checks the file at `path`; errors name `path` as given.
load_result load_file(const std::string& path);

// Checks `yaml`; errors name `name_for_errors`. Relative paths resolve against the current
// directory.
load_result load_string(std::string_view yaml, const std::string& name_for_errors);

// The SMTP session settings of one listener: the role's TLS and AUTH rules, the host name,
// the greeting, VRFY, bare newlines and the AUTH mechanisms.
smtp::server_options session_options(const server_config& cfg, const listener& l);

std::string_view to_string(listener_role role);
std::string_view to_string(log_level level);
std::string_view to_string(tls_version version);
std::string_view to_string(durability_mode mode);

}  // namespace mailsim::config
