// Scenario units (units.hpp): durations with weeks, sizes, ratios, counts and amounts.
#include "simulator/scenario/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace mailsim::sim::scenario {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The leading digits of `text` as a number; `used` is how many characters they took.
std::optional<std::uint64_t> leading_digits(std::string_view text, std::size_t& used) {
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n, 10);
  if (ec != std::errc{}) return std::nullopt;  // no digits, or too large
  used = static_cast<std::size_t>(ptr - text.data());
  return n;
}

struct duration_unit {
  std::string_view name;
  std::int64_t ms;
};

// Largest first: parts must come in this order. "ms" is listed before "m" so that the
// longest spelling wins when matching.
constexpr std::array<duration_unit, 6> duration_units{{{"w", 7 * 86'400'000LL},
                                                       {"d", 86'400'000LL},
                                                       {"h", 3'600'000LL},
                                                       {"ms", 1LL},
                                                       {"m", 60'000LL},
                                                       {"s", 1'000LL}}};

// The rank of a unit in size order (w = 0 ... ms = 5), for the largest-first rule.
int rank_of(std::string_view name) {
  constexpr std::array<std::string_view, 6> order{"w", "d", "h", "m", "s", "ms"};
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// The unit at the start of `text`, or nullptr.
const duration_unit* unit_at(std::string_view text) {
  for (const duration_unit& u : duration_units) {
    if (text.substr(0, u.name.size()) == u.name) return &u;
  }
  return nullptr;
}

}  // namespace

std::optional<core::duration_ms> parse_duration(std::string_view text) {
  if (text == "0") return core::duration_ms{0};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  int last_rank = -1;
  while (!text.empty()) {
    std::size_t used = 0;
    const auto n = leading_digits(text, used);
    if (!n) return std::nullopt;
    text.remove_prefix(used);
    const duration_unit* unit = unit_at(text);
    if (unit == nullptr) return std::nullopt;
    const int rank = rank_of(unit->name);
    if (rank <= last_rank) return std::nullopt;  // repeated or out of order
    last_rank = rank;
    text.remove_prefix(unit->name.size());
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const auto unit_ms = static_cast<std::uint64_t>(unit->ms);
    if (*n > (limit - static_cast<std::uint64_t>(total)) / unit_ms) return std::nullopt;
    total += static_cast<std::int64_t>(*n * unit_ms);
  }
  return core::duration_ms{total};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t used = 0;
  const auto n = leading_digits(text, used);
  if (!n) return std::nullopt;
  text.remove_prefix(used);
  if (text.empty()) return n;
  if (text.front() == ' ') text.remove_prefix(1);
  struct size_unit {
    std::string_view name;
    std::uint64_t bytes;
  };
  constexpr std::array<size_unit, 8> units{{{"B", 1},
                                            {"KiB", 1ULL << 10},
                                            {"MiB", 1ULL << 20},
                                            {"GiB", 1ULL << 30},
                                            {"KB", 1'000},
                                            {"kB", 1'000},
                                            {"MB", 1'000'000},
                                            {"GB", 1'000'000'000}}};
  for (const size_unit& u : units) {
    if (text != u.name) continue;
    if (*n > std::numeric_limits<std::uint64_t>::max() / u.bytes) return std::nullopt;
    return *n * u.bytes;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::size_t used = 0;
  const auto n = leading_digits(text, used);
  if (!n || used != text.size()) return std::nullopt;
  return n;
}

std::optional<double> parse_number(std::string_view text) {
  // Checked by hand first: from_chars alone would take "1e5", "inf" and "nan".
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  std::size_t digits = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    if (is_digit(text[i])) {
      ++digits;
    } else if (text[i] == '.' && !dot) {
      dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> parse_ratio(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    const auto percent = parse_number(text.substr(0, text.size() - 1));
    if (!percent) return std::nullopt;
    return *percent / 100.0;
  }
  return parse_number(text);
}

std::optional<world::amount> parse_amount(std::string_view text) {
  world::amount a;
  if (const auto n = parse_count(text)) {
    a.count = static_cast<std::size_t>(*n);
    return a;
  }
  const auto fraction = parse_ratio(text);
  if (!fraction) return std::nullopt;
  a.fraction = *fraction;
  return a;
}

bool looks_negative(std::string_view text) {
  return text.size() >= 2 && text[0] == '-' && (is_digit(text[1]) || text[1] == '.');
}

}  // namespace mailsim::sim::scenario
