// Scenario loading: the typed scenario as a Python object and its load errors as exceptions.
#include <pybind11/stl.h>

#include <string>
#include <utility>

#include "pyapi/bindings/bindings.hpp"

namespace py = pybind11;

namespace mailsim::pyapi {
namespace {

namespace sc = sim::scenario;

// The exception type lives as long as the interpreter; a leaked reference avoids destroying
// a Python object from a C++ static destructor after the interpreter is gone.
PyObject* scenario_error_type = nullptr;

[[noreturn]] void raise_scenario_error(const sc::load_error& error) {
  const py::handle type(scenario_error_type);
  py::object exception = type(error.to_string());
  exception.attr("file") = error.file;
  exception.attr("line") = error.line;
  exception.attr("column") = error.column;
  exception.attr("message") = error.message;
  PyErr_SetObject(scenario_error_type, exception.ptr());
  throw py::error_already_set();
}

// A Python value as YAML scalar text, the form the loader's overrides take. Booleans and
// None get YAML's spelling; everything else its str().
std::string yaml_scalar(const py::handle& value) {
  if (value.is_none()) return "null";
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  return py::str(value).cast<std::string>();
}

sc::override_value override_from_text(const std::string& text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw py::value_error("an override is key=value, not \"" + text + "\"");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

// Overrides come as {path: value}, or as a list of "path=value" strings or (path, value)
// pairs, kept in order: a later override of the same path wins, as on the command line.
std::vector<sc::override_value> overrides_from(const py::object& overrides) {
  std::vector<sc::override_value> out;
  if (overrides.is_none()) return out;
  if (py::isinstance<py::dict>(overrides)) {
    for (const auto& [key, value] : overrides.cast<py::dict>()) {
      out.push_back({py::str(key).cast<std::string>(), yaml_scalar(value)});
    }
    return out;
  }
  for (const py::handle item : overrides) {
    if (py::isinstance<py::str>(item)) {
      out.push_back(override_from_text(item.cast<std::string>()));
      continue;
    }
    const py::tuple pair = py::tuple(py::reinterpret_borrow<py::object>(item));
    if (pair.size() != 2) throw py::value_error("an override pair is (path, value)");
    out.push_back({py::str(pair[0]).cast<std::string>(), yaml_scalar(pair[1])});
  }
  return out;
}

sc::load_options options_from(const py::object& overrides, const py::object& templates) {
  sc::load_options options;
  options.overrides = overrides_from(overrides);
  if (!templates.is_none()) {
    options.rendered_templates = templates.cast<std::map<std::string, std::string>>();
  }
  return options;
}

sc::scenario value_or_raise(sc::load_result result) {
  if (!result.ok()) {
    raise_scenario_error(result.error.value_or(sc::load_error{"", 0, 0, "unknown load error"}));
  }
  return std::move(*result.value);
}

sc::scenario load_text(const std::string& text, const std::string& file_name,
                       const py::object& overrides, const py::object& templates) {
  const sc::load_options options = options_from(overrides, templates);
  sc::load_result result;
  {
    const py::gil_scoped_release unlocked;
    result = sc::load_scenario(text, file_name, options);
  }
  return value_or_raise(std::move(result));
}

sc::scenario load_file(const std::string& path, const py::object& overrides,
                       const py::object& templates) {
  const sc::load_options options = options_from(overrides, templates);
  sc::load_result result;
  {
    const py::gil_scoped_release unlocked;
    result = sc::load_scenario_file(path, options);
  }
  return value_or_raise(std::move(result));
}

py::list expectation_texts(const sc::scenario& s) {
  py::list out;
  for (const sc::expectation_spec& e : s.expect) out.append(e.text);
  return out;
}

py::list provider_names(const sc::scenario& s) {
  py::list out;
  for (const auto& p : s.world.providers) out.append(p.name);
  return out;
}

py::list sender_names(const sc::scenario& s) {
  py::list out;
  for (const auto& sender : s.world.senders) out.append(sender.name);
  return out;
}

// The message text each workload sends (empty: the built-in message).
py::list message_texts(const sc::scenario& s) {
  py::list out;
  for (const auto& w : s.world.workload) out.append(w.message.text);
  return out;
}

std::string scenario_repr(const sc::scenario& s) {
  return "<mailsim.Scenario \"" + s.name + "\" from " + s.file + ", seed " +
         std::to_string(s.seed) + ", " + std::to_string(s.expect.size()) + " expectations>";
}

}  // namespace

void bind_scenario(py::module_& m) {
  scenario_error_type = PyErr_NewExceptionWithDoc(
      "mailsim.ScenarioError",
      "A scenario did not load. Attributes: file, line, column (1-based; 0 when unknown) "
      "and message; str() is \"file:line:column: message\".",
      PyExc_ValueError, nullptr);
  if (scenario_error_type == nullptr) throw py::error_already_set();
  m.attr("ScenarioError") = py::handle(scenario_error_type);

  py::class_<sc::scenario>(m, "Scenario", "A loaded, typed scenario, ready to run.")
      .def_readonly("name", &sc::scenario::name)
      .def_readonly("file", &sc::scenario::file)
      .def_readonly("seed", &sc::scenario::seed)
      .def_readonly("steps_max", &sc::scenario::steps_max)
      .def_property_readonly("duration_s",
                             [](const sc::scenario& s) { return s.duration.count() / 1000.0; })
      .def_property_readonly("expectations", &expectation_texts)
      .def_property_readonly("providers", &provider_names)
      .def_property_readonly("senders", &sender_names)
      .def_property_readonly("messages", &message_texts)
      .def("__repr__", &scenario_repr);

  m.def("load_scenario", &load_text, py::arg("text"), py::arg("file_name") = "<string>",
        py::arg("overrides") = py::none(), py::arg("rendered_templates") = py::none(),
        "Loads a scenario from YAML text; file_name is used in error messages. overrides: "
        "{path: value} or [\"path=value\", ...] applied before typing; rendered_templates: "
        "{path as written in the scenario: message text} for .eml.j2 templates. Raises "
        "ScenarioError.");
  m.def("load_scenario_file", &load_file, py::arg("path"), py::arg("overrides") = py::none(),
        py::arg("rendered_templates") = py::none(),
        "Reads and loads a scenario file (plain message templates are read relative to its "
        "folder). Raises ScenarioError.");
}

}  // namespace mailsim::pyapi
