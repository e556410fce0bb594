// Running a scenario from Python: run() with the GIL released, and RunResult.
#include <pybind11/stl.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "pyapi/bindings/bindings.hpp"
#include "simulator/scenario/runner.hpp"

namespace py = pybind11;

namespace mailsim::pyapi {
namespace {

namespace sc = sim::scenario;

// Thrown into the runner to stop a run when Python wants it stopped (the callback raised,
// or Ctrl-C arrived). The runner turns it into a failed result; run() then re-raises the
// Python exception, which is what the caller should see.
struct run_stopped : std::exception {
  const char* what() const noexcept override { return "the run was stopped from Python"; }
};

// Relays the runner's progress to Python. The runner calls it about every virtual hour with
// the GIL released; it takes the GIL for the call, checks for pending signals so that
// Ctrl-C stops a long run, and keeps the first Python error to re-raise after the run.
class progress_relay {
 public:
  explicit progress_relay(py::object callback) : callback_(std::move(callback)) {}

  void operator()(double fraction) {
    const py::gil_scoped_acquire locked;
    if (PyErr_CheckSignals() != 0) {
      raised_.emplace();
      throw run_stopped{};
    }
    if (callback_.is_none()) return;
    try {
      callback_(fraction);
    } catch (py::error_already_set& e) {
      raised_.emplace(std::move(e));
      throw run_stopped{};
    }
  }

  // Re-raises the kept Python error, if any. Needs the GIL.
  void rethrow() {
    if (raised_) throw std::move(*raised_);
  }

 private:
  py::object callback_;
  std::optional<py::error_already_set> raised_;
};

std::shared_ptr<py_run_result> run(const sc::scenario& s, std::optional<std::uint64_t> seed,
                                   bool keep_transcript, py::object progress,
                                   std::string transcript_path, std::string command) {
  progress_relay relay(std::move(progress));
  sc::run_options options;
  options.seed = seed;
  options.keep_transcript = keep_transcript;
  options.transcript_path = std::move(transcript_path);
  options.command = std::move(command);
  // The relay is captured by reference: copying a Python object without the GIL is unsafe.
  options.progress = [&relay](double fraction) { relay(fraction); };
  auto out = std::make_shared<py_run_result>();
  try {
    const py::gil_scoped_release unlocked;
    out->result = sc::run_scenario(s, options);
  } catch (const run_stopped&) {
    // The runner keeps its own exceptions inside the result; should one escape anyway, the
    // Python error behind it is still what the caller sees.
  }
  relay.rethrow();
  out->records = py::none();
  out->transcript_kept = keep_transcript;
  return out;
}

std::string where_text(const sim::world::source_ref& where) {
  if (where.line == 0) return where.file;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string verdict_repr(const sc::verdict& v) {
  return std::string("<mailsim.Verdict ") + (v.passed ? "passed" : "FAILED") + " \"" + v.text +
         "\" measured " + (v.measured.empty() ? "-" : v.measured) + ">";
}

std::string result_repr(const py_run_result& r) {
  return "<mailsim.RunResult \"" + r.result.name + "\" seed " + std::to_string(r.result.seed) +
         (r.result.passed ? " passed" : " FAILED") + ">";
}

const py::object& records_of(py_run_result& r) {
  if (r.records.is_none()) r.records = records_to_list(r.result.record);
  return r.records;
}

py::object optional_transcript(const py_run_result& r) {
  if (!r.transcript_kept) return py::none();
  return py::str(r.result.transcript);
}

void bind_verdict(py::module_& m) {
  py::class_<sc::verdict>(m, "Verdict", "One expectation, judged.")
      .def_readonly("text", &sc::verdict::text)
      .def_readonly("passed", &sc::verdict::passed)
      .def_readonly("measured", &sc::verdict::measured)
      .def_readonly("error", &sc::verdict::error)
      .def_property_readonly("where", [](const sc::verdict& v) { return where_text(v.where); })
      .def_property_readonly("line", [](const sc::verdict& v) { return v.where.line; })
      .def_property_readonly("column", [](const sc::verdict& v) { return v.where.column; })
      .def("__repr__", &verdict_repr);
}

void bind_result(py::module_& m) {
  using R = py_run_result;
  py::class_<R, std::shared_ptr<R>>(m, "RunResult", "What a run did and how it was judged.")
      .def_property_readonly("name", [](const R& r) { return r.result.name; })
      .def_property_readonly("file", [](const R& r) { return r.result.file; })
      .def_property_readonly("seed", [](const R& r) { return r.result.seed; })
      .def_property_readonly("passed", [](const R& r) { return r.result.passed; })
      .def_property_readonly("error", [](const R& r) { return r.result.error; })
      .def_property_readonly("duration_s",
                             [](const R& r) { return r.result.duration.count() / 1000.0; })
      .def_property_readonly("steps", [](const R& r) { return r.result.steps; })
      .def_property_readonly("verdicts", [](const R& r) { return r.result.verdicts; })
      .def_property_readonly("records", &records_of,
                             "One dict per (message, recipient), in the order recorded; built "
                             "at first access. Times are seconds since the run's start.")
      .def_property_readonly("series", [](const R& r) { return series_to_list(r.result.record); })
      .def_property_readonly("listings",
                             [](const R& r) { return listings_to_list(r.result.record); })
      .def_property_readonly("summary", [](const R& r) { return summary_of(r.result.record); })
      .def_property_readonly("breakdown",
                             [](const R& r) { return breakdown_of(r.result.record); })
      .def_property_readonly("transcript_digest",
                             [](const R& r) { return r.result.transcript_digest; })
      .def_property_readonly("transcript", &optional_transcript,
                             "The whole transcript when run with keep_transcript, else None.")
      .def_property_readonly("transcript_tail",
                             [](const R& r) { return r.result.transcript_tail; })
      .def_property_readonly("reproduce", [](const R& r) { return r.result.reproduce; })
      .def("json", [](const R& r) { return report_json(r.result); },
           "The JSON report (simulator/scenario/report.hpp) as text.")
      .def(
          "junit",
          [](const std::shared_ptr<R>& r, const std::optional<std::string>& suite) {
            return report_junit(suite.value_or(r->result.name), {r});
          },
          py::arg("suite") = py::none(),
          "JUnit XML for this run alone: a suite (named after the scenario unless given) "
          "with one test case.")
      .def("text", [](const R& r) { return report_text(r.result); },
           "The text summary a person reads.")
      .def("__repr__", &result_repr);
}

}  // namespace

void bind_run(py::module_& m) {
  bind_verdict(m);
  bind_result(m);
  m.def("run", &run, py::arg("scenario"), py::kw_only(), py::arg("seed") = py::none(),
        py::arg("keep_transcript") = false, py::arg("progress") = py::none(),
        py::arg("transcript_path") = "", py::arg("command") = "",
        "Runs a scenario in virtual time with the GIL released. seed replaces the scenario's; "
        "keep_transcript keeps the whole transcript in RunResult.transcript; progress(fraction) "
        "is called about every virtual hour (with the GIL); transcript_path also writes the "
        "transcript to a file; command is how the user ran it, for RunResult.reproduce.");
}

}  // namespace mailsim::pyapi
