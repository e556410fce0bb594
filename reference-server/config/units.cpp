#include "reference-server/config/units.hpp"

#include <array>
#include <limits>

namespace mailsim::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Reads the decimal digits at the front of `text` into `value`; false on overflow or when
// there is no digit. The digits are removed from `text`.
bool take_number(std::string_view& text, std::uint64_t& value) {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::size_t i = 0;
  value = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  text.remove_prefix(i);
  return i > 0;
}

bool equals_ignoring_case(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != lower[i]) return false;
  }
  return true;
}

struct size_unit {
  std::string_view name;  // lower case
  std::uint64_t factor;
};

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = kib * kib;
constexpr std::uint64_t gib = mib * kib;
constexpr std::uint64_t tib = gib * kib;
constexpr std::uint64_t kb = 1000;
constexpr std::uint64_t mb = kb * kb;
constexpr std::uint64_t gb = mb * kb;
constexpr std::uint64_t tb = gb * kb;

constexpr std::array<size_unit, 9> size_units = {{
    {"b", 1},
    {"kib", kib},
    {"mib", mib},
    {"gib", gib},
    {"tib", tib},
    {"kb", kb},
    {"mb", mb},
    {"gb", gb},
    {"tb", tb},
}};

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

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  if (!take_number(text, number)) return std::nullopt;
  if (text.empty()) return number;  // plain bytes
  std::size_t spaces = 0;
  while (spaces < text.size() && text[spaces] == ' ') ++spaces;
  text.remove_prefix(spaces);
  for (const auto& unit : size_units) {
    if (!equals_ignoring_case(text, unit.name)) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit.factor) return std::nullopt;
    return number * unit.factor;
  }
  return std::nullopt;  // no unit after spaces, an unknown unit, or a bare K/M/G/T
}

std::optional<core::duration_ms> parse_duration(std::string_view text) {
  if (text == "0") return core::duration_ms{0};
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
  return core::duration_ms{total};
}

std::string format_size(std::uint64_t bytes) {
  // The largest binary unit that divides the value exactly keeps the spelling exact.
  static constexpr std::array<size_unit, 4> binary = {{
      {"TiB", tib},
      {"GiB", gib},
      {"MiB", mib},
      {"KiB", kib},
  }};
  if (bytes != 0) {
    for (const auto& unit : binary) {
      if (bytes % unit.factor == 0)
        return std::to_string(bytes / unit.factor) + std::string(unit.name);
    }
  }
  return std::to_string(bytes) + "B";
}

std::string format_duration(core::duration_ms d) {
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

}  // namespace mailsim::config
