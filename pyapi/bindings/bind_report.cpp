// The reports of simulator/scenario/report.hpp for Python: RunResult.json()/.text()/.junit()
// and junit_xml() for a whole suite.
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "pyapi/bindings/bindings.hpp"
#include "simulator/scenario/report.hpp"

namespace py = pybind11;

namespace mailsim::pyapi {
namespace {

namespace sc = sim::scenario;

// junit_xml() takes the results by value in a vector. Copying a result copies its recorder
// (a million records in a big run), so the results are moved in for the call and moved
// back after it, whatever happens. The GIL is held throughout, so no Python code can look
// at a result while it is lent.
class lent_results {
 public:
  explicit lent_results(const py_run_results& owners) : owners_(owners) {
    results_.reserve(owners_.size());
    for (const auto& owner : owners_) results_.push_back(std::move(owner->result));
  }
  ~lent_results() {
    for (std::size_t i = 0; i < owners_.size(); ++i) owners_[i]->result = std::move(results_[i]);
  }
  lent_results(const lent_results&) = delete;
  lent_results& operator=(const lent_results&) = delete;

  const std::vector<sc::run_result>& results() const { return results_; }

 private:
  const py_run_results& owners_;
  std::vector<sc::run_result> results_;
};

}  // namespace

std::string report_json(const sc::run_result& result) { return sc::json_report(result); }

std::string report_text(const sc::run_result& result) { return sc::text_summary(result); }

std::string report_junit(const std::string& suite, const py_run_results& results) {
  for (const auto& r : results) {
    if (!r) throw py::type_error("junit_xml() takes RunResult objects, not None");
  }
  const lent_results lent(results);
  return sc::junit_xml(suite, lent.results());
}

void bind_report(py::module_& m) {
  m.def("junit_xml", &report_junit, py::arg("suite"), py::arg("results"),
        "JUnit XML for several runs: one <testsuite> named `suite`, one <testcase> per "
        "RunResult, one <failure> per failed expectation.");
}

}  // namespace mailsim::pyapi
