#include "reference-server/store/mailbox_index.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "reference-server/store/mailbox.hpp"

namespace mailsim::store::index {
namespace {

constexpr std::string_view magic = "mailsim-index";

// System flags and their Maildir info letters, in ASCII order of the letters.
struct flag_letter {
  char letter;
  std::uint8_t bit;
};
constexpr flag_letter flag_letters_table[] = {{'D', flag_draft},
                                              {'F', flag_flagged},
                                              {'R', flag_answered},
                                              {'S', flag_seen},
                                              {'T', flag_deleted}};

bool needs_escape(unsigned char c) {
  return c <= 0x20 || c >= 0x7F || c == '%';
}

std::string escape(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (needs_escape(byte)) {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0F];
    } else {
      out += c;
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict: only the escapes escape() writes, and no byte left raw that it would escape.
std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      if (needs_escape(static_cast<unsigned char>(text[i]))) return std::nullopt;
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const auto byte = static_cast<unsigned char>(high * 16 + low);
    if (!needs_escape(byte)) return std::nullopt;
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size();
}

// Fields separated by exactly one space; an empty field (two spaces) is malformed.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const auto space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return fields;
}

bool has_empty_field(const std::vector<std::string_view>& fields) {
  return std::any_of(fields.begin(), fields.end(), [](std::string_view f) { return f.empty(); });
}

std::optional<std::uint8_t> parse_flags_field(std::string_view field) {
  if (field == "-") return std::uint8_t{0};
  std::uint8_t flags = 0;
  char previous = 0;
  for (const char c : field) {
    const auto found = std::find_if(std::begin(flag_letters_table), std::end(flag_letters_table),
                                    [c](const flag_letter& f) { return f.letter == c; });
    if (found == std::end(flag_letters_table) || c <= previous) return std::nullopt;
    flags = static_cast<std::uint8_t>(flags | found->bit);
    previous = c;
  }
  return flags;
}

std::optional<record> parse_record(std::string_view line) {
  const auto fields = split_fields(line);
  if (fields.size() < 5 || has_empty_field(fields)) return std::nullopt;
  record entry;
  if (!parse_number(fields[0], entry.uid) || entry.uid == 0) return std::nullopt;
  if (!parse_number(fields[1], entry.modseq) || entry.modseq == 0) return std::nullopt;
  const bool negative = fields[2].size() > 1 && fields[2][0] == '-';
  if (!parse_number(negative ? fields[2].substr(1) : fields[2], entry.internal_date_ms)) {
    return std::nullopt;
  }
  if (negative) entry.internal_date_ms = -entry.internal_date_ms;
  auto base = unescape(fields[3]);
  const auto flags = parse_flags_field(fields[4]);
  if (!base || base->find(':') != std::string::npos || base->find('/') != std::string::npos ||
      base->front() == '.' || !flags) {
    return std::nullopt;
  }
  entry.base_name = std::move(*base);
  entry.flags = *flags;
  for (std::size_t i = 5; i < fields.size(); ++i) {
    auto keyword = unescape(fields[i]);
    if (!keyword || keyword->empty()) return std::nullopt;
    // Sorted and unique, as format_record() writes them.
    if (!entry.keywords.empty() && !(entry.keywords.back() < *keyword)) return std::nullopt;
    entry.keywords.push_back(std::move(*keyword));
  }
  return entry;
}

// Splits off the next '\n'-terminated line; false when the text does not end with '\n'.
bool next_line(std::string_view& text, std::string_view& line) {
  const auto end = text.find('\n');
  if (end == std::string_view::npos || end > index_line_max_bytes) return false;
  line = text.substr(0, end);
  text.remove_prefix(end + 1);
  return true;
}

}  // namespace

std::string format_record(const record& entry) {
  std::string line = std::to_string(entry.uid) + ' ' + std::to_string(entry.modseq) + ' ' +
                     std::to_string(entry.internal_date_ms) + ' ' + escape(entry.base_name) + ' ' +
                     (entry.flags == 0 ? std::string("-") : flag_letters(entry.flags));
  for (const auto& keyword : entry.keywords) line += ' ' + escape(keyword);
  return line + '\n';
}

std::string format_index(const index_data& data) {
  std::string out =
      std::string(magic) + ' ' + std::to_string(index_version) + ' ' +
      std::to_string(data.head.uid_validity) + ' ' + std::to_string(data.head.uid_next) + ' ' +
      std::to_string(data.head.highest_modseq) + ' ' + std::to_string(data.head.generation) + ' ' +
      std::to_string(data.records.size()) + '\n';
  for (const auto& entry : data.records) out += format_record(entry);
  return out;
}

std::optional<header> parse_header(std::string_view text) {
  std::string_view line;
  if (!next_line(text, line)) return std::nullopt;
  const auto fields = split_fields(line);
  if (fields.size() != 7 || has_empty_field(fields) || fields[0] != magic) return std::nullopt;
  int version = 0;
  header head;
  if (!parse_number(fields[1], version) || version != index_version ||
      !parse_number(fields[2], head.uid_validity) || head.uid_validity == 0 ||
      !parse_number(fields[3], head.uid_next) || head.uid_next == 0 ||
      !parse_number(fields[4], head.highest_modseq) || !parse_number(fields[5], head.generation) ||
      !parse_number(fields[6], head.count) || head.count > messages_max) {
    return std::nullopt;
  }
  return head;
}

std::optional<index_data> parse_index(std::string_view text) {
  const auto head = parse_header(text);
  if (!head) return std::nullopt;
  std::string_view line;
  next_line(text, line);  // the header, parsed above
  index_data data;
  data.head = *head;
  std::set<std::string, std::less<>> names;
  while (!text.empty()) {
    if (!next_line(text, line) || data.records.size() >= head->count) return std::nullopt;
    auto entry = parse_record(line);
    if (!entry || entry->uid >= head->uid_next || entry->modseq > head->highest_modseq ||
        (!data.records.empty() && entry->uid <= data.records.back().uid) ||
        !names.insert(entry->base_name).second) {
      return std::nullopt;
    }
    data.records.push_back(std::move(*entry));
  }
  if (data.records.size() != head->count) return std::nullopt;
  return data;
}

std::string_view base_of(std::string_view file_name) {
  return file_name.substr(0, file_name.find(':'));
}

namespace {

// The letters after ":2,", or nothing for a name without that info.
std::string_view info_letters(std::string_view file_name) {
  const auto colon = file_name.find(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view info = file_name.substr(colon + 1);
  if (info.substr(0, 2) != "2,") return {};
  return info.substr(2);
}

}  // namespace

std::uint8_t flags_of(std::string_view file_name) {
  std::uint8_t flags = 0;
  for (const char c : info_letters(file_name)) {
    for (const auto& f : flag_letters_table) {
      if (f.letter == c) flags = static_cast<std::uint8_t>(flags | f.bit);
    }
  }
  return flags;
}

std::string other_letters_of(std::string_view file_name) {
  std::string out;
  for (const char c : info_letters(file_name)) {
    const bool system = std::any_of(std::begin(flag_letters_table), std::end(flag_letters_table),
                                    [c](const flag_letter& f) { return f.letter == c; });
    if (!system && c != ',' && c != '/') out += c;
  }
  return out;
}

std::string flag_letters(std::uint8_t flags) {
  std::string out;
  for (const auto& f : flag_letters_table) {
    if ((flags & f.bit) != 0) out += f.letter;
  }
  return out;
}

std::string file_name_for(std::string_view base, std::uint8_t flags, std::string_view others) {
  std::string letters = flag_letters(flags) + std::string(others);
  // Maildir readers expect the info letters in ASCII order, each once.
  std::sort(letters.begin(), letters.end());
  letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
  return std::string(base) + ":2," + letters;
}

std::optional<std::int64_t> time_of_name_ms(std::string_view file_name) {
  const auto dot = file_name.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::int64_t secs = 0;
  const std::string_view digits = file_name.substr(0, dot);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), secs);
  if (error != std::errc{} || end != digits.data() + digits.size() || secs < 0 ||
      secs > 100'000'000'000) {
    return std::nullopt;
  }
  return secs * 1000;
}

bool natural_less(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      // Compare digit runs as numbers: skip leading zeros, then length, then digits.
      std::size_t ie = i;
      std::size_t je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      std::string_view da = a.substr(i, ie - i);
      std::string_view db = b.substr(j, je - j);
      while (da.size() > 1 && da.front() == '0') da.remove_prefix(1);
      while (db.size() > 1 && db.front() == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // equal as numbers ("01" vs "1"): the plain order decides
}

}  // namespace mailsim::store::index
