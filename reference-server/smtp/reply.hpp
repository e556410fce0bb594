// mailsim::smtp replies — building and parsing RFC 5321 §4.2 replies with RFC 3463 codes.
//
// Contract: format() writes a reply as "ddd-..." continuation lines and a final "ddd ..."
// line, each ending in CRLF, with the enhanced status code (RFC 2034) at the start of each
// line's text when one is set. reply_parser is sans-IO: feed bytes, take complete replies;
// it checks that every line of a multi-line reply carries the same code (§4.2.1) and
// bounds line length and line count. Never throws.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/line_reader.hpp"

namespace mailsim::smtp {

struct reply {
  int code = 0;               // 200..599
  std::string enhanced;       // "2.1.0" or empty
  std::vector<std::string> lines;  // text of each line, without code and enhanced code

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // All lines joined with "\n", enhanced code included once at the front when set.
  std::string text() const;
};

// One-line reply.
reply make_reply(int code, std::string_view enhanced, std::string_view text);

// Wire form of a reply.
std::string format(const reply& r);
// Appends format(r) to `out`; appends the wire form of make_reply(code, enhanced, text)
// without building the reply.
void append_format(std::string& out, const reply& r);
void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text);
// Appends the wire form of a reply of `code` (no enhanced code) with these lines, without
// building the reply: a server's EHLO reply is sent on every connection.
void append_reply_lines(std::string& out, int code, std::span<const std::string_view> lines);

struct reply_limits {
  std::size_t line_bytes_max = 4096;
  std::size_t lines_max = 128;
};

struct reply_event {
  enum class status { reply, need_more, error };
  status state = status::need_more;
  reply value;        // when state == reply
  std::string error;  // when state == error: what was wrong (the stream cannot be trusted)
};

class reply_parser {
 public:
  explicit reply_parser(reply_limits limits = {});
  void feed(std::string_view bytes);
  reply_event next();

 private:
  reply_limits limits_;
  core::line_reader reader_;
  // The lines of a multi-line reply read so far, joined, with the end of each: the reply's
  // vector is made once, at its last line, at its final size (an EHLO reply has a dozen).
  int partial_code_ = 0;
  std::string partial_text_;
  std::vector<std::size_t> partial_ends_;
  std::string failed_;  // once set, the stream is broken and every next() repeats it

  reply_event fail(std::string error);
  reply_event take_partial();
};

}  // namespace mailsim::smtp
