#include "reference-server/queue/dsn_text.hpp"

#include <array>
#include <chrono>
#include <cstdio>

#include "reference-server/smtp/address.hpp"

namespace mailsim::queue::dsn_text {
namespace {

constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

char lower_char(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Digits only, at most `max` of them, as a number; -1 otherwise.
int number(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return -1;
  int value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// RFC 5322 §3.2.2: comments may nest and hold quoted pairs; each becomes a space so that
// it still separates the tokens around it.
std::string strip_comments(std::string_view text) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (depth > 0 && c == '\\') {
      ++i;
    } else if (c == '(') {
      ++depth;
      out += ' ';
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

// Whitespace- and comma-separated tokens, at most `max` (a date has six).
std::vector<std::string_view> tokens(std::string_view text, std::size_t max) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size() && out.size() <= max) {
    while (i < text.size() && (is_wsp(text[i]) || text[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_wsp(text[i]) && text[i] != ',') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Space-separated words; runs of spaces separate like one.
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

int month_number(std::string_view name) {
  for (std::size_t i = 0; i < month_names.size(); ++i) {
    if (iequals(name, month_names[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool is_day_name(std::string_view name) {
  for (const std::string_view day : day_names) {
    if (iequals(name, day)) return true;
  }
  return false;
}

// RFC 5322 §3.3 zone and the §4.3 obsolete names; minutes east of UTC. Military letters
// are treated as "-0000" (unknown), as §4.3 says.
std::optional<int> zone_minutes(std::string_view zone) {
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    const int hhmm = number(zone.substr(1), 4);
    if (hhmm < 0 || hhmm % 100 > 59) return std::nullopt;
    const int minutes = hhmm / 100 * 60 + hhmm % 100;
    return zone[0] == '-' ? -minutes : minutes;
  }
  struct named {
    std::string_view name;
    int hours;
  };
  static constexpr named names[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},
                                    {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
                                    {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const named& n : names) {
    if (iequals(zone, n.name)) return n.hours * 60;
  }
  const char c = lower_char(zone.empty() ? '\0' : zone[0]);
  if (zone.size() == 1 && c >= 'a' && c <= 'z' && c != 'j') return 0;
  return std::nullopt;
}

// "hh:mm" or "hh:mm:ss" as seconds since midnight.
std::optional<int> time_of_day(std::string_view text) {
  const std::size_t first = text.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = text.find(':', first + 1);
  const int hours = number(text.substr(0, first), 2);
  const int minutes = number(text.substr(first + 1, second - first - 1), 2);
  const int seconds = second == std::string_view::npos ? 0 : number(text.substr(second + 1), 2);
  // RFC 5322 §3.3 allows second 60 for a leap second.
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 60) {
    return std::nullopt;
  }
  return hours * 3600 + minutes * 60 + seconds;
}

// RFC 5322 §4.3: a two-digit year below 50 is 20xx, otherwise 19xx; three digits add 1900.
int full_year(std::string_view text) {
  const int year = number(text, 4);
  if (year < 0) return -1;
  if (text.size() == 2) return year < 50 ? 2000 + year : 1900 + year;
  if (text.size() == 3) return 1900 + year;
  return year;
}

}  // namespace

std::optional<core::time_point> parse_date(std::string_view text) {
  const std::string bare = strip_comments(text);
  std::vector<std::string_view> parts = tokens(bare, 6);
  if (!parts.empty() && is_day_name(parts.front())) parts.erase(parts.begin());
  if (parts.size() != 5) return std::nullopt;
  const int day = number(parts[0], 2);
  const int month = month_number(parts[1]);
  const int year = full_year(parts[2]);
  const std::optional<int> seconds = time_of_day(parts[3]);
  const std::optional<int> zone = zone_minutes(parts[4]);
  if (day < 1 || month == 0 || year < 1900 || !seconds || !zone) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const auto utc =
      std::chrono::sys_days{date} + std::chrono::seconds{*seconds} - std::chrono::minutes{*zone};
  return std::chrono::time_point_cast<core::duration_ms>(utc);
}

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower_char(c);
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_wsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_wsp(text.back())) text.remove_suffix(1);
  return text;
}

std::string clean(std::string_view text, bool utf8) {
  const bool keep_8bit = utf8 && smtp::is_valid_utf8(text);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\t') {
      out += ' ';
    } else if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && !keep_8bit)) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  std::string capped;
  if (value.size() > value_bytes_max) {
    capped = std::string(value.substr(0, value_bytes_max - 3)) + "...";
    value = capped;
  }
  out.append(name).append(": ");
  std::size_t line = name.size() + 2;
  bool line_has_word = false;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t end = value.find(' ', pos + 1);
    if (end == std::string_view::npos) end = value.size();
    std::string_view piece = value.substr(pos, end - pos);
    // Fold before a single space, never leaving a line of white space only (RFC 5322
    // §3.2.2), and only once the line has a word: folding cannot make a word shorter.
    const bool foldable = line_has_word && piece.size() > 1 && piece[0] == ' ' && piece[1] != ' ';
    if (foldable && line + piece.size() > line_bytes_preferred) {
      out += "\r\n";
      line = 0;
    }
    piece = piece.substr(0, line_bytes_max - line);
    out.append(piece);
    line += piece.size();
    line_has_word = true;
    pos = end;
  }
  out += "\r\n";
}

std::string wrap(std::string_view text, std::size_t width, std::string_view indent) {
  const std::size_t room = width > indent.size() + 1 ? width - indent.size() : 1;
  std::string out;
  std::string line;
  const auto flush = [&] {
    if (!line.empty()) out.append(indent).append(line).append("\r\n");
    line.clear();
  };
  for (std::string_view word : words(text)) {
    while (word.size() > room) {  // a word longer than a line is split
      flush();
      line = word.substr(0, room);
      word.remove_prefix(room);
    }
    if (!line.empty() && line.size() + 1 + word.size() > room) flush();
    if (!line.empty()) line += ' ';
    line.append(word);
  }
  flush();
  return out;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

bool next_line(std::string_view text, std::size_t& pos, std::string_view& line) {
  if (pos >= text.size()) return false;
  const std::size_t lf = text.find('\n', pos);
  std::size_t stop = lf == std::string_view::npos ? text.size() : lf;
  if (lf != std::string_view::npos && stop > pos && text[stop - 1] == '\r') --stop;
  line = text.substr(pos, stop - pos);
  pos = lf == std::string_view::npos ? text.size() : lf + 1;
  return true;
}

message_parts split_message(std::string_view message) {
  std::size_t pos = 0;
  std::string_view line;
  for (std::size_t start = pos; next_line(message, pos, line); start = pos) {
    if (line.empty()) return {message.substr(0, start), message.substr(pos)};
  }
  return {message, {}};
}

fields_status parse_fields(std::string_view header, const field_limits& limits, bool strict,
                           std::vector<field>& out) {
  const std::size_t first = out.size();
  std::size_t pos = 0;
  std::string_view line;
  bool in_field = false;  // the last line started a field that was kept
  while (next_line(header, pos, line)) {
    if (!line.empty() && is_wsp(line.front())) {
      if (!in_field) {
        if (strict) return fields_status::malformed;
        continue;
      }
      std::string& value = out.back().value;
      if (value.size() + line.size() > limits.field_bytes_max) return fields_status::too_long;
      value.append(line);  // RFC 5322 §2.2.3: unfolding removes the line end only
      continue;
    }
    const std::size_t colon = line.find(':');
    const std::string_view name = trim(line.substr(0, colon));
    bool valid = colon != std::string_view::npos && !name.empty();
    for (const char c : name) valid = valid && c > 32 && c < 127;  // RFC 5322 §3.6.8 ftext
    in_field = valid;
    if (!valid) {
      if (strict) return fields_status::malformed;
      continue;
    }
    if (out.size() - first >= limits.fields_max) return fields_status::too_many;
    if (line.size() > limits.field_bytes_max) return fields_status::too_long;
    out.push_back({std::string(name), std::string(line.substr(colon + 1))});
  }
  for (std::size_t i = first; i < out.size(); ++i) out[i].value = std::string(trim(out[i].value));
  return fields_status::ok;
}

const std::string* find_field(const std::vector<field>& fields, std::string_view name) {
  for (const field& f : fields) {
    if (iequals(f.name, name)) return &f.value;
  }
  return nullptr;
}

}  // namespace mailsim::queue::dsn_text
