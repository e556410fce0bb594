// mailsim::pyapi — the pieces of the Python module mailsim._core, one bind_<area>() per area.
//
// Contract: the bindings translate between the simulator's C++ API and Python objects and do
// nothing else: no simulation logic, no I/O beyond what the bound functions do. C++ results
// become plain Python values (str, int, float, bool, None, list, dict) so that they pickle,
// print and compare without the module. Errors cross into Python as exceptions: a scenario
// that does not load raises mailsim._core.ScenarioError (a ValueError with file, line,
// column and message attributes); a run that fails is a RunResult with passed False, never
// an exception. The GIL is released while a scenario runs; a progress callback takes it back
// for the duration of the call.
#pragma once

#include <pybind11/pybind11.h>

#include "simulator/scenario/scenario.hpp"

#ifdef MAILSIM_PYAPI_RUNNER
#include <memory>
#include <string>
#include <vector>

#include "simulator/metrics/recorder.hpp"
#include "simulator/scenario/runner.hpp"
#endif

namespace mailsim::pyapi {

// ScenarioError, Scenario, load_scenario(), load_scenario_file().
void bind_scenario(pybind11::module_& m);

#ifdef MAILSIM_PYAPI_RUNNER
// A run's result as Python sees it (mailsim.RunResult). The records are converted at first
// access only: a sweep that reads the summary never pays for a million dictionaries.
struct py_run_result {
  sim::scenario::run_result result;
  pybind11::object records;  // None until first asked for
  bool transcript_kept = false;
};
using py_run_results = std::vector<std::shared_ptr<py_run_result>>;

// RunResult, Verdict, run(); then junit_xml() (bind_report.cpp).
void bind_run(pybind11::module_& m);
void bind_report(pybind11::module_& m);

// A recorder as Python data (bind_metrics.cpp). Times are seconds since the run's start.
pybind11::list records_to_list(const sim::metrics::recorder& record);
pybind11::list series_to_list(const sim::metrics::recorder& record);
pybind11::list listings_to_list(const sim::metrics::recorder& record);
// Headline numbers of a run (metrics/summary.hpp): counts by outcome and placement, ratios
// over `sent`, attempts and delivery delay statistics (None where there is nothing to
// measure), receiver counters, listings. Flat, so that a sweep's rows can hold it.
pybind11::dict summary_of(const sim::metrics::recorder& record);
// The same numbers by provider and by sender, and per day: {"by_provider": {name: {...}},
// "by_sender": {...}, "days": [{...}]}.
pybind11::dict breakdown_of(const sim::metrics::recorder& record);

// The reports of simulator/scenario/report.hpp (bind_report.cpp).
std::string report_json(const sim::scenario::run_result& result);
std::string report_text(const sim::scenario::run_result& result);
// One <testsuites> document, one <testcase> per result.
std::string report_junit(const std::string& suite, const py_run_results& results);
#endif

}  // namespace mailsim::pyapi
