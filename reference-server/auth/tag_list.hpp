// mailsim::auth tag lists — the "tag=value; tag=value" syntax of DKIM-Signature fields and
// DKIM key records (RFC 6376 §3.2), also used by ARC (RFC 8617) and DMARC records.
//
// Contract: parse_tag_list() is strict where RFC 6376 §3.2 is: a tag name is ALPHA followed
// by ALPHA / DIGIT / "_"; a value is VALCHARs (any visible ASCII except ";", plus UTF-8 as
// RFC 8616 §4 allows) separated by folding white space; a tag named twice is an error
// (errc::duplicate_tag); an empty tag-spec (";;") is an error. FWS is SP, HTAB, or CRLF
// followed by SP/HTAB. Tolerated because real records carry them: a final ";" and white space
// after it. Unknown tags are kept (callers ignore the ones they do not know). Values keep
// their case and their inner white space; callers strip it where the grammar allows it
// (base64 in b=, bh=, p=) and split lists (h=) themselves.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailsim::auth {

struct tag {
  std::string_view name;
  std::string_view value;  // without the white space around it
  // The region after "=" up to the ";" (or the end), white space included: what RFC 6376
  // §3.5 (b=) says a verifier deletes before hashing the signature field. Offsets into the
  // parsed text.
  std::size_t region_begin = 0;
  std::size_t region_end = 0;
};

struct tag_list {
  std::vector<tag> tags;  // in order of appearance
  std::error_code error;  // errc::tag_syntax or errc::duplicate_tag; empty when parsed

  bool ok() const { return !error; }
  // The tag with this exact (case-sensitive, RFC 6376 §3.2) name, or nullptr.
  const tag* find(std::string_view name) const;
};

// The views in the result point into `text`, which must outlive them.
tag_list parse_tag_list(std::string_view text);

// Removes RFC 5322 folding white space (SP, HTAB, CR, LF) from a base64 value (RFC 6376
// §2.4: base64string allows FWS between the characters).
std::string remove_fws(std::string_view value);

// Splits a colon-separated list (h=, q=, key h=, s=) into items without surrounding white
// space. Empty items are kept as empty strings so that callers can refuse them.
std::vector<std::string_view> split_list(std::string_view value, char separator);

}  // namespace mailsim::auth
