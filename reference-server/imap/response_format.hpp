// mailsim::imap response helpers — how the server writes strings (RFC 9051 §4.3).
//
// Contract: format_string() returns a quoted string when the text can be one (no CR, LF,
// NUL, and 8-bit only when `utf8` is allowed), else a synchronizing-free server literal
// "{N}\r\n<bytes>". format_astring() writes a bare atom when the text is a non-empty run of
// ASTRING-CHARs and not "NIL" (which would read back as NIL), else as format_string().
// format_nstring() writes NIL for nullopt. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::imap {

std::string format_string(std::string_view text, bool utf8 = false);
std::string format_astring(std::string_view text, bool utf8 = false);
std::string format_nstring(const std::optional<std::string>& text, bool utf8 = false);

}  // namespace mailsim::imap
