// mailsim::sim::scenario — the typed scenario model and its YAML loader.
//
// Contract: load_scenario() turns YAML text (yaml-cpp) into a scenario, or returns the first
// error with file, line and column (1-based) and a sentence saying what was expected there
// ("expected a duration such as 30s, 5m, 2h or 3d"). Unknown keys are errors, listing the
// keys allowed at that place. Units are in values: durations (ms, s, m, h, d, w), sizes
// (B, KiB, MiB, KB, MB), ratios ("2%" or 0.02). Overrides (`--set a.b.c=value`) are applied
// to the YAML tree before typing, so their values are checked like the file's (a path
// component that is a number indexes a list). Expectations are checked for syntax at load
// time (metrics/expect.hpp) so that a typo fails before a long run. No I/O except
// load_scenario_file(), which reads the file and the plain message templates it names
// (relative to the scenario's folder); .j2 templates must come rendered in the options.
// The key reference is docs/scenarios.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/world/spec.hpp"

namespace mailsim::sim::scenario {

struct expectation_spec {
  std::string text;
  world::source_ref where;
};

struct scenario {
  std::string name;
  std::string file;  // as given to the loader
  std::uint64_t seed = 1;
  core::duration_ms duration{24LL * 3600'000};
  std::uint64_t steps_max = 2'000'000'000;  // scheduler callbacks before the run gives up
  world::world_spec world;
  std::vector<expectation_spec> expect;
};

struct load_error {
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
  // "file:line:column: message"
  std::string to_string() const;
};

struct override_value {
  std::string path;   // dotted: seed, duration, world.providers.0.greylist.delay
  std::string value;  // YAML scalar text
};

struct load_options {
  std::vector<override_value> overrides;
  // Rendered .j2 message templates by the path written in the scenario.
  std::map<std::string, std::string> rendered_templates;
};

struct load_result {
  std::optional<scenario> value;
  std::optional<load_error> error;
  bool ok() const { return value.has_value(); }
};

load_result load_scenario(std::string_view yaml_text, const std::string& file,
                          const load_options& options = {});
load_result load_scenario_file(const std::string& path, const load_options& options = {});

}  // namespace mailsim::sim::scenario
