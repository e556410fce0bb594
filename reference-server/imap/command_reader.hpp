// mailsim::imap command reader — frames an IMAP byte stream into whole commands.
//
// Contract (RFC 9051 §2.2, §4.3, §7.5; RFC 7888 LITERAL+/LITERAL-; RFC 3516 literal8):
// feed() buffers bytes; next() returns one event at a time:
// - need_more: no whole command yet;
// - continuation_needed: a line ended in a synchronizing literal {N} (or ~{N}) that fits the
//   limits. The session must now send "+ ..." (the client waits for it); the following next()
//   calls read the literal. Instead the session may call refuse_literal() and answer tagged
//   NO/BAD: the client then does not send the literal and the command is dropped;
// - complete: one whole command as segments (text between literals, and each literal's bytes
//   verbatim), so that the parser never has to guess where a literal ends;
// - error: a limit was hit. Literals over a limit are refused as soon as they are announced,
//   before any of their bytes are read. For a synchronizing literal that is recoverable (the
//   client waits for "+" that never comes). A non-synchronizing literal {N+} over the limit
//   cannot be skipped safely (RFC 7888 §4), so the error is fatal: the session closes.
// Line ends: CRLF, and a bare LF is accepted too (liberal: the text never contains LF, so
// this cannot change where a command ends). A lone CR stays in the text; the parser rejects
// it. A "{N}" inside a quoted string is not a literal. Memory is bounded by the limits plus
// the bytes fed but not yet framed. Never throws; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/imap/error.hpp"

namespace mailsim::imap {

// RFC 7888 §4: the largest non-synchronizing literal a LITERAL- server must accept.
inline constexpr std::size_t literal_minus_bytes_max = 4096;

struct reader_limits {
  std::size_t line_bytes_max = 64 * 1024;           // one line, without literals and CRLF
  std::size_t literal_bytes_max = 64 * 1024 * 1024;  // one literal (APPEND message size)
  std::size_t literals_per_command_max = 64;
  std::size_t command_bytes_max = 65 * 1024 * 1024;  // all lines and literals of a command
  // Largest {N+} accepted: 4096 for LITERAL-, literal_bytes_max for LITERAL+.
  std::size_t nonsync_literal_bytes_max = literal_minus_bytes_max;
};

struct segment {
  enum class kind { text, literal };
  kind type = kind::text;
  std::string bytes;            // text without the literal marker and CRLF, or literal data
  bool literal8 = false;        // ~{N}: binary data (RFC 3516)
  bool synchronizing = false;   // {N} rather than {N+}
};

// One whole command: text, literal, text, literal, ..., text (always starts and ends with
// text, possibly empty).
struct command_text {
  std::vector<segment> segments;
  std::size_t total_bytes() const;
};

struct read_event {
  enum class status { need_more, continuation_needed, complete, error };
  status state = status::need_more;
  command_text command;             // complete
  std::error_code error;            // error: imap::errc
  bool fatal = false;               // error: the session must close
  std::optional<std::string> tag;   // error/continuation: the tag of the command, if one
                                    // could be read, for a tagged answer
  std::size_t literal_bytes = 0;    // continuation_needed: the size announced
};

class command_reader {
 public:
  explicit command_reader(reader_limits limits = {}) : limits_(limits) {}

  // Appends bytes; always takes all of them.
  void feed(std::string_view bytes);
  read_event next();

  // After continuation_needed: the session refuses the literal (tagged NO/BAD) instead of
  // sending "+". The command is dropped; the reader expects a new command.
  void refuse_literal();
  // Drops everything buffered (STARTTLS: no pipelined plaintext may be used after TLS).
  void clear();
  // Bytes fed but not framed yet.
  std::size_t buffered_bytes() const { return buffer_.size() - start_; }
  const reader_limits& limits() const { return limits_; }
  // New limits for what is read from now on (a literal already announced keeps its size).
  // The session widens them at login.
  void set_limits(const reader_limits& limits) { limits_ = limits; }

 private:
  enum class state { line, awaiting_go_ahead, literal, skipping_line, closed };
  read_event read_line();
  bool read_literal();  // true when the literal is complete
  read_event end_of_line(std::string_view text);
  read_event fail(errc code, bool fatal);
  void reset_command();
  void compact();
  std::optional<std::string> line_tag(std::string_view text) const;

  reader_limits limits_;
  std::string buffer_;
  std::size_t start_ = 0;
  std::size_t scanned_ = 0;
  state state_ = state::line;
  command_text current_;
  std::size_t command_bytes_ = 0;
  std::size_t literals_ = 0;
  std::size_t literal_left_ = 0;
  std::optional<std::string> tag_;
  std::string skipped_tail_;  // the end of an over-long line, to see whether it announced a literal
  std::optional<std::string> skipped_tag_;
};

// The tag at the start of a line if it is a valid tag followed by SP (for a tagged BAD).
std::optional<std::string> peek_tag(std::string_view line);

// IDLE (RFC 2177 / RFC 9051 §6.3.13): true when a complete command is the single line "DONE"
// (case-insensitive) that ends IDLE. While idling the session feeds the same reader and checks
// each complete event with this.
bool is_idle_done(const command_text& command);

// A complete command that is one line without literals (AUTHENTICATE responses, "*" to
// cancel): its text, else nullopt.
std::optional<std::string_view> single_line(const command_text& command);

}  // namespace mailsim::imap
