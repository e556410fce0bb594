// mailsim::imap cursor — the parser's reading position over a framed command (internal).
//
// Contract: walks text segments byte by byte and hands out each literal whole, so a literal's
// bytes are never mistaken for syntax. Records the first error with its global offset and
// tracks nesting depth. Not part of the module's public API; used by the parse_*.cpp files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/imap/command_reader.hpp"
#include "reference-server/imap/error.hpp"
#include "reference-server/imap/parser.hpp"

namespace mailsim::imap::detail {

class cursor {
 public:
  cursor(const command_text& text, const parse_options& options);

  bool at_end() const;
  bool at_literal() const;
  // The next text byte, or nullopt at the end or at a literal.
  std::optional<char> peek() const;
  bool take(char c);                    // consumes c if it is next
  bool take_word(std::string_view kw);  // case-insensitive kw, followed by a non-atom char
  // The longest run of text bytes satisfying pred (possibly empty), consumed.
  template <typename Pred>
  std::string_view take_while(Pred pred) {
    const std::string& s = text_of_current();
    const std::size_t begin = offset_;
    while (!at_literal() && offset_ < s.size() && pred(s[offset_])) ++offset_;
    const std::string_view run = std::string_view(s).substr(begin, offset_ - begin);
    skip_empty_text();
    return run;
  }
  // Consumes the literal at the position; nullptr unless at_literal().
  const segment* take_literal();

  std::size_t position() const;  // bytes before the position, literals included
  const parse_options& options() const { return options_; }

  // Records "expected <what>" at the position (the first error wins); returns false.
  bool expected(std::string_view what, errc code = errc::syntax);
  // The same, at an earlier offset (where a literal that turned out wrong began).
  bool expected_at(std::size_t offset, std::string_view what, errc code = errc::syntax);
  bool failed() const { return error_.has_value(); }
  const std::optional<parse_error>& error() const { return error_; }

  // Nesting: enter() fails (and records nesting_too_deep) past nesting_depth_max.
  bool enter();
  void leave() { --depth_; }

 private:
  const std::string& text_of_current() const;
  void skip_empty_text();

  const command_text& text_;
  const parse_options& options_;
  std::size_t seg_ = 0;
  std::size_t offset_ = 0;
  std::size_t depth_ = 0;
  std::optional<parse_error> error_;
};

}  // namespace mailsim::imap::detail
