// The Python module mailsim._core: the simulator's scenario loader and runner for Python.
// The user-facing API is the pure-Python package mailsim (pyapi/mailsim), which wraps this.
#include "pyapi/bindings/bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "mailsim's simulator: load scenarios, run them in virtual time, read the results.";
  mailsim::pyapi::bind_scenario(m);
#ifdef MAILSIM_PYAPI_RUNNER
  mailsim::pyapi::bind_run(m);
  mailsim::pyapi::bind_report(m);
  m.attr("has_runner") = true;
#else
  // The runner was not built into this module (the build had only the loader).
  m.attr("has_runner") = false;
#endif
}
