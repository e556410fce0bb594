#include "reference-server/core/duration.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace mailsim::core {
namespace {

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

// Reads the decimal digits at the front of `text` into `value`; false on overflow or when
// there is no digit. The digits are removed from `text`.
bool take_number(std::string_view& text, std::uint64_t& value) {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::size_t i = 0;
  value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  text.remove_prefix(i);
  return i > 0;
}

struct duration_unit {
  std::string_view name;
  std::int64_t ms;
};

// Largest first: the order parts must come in, and the order format_duration writes.
constexpr std::array<duration_unit, 5> duration_units = {{
    {"d", 24LL * 60 * 60 * 1000},
    {"h", 60LL * 60 * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

}  // namespace

std::optional<duration_ms> parse_duration(std::string_view text) {
  if (text == "0") return duration_ms{0};
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // parts must use strictly smaller units, left to right
  if (text.empty()) return std::nullopt;
  while (!text.empty()) {
    std::uint64_t number = 0;
    if (!take_number(text, number)) return std::nullopt;
    std::size_t letters = 0;
    while (letters < text.size() && is_lower(text[letters])) ++letters;
    const auto name = text.substr(0, letters);
    text.remove_prefix(letters);
    std::size_t u = next_unit;
    while (u < duration_units.size() && duration_units[u].name != name) ++u;
    if (u == duration_units.size()) return std::nullopt;  // unknown, missing or out of order
    next_unit = u + 1;
    const auto factor = static_cast<std::uint64_t>(duration_units[u].ms);
    if (number > static_cast<std::uint64_t>(max) / factor) return std::nullopt;
    const auto part = static_cast<std::int64_t>(number * factor);
    if (total > max - part) return std::nullopt;
    total += part;
  }
  return duration_ms{total};
}

std::string format_duration(duration_ms d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so that the most negative value has one too.
  std::uint64_t rest = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  if (ms < 0) out += '-';
  for (const auto& unit : duration_units) {
    const auto factor = static_cast<std::uint64_t>(unit.ms);
    if (rest < factor) continue;
    out += std::to_string(rest / factor);
    out += unit.name;
    rest %= factor;
  }
  return out;
}

}  // namespace mailsim::core
