// Internal to reference-server/message: a cursor over an unfolded structured header value
// with the RFC 5322 §3.2 lexical pieces both MIME values and addresses need (CFWS with
// nested comments, quoted-string). Never throws; at a malformed spot it stops or skips.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::message::detail {

class lexer {
 public:
  explicit lexer(std::string_view s) : s_(s) {}

  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  void advance() {
    if (!done()) ++i_;
  }
  std::size_t pos() const { return i_; }
  void seek(std::size_t pos) { i_ = pos; }  // back to a position pos() returned
  std::string_view rest() const { return s_.substr(i_ < s_.size() ? i_ : s_.size()); }

  bool eat(char c) {
    if (peek() != c || done()) return false;
    ++i_;
    return true;
  }

  // Skips white space and comments (RFC 5322 §3.2.2); the text of the last comment is
  // kept in last_comment() (servers use it as a display name).
  void skip_cfws() {
    while (!done()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '(') {
        read_comment();
      } else {
        return;
      }
    }
  }
  const std::string& last_comment() const { return comment_; }
  void clear_comment() { comment_.clear(); }

  // quoted-string at the cursor (which must be '"'): its content with quoted-pairs
  // resolved; an unterminated string runs to the end.
  std::string quoted() {
    std::string out;
    ++i_;
    while (!done() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      if (s_[i_] != '\r' && s_[i_] != '\n') out += s_[i_];
      ++i_;
    }
    if (!done()) ++i_;
    return out;
  }

  // Skips to just after the next `c` outside quoted strings and comments, or the end.
  void skip_past(char c) {
    while (!done()) {
      if (s_[i_] == '"') {
        quoted();
      } else if (s_[i_] == '(') {
        read_comment();
      } else if (s_[i_++] == c) {
        return;
      }
    }
  }

 private:
  void read_comment() {
    std::string text;
    int depth = 0;
    while (!done()) {
      const char c = s_[i_++];
      if (c == '\\' && !done()) {
        text += s_[i_++];
        continue;
      }
      if (c == '(' && depth++ == 0) continue;
      if (c == ')' && --depth == 0) break;
      text += c;
    }
    comment_ = std::move(text);
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string comment_;
};

}  // namespace mailsim::message::detail
