// mailsim::sim::scenario loader internals — what the loader's section readers share: the
// value under a key with its position and dotted path, raising an error there, the typed
// readers ("expected a duration such as 30s, 5m, 2h or 3d, got 'ten'") and mappings with a
// fixed set of keys.
//
// Contract: internal to simulator/scenario/loader*.cpp; yaml-cpp appears here, never in a
// public header. Readers report a problem by throwing `failure`, which load_scenario()
// catches and turns into a load_error: no exception leaves the module. A failure carries the
// dotted path of the value, so that an error inside a value given by an override (--set)
// can name the override instead of a place in the file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "simulator/scenario/scenario.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::scenario::detail {

// A 1-based position in the file (0, 0: unknown).
struct position {
  std::size_t line = 0;
  std::size_t column = 0;
};

struct failure {
  std::string path;  // dotted path of the offending value ("" for the document)
  position where;
  std::string message;
};

// A value with where it is. `where` is the value's own position, or its key's when the value
// is empty (yaml-cpp marks an empty value at the next token, which would mislead).
struct value {
  YAML::Node node;
  std::string path;  // world.providers.0.greylist.delay
  position where;
};

position at(const YAML::Mark& mark);
[[noreturn]] void fail(const value& v, std::string message);
[[noreturn]] void expected(const value& v, std::string_view what);
std::string quote(std::string_view text);
// What a node holds, for "got ..." (a scalar quoted and cut to one line).
std::string describe(const YAML::Node& node);
std::string join(const std::vector<std::string_view>& names);
// The file name of source_refs and errors, set by load_scenario for the current load.
world::source_ref source_of(const value& v, const std::string& file);

value root_value(const YAML::Node& node);
// The items of a list; a single scalar counts as a one-item list when `scalar_ok`.
std::vector<value> read_list(const value& v, std::string_view what, bool scalar_ok = false);

std::string read_text(const value& v, std::string_view what = "a text");
bool read_bool(const value& v);
std::uint64_t read_count(const value& v);
std::uint64_t read_positive_count(const value& v);
std::uint64_t read_size(const value& v);
core::duration_ms read_duration(const value& v);
core::duration_ms read_positive_duration(const value& v);
double read_number(const value& v);
double read_nonnegative_number(const value& v);
double read_ratio(const value& v);  // a fraction in [0, 1]
world::amount read_amount(const value& v);
std::string read_choice(const value& v, const std::vector<std::string_view>& choices);
std::string read_domain(const value& v);
std::string read_ip(const value& v);
std::string read_address(const value& v);
std::vector<std::string> read_texts(const value& v, std::string_view what,
                                    std::string (*read_one)(const value&));

// A mapping with a fixed set of allowed keys; unknown and duplicate keys are refused.
class section {
 public:
  // `name` is how errors call the section ("world.providers.0"); empty for the top level.
  section(const value& v, std::vector<std::string_view> keys);

  std::optional<value> get(std::string_view key) const;
  value require(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  const value& self() const { return self_; }

 private:
  std::string in() const;

  value self_;
  std::vector<std::string_view> keys_;
  std::vector<std::pair<std::string, value>> entries_;
};

// The file being loaded: source_refs need its name.
struct context {
  std::string file;
  world::source_ref ref(const value& v) const { return source_of(v, file); }
};

// loader_world.cpp
void read_providers(const value& v, const context& c, std::vector<world::provider_spec>& out);
void read_dnsbls(const value& v, const context& c, std::vector<world::dnsbl_spec>& out);
// loader_traffic.cpp
void read_senders(const value& v, const context& c, std::vector<world::sender_spec>& out);
void read_workload(const value& v, const context& c, std::vector<world::workload_spec>& out);
void read_faults(const value& v, const context& c, std::vector<world::fault_spec>& out);

}  // namespace mailsim::sim::scenario::detail
