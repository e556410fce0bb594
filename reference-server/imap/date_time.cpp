#include "reference-server/imap/date_time.hpp"

#include <array>

#include "reference-server/core/ascii.hpp"

namespace mailsim::imap {
namespace {

constexpr std::array<std::string_view, 12> month_names = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};

std::optional<int> digits(std::string_view text, std::size_t count) {
  if (text.size() != count) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!core::is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<int> month_number(std::string_view text) {
  if (text.size() != 3) return std::nullopt;
  for (std::size_t m = 0; m < month_names.size(); ++m) {
    bool same = true;
    for (std::size_t i = 0; i < 3; ++i) same = same && core::ascii_lower(text[i]) == month_names[m][i];
    if (same) return static_cast<int>(m) + 1;
  }
  return std::nullopt;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// "dd-Mon-yyyy" where dd is `day_text` already cut out.
std::optional<date> assemble(std::string_view day_text, std::string_view rest) {
  if (rest.size() != 9 || rest[0] != '-' || rest[4] != '-') return std::nullopt;
  const auto day = digits(day_text, day_text.size());
  const auto month = month_number(rest.substr(1, 3));
  const auto year = digits(rest.substr(5), 4);
  if (!day || !month || !year || *day < 1 || *day > days_in_month(*year, *month)) {
    return std::nullopt;
  }
  return date{*year, *month, *day};
}

}  // namespace

std::optional<date> parse_date(std::string_view text) {
  // date-text = date-day "-" date-month "-" date-year; date-day = 1*2DIGIT
  const std::size_t dash = text.find('-');
  if (dash != 1 && dash != 2) return std::nullopt;
  return assemble(text.substr(0, dash), text.substr(dash));
}

std::optional<date_time> parse_date_time(std::string_view text) {
  // date-day-fixed = (SP DIGIT) / 2DIGIT; then "-" month "-" year SP time SP zone.
  if (text.size() != 26 || text[11] != ' ' || text[20] != ' ') return std::nullopt;
  std::string_view day_text = text.substr(0, 2);
  if (day_text[0] == ' ') day_text.remove_prefix(1);
  const auto d = assemble(day_text, text.substr(2, 9));
  if (!d || text[14] != ':' || text[17] != ':') return std::nullopt;
  const auto hour = digits(text.substr(12, 2), 2);
  const auto minute = digits(text.substr(15, 2), 2);
  const auto second = digits(text.substr(18, 2), 2);
  const char sign = text[21];
  const auto zh = digits(text.substr(22, 2), 2);
  const auto zm = digits(text.substr(24, 2), 2);
  if (!hour || !minute || !second || !zh || !zm || (sign != '+' && sign != '-')) {
    return std::nullopt;
  }
  if (*hour > 23 || *minute > 59 || *second > 60 || *zm > 59) return std::nullopt;
  const int zone = *zh * 60 + *zm;
  return date_time{*d, *hour, *minute, *second, sign == '-' ? -zone : zone};
}

}  // namespace mailsim::imap
