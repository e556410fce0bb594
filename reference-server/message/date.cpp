#include "reference-server/message/date.hpp"

#include <array>
#include <string>
#include <vector>

#include "reference-server/core/ascii.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/lexer.hpp"

namespace mailsim::message {
namespace {

// The value with comments removed and "," and ":" as their own tokens.
std::vector<std::string> tokenize(std::string_view value) {
  detail::lexer lx(value);
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  while (true) {
    const std::size_t before = lx.pos();
    lx.skip_cfws();
    if (lx.pos() != before) flush();
    if (lx.done()) break;
    const char c = lx.peek();
    lx.advance();
    if (c == ',' || c == ':') {
      flush();
      tokens.emplace_back(1, c);
    } else {
      cur += c;
    }
  }
  flush();
  return tokens;
}

std::optional<int> number(std::string_view s, std::size_t digits_max) {
  if (s.empty() || s.size() > digits_max) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!core::is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<int> month_number(std::string_view s) {
  static constexpr std::array<std::string_view, 12> names = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() < 3) return std::nullopt;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (iequals(s.substr(0, 3), names[i])) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

// RFC 5322 §3.3 zone "+hhmm", or §4.3 obs-zone names; unknown names mean +0000.
int zone_minutes(std::string_view z) {
  if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
    const auto hh = number(z.substr(1, 2), 2);
    const auto mm = number(z.substr(3, 2), 2);
    if (hh && mm && *mm < 60) return (z[0] == '-' ? -1 : 1) * (*hh * 60 + *mm);
    return 0;
  }
  struct named {
    std::string_view name;
    int hours;
  };
  static constexpr std::array<named, 10> zones = {{{"EST", -5},
                                                   {"EDT", -4},
                                                   {"CST", -6},
                                                   {"CDT", -5},
                                                   {"MST", -7},
                                                   {"MDT", -6},
                                                   {"PST", -8},
                                                   {"PDT", -7},
                                                   {"UT", 0},
                                                   {"GMT", 0}}};
  for (const named& n : zones) {
    if (iequals(z, n.name)) return n.hours * 60;
  }
  return 0;
}

// §4.3: two-digit years from 00 to 49 are 20xx, 50 to 99 are 19xx; three digits add 1900.
int full_year(int y, std::size_t digits) {
  if (digits == 2) return y < 50 ? 2000 + y : 1900 + y;
  if (digits == 3) return 1900 + y;
  return y;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

}  // namespace

std::int64_t days_from_civil(int year, int month, int day) {
  // Count from 0000-03-01 so that the leap day is the last day of a counting year.
  const std::int64_t y = month <= 2 ? year - 1 : year;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t shifted_month = month > 2 ? month - 3 : month + 9;
  const std::int64_t day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

std::optional<date_time> parse_date(std::string_view value) {
  std::vector<std::string> t = tokenize(value);
  std::size_t i = 0;
  // Optional day-of-week, then ",".
  if (i < t.size() && !t[i].empty() && core::is_alpha(t[i][0]) && !month_number(t[i])) ++i;
  if (i < t.size() && t[i] == ",") ++i;
  if (i + 2 >= t.size()) return std::nullopt;
  std::optional<int> day = number(t[i], 2);
  std::optional<int> month = month_number(t[i + 1]);
  if (!day) {  // a common non-standard order: "Jan 5 2020"
    month = month_number(t[i]);
    day = number(t[i + 1], 2);
  }
  const std::string& year_text = t[i + 2];
  const std::optional<int> year = number(year_text, 4);
  if (!day || !month || !year || *day < 1) return std::nullopt;
  date_time d;
  d.year = full_year(*year, year_text.size());
  d.month = *month;
  d.day = *day;
  if (d.day > days_in_month(d.year, d.month)) return std::nullopt;
  i += 3;
  int hour = 0, minute = 0, second = 0;
  if (i + 2 < t.size() && t[i + 1] == ":") {
    const auto h = number(t[i], 2);
    const auto m = number(t[i + 2], 2);
    if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
    hour = *h;
    minute = *m;
    i += 3;
    if (i + 1 < t.size() && t[i] == ":") {
      const auto s = number(t[i + 1], 2);
      if (!s || *s > 60) return std::nullopt;
      second = *s;
      i += 2;
    }
  }
  if (i < t.size()) d.zone_offset_minutes = zone_minutes(t[i]);
  const std::int64_t seconds_of_day =
      std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
  d.epoch_seconds = days_from_civil(d.year, d.month, d.day) * 86400 + seconds_of_day -
                    std::int64_t{d.zone_offset_minutes} * 60;
  return d;
}

}  // namespace mailsim::message
