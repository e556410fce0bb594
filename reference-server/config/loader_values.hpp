// mailsim::config loader values — what every section reader of the config loader shares:
// positions in the file, raising an error at one, name and address syntax, and the typed
// readers (text, bool, counts, sizes, durations, ports, choices, lists) with their
// "expected X for 'key', got Y" messages.
//
// Contract: internal to the config module (loader.cpp and the per-section loader_*.cpp);
// yaml-cpp appears here, never in a public header. Readers report a problem by throwing
// `failure` (fail()), which load_file()/load_string() turn into a config_error: the config
// module is L4, where exceptions are allowed, and each check stays one line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/config/config.hpp"
#include "reference-server/core/clock.hpp"

namespace mailsim::config::detail {

// A 1-based position in the file.
struct position {
  int line = 0;
  int column = 0;
};


struct failure {
  position where;
  std::string message;
};


// A value found under a key, with positions for errors. An empty value ("port:") has no
// useful position of its own in yaml-cpp (it points at the next token), so errors about it
// point at its key.
struct value {
  YAML::Node node;
  std::string key;
  position key_where;
  position where;
};


position at(const YAML::Mark& mark);
[[noreturn]] void fail(position where, std::string message);
std::string quote(std::string_view text);
// What was found, for "expected X, got Y" messages, cut to one line.
std::string describe(const YAML::Node& node);
std::string join(const std::vector<std::string_view>& names);
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);

// RFC 5321 §4.1.2 Domain with the RFC 1035 §2.3.4 sizes (A-labels for IDNs).
bool is_domain(std::string_view text);
// local@domain, dot-atom local part ≤ 64 octets; the domain comes back in lower case.
std::optional<std::string> normalize_address(std::string_view text);
std::string domain_of(const std::string& address);
// An IPv4 or IPv6 literal in canonical form ("0:0::1" -> "::1").
std::optional<std::string> normalize_ip(const std::string& text);
bool is_ipv6(const std::string& address);
// Whether two listeners on one port would compete for it (same address or a wildcard).
bool addresses_overlap(const std::string& a, const std::string& b);

value make_value(const YAML::Node& key_node, const YAML::Node& node, std::string key);
value item_value(const value& list, const YAML::Node& item);
[[noreturn]] void expected(const value& v, std::string_view what);

const std::string& read_text(const value& v, std::string_view what);
bool read_bool(const value& v);  // YAML 1.2 core schema: true/false only
std::uint64_t read_count(const value& v);
std::uint64_t read_size(const value& v);             // "25MiB"
core::duration_ms read_duration(const value& v);     // "5m"
std::uint16_t read_port(const value& v);
// The items of a list value; a single scalar is not taken as a one-item list.
std::vector<value> read_list(const value& v, std::string_view what);
std::uint64_t at_least(const value& v, std::uint64_t n, std::uint64_t min, std::string_view why);
std::uint64_t size_at_least(const value& v, std::uint64_t n, std::uint64_t min,
                            std::string_view why);
core::duration_ms positive(const value& v, core::duration_ms d);

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


template <typename T>
T fits(const value& v, std::uint64_t n) {
  if (n > std::numeric_limits<T>::max()) {
    fail(v.where, quote(v.key) + " must be at most " +
                      std::to_string(std::numeric_limits<T>::max()) + ", got " + std::to_string(n));
  }
  return static_cast<T>(n);
}


// Turns a path value into an absolute path (relative to the config file's folder).
using path_reader = std::function<std::string(const value&)>;

// loader_access.cpp: SASL mechanism names (smtp:, pop3:, imap:), and the pop3: and imap:
// sections.
std::vector<std::string> read_mechanisms(const value& list);
void read_pop3(const value& v, mail_access_config& out);
void read_imap(const value& v, mail_access_config& out);
// loader_dns.cpp: the dns: section.
void read_dns(const value& v, dns_config& out);
// loader_queue.cpp: the queue: section.
void read_queue(const value& v, const path_reader& read_path, outbound_config& out);
// loader_queue.cpp: the dkim: section (signing keys of outbound mail).
void read_dkim(const value& v, const path_reader& read_path, outbound_config& out);
// loader_inbound.cpp: the inbound: section (receiving-side checks).
void read_inbound(const value& v, const path_reader& read_path, inbound_config& out);

}  // namespace mailsim::config::detail
