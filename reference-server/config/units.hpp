// mailsim::config units — sizes and durations as people write them in config files.
//
// Contract: pure text conversions, no I/O, never throw. A value that does not match the
// grammar below, or that does not fit the result type, gives nullopt; the caller reports it.
// docs/configuration.md ("Sizes and durations") is the user-facing description.
//
// Sizes:     <digits> [spaces] [unit]      e.g. "1000", "512B", "25MiB", "10 MB"
//   units, case-insensitive: B = 1 byte;
//   KiB, MiB, GiB, TiB = 1024-based (IEC 80000-13 binary prefixes);
//   kB,  MB,  GB,  TB  = 1000-based (SI prefixes).
//   A bare K, M, G or T is refused: Exim and Dovecot read "25M" as 1024-based, SI readers
//   as 1000-based, and a config file should not depend on which the reader assumed.
//   Fractions ("1.5GiB") and signs are refused; sizes are whole bytes.
// Durations: one or more <digits><unit> parts, largest unit first, e.g. "5m", "1500ms",
//   "1h30m", "2d"; units (lower case only, "M" could be read as months): ms, s, m, h, d.
//   A bare "0" is allowed; any other number needs its unit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/duration.hpp"

namespace mailsim::config {

// Bytes, or nullopt when `text` is not a size or is above 2^64 - 1 bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Durations: core/duration.hpp (shared with retry specs and scenario files).
using core::format_duration;
using core::parse_duration;

// The shortest exact spelling with a binary unit: 26214400 -> "25MiB", 1000 -> "1000B".
// parse_size(format_size(n)) == n for every n.
std::string format_size(std::uint64_t bytes);


}  // namespace mailsim::config
