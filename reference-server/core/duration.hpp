// mailsim::core durations in text — the one spelling of a duration that configuration,
// scenario files and retry specs share: parts of <digits><unit>, largest unit first, units
// d, h, m, s, ms ("90s", "10m", "1h30m", "2d", "1500ms"); "0" alone means zero.
//
// Contract: pure functions; parse_duration refuses anything else (spaces, signs, repeated
// or out-of-order units) and values that overflow 64-bit milliseconds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/clock.hpp"

namespace mailsim::core {

std::optional<duration_ms> parse_duration(std::string_view text);

// The exact spelling in parts, largest first: 90000ms -> "1m30s", 1500ms -> "1s500ms",
// 0 -> "0s". Negative durations are written with a leading '-' (which parse refuses).
std::string format_duration(duration_ms d);

}  // namespace mailsim::core
