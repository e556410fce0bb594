// mailsim::message IMAP views — what an IMAP server sends about a parsed message
// (RFC 9051 §7.5.2 FETCH data items, §6.4.5 section specifications, RFC 3516 BINARY).
//
// Contract: these functions only read the tree made by parse(); they never throw. Strings
// they return are in exact IMAP syntax. Choices (all as Dovecot sends them):
//   - type, subtype, encoding and disposition are sent as written in the message; a
//     missing Content-Type is "text" "plain"; a text/* part without a charset parameter
//     gets ("charset" "us-ascii") appended; a missing encoding is "7bit";
//   - sizes are octets once every bare LF is sent as CRLF; lines count LF characters;
//   - envelope display names stay raw (encoded-words undecoded); sender and reply-to
//     default to from; a present but empty field is "", an absent one NIL;
//   - Content-Language is always a parenthesized list.
// section() returns nullopt for a part that does not exist or a HEADER/TEXT/MIME that does
// not apply to it; the IMAP layer then sends NIL for BODY[...] (RFC 9051 §6.4.5 allows an
// empty string too). Section bytes are sent with every bare LF turned into CRLF.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/message/message.hpp"

namespace mailsim::message {

// An IMAP string: "..." (with \" and \\ escaped) when every octet is 7-bit and neither
// CR, LF nor NUL; otherwise a literal {N}\r\n followed by the octets.
std::string imap_string(std::string_view s);
// imap_string(), or NIL when absent.
std::string imap_nstring(const std::optional<std::string>& s);

// ENVELOPE of a message root (the top-level part or children[0] of a message part).
std::string envelope(const parsed_message& m, const part& root);

// BODYSTRUCTURE (extended = true) or BODY (extended = false) of a part.
std::string body_structure(const parsed_message& m, const part& p, bool extended);

enum class section_kind {
  full,               // BODY[] / BODY[1.2]
  header,             // HEADER
  header_fields,      // HEADER.FIELDS (names)
  header_fields_not,  // HEADER.FIELDS.NOT (names)
  text,               // TEXT
  mime,               // 1.2.MIME
};

struct section_spec {
  std::vector<std::uint32_t> part;  // 1-based part numbers; empty is the whole message
  section_kind kind = section_kind::full;
  std::vector<std::string> fields;  // for header_fields(_not), case-insensitive
};

// The index in m.parts of a part number, or nullopt (RFC 9051 §6.4.5: part 1 of a
// non-multipart message is its body; numbers go inside message/rfc822 parts).
std::optional<std::size_t> find_part(const parsed_message& m,
                                     std::span<const std::uint32_t> number);

// The bytes of BODY[section], CRLF-normalized; nullopt when the section does not exist.
std::optional<std::string> section(const parsed_message& m, const section_spec& spec);

// BODY[...]<origin.count>: the octets from `origin` (count of them, or all); an origin
// past the end gives the empty string (RFC 9051 §6.4.5).
std::string_view apply_partial(std::string_view data, std::uint64_t origin,
                               std::optional<std::uint64_t> count);

// BINARY[part]: the body with its Content-Transfer-Encoding removed. unknown_encoding is
// set, and content empty, when the encoding is not 7bit/8bit/binary/base64/
// quoted-printable: the IMAP layer answers NO [UNKNOWN-CTE] (RFC 3516 §4.3).
struct binary_result {
  std::string content;
  bool unknown_encoding = false;
};
binary_result binary(const parsed_message& m, const part& p);

// Unfolded values of every field named `name` (case-insensitive) in a part's header, in
// order (SEARCH HEADER / FROM / SUBJECT ...).
std::vector<std::string> header_values(const part& p, std::string_view name);
// The same values with RFC 2047 encoded-words decoded to UTF-8, for substring search.
std::vector<std::string> header_values_decoded(const part& p, std::string_view name);

}  // namespace mailsim::message
