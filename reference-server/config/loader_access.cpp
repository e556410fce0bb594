// The `pop3:` and `imap:` sections of the config file (config::mail_access_config): the
// sessions of the mail-reading listeners, each key checked against its RFC's minimum where
// one exists; and the SASL mechanism lists that these and `smtp:` share.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/config/loader_values.hpp"
#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::config::detail {

namespace {

// What differs between the `pop3:` and `imap:` sections.
struct access_rules {
  const char* name;
  std::chrono::minutes idle_min;  // the RFC's least autologout timer once logged in
  const char* idle_source;
  std::uint64_t line_min;  // the least command line a client must be able to send
  const char* line_source;
  bool login_timeout;  // whether the section takes `login_timeout` (IMAP)
};

// A command line is held whole while it arrives: 1 MiB is far past any real command.
constexpr std::uint64_t line_bytes_ceiling = 1024 * 1024;

// The limits a client meets before and after login (docs/configuration.md, pop3 and imap).
void read_access_limits(const section& s, const access_rules& rules, mail_access_config& out) {
  if (auto f = s.get("command_line_max")) {
    const std::uint64_t n = size_at_least(*f, read_size(*f), rules.line_min, rules.line_source);
    if (n > line_bytes_ceiling) expected(*f, "a size of at most 1MiB");
    out.command_line_bytes_max = fits<std::size_t>(*f, n);
  }
  if (auto f = s.get("errors_max")) {
    out.errors_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
  }
  if (auto f = s.get("auth_failures_max")) {
    out.auth_failures_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
  }
  if (auto t = s.get("login_timeout")) out.login_timeout = positive(*t, read_duration(*t));
}

// `pop3:` and `imap:`: the same keys, each protocol with its own minimums.
void read_access(const value& v, const access_rules& rules, mail_access_config& out) {
  std::vector<std::string_view> keys = {"auth_mechanisms", "greeting",   "idle_timeout",
                                        "command_line_max", "errors_max", "auth_failures_max"};
  if (rules.login_timeout) keys.push_back("login_timeout");
  const section s(v, rules.name, keys);
  if (auto list = s.get("auth_mechanisms")) out.auth_mechanisms = read_mechanisms(*list);
  if (auto g = s.get("greeting")) {
    const std::string& text = read_text(*g, "the text of the greeting");
    // A POP3 greeting line is at most 512 octets with "+OK " and CRLF (RFC 2449 §4); the
    // same bound keeps IMAP's "* OK [CAPABILITY ...]" line reasonable.
    if (text.size() > 400 || std::any_of(text.begin(), text.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      fail(g->where, "'greeting' must be one line of text of at most 400 octets without "
                     "control characters");
    }
    out.greeting = text;
  }
  if (auto t = s.get("idle_timeout")) {
    out.idle_timeout = read_duration(*t);
    if (out.idle_timeout < rules.idle_min) {
      fail(t->where, "'idle_timeout' must be at least " + std::to_string(rules.idle_min.count()) +
                         "m (" + rules.idle_source + ")");
    }
  }
  read_access_limits(s, rules, out);
}

}  // namespace

// Only what the SASL module implements; names are upper case (RFC 4422 §3.1).
std::vector<std::string> read_mechanisms(const value& list) {
  const std::vector<std::string>& supported = sasl::supported_mechanisms();
  const std::vector<std::string_view> known(supported.begin(), supported.end());
  std::vector<std::string> out;
  if (list.node.IsNull()) return out;
  for (const auto& item : read_list(list, "a list of SASL mechanisms")) {
    std::string name = to_upper(read_text(item, "a SASL mechanism name"));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      expected(item, "one of " + join(known));
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      fail(item.where, "duplicate SASL mechanism " + quote(name));
    }
    out.push_back(std::move(name));
  }
  return out;
}

// POP3 command lines: 255 octets at least (RFC 2449 §4); its autologout timer at least 10
// minutes (RFC 1939 §3), running from the greeting.
void read_pop3(const value& v, mail_access_config& out) {
  read_access(v, {"pop3", std::chrono::minutes(10), "RFC 1939 §3", 255, " (RFC 2449 §4)", false},
              out);
}

// IMAP has no least line length; 1000 octets keeps every command of RFC 9051's grammar with
// a long mailbox name possible. The timer after login is 30 minutes at least (RFC 9051 §5.4).
void read_imap(const value& v, mail_access_config& out) {
  read_access(v, {"imap", std::chrono::minutes(30), "RFC 9051 §5.4", 1000, "", true}, out);
}

}  // namespace mailsim::config::detail
