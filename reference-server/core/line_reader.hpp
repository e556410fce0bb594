// mailsim::core line reader — splits a byte stream into protocol lines.
//
// Contract: feed() copies bytes into an internal buffer bounded by line_bytes_max (plus one
// read's worth); next() hands out one line at a time without its terminator. Line endings
// are reported exactly: CRLF, or a bare LF (RFC 5321 §2.3.8 forbids it; the caller decides
// whether to accept it). A CR that is not followed by LF stays inside the line and is
// flagged, never treated as an end of line. A line longer than line_bytes_max is skipped up
// to its end and reported once as too_long, so that the session can answer and go on.
// No I/O, no clock: sans-IO.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailsim::core {

struct line_limits {
  std::size_t line_bytes_max = 2048;  // without the terminator
};

enum class line_ending { crlf, bare_lf };

struct line {
  enum class status { ok, need_more, too_long };
  status state = status::need_more;
  std::string_view text;  // valid until the next feed()/next()/take_rest() call
  line_ending ending = line_ending::crlf;
  bool has_bare_cr = false;
};

class line_reader {
 public:
  explicit line_reader(line_limits limits = {}) : limits_(limits) {}

  // Appends bytes; always takes all of them.
  void feed(std::string_view bytes);

  // The next complete line, need_more, or too_long (once per over-long line).
  line next();

  // Bytes buffered but not yet returned as lines (for handing over to a DATA reader).
  std::string_view pending() const;
  // Drops `n` pending bytes (they were consumed by someone else).
  void consume_pending(std::size_t n);
  // Drops everything buffered (STARTTLS: nothing pipelined before TLS may be used).
  void clear();

 private:
  void compact();

  line_limits limits_;
  std::string buffer_;
  std::size_t start_ = 0;       // first byte not yet returned
  std::size_t scanned_ = 0;     // bytes from start_ already searched for LF
  bool skipping_ = false;       // inside an over-long line, dropping bytes until LF
};

}  // namespace mailsim::core
