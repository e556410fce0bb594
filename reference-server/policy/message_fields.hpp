// mailsim::policy message fields — the little of RFC 5322 the spam score needs: the header
// fields (unfolded), the body, the Date field's time, and rough shape checks of From and
// Message-ID.
//
// Contract: pure, bounded, never throws. scan_message() splits at the first empty line
// (CRLF or bare LF line ends both accepted: mail files often have LF), unfolds continuation
// lines (RFC 5322 §2.2.3) and keeps at most fields_max fields of at most header_bytes_max
// octets in all; a line in the header without a colon is counted, not kept. It is no
// general message parser: no MIME, no encoded words (RFC 2047), no comments inside values
// beyond what the checks below skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::policy {

struct message_field {
  std::string name;   // as written
  std::string value;  // unfolded, leading and trailing white space removed
};

struct message_view {
  std::vector<message_field> fields;
  std::string_view body;      // after the empty line (empty when there is none)
  std::size_t bad_lines = 0;  // header lines without a colon
  bool truncated = false;     // fields_max or header_bytes_max was reached
};

message_view scan_message(std::string_view message, std::size_t fields_max,
                          std::size_t header_bytes_max);

// RFC 5322 §3.3 date-time, with the §4.3 obsolete forms (two- and three-digit years, named
// zones such as GMT or EST, military zones read as -0000) and comments skipped: seconds
// since the Unix epoch, or nullopt when it does not parse or names an impossible date.
std::optional<std::int64_t> parse_date_time(std::string_view text);

// From: one or more mailboxes, each "local@domain" alone or inside <...> after a display
// name; the domain has at least two labels. A rough check: enough to tell a sane From from
// a missing address, a bare name or a group.
bool from_looks_valid(std::string_view value);
// Message-ID: "<left@right>" without white space (RFC 5322 §3.6.4 msg-id, roughly).
bool message_id_looks_valid(std::string_view value);

}  // namespace mailsim::policy
