// The scenario loader's value readers (loader_detail.hpp): positions, errors, the typed
// readers and fixed-key mappings.
#include <algorithm>
#include <utility>

#include "reference-server/core/ip_address.hpp"
#include "simulator/scenario/loader_detail.hpp"
#include "simulator/scenario/units.hpp"

namespace mailsim::sim::scenario::detail {

position at(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {static_cast<std::size_t>(mark.line) + 1, static_cast<std::size_t>(mark.column) + 1};
}

void fail(const value& v, std::string message) {
  throw failure{v.path, v.where, std::move(message)};
}

void expected(const value& v, std::string_view what) {
  fail(v, "expected " + std::string(what) + ", got " + describe(v.node));
}

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string text;
  for (char c : node.Scalar()) {
    if (text.size() >= 40) {
      text += "...";
      break;
    }
    text += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  return quote(text);
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

world::source_ref source_of(const value& v, const std::string& file) {
  return {file, v.where.line, v.where.column};
}

value root_value(const YAML::Node& node) {
  return value{node, "", at(node.Mark())};
}

std::vector<value> read_list(const value& v, std::string_view what, bool scalar_ok) {
  std::vector<value> items;
  if (scalar_ok && v.node.IsScalar()) {
    items.push_back(v);
    return items;
  }
  if (!v.node.IsSequence()) expected(v, "a list of " + std::string(what));
  std::size_t index = 0;
  for (const YAML::Node& item : v.node) {
    const std::string path = v.path + "." + std::to_string(index++);
    position where = at(item.Mark());
    if (item.IsNull() || where.line == 0) where = v.where;
    items.push_back(value{item, path, where});
  }
  return items;
}

namespace {

// The scalar text of a value, or an "expected <what>" error.
const std::string& scalar(const value& v, std::string_view what) {
  if (!v.node.IsScalar()) expected(v, what);
  return v.node.Scalar();
}

void refuse_negative(const value& v, std::string_view what) {
  if (looks_negative(v.node.Scalar())) {
    fail(v, "expected " + std::string(what) + ", got " + describe(v.node) +
                " (it must not be negative)");
  }
}

}  // namespace

std::string read_text(const value& v, std::string_view what) {
  const std::string& text = scalar(v, what);
  if (text.empty()) expected(v, std::string(what) + " (not empty)");
  return text;
}

bool read_bool(const value& v) {
  const std::string& text = scalar(v, "true or false");
  if (text == "true") return true;
  if (text == "false") return false;
  expected(v, "true or false");
}

std::uint64_t read_count(const value& v) {
  constexpr std::string_view what = "a whole number such as 0, 5 or 20000";
  const std::string& text = scalar(v, what);
  refuse_negative(v, what);
  const auto n = parse_count(text);
  if (!n) expected(v, what);
  return *n;
}

std::uint64_t read_positive_count(const value& v) {
  const std::uint64_t n = read_count(v);
  if (n == 0) expected(v, "a whole number of at least 1");
  return n;
}

std::uint64_t read_size(const value& v) {
  constexpr std::string_view what = "a size such as 512B, 10KB, 1KiB or 2MiB";
  const std::string& text = scalar(v, what);
  refuse_negative(v, what);
  const auto n = parse_size(text);
  if (!n) expected(v, what);
  return *n;
}

core::duration_ms read_duration(const value& v) {
  constexpr std::string_view what = "a duration such as 30s, 5m, 2h or 3d";
  const std::string& text = scalar(v, what);
  refuse_negative(v, what);
  const auto d = parse_duration(text);
  if (!d) expected(v, what);
  return *d;
}

core::duration_ms read_positive_duration(const value& v) {
  const core::duration_ms d = read_duration(v);
  if (d.count() <= 0) expected(v, "a duration longer than 0, such as 30s, 5m, 2h or 3d");
  return d;
}

double read_number(const value& v) {
  constexpr std::string_view what = "a number such as 1, 0.5 or 7.5";
  const auto n = parse_number(scalar(v, what));
  if (!n) expected(v, what);
  return *n;
}

double read_nonnegative_number(const value& v) {
  const double n = read_number(v);
  if (n < 0) expected(v, "a number of at least 0");
  return n;
}

double read_ratio(const value& v) {
  constexpr std::string_view what = "a ratio such as 2% or 0.02";
  const std::string& text = scalar(v, what);
  refuse_negative(v, what);
  const auto r = parse_ratio(text);
  if (!r) expected(v, what);
  if (*r > 1.0) fail(v, "expected a ratio of at most 100% (1.0), got " + describe(v.node));
  return *r;
}

world::amount read_amount(const value& v) {
  constexpr std::string_view what = "a number of mailboxes such as 20, or a share such as 2%";
  const std::string& text = scalar(v, what);
  refuse_negative(v, what);
  const auto a = parse_amount(text);
  if (!a) expected(v, what);
  if (a->fraction && *a->fraction > 1.0) {
    fail(v, "expected a share of at most 100% (1.0), got " + describe(v.node));
  }
  return *a;
}

std::string read_choice(const value& v, const std::vector<std::string_view>& choices) {
  if (v.node.IsScalar()) {
    for (std::string_view choice : choices) {
      if (v.node.Scalar() == choice) return std::string(choice);
    }
  }
  expected(v, "one of " + join(choices));
}

std::string read_domain(const value& v) {
  constexpr std::string_view what = "a domain name such as gmail.sim";
  const std::string& text = scalar(v, what);
  // Labels of letters, digits and hyphens; the world checks DNS names in full.
  bool ok = !text.empty() && text.size() <= 253 && text.front() != '.' && text.back() != '.';
  for (char c : text) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    ok = ok && allowed;
  }
  if (!ok || text.find("..") != std::string::npos) expected(v, what);
  return text;
}

std::string read_ip(const value& v) {
  constexpr std::string_view what = "an IP address such as 198.51.100.10 or 2001:db8::1";
  const std::string& text = scalar(v, what);
  if (!core::parse_ip(text)) expected(v, what);
  return text;
}

std::string read_address(const value& v) {
  constexpr std::string_view what = "a mail address such as news@shop.example";
  const std::string& text = scalar(v, what);
  const std::size_t at_sign = text.rfind('@');
  if (at_sign == std::string::npos || at_sign == 0 || at_sign + 1 == text.size()) {
    expected(v, what);
  }
  read_domain(value{YAML::Node(text.substr(at_sign + 1)), v.path, v.where});
  return text;
}

std::vector<std::string> read_texts(const value& v, std::string_view what,
                                    std::string (*read_one)(const value&)) {
  std::vector<std::string> out;
  for (const value& item : read_list(v, what, true)) out.push_back(read_one(item));
  return out;
}

section::section(const value& v, std::vector<std::string_view> keys)
    : self_(v), keys_(std::move(keys)) {
  if (!v.node.IsMap()) expected(v, "a mapping with keys " + join(keys_));
  // yaml-cpp iterators hand out temporaries; the nodes are handles, so copies are cheap.
  for (const auto& entry : v.node) {
    const YAML::Node key_node = entry.first;
    const YAML::Node item = entry.second;
    const value key_value{key_node, v.path, at(key_node.Mark())};
    if (!key_node.IsScalar()) expected(key_value, "a key name");
    const std::string& key = key_node.Scalar();
    const std::string path = v.path.empty() ? key : v.path + "." + key;
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) {
      fail(value{key_node, path, key_value.where},
           "unknown key " + quote(key) + in() + "; expected one of: " + join(keys_));
    }
    for (const auto& seen : entries_) {
      if (seen.first == key) {
        fail(value{key_node, path, key_value.where},
             "duplicate key " + quote(key) + in() + " (first on line " +
                 std::to_string(seen.second.where.line) + ")");
      }
    }
    position where = at(item.Mark());
    if (item.IsNull() || where.line == 0) where = key_value.where;
    entries_.emplace_back(key, value{item, path, where});
  }
}

std::optional<value> section::get(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.first == key) return entry.second;
  }
  return std::nullopt;
}

value section::require(std::string_view key) const {
  auto v = get(key);
  if (!v) {
    fail(self_, "missing key " + quote(key) + in());
  }
  return *v;
}

std::string section::in() const {
  return self_.path.empty() ? " at the top level" : " in " + quote(self_.path);
}

}  // namespace mailsim::sim::scenario::detail
