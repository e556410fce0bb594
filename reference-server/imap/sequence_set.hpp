// mailsim::imap sequence sets — RFC 9051 §9 sequence-set, with "$" (RFC 5182 SEARCHRES).
//
// Contract: parse_sequence_set() validates numbers (nonzero, within uint32) and keeps ranges
// as written ("*" is seq_star, ranges are not reordered: 4:2 means 2:4 by the RFC, the
// consumer resolves it against the mailbox). format_uid_set() compresses a sorted list of
// UIDs into ranges for responses (COPYUID, ESEARCH). Pure; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::imap {

// "*": the largest number in use. Zero is never a valid message number or UID.
inline constexpr std::uint32_t seq_star = 0;

struct seq_range {
  std::uint32_t first = 1;
  std::uint32_t last = 1;  // equal to first for a single number
  bool operator==(const seq_range&) const = default;
};

struct sequence_set {
  std::vector<seq_range> ranges;
  bool saved = false;  // "$": the result of the last SEARCH RETURN (SAVE)
  bool operator==(const sequence_set&) const = default;
};

// The whole of `text` as a sequence set, or nullopt.
std::optional<sequence_set> parse_sequence_set(std::string_view text);
// RFC 9051 nz-number within uint32 ("0", leading zeros and overflow are refused).
std::optional<std::uint32_t> parse_nz_number(std::string_view text);

// The set as IMAP text ("1:3,7,*"; "$").
std::string to_string(const sequence_set& set);
// Sorted ascending (duplicates allowed) UIDs as compressed ranges: {1,2,3,5} -> "1:3,5".
std::string format_uid_set(const std::vector<std::uint32_t>& sorted_uids);

}  // namespace mailsim::imap
