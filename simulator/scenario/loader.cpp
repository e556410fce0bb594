// The scenario loader (scenario.hpp): YAML text -> overrides applied to the tree -> the typed
// scenario, with every error as file:line:column and a sentence. Section readers live in
// loader_world.cpp and loader_traffic.cpp, value readers in loader_values.cpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "simulator/metrics/expect.hpp"
#include "simulator/scenario/loader_detail.hpp"
#include "simulator/scenario/scenario.hpp"

namespace mailsim::sim::scenario {

std::string load_error::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

using detail::failure;
using detail::section;
using detail::value;

// An override that could not be applied, or a value inside one that did not type.
struct override_failure {
  std::string message;
};

std::string describe_override(const override_value& o) {
  return "--set " + o.path + "=" + o.value;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '.')) parts.push_back(part);
  if (!path.empty() && path.back() == '.') parts.emplace_back();
  return parts;
}

std::optional<std::size_t> index_of(const std::string& part) {
  if (part.empty() || part.size() > 9) return std::nullopt;
  if (!std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(std::stoul(part));
}

// The child of `node` named by one path component, created (as an empty mapping) when a map
// lacks it. yaml-cpp nodes are handles: the caller rebinds with reset(), never operator=,
// which would overwrite the tree.
YAML::Node step(YAML::Node& node, const std::string& part, const std::string& walked) {
  if (part.empty()) throw override_failure{"empty path component after '" + walked + "'"};
  if (node.IsSequence()) {
    const auto index = index_of(part);
    if (!index)
      throw override_failure{"'" + walked + "' is a list: expected an index, got '" + part + "'"};
    if (*index >= node.size()) {
      throw override_failure{"'" + walked + "' is a list of length " + std::to_string(node.size()) +
                             ": no index " + part};
    }
    return node[*index];
  }
  if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap()) {
    throw override_failure{"'" + walked + "' is a single value, not a mapping or list"};
  }
  // A number indexes a list; no scenario mapping has numeric keys, and creating a mapping
  // where the path expects a list would only move the error away from the override.
  if (index_of(part)) throw override_failure{"'" + walked + "' is no list: no index " + part};
  if (!node[part]) node[part] = YAML::Node(YAML::NodeType::Map);
  return node[part];
}

void apply_override(YAML::Node& root, const override_value& o) {
  const std::vector<std::string> parts = split_path(o.path);
  if (parts.empty()) throw override_failure{"the path is empty"};
  YAML::Node replacement;
  try {
    replacement = YAML::Load(o.value);
  } catch (const YAML::Exception& e) {
    throw override_failure{"the value is not YAML: " + e.msg};
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = root;
  std::string walked = "the scenario";
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = step(node, parts[i], walked);
    node.reset(next);
    if (i == 0) {
      walked = parts[0];
    } else {
      walked += "." + parts[i];
    }
  }
  const std::string& last = parts.back();
  if (last.empty()) throw override_failure{"the path ends with '.'"};
  if (node.IsSequence()) {
    const auto index = index_of(last);
    if (!index || *index > node.size()) {
      throw override_failure{"'" + walked + "' is a list of length " + std::to_string(node.size()) +
                             ": expected an index up to " + std::to_string(node.size()) +
                             " (to append), got '" + last + "'"};
    }
    if (*index == node.size()) {
      node.push_back(replacement);
    } else {
      node[*index] = replacement;
    }
    return;
  }
  if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap())
    throw override_failure{"'" + walked + "' is a single value, not a mapping or list"};
  if (index_of(last)) throw override_failure{"'" + walked + "' is no list: no index " + last};
  node[last] = replacement;
}

// Whether dotted path `inner` is `outer` or lies below it.
bool within(const std::string& inner, const std::string& outer) {
  if (outer.empty()) return true;
  if (inner.size() < outer.size() || inner.compare(0, outer.size(), outer) != 0) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '.';
}

// The override an error belongs to (the last one wins): one whose value holds `path`, or,
// for a place with no position in the file, one that created the mappings on its way.
const override_value* override_holding(const std::vector<override_value>& overrides,
                                       const std::string& path, detail::position where) {
  const override_value* found = nullptr;
  for (const override_value& o : overrides) {
    if (within(path, o.path) || (where.line == 0 && within(o.path, path))) found = &o;
  }
  return found;
}

load_result error_at(const std::string& file, std::size_t line, std::size_t column,
                     std::string message) {
  load_result r;
  r.error = load_error{file, line, column, std::move(message)};
  return r;
}

// Checks an expectation's syntax; its columns count from the expectation's first character.
detail::position expectation_position(const value& v, std::size_t column_in_text) {
  detail::position p = v.where;
  // A quoted scalar's mark is its opening quote; the text starts one column later.
  const std::size_t quote = v.node.Tag() == "!" ? 1 : 0;
  if (p.line != 0) p.column += column_in_text - 1 + quote;
  return p;
}

void read_expect(const value& v, const detail::context& c, std::vector<expectation_spec>& out) {
  for (const value& item : detail::read_list(v, "expectations")) {
    if (!item.node.IsScalar()) {
      detail::expected(item, "an expectation such as 'delivered_ratio >= 0.97'");
    }
    const std::string text = detail::read_text(item, "an expectation");
    if (const auto e = metrics::check_expectation(text)) {
      value at = item;
      at.where = expectation_position(item, e->column == 0 ? 1 : e->column);
      detail::fail(at, "in expectation '" + text + "': " + e->message);
    }
    out.push_back({text, c.ref(item)});
  }
}

void read_world(const value& v, const detail::context& c, world::world_spec& w) {
  const section s(v, {"providers", "dnsbls", "latency"});
  if (auto x = s.get("providers")) detail::read_providers(*x, c, w.providers);
  if (auto x = s.get("dnsbls")) detail::read_dnsbls(*x, c, w.dnsbls);
  if (auto x = s.get("latency")) w.latency = detail::read_duration(*x);
}

scenario read_scenario(const value& v, const detail::context& c) {
  if (v.node.IsNull()) {
    detail::fail(v, "the scenario is empty: expected a mapping with at least 'name'");
  }
  const section s(v, {"name", "seed", "duration", "steps_max", "world", "senders", "workload",
                      "faults", "expect"});
  scenario out;
  out.file = c.file;
  out.name = detail::read_text(s.require("name"), "a scenario name");
  if (auto x = s.get("seed")) out.seed = detail::read_count(*x);
  if (auto x = s.get("duration")) out.duration = detail::read_positive_duration(*x);
  if (auto x = s.get("steps_max")) out.steps_max = detail::read_positive_count(*x);
  if (auto x = s.get("world")) read_world(*x, c, out.world);
  if (auto x = s.get("senders")) detail::read_senders(*x, c, out.world.senders);
  if (auto x = s.get("workload")) detail::read_workload(*x, c, out.world.workload);
  if (auto x = s.get("faults")) detail::read_faults(*x, c, out.world.faults);
  if (auto x = s.get("expect")) read_expect(*x, c, out.expect);
  return out;
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value that names workload `index`'s message template (already typed, so it exists).
value template_value(const YAML::Node& root, std::size_t index) {
  const YAML::Node item = root["workload"][index];
  const YAML::Node message = item["message"];
  const std::string path = "workload." + std::to_string(index) + ".message";
  if (message.IsScalar()) return value{message, path, detail::at(message.Mark())};
  const YAML::Node t = message["template"];
  return value{t, path + ".template", detail::at(t.Mark())};
}

std::optional<std::string> read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// Fills message.text from the rendered templates, or (when `folder` is given, for
// load_scenario_file) from the plain template files next to the scenario.
void fill_templates(scenario& s, const YAML::Node& root, const load_options& options,
                    const std::optional<std::filesystem::path>& folder) {
  for (std::size_t i = 0; i < s.world.workload.size(); ++i) {
    world::message_spec& m = s.world.workload[i].message;
    if (m.template_path.empty()) continue;
    const std::string written = m.template_path;
    std::filesystem::path resolved = written;
    if (folder && resolved.is_relative()) resolved = *folder / resolved;
    if (const auto it = options.rendered_templates.find(written);
        it != options.rendered_templates.end()) {
      m.text = it->second;
    } else if (ends_with(written, ".j2")) {
      detail::fail(template_value(root, i),
                   "message template '" + written + "' is a Jinja2 template: run the scenario " +
                       "through `mailsim run` (which renders it), or pass it rendered");
    } else if (!folder) {
      detail::fail(template_value(root, i),
                   "message template '" + written + "' was not given: loading from text " +
                       "reads no files (load the scenario file, or pass the template's text)");
    } else if (auto text = read_file_text(resolved.string())) {
      m.text = std::move(*text);
    } else {
      detail::fail(template_value(root, i),
                   "cannot read message template '" + resolved.string() + "'");
    }
    if (folder) m.template_path = resolved.string();
  }
}

load_result load(std::string_view yaml_text, const std::string& file, const load_options& options,
                 const std::optional<std::filesystem::path>& folder) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    const detail::position p = detail::at(e.mark);
    return error_at(file, p.line, p.column, e.msg);
  }
  for (const override_value& o : options.overrides) {
    try {
      apply_override(root, o);
    } catch (const override_failure& f) {
      return error_at(file, 0, 0, describe_override(o) + ": " + f.message);
    } catch (const YAML::Exception& e) {  // yaml-cpp refusing an edit: still the override's fault
      return error_at(file, 0, 0, describe_override(o) + ": " + e.msg);
    }
  }
  try {
    const detail::context c{file};
    load_result r;
    r.value = read_scenario(detail::root_value(root), c);
    fill_templates(*r.value, root, options, folder);
    return r;
  } catch (const failure& f) {
    if (const override_value* o = override_holding(options.overrides, f.path, f.where)) {
      return error_at(file, 0, 0, describe_override(*o) + ": " + f.message);
    }
    const detail::position p = f.where.line == 0 ? detail::position{1, 1} : f.where;
    return error_at(file, p.line, p.column, f.message);
  } catch (const YAML::Exception& e) {  // not expected: every reader checks types first
    const detail::position p = detail::at(e.mark);
    return error_at(file, p.line == 0 ? 1 : p.line, p.column == 0 ? 1 : p.column, e.msg);
  }
}

}  // namespace

load_result load_scenario(std::string_view yaml_text, const std::string& file,
                          const load_options& options) {
  return load(yaml_text, file, options, std::nullopt);
}

load_result load_scenario_file(const std::string& path, const load_options& options) {
  const auto text = read_file_text(path);
  if (!text) return error_at(path, 0, 0, "cannot read the scenario file");
  return load(*text, path, options, std::filesystem::path(path).parent_path());
}

}  // namespace mailsim::sim::scenario
