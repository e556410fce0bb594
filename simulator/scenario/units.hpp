// mailsim::sim::scenario units — the values of a scenario file as people write them:
// durations, sizes, ratios, counts and count-or-fraction amounts.
//
// Contract: pure text conversions; no I/O, never throw. Each parser gives nullopt when the
// text is not of its grammar or does not fit the result; the loader turns that into an
// "expected ..., got '...'" error at the value's position. Range checks that depend on the
// key (a ratio above 100%, a zero duration) are the loader's. docs/scenarios.md ("Units") is
// the user-facing description.
//
// Durations: parts of <digits><unit>, largest unit first, each unit at most once:
//   units w (7 days), d, h, m, s, ms — lower case only ("1h30m", "250ms", "1w2d"); "0" alone
//   is zero; any other number needs its unit.
// Sizes: <digits> [one space] [unit]: B, KiB, MiB, GiB (1024-based), KB or kB, MB, GB
//   (1000-based); a bare number is bytes. No fractions, no signs.
// Ratios: "<decimal>%" ("2%", "0.1%") or a plain decimal ("0.02", "1"). The result is the
//   fraction (2% -> 0.02) and may lie outside [0, 1]: the caller checks the range.
// Counts: decimal digits only (no sign, no exponent, no separators), fitting 64 bits.
// Amounts: a count ("20") or a fraction written as a ratio ("2%", "0.5").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "reference-server/core/clock.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::scenario {

std::optional<core::duration_ms> parse_duration(std::string_view text);
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::uint64_t> parse_count(std::string_view text);
// A finite decimal number ("1.4", "-2", "3"); no exponent, no "inf"/"nan".
std::optional<double> parse_number(std::string_view text);
std::optional<double> parse_ratio(std::string_view text);
std::optional<world::amount> parse_amount(std::string_view text);

// Whether the text starts like a negative number ("-5m", "-1"), so that errors can say
// "must not be negative" rather than "expected a duration".
bool looks_negative(std::string_view text);

}  // namespace mailsim::sim::scenario
