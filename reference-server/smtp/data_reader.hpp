// mailsim::smtp DATA reader — the message body after "354", up to <CRLF>.<CRLF>.
//
// Contract: feed() scans bytes, removes dot-stuffing (RFC 5321 §4.5.2) and appends the
// message to the caller's buffer until the end-of-data line; it returns how many bytes it
// consumed, so the rest (pipelined commands) stays with the caller. The end is recognised
// ONLY as CR LF "." CR LF (with the message start counting as a line start). A bare LF or a
// bare CR anywhere is recorded and, per bare_newline_policy, either kept for a rejection
// after the end (reject, the default) or turned into CRLF (normalize). It is never taken as
// a line end for end-of-data detection, so "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n" and the
// rest of the SMTP smuggling family (CVE-2023-51766) cannot end the message early.
// Bytes past message_bytes_max are counted and dropped; the caller answers 552 5.3.4.
// Never throws; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailsim::smtp {

enum class bare_newline_policy { reject, normalize };

struct data_reader_options {
  std::uint64_t message_bytes_max = 25u << 20;
  bare_newline_policy bare_newlines = bare_newline_policy::reject;
};

class data_reader {
 public:
  explicit data_reader(data_reader_options options, std::string& out);

  // Consumes bytes up to and including the end-of-data line; returns the count consumed.
  std::size_t feed(std::string_view bytes);
  bool done() const { return done_; }

  bool saw_bare_newline() const { return bare_newline_; }
  bool too_big() const { return total_bytes_ > options_.message_bytes_max; }
  // Message bytes after unstuffing, including those dropped for size.
  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  enum class state : std::uint8_t {
    line_start,  // just after CRLF (or at the beginning)
    dot,         // line started with "."
    dot_cr,      // "." CR at line start
    middle,      // inside a line
    cr,          // CR seen inside a line
  };
  void emit(const char* bytes, std::size_t n);
  void emit_char(char c) { emit(&c, 1); }

  data_reader_options options_;
  std::string& out_;
  state state_ = state::line_start;
  bool done_ = false;
  bool bare_newline_ = false;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace mailsim::smtp
