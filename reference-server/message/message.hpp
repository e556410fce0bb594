// mailsim::message — a zero-copy RFC 5322 / MIME structure parser.
//
// Contract: parse() reads a whole message held in memory (CRLF or bare-LF lines) and
// returns a tree of parts that point into those bytes by offset and length; the caller
// keeps the bytes alive. It implements RFC 5322 §2.2 (header fields, folding), RFC 2045
// (Content-Type, Content-Transfer-Encoding, Content-ID, Content-Description), RFC 2046 §5.1
// (multipart boundaries; preamble and epilogue excluded; a missing close delimiter is
// tolerated), RFC 2046 §5.1.5 (multipart/digest children default to message/rfc822),
// RFC 2183 (Content-Disposition), RFC 2231 (parameter continuations and charsets),
// RFC 3282 (Content-Language), RFC 2557 (Content-Location), RFC 1864 (Content-MD5), and
// parses message/rfc822 and message/global bodies recursively as embedded messages.
//
// Malformed input never throws and never crashes: it degrades. A part whose Content-Type
// cannot be parsed, or a multipart without a usable boundary, is treated as text/plain
// (RFC 2045 §5.2). Beyond a limit (nesting depth, part count) the rest is an opaque leaf;
// beyond the header field limit the extra fields are not recorded. No I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::message {

struct parse_limits {
  std::size_t depth_max = 100;            // multipart / message nesting
  std::size_t parts_max = 10'000;         // parts in the whole tree, roots included
  std::size_t header_fields_max = 1'000;  // fields recorded per header
};

// One header field. Views point into the parsed bytes.
struct header_field {
  std::string_view name;       // as written, without trailing white space
  std::string_view raw_value;  // after the colon up to the final line end; folding kept
  std::string value;           // unfolded (RFC 5322 §2.2.3: CR and LF removed), WSP-trimmed
  std::size_t offset = 0;      // first byte of the field in the message
  std::size_t bytes = 0;       // the whole field including its final line end
};

// A MIME parameter after RFC 2231 merging: `value` is decoded to UTF-8 when the parameter
// named a charset this module knows (utf-8, us-ascii, iso-8859-1), else left as octets.
struct mime_param {
  std::string name;  // as written, without the RFC 2231 "*" / "*N" suffixes
  std::string value;
  std::string charset;   // RFC 2231 charset, empty when none
  std::string language;  // RFC 2231 language, empty when none
};

// Case-insensitive lookup of a parameter; nullptr when absent.
const mime_param* find_param(const std::vector<mime_param>& params, std::string_view name);

struct content_type {
  std::string type = "text";  // as written (case kept), compared case-insensitively
  std::string subtype = "plain";
  std::vector<mime_param> params;  // a defaulted text/plain has no params here
  bool defaulted = true;           // no usable Content-Type field

  // True when type (and subtype, unless empty) match, ignoring case.
  bool is(std::string_view t, std::string_view s = {}) const;
};

struct disposition {
  std::string value;  // "inline", "attachment", ... as written
  std::vector<mime_param> params;
};

enum class part_kind {
  leaf,       // a body that is not parsed further
  multipart,  // children are the body parts, in order
  message,    // message/rfc822 or message/global: children[0] is the embedded message
};

struct part {
  part_kind kind = part_kind::leaf;
  std::size_t header_offset = 0;
  std::size_t header_bytes = 0;  // includes the blank line that ends the header, if any
  std::size_t body_offset = 0;
  std::size_t body_bytes = 0;       // raw octets as stored
  std::size_t body_lines = 0;       // LF characters in the body
  std::size_t body_crlf_bytes = 0;  // octets once every bare LF is sent as CRLF (IMAP)
  std::vector<header_field> fields;
  content_type type;
  std::string transfer_encoding;           // as written, trimmed; empty when absent (7bit)
  std::optional<std::string> id;           // Content-ID
  std::optional<std::string> description;  // Content-Description, raw
  std::optional<std::string> md5;          // Content-MD5
  std::optional<std::string> location;     // Content-Location, white space removed
  std::optional<disposition> disposition_value;
  std::optional<std::vector<std::string>> languages;  // Content-Language tags
  std::vector<std::size_t> children;                  // indexes into parsed_message::parts
  bool message_root = false;  // the top-level message or one embedded in a message part
  bool truncated = false;     // a limit stopped the parse of this part's insides

  // The first field with this name (case-insensitive), or nullptr.
  const header_field* field(std::string_view name) const;
};

struct parsed_message {
  std::string_view bytes;   // the input; parts point into it
  std::vector<part> parts;  // parts[0] is the top-level message; never empty after parse()

  const part& root() const { return parts.front(); }
  std::string_view header_of(const part& p) const {
    return bytes.substr(p.header_offset, p.header_bytes);
  }
  std::string_view body_of(const part& p) const {
    return bytes.substr(p.body_offset, p.body_bytes);
  }
};

parsed_message parse(std::string_view bytes, const parse_limits& limits = {});

// Header fields of the header block `header` (which starts at `offset` in the message),
// at most `fields_max` of them. Lines without a colon are skipped.
std::vector<header_field> parse_header_fields(std::string_view header, std::size_t offset,
                                              std::size_t fields_max);

}  // namespace mailsim::message
