// mailsim::store mailbox index (internal to the store) — the text of "<folder>/mailsim-index".
//
// Contract: pure functions, no I/O. format_index() writes an index_data as text and
// parse_index() reads it back strictly: any deviation (unknown version, bad number, UIDs not
// ascending, a UID not below UIDNEXT, a MODSEQ above HIGHESTMODSEQ, a duplicate file name, a
// line over index_line_max_bytes, a count that does not match the lines) rejects the whole
// file, so a torn or corrupted index is treated as missing and never half-trusted. The
// format, documented for users in docs/store.md:
//
//   mailsim-index 1 <uidvalidity> <uidnext> <highestmodseq> <generation> <count>
//   <uid> <modseq> <internal date ms> <base name> <flags> [<keyword> ...]
//
// The base name is the Maildir file name without its ":2," info; <flags> are the info
// letters the index last saw ("-" for none), so that a flag change by another program is
// noticed and gets a new MODSEQ. Names and keywords are escaped: '%', space, control and
// non-ASCII bytes become "%XX". Also the Maildir naming helpers the mailbox needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::store::index {

// Limits: the index never grows without bound (errc::limit_exceeded beyond them).
inline constexpr std::size_t index_line_max_bytes = 8192;
inline constexpr std::size_t messages_max = 1'000'000;
inline constexpr int index_version = 1;

struct record {
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::int64_t internal_date_ms = 0;
  std::string base_name;
  std::uint8_t flags = 0;             // flag_bits
  std::vector<std::string> keywords;  // sorted, unique
};

struct header {
  std::uint32_t uid_validity = 0;
  std::uint32_t uid_next = 1;
  std::uint64_t highest_modseq = 0;
  std::uint64_t generation = 0;
  std::size_t count = 0;
};

struct index_data {
  header head;
  std::vector<record> records;  // ascending UID
};

std::string format_record(const record& entry);
std::string format_index(const index_data& data);

// The header line alone (the cheap check whether another object rewrote the index).
std::optional<header> parse_header(std::string_view text);
// The whole file; nullopt when anything is wrong with it.
std::optional<index_data> parse_index(std::string_view text);

// Maildir info: "<base>:2,<letters>". The base is the name before the first ':'.
std::string_view base_of(std::string_view file_name);
std::uint8_t flags_of(std::string_view file_name);
// The info letters that are not system flags (e.g. Dovecot keyword letters), kept on renames.
std::string other_letters_of(std::string_view file_name);
std::string flag_letters(std::uint8_t flags);
std::string file_name_for(std::string_view base, std::uint8_t flags, std::string_view others);

// The delivery time in a Maildir name "<secs>.…", in ms; nullopt when it does not start so.
std::optional<std::int64_t> time_of_name_ms(std::string_view file_name);
// File-name order with digit runs compared as numbers, so "9.M1" sorts before "10.M1".
bool natural_less(std::string_view a, std::string_view b);

}  // namespace mailsim::store::index
