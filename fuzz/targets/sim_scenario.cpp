// Fuzz target: the scenario YAML loader (simulator/scenario/scenario.hpp), up to 64 KiB.
// The input is YAML text, optionally followed by a NUL byte and `--set` overrides, one
// `path=value` per line (at most 4; a line without '=' is a path with an empty value), so
// that the override walk (indexes, appends, created mappings) and the blame of an error on
// an override run too. The load options also carry one rendered template,
// `templates/hello.eml.j2`, so that a workload naming it loads.
// Checks beyond the sanitizers: the loader answers with exactly one of a scenario and an
// error; an error names the file, has a message, and a line exactly when it has a column; a
// scenario keeps the file name and every expectation it holds passes check_expectation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulator/metrics/expect.hpp"
#include "simulator/scenario/scenario.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_max_bytes = 64 * 1024;
constexpr std::size_t overrides_max = 4;
const std::string file_name = "fuzz.yaml";

// The override lines after the NUL: "path=value" (the value may contain '=' itself).
std::vector<sim::scenario::override_value> parse_overrides(std::string_view rest) {
  std::vector<sim::scenario::override_value> overrides;
  while (!rest.empty() && overrides.size() < overrides_max) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const std::size_t eq = line.find('=');
    sim::scenario::override_value o;
    o.path = std::string(line.substr(0, eq));
    if (eq != std::string_view::npos) o.value = std::string(line.substr(eq + 1));
    overrides.push_back(std::move(o));
  }
  return overrides;
}

void check_error(const sim::scenario::load_error& e) {
  if (e.file != file_name || e.message.empty()) std::abort();
  if ((e.line == 0) != (e.column == 0)) std::abort();
  if (e.to_string().rfind(file_name, 0) != 0) std::abort();
}

void check_scenario(const sim::scenario::scenario& s) {
  if (s.file != file_name) std::abort();
  for (const sim::scenario::expectation_spec& e : s.expect) {
    if (sim::metrics::check_expectation(e.text)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_max_bytes) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view yaml = input.substr(0, nul);

  sim::scenario::load_options options;
  if (nul != std::string_view::npos) options.overrides = parse_overrides(input.substr(nul + 1));
  options.rendered_templates["templates/hello.eml.j2"] =
      "From: a@shop.example\r\nTo: b@gmail.sim\r\nSubject: hi\r\n\r\nhello\r\n";

  const sim::scenario::load_result r = sim::scenario::load_scenario(yaml, file_name, options);
  if (r.value.has_value() == r.error.has_value()) std::abort();
  if (r.error) check_error(*r.error);
  if (r.value) check_scenario(*r.value);
  return 0;
}
