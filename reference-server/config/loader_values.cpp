// The loader's value readers (loader_values.hpp): positions, error raising, name and
// address syntax, and the typed readers every section uses.
#include "reference-server/config/loader_values.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "reference-server/config/units.hpp"
#include "reference-server/core/ascii.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::config::detail {


position at(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}


void fail(position where, std::string message) {
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
  return core::is_atext(c) || static_cast<unsigned char>(c) >= 0x80;
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

void expected(const value& v, std::string_view what) {
  fail(v.where,
       "expected " + std::string(what) + " for " + quote(v.key) + ", got " + describe(v.node));
}


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


core::duration_ms positive(const value& v, core::duration_ms d) {
  if (d.count() <= 0) fail(v.where, quote(v.key) + " must be longer than 0s");
  return d;
}

}  // namespace mailsim::config::detail
