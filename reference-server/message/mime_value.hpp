// mailsim::message MIME field values — Content-Type (RFC 2045 §5.1), Content-Disposition
// (RFC 2183) and Content-Language (RFC 3282) values, with RFC 2231 parameters.
//
// Contract: each parser takes an unfolded field value and never throws. Comments and
// white space (CFWS) are skipped. Parameters are lenient the way deployed mail needs:
// an unquoted value may hold tspecials ("boundary=a/b") up to the next ';' or space; a
// broken parameter is skipped, not fatal. RFC 2231 continuations (name*0, name*1*, ...)
// are merged in section order from 0 up to the first gap; an extended value
// (charset'language'%XX) is percent-decoded and converted to UTF-8 for utf-8, us-ascii
// and iso-8859-1 (other charsets are left as decoded octets with `charset` set).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/message/message.hpp"

namespace mailsim::message {

// type "/" subtype *(";" parameter); nullopt when type or subtype is not a token.
std::optional<content_type> parse_content_type(std::string_view value);

// disposition-type *(";" parameter); nullopt when there is no token.
std::optional<disposition> parse_disposition(std::string_view value);

// Comma-separated language tags; empty when none could be read.
std::vector<std::string> parse_languages(std::string_view value);

// The ";" parameter list that starts at `rest`, merged per RFC 2231.
std::vector<mime_param> parse_params(std::string_view rest);

}  // namespace mailsim::message
