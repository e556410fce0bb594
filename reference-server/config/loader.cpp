// The YAML side of mailsim::config: walks the yaml-cpp node tree once, checking every key
// against the keys its section allows, and fills a server_config.
//
// Errors are raised as a file-local exception (`failure`) and turned into config_error at
// the two API entry points, together with yaml-cpp's own exceptions; nothing escapes. This
// module belongs to the server layer (L4), where exceptions are allowed; they keep each
// check a single line instead of threading a result through forty readers.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "reference-server/config/config.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/config/units.hpp"
#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::config {
namespace {

namespace fs = std::filesystem;

// A 1-based position in the file.
struct position {
  int line = 0;
  int column = 0;
};

position at(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

struct failure {
  position where;
  std::string message;
};

[[noreturn]] void fail(position where, std::string message) {
  throw failure{where, std::move(message)};
}

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// What was found, for "expected X, got Y" messages. Long or multi-line scalars are cut so
// that the message stays on one line.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
      return node.size() == 0 ? "an empty mapping" : "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string text;
  for (char c : node.Scalar()) {
    if (text.size() == 40) {
      text += "...";
      break;
    }
    text += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return quote(text);
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Syntax checks for names and addresses.

bool is_let_dig(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5321 §4.1.2 Domain (sub-domain *("." sub-domain)), with the RFC 1035 §2.3.4 sizes:
// labels of 1-63 octets, at most 253 octets in all. Internationalized names are written as
// A-labels ("xn--...").
bool is_domain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const auto label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
    for (char c : label) {
      if (!is_let_dig(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// RFC 5322 §3.2.3 atext; bytes >= 0x80 are UTF-8 (RFC 6531 §3.3).
bool is_atext(char c) {
  if (is_let_dig(c) || static_cast<unsigned char>(c) >= 0x80) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// local@domain with a dot-atom local part of at most 64 octets (RFC 5321 §4.5.3.1.1).
// Quoted local parts are not accepted in the config. The domain comes back in lower case;
// the local part keeps its case (RFC 5321 §2.4 leaves it to the receiving host).
std::optional<std::string> normalize_address(std::string_view text) {
  const auto at_sign = text.rfind('@');
  if (at_sign == std::string_view::npos) return std::nullopt;
  const auto local = text.substr(0, at_sign);
  const auto domain = text.substr(at_sign + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.' ? local[i + 1] == '.' : !is_atext(local[i])) return std::nullopt;
  }
  if (!is_domain(domain)) return std::nullopt;
  return std::string(local) + "@" + to_lower(domain);
}

std::string domain_of(const std::string& address) {
  return address.substr(address.rfind('@') + 1);
}

// An IPv4 or IPv6 literal, written back in its canonical form ("0:0::1" -> "::1").
std::optional<std::string> normalize_ip(const std::string& text) {
  std::optional<core::ip_address> ip = core::parse_ip(text);
  if (!ip) return std::nullopt;
  return core::to_string(*ip);
}

bool is_ipv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

// Whether two listeners on the same port would compete for it: the same address, or a
// wildcard of the family ("::" takes IPv4 too on a dual-stack socket).
bool addresses_overlap(const std::string& a, const std::string& b) {
  if (a == b || a == "::" || b == "::") return true;
  if (a == "0.0.0.0") return !is_ipv6(b);
  if (b == "0.0.0.0") return !is_ipv6(a);
  return false;
}

// ---------------------------------------------------------------------------------------
// Reading values.

// A value found under a key, with positions for errors. An empty value ("port:") has no
// useful position of its own in yaml-cpp (it points at the next token), so errors about it
// point at its key.
struct value {
  YAML::Node node;
  std::string key;
  position key_where;
  position where;
};

value make_value(const YAML::Node& key_node, const YAML::Node& node, std::string key) {
  const position key_where = at(key_node.Mark());
  const position where = node.IsNull() || node.Mark().is_null() ? key_where : at(node.Mark());
  return {node, std::move(key), key_where, where};
}

// An item of a list value: errors name the list's key and point at the item (a missing
// key of a mapping item too).
value item_value(const value& list, const YAML::Node& item) {
  const position where = item.IsNull() || item.Mark().is_null() ? list.where : at(item.Mark());
  return {item, list.key, where, where};
}

[[noreturn]] void expected(const value& v, std::string_view what) {
  fail(v.where,
       "expected " + std::string(what) + " for " + quote(v.key) + ", got " + describe(v.node));
}

// A mapping with a fixed set of allowed keys; unknown and duplicate keys are refused.
class section {
 public:
  // `name` is how errors call the section ("server", "server.log", "listeners"); empty for
  // the top level.
  section(const value& v, std::string name, std::vector<std::string_view> keys)
      : name_(std::move(name)), where_(v.key_where) {
    if (!v.node.IsMap()) expected(v, "a mapping");
    // yaml-cpp iterators hand out temporaries: the nodes are copied (they are handles).
    for (const auto& entry : v.node) {
      const YAML::Node key_node = entry.first;
      const position key_where = at(key_node.Mark());
      if (!key_node.IsScalar()) fail(key_where, "expected a key name" + in());
      const std::string& key = key_node.Scalar();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        fail(key_where, "unknown " + std::string(top() ? "top-level " : "") + "key " + quote(key) +
                            in() + "; expected one of: " + join(keys));
      }
      for (const auto& seen : entries_) {
        if (seen.key == key) {
          fail(key_where, "duplicate key " + quote(key) + in() + " (first on line " +
                              std::to_string(seen.key_where.line) + ")");
        }
      }
      entries_.push_back(make_value(key_node, entry.second, key));
    }
  }

  // The value under `key`, or nullopt when the key is absent.
  std::optional<value> get(std::string_view key) const {
    for (const auto& entry : entries_) {
      if (entry.key == key) return entry;
    }
    return std::nullopt;
  }

  // Like get(), but an empty value ("aliases:" with nothing under it) counts as absent.
  std::optional<value> get_unless_empty(std::string_view key) const {
    auto v = get(key);
    if (v && v->node.IsNull()) return std::nullopt;
    return v;
  }

  value require(std::string_view key) const {
    auto v = get(key);
    if (!v) {
      fail(where_,
           "missing " + std::string(top() ? "top-level " : "") + "key " + quote(key) + in());
    }
    return *v;
  }

 private:
  // The top level has no name; errors there say "top-level key".
  bool top() const { return name_.empty(); }
  std::string in() const { return top() ? "" : " in " + quote(name_); }

  std::string name_;
  position where_;  // the section's own key, where a missing key is reported
  std::vector<value> entries_;
};

const std::string& read_text(const value& v, std::string_view what) {
  if (!v.node.IsScalar() || v.node.Scalar().empty()) expected(v, what);
  return v.node.Scalar();
}

bool read_bool(const value& v) {
  // YAML 1.2 core schema booleans only; "yes"/"on" (YAML 1.1) are too easy to misread.
  static const std::set<std::string> yes = {"true", "True", "TRUE"};
  static const std::set<std::string> no = {"false", "False", "FALSE"};
  if (v.node.IsScalar()) {
    if (yes.count(v.node.Scalar()) != 0) return true;
    if (no.count(v.node.Scalar()) != 0) return false;
  }
  expected(v, "true or false");
}

std::uint64_t read_count(const value& v) {
  const std::string& text = read_text(v, "a whole number");
  std::uint64_t n = 0;
  for (char c : text) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (c < '0' || c > '9' || n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      expected(v, "a whole number");
    }
    n = n * 10 + digit;
  }
  return n;
}

std::uint64_t read_size(const value& v) {
  if (v.node.IsScalar()) {
    if (auto bytes = parse_size(v.node.Scalar())) return *bytes;
  }
  expected(v, "a size like 25MiB");
}

core::duration_ms read_duration(const value& v) {
  if (v.node.IsScalar()) {
    if (auto d = parse_duration(v.node.Scalar())) return *d;
  }
  expected(v, "a duration like 5m");
}

std::uint16_t read_port(const value& v) {
  if (v.node.IsScalar()) {
    const std::string& text = v.node.Scalar();
    if (!text.empty() && text.size() <= 5 && text.front() != '0' &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const int port = std::stoi(text);
      if (port <= 65535) return static_cast<std::uint16_t>(port);
    }
  }
  expected(v, "a port number 1-65535");
}

template <typename T>
T read_choice(const value& v, const std::vector<std::pair<std::string_view, T>>& choices) {
  if (v.node.IsScalar()) {
    for (const auto& [name, choice] : choices) {
      if (v.node.Scalar() == name) return choice;
    }
  }
  std::vector<std::string_view> names;
  names.reserve(choices.size());
  for (const auto& choice : choices) names.push_back(choice.first);
  expected(v, "one of " + join(names));
}

// The items of a list value; a single scalar is not taken as a one-item list.
std::vector<value> read_list(const value& v, std::string_view what) {
  if (!v.node.IsSequence()) expected(v, what);
  std::vector<value> items;
  for (const auto& item : v.node) items.push_back(item_value(v, item));
  return items;
}

std::uint64_t at_least(const value& v, std::uint64_t n, std::uint64_t min, std::string_view why) {
  if (n < min) {
    fail(v.where, quote(v.key) + " must be at least " + std::to_string(min) + std::string(why) +
                      ", got " + std::to_string(n));
  }
  return n;
}

std::uint64_t size_at_least(const value& v, std::uint64_t n, std::uint64_t min,
                            std::string_view why) {
  if (n < min) {
    fail(v.where, quote(v.key) + " must be at least " + format_size(min) + std::string(why) +
                      ", got " + format_size(n));
  }
  return n;
}

template <typename T>
T fits(const value& v, std::uint64_t n) {
  if (n > std::numeric_limits<T>::max()) {
    fail(v.where, quote(v.key) + " must be at most " +
                      std::to_string(std::numeric_limits<T>::max()) + ", got " + std::to_string(n));
  }
  return static_cast<T>(n);
}

core::duration_ms positive(const value& v, core::duration_ms d) {
  if (d.count() <= 0) fail(v.where, quote(v.key) + " must be longer than 0s");
  return d;
}

// ---------------------------------------------------------------------------------------
// The file, section by section. Sections are read in dependency order (tls and domains
// before the listeners and users that refer to them), not in file order.

constexpr std::string_view hash_prefixes[] = {"$pbkdf2-sha256$", "$scrypt$"};

class loader {
 public:
  explicit loader(fs::path base_dir) : base_dir_(std::move(base_dir)) {}

  server_config run(const YAML::Node& root) {
    const value top{root, "top level", {1, 1}, {1, 1}};
    if (!root.IsMap()) {
      fail({1, 1}, "expected a mapping with 'server' and 'listeners' at the top level, got " +
                       describe(root));
    }
    const section s(top, "",
                    {"server", "listeners", "tls", "domains", "users", "aliases", "catch_all",
                     "limits", "smtp", "delivery"});
    read_server(s.require("server"));
    if (auto v = s.get_unless_empty("tls")) read_tls(*v);
    if (auto v = s.get_unless_empty("domains")) read_domains(*v);
    if (auto v = s.get_unless_empty("smtp")) read_smtp(*v);
    if (auto v = s.get_unless_empty("limits")) read_limits(*v);
    if (auto v = s.get_unless_empty("delivery")) read_delivery(*v);
    read_listeners(s.require("listeners"));
    if (auto v = s.get_unless_empty("users")) read_users(*v);
    if (auto v = s.get_unless_empty("aliases")) read_aliases(*v);
    if (auto v = s.get_unless_empty("catch_all")) read_catch_all(*v);
    return std::move(config_);
  }

 private:
  std::string read_path(const value& v) {
    const std::string& text = read_text(v, "a path");
    if (text.find('\0') != std::string::npos) expected(v, "a path");
    // Lexical clean-up only: "config/../../var" -> "var". The base folder is already
    // canonical, so ".." in the config's own paths means what the author sees.
    return (base_dir_ / fs::path(text)).lexically_normal().string();
  }

  void read_server(const value& v) {
    const section s(v, "server", {"hostname", "state_dir", "maildir_root", "log"});
    auto& out = config_.server;
    if (auto h = s.get("hostname")) {
      const std::string& name = read_text(*h, "a host name like mail.example.test");
      if (!is_domain(name)) expected(*h, "a host name like mail.example.test");
      out.hostname = to_lower(name);
    }
    if (auto p = s.get("state_dir")) out.state_dir = read_path(*p);
    out.maildir_root = read_path(s.require("maildir_root"));
    if (auto l = s.get_unless_empty("log")) {
      const section log(*l, "server.log", {"file", "level"});
      if (auto f = log.get("file")) {
        const std::string& text = read_text(*f, "a path or '-'");
        out.log.file = text == "-" ? text : read_path(*f);
      }
      if (auto level = log.get("level")) {
        out.log.level = read_choice<log_level>(
            *level, {{"info", log_level::info}, {"debug", log_level::debug}});
      }
    }
  }

  void read_tls(const value& v) {
    const section s(v, "tls", {"certificate", "private_key", "min_version"});
    tls_config tls;
    tls.certificate = read_path(s.require("certificate"));
    tls.private_key = read_path(s.require("private_key"));
    if (auto m = s.get("min_version")) {
      tls.min_version =
          read_choice<tls_version>(*m, {{"1.2", tls_version::v1_2}, {"1.3", tls_version::v1_3}});
    }
    config_.tls = std::move(tls);
  }

  void read_domains(const value& v) {
    for (const auto& item : read_list(v, "a list of domains")) {
      const std::string& text = read_text(item, "a domain like example.test");
      if (!is_domain(text)) expected(item, "a domain like example.test");
      std::string domain = to_lower(text);
      if (is_local(domain)) fail(item.where, "duplicate domain " + quote(domain));
      config_.domains.push_back(std::move(domain));
    }
  }

  bool is_local(const std::string& domain) const {
    return std::find(config_.domains.begin(), config_.domains.end(), domain) !=
           config_.domains.end();
  }

  void must_be_local(const value& v, std::string_view what, const std::string& address) {
    const std::string domain = domain_of(address);
    if (is_local(domain)) return;
    fail(v.where, std::string(what) + " " + quote(address) + " is not in a local domain; " +
                      quote(domain) + " is not listed in 'domains'");
  }

  std::string read_address(const value& v) {
    constexpr std::string_view what = "an address like user@example.test";
    auto address = normalize_address(read_text(v, what));
    if (!address) expected(v, what);
    return *address;
  }

  void read_smtp(const value& v) {
    const section s(v, "smtp", {"vrfy", "bare_newlines", "auth_mechanisms", "greeting"});
    auto& out = config_.smtp;
    if (auto b = s.get("vrfy")) out.vrfy = read_bool(*b);
    if (auto b = s.get("bare_newlines")) {
      out.bare_newlines = read_choice<smtp::bare_newline_policy>(
          *b, {{"reject", smtp::bare_newline_policy::reject},
               {"normalize", smtp::bare_newline_policy::normalize}});
    }
    if (auto list = s.get("auth_mechanisms")) {
      // Only what the SASL module implements; names are upper case (RFC 4422 §3.1).
      const std::vector<std::string>& supported = sasl::supported_mechanisms();
      const std::vector<std::string_view> known(supported.begin(), supported.end());
      out.auth_mechanisms.clear();
      if (!list->node.IsNull()) {
        for (const auto& item : read_list(*list, "a list of SASL mechanisms")) {
          std::string name = to_upper(read_text(item, "a SASL mechanism name"));
          if (std::find(known.begin(), known.end(), name) == known.end()) {
            expected(item, "one of " + join(known));
          }
          if (std::find(out.auth_mechanisms.begin(), out.auth_mechanisms.end(), name) !=
              out.auth_mechanisms.end()) {
            fail(item.where, "duplicate SASL mechanism " + quote(name));
          }
          out.auth_mechanisms.push_back(std::move(name));
        }
      }
    }
    if (auto g = s.get("greeting")) {
      const std::string& text = read_text(*g, "the text of the 220 greeting");
      for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          fail(g->where, "'greeting' must be one line of text without control characters");
        }
      }
      out.greeting = text;
    }
    greeting_where_ = s.get("greeting") ? s.get("greeting")->where : position{};
  }

  void read_limits(const value& v) {
    const section s(
        v, "limits",
        {"command_line_max", "recipients_max", "message_size_max", "auth_line_max", "errors_max",
         "auth_failures_max", "auth_failure_delay", "command_timeout", "data_timeout",
         "transactions_max", "connections_max", "connections_per_ip_max", "shutdown_grace"});
    auto& out = config_.limits;
    auto& smtp_limits = out.smtp;
    if (auto f = s.get("command_line_max")) {
      // RFC 5321 §4.5.3.1.4: a command line of 512 octets must be accepted.
      smtp_limits.command_line_bytes_max =
          fits<std::size_t>(*f, size_at_least(*f, read_size(*f), 512, " (RFC 5321 §4.5.3.1.4)"));
    }
    if (auto f = s.get("recipients_max")) {
      // RFC 5321 §4.5.3.1.8: at least 100 recipients must be buffered.
      smtp_limits.recipients_max =
          fits<std::size_t>(*f, at_least(*f, read_count(*f), 100, " (RFC 5321 §4.5.3.1.8)"));
    }
    if (auto f = s.get("message_size_max")) {
      // RFC 5321 §4.5.3.1.7: message content of at least 64K octets must be accepted.
      smtp_limits.message_bytes_max =
          size_at_least(*f, read_size(*f), std::uint64_t{64} * 1024, " (RFC 5321 §4.5.3.1.7)");
    }
    if (auto f = s.get("auth_line_max")) {
      // An AUTH line is a command line first (RFC 4954 §4 only ever raises the limit).
      smtp_limits.auth_line_bytes_max =
          fits<std::size_t>(*f, size_at_least(*f, read_size(*f), 512, " (RFC 5321 §4.5.3.1.4)"));
    }
    if (auto f = s.get("errors_max")) {
      smtp_limits.errors_max = fits<unsigned>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("auth_failures_max")) {
      smtp_limits.auth_failures_max = fits<unsigned>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("auth_failure_delay")) smtp_limits.auth_failure_delay = read_duration(*f);
    if (auto f = s.get("command_timeout")) {
      smtp_limits.command_timeout = positive(*f, read_duration(*f));
    }
    if (auto f = s.get("data_timeout")) smtp_limits.data_timeout = positive(*f, read_duration(*f));
    if (auto f = s.get("transactions_max")) {
      smtp_limits.transactions_max = fits<std::size_t>(*f, read_count(*f));
    }
    if (auto f = s.get("connections_max")) {
      out.connections_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("connections_per_ip_max")) {
      out.connections_per_ip_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
      if (out.connections_per_ip_max > out.connections_max) {
        fail(f->where, "'connections_per_ip_max' (" + std::to_string(out.connections_per_ip_max) +
                           ") must not exceed 'connections_max' (" +
                           std::to_string(out.connections_max) + ")");
      }
    } else {
      // The per-address default never exceeds a smaller total.
      out.connections_per_ip_max = std::min(out.connections_per_ip_max, out.connections_max);
    }
    if (auto f = s.get("shutdown_grace")) out.shutdown_grace = read_duration(*f);
  }

  void read_delivery(const value& v) {
    const section s(v, "delivery", {"durability"});
    if (auto d = s.get("durability")) {
      config_.delivery.durability = read_choice<durability_mode>(
          *d, {{"syncfs", durability_mode::syncfs}, {"fsync_each", durability_mode::fsync_each}});
    }
  }

  void read_listeners(const value& v) {
    struct seen {
      position where;       // the listener item
      position port_where;  // its port, or the item when the port is the role's default
    };
    std::vector<seen> marks;
    const auto items = read_list(v, "a list of listeners");
    if (items.empty()) fail(v.where, "expected at least one listener in 'listeners'");
    for (const auto& item : items) {
      const section s(
          item, "listeners",
          {"name", "role", "address", "port", "require_tls", "require_auth", "auth_without_tls"});
      listener l;
      l.role = read_choice<listener_role>(s.require("role"),
                                          {{"smtp", listener_role::smtp},
                                           {"submission", listener_role::submission},
                                           {"submissions", listener_role::submissions}});
      // Role defaults: relay on port 25 (RFC 5321 §4.5.4.2), where TLS and AUTH must not be
      // required (RFC 3207 §4); submission on 587 (RFC 6409 §3.1) with AUTH required (RFC 6409
      // §4.3) and TLS required (RFC 8314 §4.1); submissions on 465 with implicit TLS (RFC
      // 8314 §3.3, §7.3).
      switch (l.role) {
        case listener_role::smtp:
          l.port = 25;
          break;
        case listener_role::submission:
          l.port = 587;
          l.require_tls = true;
          l.require_auth = true;
          break;
        case listener_role::submissions:
          l.port = 465;
          l.implicit_tls = true;
          l.require_auth = true;
          break;
      }
      l.name = std::string(to_string(l.role));
      position name_where = item.where;
      if (auto n = s.get("name")) {
        l.name = read_text(*n, "a listener name");
        name_where = n->where;
      }
      if (auto a = s.get("address")) {
        constexpr std::string_view what = "an IPv4 or IPv6 address like 127.0.0.1 or ::1";
        auto ip = normalize_ip(read_text(*a, what));
        if (!ip) expected(*a, what);
        l.address = *ip;
      }
      position port_where = item.where;
      if (auto p = s.get("port")) {
        l.port = read_port(*p);
        port_where = p->where;
      }
      if (auto b = s.get("require_tls")) l.require_tls = read_bool(*b);
      if (auto b = s.get("require_auth")) l.require_auth = read_bool(*b);
      if (auto b = s.get("auth_without_tls")) l.auth_without_tls = read_bool(*b);

      const std::string who = "listener " + quote(l.name);
      for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
        const auto& other = config_.listeners[i];
        if (other.name == l.name) {
          fail(name_where, "duplicate listener name " + quote(l.name) + " (first on line " +
                               std::to_string(marks[i].where.line) + ")");
        }
        if (other.port == l.port && addresses_overlap(other.address, l.address)) {
          fail(port_where, who + ": port " + std::to_string(l.port) +
                               " is already used by listener " + quote(other.name) + " (line " +
                               std::to_string(marks[i].where.line) + ")");
        }
      }
      if (!config_.tls) {
        if (l.implicit_tls) {
          fail(item.where, who +
                               " has role 'submissions' (implicit TLS, RFC 8314) but there "
                               "is no 'tls' section");
        }
        if (l.require_tls) fail(item.where, who + " requires TLS but there is no 'tls' section");
        if (l.require_auth && !l.auth_without_tls) {
          fail(item.where, who +
                               " requires AUTH, which is offered only under TLS, but there "
                               "is no 'tls' section (auth_without_tls: true allows it in a lab)");
        }
      }
      if (l.require_auth && config_.smtp.auth_mechanisms.empty()) {
        fail(item.where, who + " requires AUTH but 'smtp.auth_mechanisms' is empty");
      }
      marks.push_back({item.where, port_where});
      config_.listeners.push_back(std::move(l));
    }
    // The 220 line is "220 " hostname " " greeting CRLF, at most 512 octets in all
    // (RFC 5321 §4.5.3.1.5).
    if (config_.server.hostname.size() + config_.smtp.greeting.size() + 7 > 512) {
      fail(greeting_where_.line > 0 ? greeting_where_ : v.key_where,
           "'greeting' is too long: with the host name the 220 line passes 512 octets "
           "(RFC 5321 §4.5.3.1.5)");
    }
  }

  void read_users(const value& v) {
    for (const auto& item : read_list(v, "a list of users")) {
      const section s(item, "users", {"address", "password_hash", "quota"});
      user u;
      const value address = s.require("address");
      u.address = read_address(address);
      must_be_local(address, "user", u.address);
      for (const auto& other : config_.users) {
        if (other.address == u.address) fail(address.where, "duplicate user " + quote(u.address));
      }
      const value hash = s.require("password_hash");
      // The value is never echoed: when it is not a hash, it may be the password itself.
      const bool is_hash =
          hash.node.IsScalar() &&
          std::any_of(std::begin(hash_prefixes), std::end(hash_prefixes), [&](auto prefix) {
            const std::string& text = hash.node.Scalar();
            return text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
          });
      if (!is_hash) {
        fail(hash.where, "'password_hash' of user " + quote(u.address) +
                             " is not a password hash ($pbkdf2-sha256$... or $scrypt$...); "
                             "plaintext passwords are refused, make a hash with "
                             "`mailsim-server hash-password`");
      }
      u.password_hash = hash.node.Scalar();
      if (auto q = s.get("quota")) {
        const std::uint64_t bytes = read_size(*q);
        if (bytes == 0) fail(q->where, "'quota' must be more than 0B; leave it out for no quota");
        u.quota_bytes = bytes;
      }
      config_.users.push_back(std::move(u));
    }
  }

  void read_aliases(const value& v) {
    if (!v.node.IsMap()) expected(v, "a mapping of alias address to address(es)");
    for (const auto& entry : v.node) {
      const value key = make_value(entry.first, entry.first, "aliases");
      const std::string alias = read_address(key);
      must_be_local(key, "alias", alias);
      if (config_.aliases.count(alias) != 0) {
        fail(key.where, "duplicate alias " + quote(alias));
      }
      const value target = make_value(entry.first, entry.second, alias);
      std::vector<std::string> targets;
      if (target.node.IsSequence()) {
        for (const auto& item : read_list(target, "")) targets.push_back(read_address(item));
        if (targets.empty()) expected(target, "an address or a list of addresses");
      } else if (target.node.IsScalar()) {
        targets.push_back(read_address(target));
      } else {
        expected(target, "an address or a list of addresses");
      }
      config_.aliases.emplace(alias, std::move(targets));
    }
  }

  void read_catch_all(const value& v) {
    if (!v.node.IsMap()) expected(v, "a mapping of domain to address");
    for (const auto& entry : v.node) {
      const value key = make_value(entry.first, entry.first, "catch_all");
      const std::string& text = read_text(key, "a domain like example.test");
      if (!is_domain(text)) expected(key, "a domain like example.test");
      const std::string domain = to_lower(text);
      if (!is_local(domain)) {
        fail(key.where, "catch_all domain " + quote(domain) + " is not listed in 'domains'");
      }
      if (config_.catch_all.count(domain) != 0) {
        fail(key.where, "duplicate catch_all domain " + quote(domain));
      }
      config_.catch_all.emplace(domain,
                                read_address(make_value(entry.first, entry.second, domain)));
    }
  }

  fs::path base_dir_;
  server_config config_;
  position greeting_where_;
};

config_error to_error(const std::string& file, position where, std::string message) {
  return config_error{file, where.line, where.column, std::move(message)};
}

// The first tab in the leading whitespace of a line, up to the line of a parse error.
std::optional<position> tab_in_indentation(std::string_view yaml, const YAML::Mark& error) {
  int line = 1;
  for (std::size_t i = 0; i < yaml.size(); ++line) {
    if (!error.is_null() && line > error.line + 1) break;
    for (std::size_t j = i; j < yaml.size() && (yaml[j] == ' ' || yaml[j] == '\t'); ++j) {
      if (yaml[j] == '\t') return position{line, static_cast<int>(j - i) + 1};
    }
    const auto end = yaml.find('\n', i);
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return std::nullopt;
}

// Records where each document starts, building nothing.
class document_starts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Refuses a second document. yaml-cpp 0.7's LoadAll() cannot be used for this: when its
// parser stops consuming input (a stray ',' at the start of a document, yaml-cpp issue
// #1040, fixed upstream in 2024) it adds empty documents forever, allocating until the
// process dies. Here at most two documents are looked at, and two starting at the same place
// mean the parser is stuck there.
void check_single_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  document_starts starts;
  for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
  }
  if (starts.marks.size() < 2) return;
  const YAML::Mark& first = starts.marks[0];
  const YAML::Mark& second = starts.marks[1];
  if (second.pos != first.pos) {
    fail(at(second), "expected one YAML document, found a second one");
  }
  const auto pos = static_cast<std::size_t>(first.pos);
  const char c = pos < text.size() ? text[pos] : '\0';
  fail(at(first), c > ' ' && c < 0x7f ? "YAML syntax error: unexpected " + quote({&c, 1})
                                      : std::string("YAML syntax error: unexpected character"));
}

load_result load(std::string_view yaml, const std::string& name, const fs::path& base_dir) {
  try {
    const std::string text(yaml);
    check_single_document(text);
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) {
      return to_error(name, {1, 1},
                      "the file is empty; expected a mapping with 'server' and 'listeners'");
    }
    loader l(base_dir);
    return l.run(root);
  } catch (const failure& f) {
    return to_error(name, f.where, f.message);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's message for a tab in the indentation ("illegal map value", "end of map not
    // found") does not say why; YAML 1.2 §6.1 allows only spaces there.
    if (auto tab = tab_in_indentation(yaml, e.mark)) {
      return to_error(name, *tab,
                      "YAML syntax error: a tab in the indentation (YAML indents "
                      "with spaces only)");
    }
    return to_error(name, at(e.mark), "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    return to_error(name, at(e.mark), "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return to_error(name, {}, std::string("cannot load the configuration: ") + e.what());
  }
}

constexpr std::uintmax_t file_bytes_max = 16u << 20;  // a config is kilobytes; refuse a disk

}  // namespace

load_result load_string(std::string_view yaml, const std::string& name_for_errors) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) {
    return to_error(name_for_errors, {},
                    "cannot resolve relative paths: no current directory: " + ec.message());
  }
  return load(yaml, name_for_errors, cwd);
}

load_result load_file(const std::string& path) {
  try {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return to_error(path, {}, "cannot read: is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return to_error(path, {}, "cannot read: " + std::generic_category().message(errno));
    std::string text;
    std::array<char, std::size_t{64} * 1024> chunk{};
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
      text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > file_bytes_max) {
        return to_error(path, {}, "cannot read: larger than " + format_size(file_bytes_max));
      }
    }
    if (in.bad()) {
      return to_error(path, {}, "cannot read: " + std::generic_category().message(errno));
    }
    // Relative paths in the file mean relative to the file's folder, wherever the server was
    // started from; the folder is made canonical so that "../" follows the real tree.
    fs::path base = fs::absolute(fs::path(path), ec).parent_path();
    if (!ec) base = fs::canonical(base, ec);
    if (ec) return to_error(path, {}, "cannot resolve the config folder: " + ec.message());
    return load(text, path, base);
  } catch (const std::exception& e) {
    return to_error(path, {}, std::string("cannot read: ") + e.what());
  }
}

}  // namespace mailsim::config
