#include "reference-server/config/config.hpp"

namespace mailsim::config {

std::string config_error::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

smtp::server_options session_options(const server_config& cfg, const listener& l) {
  smtp::server_options options;
  options.hostname = cfg.server.hostname;
  options.greeting_text = cfg.smtp.greeting;
  // STARTTLS is offered wherever a certificate exists, except where TLS is already on.
  options.tls_available = cfg.tls.has_value() && !l.implicit_tls;
  options.tls_active = l.implicit_tls;
  options.require_tls = l.require_tls;
  options.require_auth = l.require_auth;
  // RFC 4954 §4 and §14: passwords only over an encrypted connection, unless a lab asks.
  options.auth_requires_tls = !l.auth_without_tls;
  options.auth_mechanisms = cfg.smtp.auth_mechanisms;
  options.vrfy_enabled = cfg.smtp.vrfy;
  options.bare_newlines = cfg.smtp.bare_newlines;
  return options;
}

std::string_view to_string(listener_role role) {
  switch (role) {
    case listener_role::smtp:
      return "smtp";
    case listener_role::submission:
      return "submission";
    case listener_role::submissions:
      return "submissions";
    case listener_role::pop3:
      return "pop3";
    case listener_role::pop3s:
      return "pop3s";
    case listener_role::imap:
      return "imap";
    case listener_role::imaps:
      return "imaps";
  }
  return "?";
}

bool is_smtp(listener_role role) {
  return role == listener_role::smtp || role == listener_role::submission ||
         role == listener_role::submissions;
}

std::string_view to_string(log_level level) {
  switch (level) {
    case log_level::info:
      return "info";
    case log_level::debug:
      return "debug";
  }
  return "?";
}

std::string_view to_string(tls_version version) {
  switch (version) {
    case tls_version::v1_2:
      return "1.2";
    case tls_version::v1_3:
      return "1.3";
  }
  return "?";
}

std::string_view to_string(durability_mode mode) {
  switch (mode) {
    case durability_mode::syncfs:
      return "syncfs";
    case durability_mode::fsync_each:
      return "fsync_each";
    case durability_mode::journal:
      return "journal";
  }
  return "?";
}

}  // namespace mailsim::config
