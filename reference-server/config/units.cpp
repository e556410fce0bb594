#include "reference-server/core/ascii.hpp"
#include "reference-server/config/units.hpp"

#include <array>
#include <limits>

namespace mailsim::config {
namespace {

using core::is_digit;

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

}  // namespace mailsim::config
