// mailsim::sim::metrics expectations — the small language of a scenario's `expect:` list,
// evaluated over a recorder.
//
// Grammar (docs/scenarios.md has the user's reference):
//   expectation := expr CMP expr | ["never" | "ever"] "listed" "(" SUBJECT "," ZONE ")"
//   CMP         := ">=" | "<=" | "==" | "!=" | ">" | "<"
//   expr        := term (("+" | "-") term)* ; term := factor (("*" | "/") factor)*
//   factor      := NUMBER [unit] | NUMBER "%" | metric [filters] | FUNC "(" metric [filters] ")"
//                | "(" expr ")"
//   filters     := "{" key "=" value ("," key "=" value)* "}"
//                  keys: provider, domain, sender, status, code, kind, ip
//   metrics     := sent, delivered, bounced, expired, pending, inbox, junk, trap_hits,
//                  complaints, deferrals, attempts, bounces (= bounced), connections,
//                  accepted, rejected, deferred (receiver-side counters; code/status filter
//                  the reply), listings, <name>_ratio (count / sent of the same filters),
//                  attempts_mean, delivery_delay (a distribution: only inside a function)
//   FUNC        := p50 | p90 | p95 | p99 | max | min | mean  (over delivery_delay or attempts)
//   units       := ms s m h d (durations compare in seconds)
// A ratio whose denominator is 0 is an evaluation error, not a pass.
// Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "simulator/metrics/recorder.hpp"

namespace mailsim::sim::metrics {

struct expect_syntax_error {
  std::size_t column = 0;  // 1-based within the expectation text
  std::string message;     // what was expected there
};

// Checks an expectation's syntax (and that its metric names exist).
std::optional<expect_syntax_error> check_expectation(std::string_view text);

struct expect_result {
  bool passed = false;
  std::string measured;  // the left side's value as text
  std::string error;     // set when it could not be evaluated (then passed is false)
};

expect_result evaluate_expectation(std::string_view text, const recorder& record);

}  // namespace mailsim::sim::metrics
