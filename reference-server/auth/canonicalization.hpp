// mailsim::auth message canonicalization for DKIM (RFC 6376 §3.4) and the header/body split
// it works on.
//
// Contract: messages are in wire form: lines end in CRLF, dot-stuffing already removed (what
// an SMTP server stores). A bare CR or LF is an ordinary octet here; a caller holding a
// message with LF line ends converts it first (the CLI does). split_message() never fails:
// a field without a colon gets an empty name (nothing can sign or select it), and a message
// without the empty line is all header. The functions allocate; they never throw anything
// but std::bad_alloc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {

enum class canon { simple, relaxed };

struct header_field {
  std::string_view name;  // as written, without white space before the colon
  std::string_view raw;   // the whole field: name, colon, value, folds, and its final CRLF
};

struct message_parts {
  std::vector<header_field> fields;  // top to bottom
  std::string_view body;             // everything after the empty line
};

// Views point into `message`.
message_parts split_message(std::string_view message);

// ASCII case-insensitive equality, for header field names (RFC 5322 §1.2.2).
using core::iequals;
std::string to_lower(std::string_view s);

// RFC 6376 §3.4.1 (simple) / §3.4.2 (relaxed): appends one canonical header field to `out`.
// Simple appends `raw` as is; relaxed appends "lower-case-name:value" with the value
// unfolded, runs of WSP reduced to one SP and WSP removed at both ends, then CRLF.
void canonicalize_header(canon c, std::string_view raw_field, std::string& out);

// RFC 6376 §3.4.3 (simple) / §3.4.4 (relaxed), with the RFC 6376 errata 3192 reading for an
// empty body: simple gives CRLF, relaxed gives the empty string.
std::string canonicalize_body(canon c, std::string_view body);

}  // namespace mailsim::auth
