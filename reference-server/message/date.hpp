// mailsim::message dates — the RFC 5322 §3.3 date-time of a Date: field, with the
// obsolete forms of §4.3 (two- and three-digit years, alphabetic zones, comments and extra
// white space, missing seconds or zone), for IMAP SEARCH SENTBEFORE / SENTON / SENTSINCE.
//
// Contract: parse_date() returns nullopt when the text is not a date it can read (the
// caller then treats the message as having no Date); it never throws. Military one-letter
// zones and unknown zone names mean +0000 (RFC 5322 §4.3). A day-of-week is skipped, not
// checked against the date.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mailsim::message {

struct date_time {
  std::int64_t epoch_seconds = 0;    // the instant, UTC
  int zone_offset_minutes = 0;       // the zone as written (+0200 → 120)
  int year = 0, month = 0, day = 0;  // the date as written in its own zone (SEARCH SENTON)
};

std::optional<date_time> parse_date(std::string_view value);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t days_from_civil(int year, int month, int day);

}  // namespace mailsim::message
