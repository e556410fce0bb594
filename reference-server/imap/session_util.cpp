// Small shared helpers of the IMAP session: flags and dates as IMAP text.
#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>

#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {
namespace {

struct system_flag {
  std::string_view name;
  std::uint8_t bit;
};

// RFC 9051 §2.3.2, in the order Dovecot lists them.
constexpr std::array<system_flag, 5> system_flags = {{
    {"\\Answered", flag_answered},
    {"\\Flagged", flag_flagged},
    {"\\Deleted", flag_deleted},
    {"\\Seen", flag_seen},
    {"\\Draft", flag_draft},
}};

bool iequal(std::string_view a, std::string_view b) {
  return upper(a) == upper(b);
}

constexpr std::array<std::string_view, 12> month_names = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// FNV-1a over the keywords, each ended by NUL: equal lists give equal digests, and a
// changed list a different one but for a 2^-64 chance.
std::uint64_t keywords_digest(const std::vector<std::string>& keywords) {
  if (keywords.empty()) return 0;
  std::uint64_t hash = 14695981039346656037ULL;
  for (const std::string& k : keywords) {
    for (const char c : k) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    hash *= 1099511628211ULL;  // the NUL after each keyword
  }
  return hash == 0 ? 1 : hash;
}

view_entry to_view(const message_entry& m) {
  return {m.uid, m.flags, m.modseq, keywords_digest(m.keywords)};
}

std::string flags_text(std::uint8_t flags, const std::vector<std::string>& keywords) {
  std::string out;
  for (const auto& f : system_flags) {
    if ((flags & f.bit) == 0) continue;
    if (!out.empty()) out += ' ';
    out += f.name;
  }
  for (const std::string& k : keywords) {
    if (!out.empty()) out += ' ';
    out += k;
  }
  return out;
}

bool parse_flags(const std::vector<std::string>& in, std::uint8_t& flags,
                 std::vector<std::string>& keywords) {
  flags = 0;
  keywords.clear();
  for (const std::string& f : in) {
    if (f.empty()) return false;
    if (f[0] != '\\') {
      keywords.push_back(f);
      continue;
    }
    bool known = false;
    for (const auto& sf : system_flags) {
      if (iequal(f, sf.name)) {
        flags = static_cast<std::uint8_t>(flags | sf.bit);
        known = true;
      }
    }
    if (!known) return false;
  }
  std::sort(keywords.begin(), keywords.end());
  keywords.erase(std::unique(keywords.begin(), keywords.end()), keywords.end());
  return true;
}

uid_ranges normalize(const sequence_set& set, std::uint32_t star) {
  uid_ranges out;
  for (const seq_range& r : set.ranges) {
    std::uint32_t a = r.first == seq_star ? star : r.first;
    std::uint32_t b = r.last == seq_star ? star : r.last;
    if (a > b) std::swap(a, b);
    out.emplace_back(a, b);
  }
  std::sort(out.begin(), out.end());
  uid_ranges merged;
  for (const auto& r : out) {
    if (!merged.empty() && r.first <= merged.back().second + std::uint64_t{1}) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

bool in_ranges(const uid_ranges& ranges, std::uint32_t n) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), n,
                             [](std::uint32_t v, const auto& r) { return v < r.first; });
  return it != ranges.begin() && n <= std::prev(it)->second;
}

std::int64_t date_time_to_ms(const date_time& t) {
  const std::int64_t days = days_from_civil(t.day.year, t.day.month, t.day.day);
  const std::int64_t seconds =
      days * 86400 + t.hour * 3600 + t.minute * 60 + t.second - t.zone_minutes * 60;
  return seconds * 1000;
}

std::string internal_date_text(std::int64_t epoch_ms) {
  std::int64_t seconds = epoch_ms / 1000;
  if (epoch_ms < 0 && epoch_ms % 1000 != 0) --seconds;
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  // Civil date from days (the inverse of days_from_civil).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d +0000", day,
                month_names[static_cast<std::size_t>(month - 1)].data(), year,
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buf;
}

}  // namespace mailsim::imap
