#include "reference-server/policy/message_fields.hpp"

#include <array>
#include <charconv>
#include <chrono>

#include "reference-server/core/ascii.hpp"
#include "reference-server/policy/common.hpp"

namespace mailsim::policy {
namespace {

using core::is_wsp;
using core::is_digit;
using core::is_alpha;
using core::trim;

// RFC 5322 §3.2.2 comments, nested, with quoted-pairs; an unclosed one runs to the end.
std::string strip_comments(std::string_view s) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (depth > 0 && c == '\\') {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
      out += ' ';
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_wsp(s[i]) || s[i] == ',' || s[i] == '\r' || s[i] == '\n')) ++i;
    std::size_t start = i;
    while (i < s.size() && !(is_wsp(s[i]) || s[i] == ',' || s[i] == '\r' || s[i] == '\n')) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<int> number(std::string_view s, std::size_t digits_min, std::size_t digits_max) {
  if (s.size() < digits_min || s.size() > digits_max) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !is_digit(s.front())) return std::nullopt;
  return v;
}

std::optional<int> month_of(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (iequals(name, months[i])) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

// The zone's offset east of UTC in minutes: "+hhmm"/"-hhmm" (§3.3), or §4.3's names.
std::optional<int> zone_minutes(std::string_view z) {
  if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
    std::optional<int> hh = number(z.substr(1, 2), 2, 2), mm = number(z.substr(3, 2), 2, 2);
    if (!hh || !mm || *mm > 59) return std::nullopt;
    return (z[0] == '-' ? -1 : 1) * (*hh * 60 + *mm);
  }
  static constexpr std::pair<std::string_view, int> named[] = {
      {"UT", 0},     {"GMT", 0},    {"EST", -300}, {"EDT", -240}, {"CST", -360},
      {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420}};
  for (const auto& [name, minutes] : named) {
    if (iequals(z, name)) return minutes;
  }
  // Military zones: §4.3 says to read them as -0000 (their meaning was reversed in RFC 822).
  if (z.size() == 1 && is_alpha(z[0]) && z[0] != 'j' && z[0] != 'J') return 0;
  return std::nullopt;
}

// "hh:mm" or "hh:mm:ss" as seconds of the day.
std::optional<int> time_of_day(std::string_view t) {
  std::size_t c1 = t.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  std::size_t c2 = t.find(':', c1 + 1);
  std::optional<int> h = number(t.substr(0, c1), 1, 2);
  std::optional<int> m = number(t.substr(c1 + 1, c2 == t.npos ? t.npos : c2 - c1 - 1), 2, 2);
  std::optional<int> s = c2 == t.npos ? std::optional<int>(0) : number(t.substr(c2 + 1), 2, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return *h * 3600 + *m * 60 + *s;
}

// "local@domain" with a non-empty local part and a domain of two or more LDH labels.
bool address_looks_valid(std::string_view addr) {
  std::size_t at = addr.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view local = addr.substr(0, at), domain = addr.substr(at + 1);
  if (local.front() != '"' && local.find_first_of(" \t<>") != std::string_view::npos) return false;
  std::size_t labels = 0, len = 0;
  for (char c : domain) {
    if (c == '.') {
      if (len == 0) return false;
      ++labels;
      len = 0;
    } else if (is_alpha(c) || is_digit(c) || c == '-') {
      ++len;
    } else {
      return false;
    }
  }
  return len > 0 && labels >= 1;
}

// Splits a mailbox-list at commas outside quoted strings and angle brackets.
std::vector<std::string_view> mailboxes(std::string_view list) {
  std::vector<std::string_view> out;
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    char c = i < list.size() ? list[i] : ',';
    if (i < list.size() && c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == '<' || c == '>')) {
      angle += c == '<' ? 1 : -1;
    } else if (i == list.size() || (!quoted && angle <= 0 && c == ',')) {
      out.push_back(trim(list.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

message_view scan_message(std::string_view message, std::size_t fields_max,
                          std::size_t header_bytes_max) {
  message_view v;
  std::size_t pos = 0, header_bytes = 0;
  bool keeping_last = false;  // the last header line started a kept field
  while (pos < message.size()) {
    std::size_t nl = message.find('\n', pos);
    std::size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
    std::string_view line = message.substr(pos, (nl == std::string_view::npos ? next : nl) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = next;
    if (line.empty()) {
      v.body = message.substr(next);
      break;
    }
    header_bytes += line.size();
    if (header_bytes > header_bytes_max) v.truncated = true;
    if (is_wsp(line.front())) {
      if (keeping_last && !v.truncated) v.fields.back().value.append(line);
      continue;
    }
    std::size_t colon = line.find(':');
    keeping_last = false;
    if (colon == std::string_view::npos) {
      ++v.bad_lines;
    } else if (v.fields.size() >= fields_max) {
      v.truncated = true;
    } else if (!v.truncated) {
      v.fields.push_back(
          {std::string(trim(line.substr(0, colon))), std::string(line.substr(colon + 1))});
      keeping_last = true;
    }
  }
  for (message_field& f : v.fields) f.value = std::string(trim(f.value));
  return v;
}

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  std::string plain = strip_comments(text);
  std::vector<std::string_view> w = words(plain);
  std::size_t i = 0;
  if (!w.empty() && !w[0].empty() && is_alpha(w[0][0])) ++i;  // day-of-week (§3.3)
  if (w.size() != i + 5) return std::nullopt;
  std::optional<int> day = number(w[i], 1, 2), month = month_of(w[i + 1]);
  std::optional<int> year = number(w[i + 2], 2, 4), secs = time_of_day(w[i + 3]);
  std::optional<int> zone = zone_minutes(w[i + 4]);
  if (!day || !month || !year || !secs || !zone) return std::nullopt;
  // §4.3: a two-digit year below 50 is 20xx, otherwise 19xx; three digits add 1900.
  if (w[i + 2].size() == 2) *year += *year < 50 ? 2000 : 1900;
  if (w[i + 2].size() == 3) *year += 1900;
  std::chrono::year_month_day ymd{std::chrono::year{*year},
                                  std::chrono::month{static_cast<unsigned>(*month)},
                                  std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return days * 86'400 + *secs - std::int64_t{*zone} * 60;
}

bool from_looks_valid(std::string_view value) {
  std::string plain = strip_comments(value);
  std::string_view v = trim(plain);
  if (v.empty()) return false;
  for (std::string_view box : mailboxes(v)) {
    std::size_t open = box.rfind('<');
    std::string_view addr = box;
    if (open != std::string_view::npos) {
      std::size_t close = box.find('>', open);
      if (close == std::string_view::npos) return false;
      addr = box.substr(open + 1, close - open - 1);
    }
    if (!address_looks_valid(trim(addr))) return false;
  }
  return true;
}

bool message_id_looks_valid(std::string_view value) {
  std::string_view v = trim(value);
  if (v.size() < 5 || v.front() != '<' || v.back() != '>') return false;
  std::string_view inner = v.substr(1, v.size() - 2);
  if (inner.find_first_of(" \t<>") != std::string_view::npos) return false;
  std::size_t at = inner.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < inner.size();
}

}  // namespace mailsim::policy
