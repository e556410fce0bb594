#include "reference-server/imap/sequence_set.hpp"

#include "reference-server/core/ascii.hpp"

namespace mailsim::imap {
namespace {

std::optional<std::uint32_t> parse_seq_number(std::string_view text) {
  if (text == "*") return seq_star;
  return parse_nz_number(text);
}

std::string number_text(std::uint32_t n) { return n == seq_star ? "*" : std::to_string(n); }

}  // namespace

std::optional<std::uint32_t> parse_nz_number(std::string_view text) {
  // nz-number = digit-nz *DIGIT; number is within 0..4294967295.
  if (text.empty() || text.size() > 10 || text[0] < '1' || text[0] > '9') return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (!core::is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

std::optional<sequence_set> parse_sequence_set(std::string_view text) {
  sequence_set set;
  if (text == "$") {
    set.saved = true;
    return set;
  }
  for (;;) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::size_t colon = item.find(':');
    const auto first = parse_seq_number(item.substr(0, colon));
    if (!first) return std::nullopt;
    seq_range range{*first, *first};
    if (colon != std::string_view::npos) {
      const auto last = parse_seq_number(item.substr(colon + 1));
      if (!last) return std::nullopt;
      range.last = *last;
    }
    set.ranges.push_back(range);
    if (comma == std::string_view::npos) return set;
    text.remove_prefix(comma + 1);
  }
}

std::string to_string(const sequence_set& set) {
  if (set.saved) return "$";
  std::string out;
  for (const seq_range& r : set.ranges) {
    if (!out.empty()) out += ',';
    out += number_text(r.first);
    if (r.last != r.first) out += ':' + number_text(r.last);
  }
  return out;
}

std::string format_uid_set(const std::vector<std::uint32_t>& sorted_uids) {
  std::string out;
  std::size_t i = 0;
  while (i < sorted_uids.size()) {
    std::size_t j = i;
    // Extend the run while the next UID is the same or one more.
    while (j + 1 < sorted_uids.size() &&
           (sorted_uids[j + 1] == sorted_uids[j] || sorted_uids[j + 1] == sorted_uids[j] + 1)) {
      ++j;
    }
    if (!out.empty()) out += ',';
    out += std::to_string(sorted_uids[i]);
    if (sorted_uids[j] != sorted_uids[i]) out += ':' + std::to_string(sorted_uids[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace mailsim::imap
