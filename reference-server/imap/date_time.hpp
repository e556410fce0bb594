// mailsim::imap dates — RFC 9051 §9 date-time (APPEND) and date (SEARCH).
//
// Contract: date-time is exactly `"dd-Mon-yyyy hh:mm:ss +zzzz"` (day space-padded or two
// digits) inside the quotes; a search date is `d-Mon-yyyy` or `dd-Mon-yyyy`, bare or quoted
// (the caller strips quotes). Month names are case-insensitive. Days are checked against the
// month (leap years included), times against 23:59:60, zones against +-2359. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace mailsim::imap {

struct date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;
  bool operator==(const date&) const = default;
};

struct date_time {
  date day;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int zone_minutes = 0;  // east of UTC: "+0130" is 90, "-0800" is -480
  bool operator==(const date_time&) const = default;
};

std::optional<date> parse_date(std::string_view text);
// `text` without the surrounding DQUOTEs.
std::optional<date_time> parse_date_time(std::string_view text);

}  // namespace mailsim::imap
