// mailsim::imap parser — from one framed command (command_reader.hpp) to a typed command.
//
// Contract (RFC 9051 §9 formal syntax and the extensions listed in command.hpp): checks
// syntax only, never state. Errors are typed: `tag` is set when a valid tag was read (the
// session answers "<tag> BAD <text>"), else unset (the session answers "* BAD <text>");
// `text` names what was expected and the byte offset in the command (literal bytes count)
// where it was expected. Nesting of parenthesised lists and search keys is bounded by
// parse_options::nesting_depth_max so that hostile input cannot exhaust the stack.
// Mailbox names: UTF-8 when UTF8=ACCEPT is enabled, else modified UTF-7 decoded to UTF-8;
// a name that does not decode is errc::bad_mailbox_name. Never throws; no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "reference-server/imap/command.hpp"
#include "reference-server/imap/command_reader.hpp"
#include "reference-server/imap/error.hpp"

namespace mailsim::imap {

inline constexpr std::size_t default_nesting_depth_max = 16;

struct parse_options {
  bool utf8_accept = false;  // the client sent ENABLE UTF8=ACCEPT (RFC 6855)
  std::size_t nesting_depth_max = default_nesting_depth_max;
};

struct parse_error {
  errc code = errc::syntax;
  std::optional<std::string> tag;
  std::string text;  // e.g. "expected SP at offset 9"
  std::size_t offset = 0;
};

struct parse_result {
  std::optional<command> value;
  parse_error error;  // meaningful when value is empty
};

parse_result parse_command(const command_text& text, const parse_options& options = {});

// Mailbox name normalisation alone: decodes (unless utf8_accept) and maps any-case "INBOX"
// to "INBOX"; nullopt when the name does not decode.
std::optional<std::string> normalize_mailbox(std::string_view raw, bool utf8_accept);

}  // namespace mailsim::imap
