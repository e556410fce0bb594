#include "reference-server/imap/cursor.hpp"

#include "reference-server/core/ascii.hpp"
#include "reference-server/imap/syntax.hpp"

namespace mailsim::imap::detail {
namespace {
const std::string empty_text;
}  // namespace

cursor::cursor(const command_text& text, const parse_options& options)
    : text_(text), options_(options) {
  skip_empty_text();
}

const std::string& cursor::text_of_current() const {
  if (seg_ >= text_.segments.size() || text_.segments[seg_].type != segment::kind::text) {
    return empty_text;
  }
  return text_.segments[seg_].bytes;
}

// At the end of a text segment that a literal follows, the position is the literal itself.
void cursor::skip_empty_text() {
  while (seg_ + 1 < text_.segments.size() && text_.segments[seg_].type == segment::kind::text &&
         offset_ >= text_.segments[seg_].bytes.size()) {
    ++seg_;
    offset_ = 0;
  }
}

bool cursor::at_literal() const {
  return seg_ < text_.segments.size() && text_.segments[seg_].type == segment::kind::literal;
}

bool cursor::at_end() const {
  return !at_literal() && offset_ >= text_of_current().size() &&
         seg_ + 1 >= text_.segments.size();
}

std::optional<char> cursor::peek() const {
  const std::string& s = text_of_current();
  if (at_literal() || offset_ >= s.size()) return std::nullopt;
  return s[offset_];
}

bool cursor::take(char c) {
  if (peek() != c) return false;
  ++offset_;
  skip_empty_text();
  return true;
}

bool cursor::take_word(std::string_view kw) {
  const std::string& s = text_of_current();
  if (at_literal() || s.size() - offset_ < kw.size()) return false;
  for (std::size_t i = 0; i < kw.size(); ++i) {
    if (core::ascii_lower(s[offset_ + i]) != core::ascii_lower(kw[i])) return false;
  }
  const std::size_t after = offset_ + kw.size();
  if (after < s.size() && is_atom_char(s[after]) && is_atom_char(kw.back())) return false;
  offset_ = after;
  skip_empty_text();
  return true;
}

const segment* cursor::take_literal() {
  if (!at_literal()) return nullptr;
  const segment* lit = &text_.segments[seg_];
  ++seg_;
  offset_ = 0;
  skip_empty_text();
  return lit;
}

std::size_t cursor::position() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < seg_ && i < text_.segments.size(); ++i) {
    n += text_.segments[i].bytes.size();
  }
  return n + offset_;
}

bool cursor::expected(std::string_view what, errc code) {
  return expected_at(position(), what, code);
}

bool cursor::expected_at(std::size_t offset, std::string_view what, errc code) {
  if (!error_) {
    parse_error e;
    e.code = code;
    e.offset = offset;
    e.text = "expected " + std::string(what) + " at offset " + std::to_string(e.offset);
    error_ = std::move(e);
  }
  return false;
}

bool cursor::enter() {
  if (++depth_ > options_.nesting_depth_max) {
    --depth_;
    return expected("less nesting", errc::nesting_too_deep);
  }
  return true;
}

}  // namespace mailsim::imap::detail
