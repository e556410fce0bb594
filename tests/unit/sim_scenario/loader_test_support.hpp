// Helpers shared by the scenario loader tests (loader_*_test.cpp): load YAML text as a
// scenario file named "s.yaml" and expect it to load (load_ok) or to fail (load_bad),
// and `days` for durations.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "simulator/scenario/scenario.hpp"

namespace mailsim::sim::scenario::test {

constexpr std::chrono::hours days(int n) {
  return std::chrono::hours(24 * n);
}

// The scenario `yaml` describes; a failed load is a test failure (with the error) and
// yields a default scenario, so that the caller's checks fail rather than crash.
inline scenario load_ok(const std::string& yaml, const load_options& options = {}) {
  const load_result r = load_scenario(yaml, "s.yaml", options);
  EXPECT_TRUE(r.ok()) << (r.error ? r.error->to_string() : "");
  if (!r.ok()) return {};
  return *r.value;
}

// The error loading `yaml` gives; a successful load is a test failure.
inline load_error load_bad(const std::string& yaml, const load_options& options = {}) {
  const load_result r = load_scenario(yaml, "s.yaml", options);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.error.has_value());
  return r.error.value_or(load_error{});
}

}  // namespace mailsim::sim::scenario::test
