// mailsim::sim::scenario runner — runs one scenario in virtual mode and judges it.
//
// Contract: builds the world (simulator/world) on a fresh scheduler seeded with the
// scenario's seed (or the override), runs it for the scenario's duration, then evaluates
// every expectation (metrics/expect.hpp) against the recorder. Single-threaded; no OS clock,
// no real randomness: the same scenario and seed give the same transcript (digest) and the
// same result, byte for byte in the JSON report. A world that cannot be built, or a run that
// hits steps_max, is a failed result with its reason in `error`, never an exception.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "simulator/metrics/recorder.hpp"
#include "simulator/scenario/scenario.hpp"

namespace mailsim::sim::scenario {

struct run_options {
  std::optional<std::uint64_t> seed;     // replaces the scenario's seed
  bool keep_transcript = false;          // the whole transcript in run_result::transcript
  std::string transcript_path;           // also write it to this file (empty: no)
  std::size_t transcript_tail_lines = 50;  // kept for failure reports
  // Called about every virtual hour and at the end: fraction of the duration done.
  std::function<void(double fraction)> progress;
  std::string command;  // how the user ran it, for the reproduce line (default: mailsim run)
};

struct verdict {
  std::string text;
  world::source_ref where;
  bool passed = false;
  std::string measured;  // the left-hand side's value, as text ("0.981", "12m30s")
  std::string error;     // evaluation error (unknown metric, division by zero)
};

struct run_result {
  std::string name;
  std::string file;
  std::uint64_t seed = 0;
  bool passed = false;        // every verdict passed and no error
  std::string error;          // the world could not be built, or the run hit a limit
  core::duration_ms duration{0};
  metrics::recorder record;
  std::vector<verdict> verdicts;
  std::uint64_t transcript_digest = 0;  // digest_sink's hash of the whole transcript
  std::string transcript;               // when keep_transcript
  std::vector<std::string> transcript_tail;
  std::uint64_t steps = 0;
  std::string reproduce;  // "mailsim run FILE --seed N"
};

run_result run_scenario(const scenario& s, const run_options& options = {});

}  // namespace mailsim::sim::scenario
