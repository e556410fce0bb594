// mailsim::message content decoders — Content-Transfer-Encoding (RFC 2045 §6.7 quoted-
// printable, §6.8 base64), RFC 2047 encoded-words, and the few charsets this module maps
// to UTF-8.
//
// Contract: decoders are lenient the way mail readers must be: base64 skips characters
// outside its alphabet and stops at padding; quoted-printable keeps a malformed "=" as is,
// drops transport padding (trailing white space) and joins soft line breaks. They never
// fail. decode_encoded_words() leaves a word whose charset it does not know, or which is
// malformed, exactly as written. Never throws; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/ascii.hpp"

namespace mailsim::message {

std::string decode_base64(std::string_view text);
std::string decode_quoted_printable(std::string_view text);

// `text` in `charset` as UTF-8, for utf-8, us-ascii and iso-8859-1 (latin1) and their
// aliases; nullopt for any other charset.
std::optional<std::string> to_utf8(std::string_view text, std::string_view charset);

// RFC 2047 §6: every well-formed encoded-word (B or Q) in a known charset decoded to UTF-8;
// linear white space between two adjacent encoded-words is dropped (§6.2).
std::string decode_encoded_words(std::string_view text);

// Case-insensitive ASCII equality (header names, MIME types, charsets).
using core::iequals;

}  // namespace mailsim::message
