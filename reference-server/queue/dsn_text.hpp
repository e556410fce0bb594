// mailsim::queue DSN text helpers — internal to dsn_build.cpp and dsn_parse.cpp.
//
// Contract: RFC 5322 dates (§3.3, UTC out; numeric and obsolete zones in), field folding
// and unfolding (§2.2.3), header/body splitting (§2.1), and the cleaning that keeps values
// from the network inside the field or line they are written to. No I/O, never throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/clock.hpp"

namespace mailsim::queue::dsn_text {

// RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF, and should be 78.
inline constexpr std::size_t line_bytes_max = 998;
inline constexpr std::size_t line_bytes_preferred = 78;

// Dates are written with store::format_date_time ("Tue, 14 Nov 2023 22:13:20 +0000").
// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two-digit years, named zones,
// no seconds) and comments; nullopt when it is not a date.
std::optional<core::time_point> parse_date(std::string_view text);

bool is_ascii(std::string_view text);
using core::iequals;
std::string lower(std::string_view text);
std::string_view trim(std::string_view text);

// One line of text: a TAB becomes a space, other control characters '?', and so do 8-bit
// octets unless `utf8` is set and the text is well-formed UTF-8.
std::string clean(std::string_view text, bool utf8);

// Appends "Name: value" CRLF, folded before a space so that lines stay within 78 octets
// when the words allow it. A word that cannot fit in a 998-octet line is cut, and so is a
// value longer than value_bytes_max ("..." marks the cut). `value` must be clean().
inline constexpr std::size_t value_bytes_max = 8192;
void append_field(std::string& out, std::string_view name, std::string_view value);

// Wraps text into lines of at most `width` octets, each starting with `indent`; CRLF after
// every line. Words too long for a line are split.
std::string wrap(std::string_view text, std::size_t width, std::string_view indent);

// CRLF for every bare LF and bare CR (RFC 5322 §2.3: they do not occur alone).
std::string to_crlf(std::string_view text);

// The header section and the body of a message (RFC 5322 §2.1). `header` keeps the line
// end of its last field; the empty line belongs to neither. Without an empty line the
// whole message is header. Accepts CRLF and bare LF.
struct message_parts {
  std::string_view header;
  std::string_view body;
};
message_parts split_message(std::string_view message);

// The next line of `text` from `pos`, without its line end (CRLF or LF); advances `pos`
// past the line end. False at the end of the text.
bool next_line(std::string_view text, std::size_t& pos, std::string_view& line);

// RFC 5322 §2.2 header fields of a header section, unfolded (§2.2.3: the line ends of
// continuation lines removed) and trimmed. `strict` refuses a line that is neither a field
// nor a continuation; otherwise such lines are skipped (an mbox "From " line, junk).
struct field {
  std::string name;
  std::string value;
};
enum class fields_status { ok, malformed, too_many, too_long };
struct field_limits {
  std::size_t fields_max = 1000;
  std::size_t field_bytes_max = 64u << 10;
};
fields_status parse_fields(std::string_view header, const field_limits& limits, bool strict,
                           std::vector<field>& out);

// The value of the first field called `name` (any case), or nullptr.
const std::string* find_field(const std::vector<field>& fields, std::string_view name);

}  // namespace mailsim::queue::dsn_text
