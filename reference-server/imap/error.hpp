// mailsim::imap errors — the error codes of IMAP framing and parsing.
//
// Contract: the reader and the parser never throw; they report these codes. A recoverable
// code means the session answers (tagged BAD/NO, or untagged BAD when no tag is known) and
// reads the next command; a fatal code means the byte stream can no longer be framed and the
// session must send "* BYE" and close (RFC 7888 §4 for a refused non-synchronizing literal).
#pragma once

#include <system_error>

namespace mailsim::imap {

enum class errc {
  line_too_long = 1,         // a line passed line_bytes_max; skipped to its end (recoverable)
  command_too_long,          // the command passed command_bytes_max (recoverable)
  literal_too_large,         // a synchronizing literal was refused before its bytes (recoverable)
  too_many_literals,         // literals_per_command_max passed, synchronizing (recoverable)
  nonsync_literal_refused,   // a {N+} literal could not be accepted: cannot resync (fatal)
  syntax,                    // the command does not match the grammar (recoverable)
  nesting_too_deep,          // parenthesised lists or search keys nest too deeply (recoverable)
  bad_mailbox_name,          // a mailbox name is not valid modified UTF-7 / UTF-8 (recoverable)
};

const std::error_category& imap_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), imap_category()};
}

// True when the session may go on after answering the error.
bool is_recoverable(errc e) noexcept;

}  // namespace mailsim::imap

template <>
struct std::is_error_code_enum<mailsim::imap::errc> : std::true_type {};
