// mailsim::smtp addresses — RFC 5321 §4.1.2 paths and mailboxes, RFC 6531 UTF-8.
//
// Contract: parse_path() takes the text after "MAIL FROM:" / "RCPT TO:" up to the end of the
// path and returns the mailbox with the local part unquoted, the domain as written (an
// address literal keeps its brackets), and flags for what the caller must check: UTF-8
// (needs SMTPUTF8), and characters that hint at relay tricks ('%', '!', '@' in a quoted
// local part). Source routes ("<@a,@b:user@c>", RFC 5321 §4.1.2 / Appendix C) are accepted
// and dropped. Never throws; returns std::nullopt with a reason on syntax errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::smtp {

struct mailbox {
  std::string local_part;  // unquoted form ("a b"@x → a b)
  std::string domain;      // as written; lower-cased ASCII; "[192.0.2.1]" for literals
  bool local_part_quoted = false;
  bool utf8 = false;       // any octet ≥ 0x80 in local part or domain (RFC 6531)

  // local@domain, re-quoting the local part when it needs quotes (RFC 5321 §4.1.2).
  std::string to_string() const;

  // True when the local part holds '%', '!' or '@' (the %-hack, a UUCP bang path, a quoted
  // '@'): relays that route on them can be abused, so the session refuses such recipients
  // unless they are local and known.
  bool has_relay_chars() const { return local_part.find_first_of("%!@") != std::string::npos; }
};

struct path {
  bool null = false;  // "<>": the null reverse-path (MAIL FROM only)
  mailbox box;
  bool had_source_route = false;

  // "<>" or "<local@domain>".
  std::string to_string() const;
};

struct path_parse {
  std::optional<path> value;
  std::size_t consumed = 0;  // bytes of the input taken by the path, when value is set
  std::string error;         // what was expected, when value is empty
};

struct address_options {
  bool allow_utf8 = true;          // RFC 6531 addresses allowed at all
  bool allow_null = false;         // "<>" allowed (MAIL FROM)
  bool allow_postmaster_bare = false;  // "<Postmaster>" without domain (RCPT TO, §4.1.1.3)
  bool allow_missing_brackets = true;  // "MAIL FROM:user@x": common client bug, Postfix accepts
};

// Parses a path at the start of `text` (leading spaces allowed, and counted in consumed).
// Without brackets (allow_missing_brackets) the path ends at the first space.
path_parse parse_path(std::string_view text, const address_options& options);

// True when `domain` is a syntactically valid RFC 5321 Domain or address-literal.
bool is_valid_domain(std::string_view domain, bool allow_utf8);

// True when `text` is well-formed UTF-8 (RFC 3629 §4: no overlong forms, no surrogates,
// nothing above U+10FFFF). ASCII text is well-formed.
bool is_valid_utf8(std::string_view text);

}  // namespace mailsim::smtp
