// mailsim::imap modified UTF-7 — the mailbox name encoding of RFC 3501 §5.1.3.
//
// Contract: mutf7_to_utf8() decodes strictly and returns nullopt on anything a conforming
// encoder would not produce: 8-bit or control bytes, an unterminated or empty shift ("&-" is
// "&"), a shift that encodes printable ASCII, adjacent shifts, bad base64 characters, non-zero
// or too many padding bits, unpaired UTF-16 surrogates. utf8_to_mutf7() encodes valid UTF-8
// and returns nullopt on invalid UTF-8 (overlongs, surrogates, > U+10FFFF). Round trips hold
// for every valid input. Pure; never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::imap {

std::optional<std::string> mutf7_to_utf8(std::string_view mutf7);
std::optional<std::string> utf8_to_mutf7(std::string_view utf8);
// True when `text` is well-formed UTF-8 (RFC 3629).
bool is_valid_utf8(std::string_view text);

}  // namespace mailsim::imap
