#include "reference-server/imap/command_reader.hpp"

#include <cstring>
#include <limits>

#include "reference-server/core/ascii.hpp"
#include "reference-server/imap/syntax.hpp"

namespace mailsim::imap {
namespace {

struct literal_marker {
  std::size_t start = 0;  // offset of '{' or '~'
  std::uint64_t size = 0;
  bool nonsync = false;
  bool literal8 = false;
};

// True when `pos` in `text` lies inside a quoted string (RFC 9051 quoted, with \-escapes).
bool inside_quotes(std::string_view text, std::size_t pos) {
  bool quoted = false;
  for (std::size_t i = 0; i < pos; ++i) {
    if (quoted && text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      quoted = !quoted;
    }
  }
  return quoted;
}

// An over-long line is skipped in pieces and judged by its last bytes only (whether it
// announced a {N+} literal decides whether the stream can go on).
constexpr std::size_t skipped_tail_bytes = 32;

// `extra`: bytes kept beyond the tail (a CR that may end the piece, removed at the LF).
void keep_tail(std::string& tail, std::size_t extra = 0) {
  const std::size_t keep = skipped_tail_bytes + extra;
  if (tail.size() > keep) tail.erase(0, tail.size() - keep);
}

// RFC 9051 §9 literal = "{" number64 ["+"] "}" CRLF; RFC 3516 literal8 = "~{" ...
// The marker must close the line. Sizes past 64 bits saturate: any limit refuses them.
std::optional<literal_marker> find_marker(std::string_view text, bool quote_aware) {
  if (text.empty() || text.back() != '}') return std::nullopt;
  std::size_t end = text.size() - 1;
  literal_marker m;
  if (end > 0 && text[end - 1] == '+') {
    m.nonsync = true;
    --end;
  }
  std::size_t digits = end;
  while (digits > 0 && core::is_digit(text[digits - 1])) --digits;
  if (digits == end || digits == 0 || text[digits - 1] != '{') return std::nullopt;
  m.start = digits - 1;
  if (m.start > 0 && text[m.start - 1] == '~') {
    m.literal8 = true;
    --m.start;
  }
  if (quote_aware && inside_quotes(text, m.start)) return std::nullopt;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = digits; i < end; ++i) {
    const auto d = static_cast<std::uint64_t>(text[i] - '0');
    m.size = m.size > (max - d) / 10 ? max : m.size * 10 + d;
  }
  return m;
}

}  // namespace

std::size_t command_text::total_bytes() const {
  std::size_t n = 0;
  for (const segment& s : segments) n += s.bytes.size();
  return n;
}

void command_reader::feed(std::string_view bytes) {
  compact();
  if (state_ == state::closed) return;  // a fatal error: nothing more is framed
  buffer_.append(bytes.data(), bytes.size());
}

read_event command_reader::next() {
  for (;;) {
    switch (state_) {
      case state::closed:
        return {read_event::status::error, {}, make_error_code(errc::nonsync_literal_refused),
                true, std::nullopt, 0};
      case state::awaiting_go_ahead:
        // The session has seen continuation_needed and sent "+": the literal may come.
        state_ = state::literal;
        break;
      case state::literal:
        if (!read_literal()) return {};
        break;
      case state::line:
      case state::skipping_line: {
        read_event ev = read_line();
        if (ev.state != read_event::status::need_more || state_ != state::literal) return ev;
        break;  // a non-synchronizing literal follows at once
      }
    }
  }
}

bool command_reader::read_literal() {
  const std::size_t n = std::min(literal_left_, buffer_.size() - start_);
  current_.segments.back().bytes.append(buffer_, start_, n);
  start_ += n;
  literal_left_ -= n;
  if (literal_left_ > 0) return false;
  state_ = state::line;
  scanned_ = 0;
  return true;
}

read_event command_reader::read_line() {
  const char* base = buffer_.data() + start_;
  const std::size_t avail = buffer_.size() - start_;
  const void* lf = std::memchr(base + scanned_, '\n', avail - scanned_);
  if (lf == nullptr) {
    scanned_ = avail;
    if (state_ == state::line && avail > limits_.line_bytes_max + 1) {  // +1: a CR before LF
      skipped_tag_ = current_.segments.empty() ? line_tag(std::string_view(base, avail)) : tag_;
      state_ = state::skipping_line;
    }
    if (state_ == state::skipping_line) {
      // Keep only the end of the line: it may announce a literal, which decides fatality.
      skipped_tail_.append(base, avail);
      keep_tail(skipped_tail_, 1);
      start_ = buffer_.size();
      scanned_ = 0;
    }
    return {};
  }
  std::size_t len = static_cast<std::size_t>(static_cast<const char*>(lf) - base);
  std::string_view text(base, len);
  start_ += len + 1;
  scanned_ = 0;
  if (state_ == state::skipping_line) {
    skipped_tail_.append(text);  // the CR may have come in an earlier piece: strip it here
    if (!skipped_tail_.empty() && skipped_tail_.back() == '\r') skipped_tail_.pop_back();
    keep_tail(skipped_tail_);
    const bool nonsync = find_marker(skipped_tail_, false).value_or(literal_marker{}).nonsync;
    skipped_tail_.clear();
    state_ = state::line;
    read_event ev = fail(errc::line_too_long, nonsync);
    ev.tag = skipped_tag_;
    return ev;
  }
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return end_of_line(text);
}

read_event command_reader::end_of_line(std::string_view text) {
  if (current_.segments.empty()) tag_ = line_tag(text);
  const std::optional<literal_marker> marker = find_marker(text, true);
  if (text.size() > limits_.line_bytes_max) {
    // Judged like a line skipped in pieces (only its tail is known there): the same last
    // bytes, without quote tracking, so that the outcome never depends on the split.
    const auto tail_marker =
        find_marker(text.substr(text.size() - std::min(text.size(), skipped_tail_bytes)), false);
    return fail(errc::line_too_long, tail_marker && tail_marker->nonsync);
  }
  const std::string_view before = marker ? text.substr(0, marker->start) : text;
  command_bytes_ += before.size();
  if (command_bytes_ > limits_.command_bytes_max) {
    return fail(errc::command_too_long, marker && marker->nonsync);
  }
  current_.segments.push_back({segment::kind::text, std::string(before), false, false});
  if (!marker) {
    read_event ev;
    ev.state = read_event::status::complete;
    ev.command = std::move(current_);
    reset_command();
    return ev;
  }
  // Refuse before reading a byte of the literal (RFC 9051 §7.5, RFC 7888 §4).
  const std::uint64_t size_max =
      marker->nonsync ? std::min(limits_.literal_bytes_max, limits_.nonsync_literal_bytes_max)
                      : limits_.literal_bytes_max;
  if (++literals_ > limits_.literals_per_command_max) {
    return fail(errc::too_many_literals, marker->nonsync);
  }
  if (marker->size > size_max) return fail(errc::literal_too_large, marker->nonsync);
  if (marker->size > limits_.command_bytes_max - command_bytes_) {
    return fail(errc::command_too_long, marker->nonsync);
  }
  command_bytes_ += static_cast<std::size_t>(marker->size);
  literal_left_ = static_cast<std::size_t>(marker->size);
  segment lit{segment::kind::literal, {}, marker->literal8, !marker->nonsync};
  lit.bytes.reserve(std::min<std::size_t>(literal_left_, 64 * 1024));
  current_.segments.push_back(std::move(lit));
  if (marker->nonsync) {
    state_ = state::literal;
    return {};
  }
  state_ = state::awaiting_go_ahead;
  read_event ev;
  ev.state = read_event::status::continuation_needed;
  ev.tag = tag_;
  ev.literal_bytes = literal_left_;
  return ev;
}

read_event command_reader::fail(errc code, bool fatal) {
  read_event ev;
  ev.state = read_event::status::error;
  // Whatever limit a {N+} literal broke, what matters to the session is that the stream is
  // lost: one fatal code keeps is_recoverable() and `fatal` in agreement.
  ev.error = make_error_code(fatal ? errc::nonsync_literal_refused : code);
  ev.fatal = fatal;
  ev.tag = tag_;
  reset_command();
  if (fatal) {
    state_ = state::closed;
    buffer_.clear();
    start_ = 0;
    scanned_ = 0;
  }
  return ev;
}

void command_reader::refuse_literal() {
  if (state_ != state::awaiting_go_ahead) return;
  reset_command();
  state_ = state::line;
}

void command_reader::reset_command() {
  current_ = {};
  command_bytes_ = 0;
  literals_ = 0;
  literal_left_ = 0;
  tag_.reset();
  if (state_ != state::closed) state_ = state::line;
}

void command_reader::clear() {
  reset_command();
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  skipped_tail_.clear();
  if (state_ != state::closed) state_ = state::line;
}

// The tag is looked for in the first line_bytes_max + 1 bytes only, so that an over-long line
// yields the same tag whether it arrived whole or was cut off while being skipped.
std::optional<std::string> command_reader::line_tag(std::string_view text) const {
  return peek_tag(text.substr(0, limits_.line_bytes_max + 1));
}

void command_reader::compact() {
  if (start_ == 0) return;
  buffer_.erase(0, start_);
  start_ = 0;
}

std::optional<std::string> peek_tag(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && is_tag_char(line[n])) ++n;
  if (n == 0 || n >= line.size() || line[n] != ' ') return std::nullopt;
  return std::string(line.substr(0, n));
}

bool is_idle_done(const command_text& command) {
  const std::optional<std::string_view> line = single_line(command);
  if (!line || line->size() != 4) return false;
  for (std::size_t i = 0; i < 4; ++i) {
    if (core::ascii_lower((*line)[i]) != "done"[i]) return false;
  }
  return true;
}

std::optional<std::string_view> single_line(const command_text& command) {
  if (command.segments.size() != 1 || command.segments[0].type != segment::kind::text) {
    return std::nullopt;
  }
  return std::string_view(command.segments[0].bytes);
}

}  // namespace mailsim::imap
