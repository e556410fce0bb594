// mailsim::sim::scenario reports — a judged run (runner.hpp's run_result) as JSON, as JUnit
// XML for CI, and as the text a person reads at the end of `mailsim run`.
//
// Contract: every function is pure and deterministic: the same result gives the same bytes
// (object keys in a fixed order, numbers in fixed formats: counts and milliseconds as
// integers, ratios and means rounded to 6 decimals, times as ISO 8601 UTC with milliseconds,
// the transcript digest as 16 lowercase hex digits). Nothing here runs a scenario or reads a
// file; only run_result's plain fields are read, so this needs runner.hpp, not the runner.
// Text from users (names, expectation text, reasons) is escaped for the format: invalid
// UTF-8 is replaced in JSON, and XML gets &lt; &gt; &amp; &quot; &apos; with control bytes
// written as \xHH. A run's reproduce line is run_result::reproduce, or, when empty,
// "mailsim run FILE --seed N".
#pragma once

#include <string>
#include <vector>

#include "simulator/scenario/runner.hpp"

namespace mailsim::sim::scenario {

// The command that reruns `result` exactly.
std::string reproduce_command(const run_result& result);

// One JSON object: name, file, seed, passed, error, duration_ms, steps, verdicts (text,
// where, passed, measured, error), summary (metrics/summary.hpp: totals, ratios,
// distributions, per provider, per sender, per day), listings, transcript_digest,
// transcript_tail, reproduce. Indented by two spaces, ending in a newline.
std::string json_report(const run_result& result);

// A <testsuites> document with one <testsuite name=suite>, one <testcase> per result, one
// <failure> per failed expectation (its text, the measured value, the error if any and the
// reproduce command) and one <error> for a run that failed before it could be judged.
std::string junit_xml(const std::string& suite, const std::vector<run_result>& results);

// For people: a header line, a PASS/FAIL line per expectation with the measured value, the
// key totals and delivery delays, listings, and on failure the seed and the reproduce command.
std::string text_summary(const run_result& result);

}  // namespace mailsim::sim::scenario
