#include "reference-server/smtp/reply.hpp"

#include <charconv>

#include "reference-server/smtp/status.hpp"

namespace mailsim::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The first CR or LF in `text`, or npos. Two memchr scans: find_first_of("\r\n") would run
// a memchr over "\r\n" for every byte, and a byte loop is slower than both on reply texts.
std::size_t first_line_break(std::string_view text) {
  const std::size_t cr = text.find('\r');
  const std::size_t lf = text.substr(0, cr).find('\n');
  return lf != std::string_view::npos ? lf : cr;
}

// A line of text must not break the reply apart: a CR or LF inside it would let the text
// end the line early and inject a reply of its own.
void append_safe(std::string& out, std::string_view text) {
  for (std::size_t n = first_line_break(text); n != std::string_view::npos;
       n = first_line_break(text)) {
    out.append(text.substr(0, n));
    out += ' ';
    text.remove_prefix(n + 1);
  }
  out.append(text);
}

// One line of a reply as read from the wire.
struct reply_line {
  int code = 0;
  bool last = true;
  std::string_view text;
};

// RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//   Reply-code [ SP textstring ] CRLF, with Reply-code = %x32-35 %x30-35 %x30-39.
// Only the first digit is held to the grammar: clients act on it (§4.2.1), and an odd
// second digit from a remote server is no reason to drop the connection.
std::string parse_reply_line(std::string_view text, reply_line& out) {
  if (text.size() < 3 || !is_digit(text[0]) || !is_digit(text[1]) || !is_digit(text[2])) {
    return "reply line does not start with a 3-digit code";
  }
  out.code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
  if (out.code < 200 || out.code > 599) return "reply code outside 200-599";
  if (text.size() == 3) return {};
  if (text[3] != ' ' && text[3] != '-') return "reply code not followed by space or '-'";
  out.last = text[3] == ' ';
  out.text = text.substr(4);
  return {};
}

// RFC 2034 §4: with ENHANCEDSTATUSCODES every line's text starts with the status code and
// a space, and its class matches the reply's first digit. The code is taken from the first
// line and removed from every line that repeats it.
void extract_enhanced(reply& r) {
  if (r.lines.empty()) return;
  const std::string& first = r.lines.front();
  const std::string candidate = first.substr(0, first.find(' '));
  if (!is_valid_enhanced(candidate) || candidate[0] - '0' != r.code / 100) return;
  r.enhanced = candidate;
  for (std::string& line : r.lines) {
    if (line.compare(0, candidate.size(), candidate) != 0) continue;
    if (line.size() == candidate.size()) {
      line.clear();
    } else if (line[candidate.size()] == ' ') {
      line.erase(0, candidate.size() + 1);
    }
  }
}

}  // namespace

std::string reply::text() const {
  std::string out = enhanced;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
    } else if (!out.empty() && !lines[i].empty()) {
      out += ' ';
    }
    out += lines[i];
  }
  return out;
}

reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  reply r;
  r.code = code;
  r.enhanced = std::string(enhanced);
  r.lines.emplace_back(text);
  return r;
}

namespace {

// RFC 5321 §4.2.1: every line but the last has "-" after the code, the last has SP.
void append_line(std::string& out, std::string_view code, std::string_view enhanced,
                 std::string_view text, bool last) {
  out += code;
  // RFC 2034 §4: the enhanced code starts the text of every line.
  if (!enhanced.empty() || !text.empty() || !last) out += last ? ' ' : '-';
  append_safe(out, enhanced);
  if (!enhanced.empty() && !text.empty()) out += ' ';
  append_safe(out, text);
  out += "\r\n";
}

// The decimal text of `code`, written into `digits`.
std::string_view code_text(char (&digits)[16], int code) {
  const char* end = std::to_chars(digits, digits + sizeof digits, code).ptr;
  return {digits, static_cast<std::size_t>(end - digits)};
}

}  // namespace

void append_format(std::string& out, const reply& r) {
  const std::size_t count = r.lines.empty() ? 1 : r.lines.size();
  char digits[16];
  const std::string_view code = code_text(digits, r.code);
  std::size_t size = 0;
  for (const auto& line : r.lines) size += line.size();
  out.reserve(out.size() + size + count * (code.size() + r.enhanced.size() + 4));
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view text = r.lines.empty() ? std::string_view() : r.lines[i];
    append_line(out, code, r.enhanced, text, i + 1 == count);
  }
}

void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text) {
  char digits[16];
  append_line(out, code_text(digits, code), enhanced, text, true);
}

void append_reply_lines(std::string& out, int code, std::span<const std::string_view> lines) {
  char digits[16];
  const std::string_view code_digits = code_text(digits, code);
  if (lines.empty()) append_line(out, code_digits, {}, {}, true);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    append_line(out, code_digits, {}, lines[i], i + 1 == lines.size());
  }
}

std::string format(const reply& r) {
  std::string out;
  append_format(out, r);
  return out;
}

reply_parser::reply_parser(reply_limits limits)
    : limits_(limits), reader_(core::line_limits{limits.line_bytes_max}) {}

void reply_parser::feed(std::string_view bytes) {
  if (failed_.empty()) reader_.feed(bytes);
}

reply_event reply_parser::fail(std::string error) {
  failed_ = std::move(error);
  partial_text_.clear();
  partial_ends_.clear();
  reader_.clear();
  return {reply_event::status::error, {}, failed_};
}

reply_event reply_parser::next() {
  if (!failed_.empty()) return {reply_event::status::error, {}, failed_};
  for (;;) {
    // A remote server may end lines with a bare LF; that is tolerated on the client side.
    const core::line l = reader_.next();
    if (l.state == core::line::status::need_more) return {};
    if (l.state == core::line::status::too_long) {
      return fail("reply line longer than " + std::to_string(limits_.line_bytes_max) + " bytes");
    }
    reply_line parsed;
    std::string error = parse_reply_line(l.text, parsed);
    if (!error.empty()) return fail(std::move(error));
    if (partial_ends_.empty()) {
      partial_code_ = parsed.code;
    } else if (partial_code_ != parsed.code) {
      // RFC 5321 §4.2.1: all lines of a multi-line reply carry the same code.
      return fail("multi-line reply changes its code");
    }
    if (partial_ends_.size() >= limits_.lines_max) {
      return fail("reply longer than " + std::to_string(limits_.lines_max) + " lines");
    }
    if (parsed.last && partial_ends_.empty()) {  // a reply of one line: no joining
      reply_event event{reply_event::status::reply, {}, {}};
      event.value.code = parsed.code;
      event.value.lines.emplace_back(parsed.text);
      extract_enhanced(event.value);
      return event;
    }
    if (partial_ends_.empty()) {
      // A parser lives as long as its connection: room for an EHLO reply at once.
      partial_text_.reserve(256);
      partial_ends_.reserve(16);
    }
    partial_text_.append(parsed.text);
    partial_ends_.push_back(partial_text_.size());
    if (parsed.last) return take_partial();
  }
}

// The multi-line reply joined so far, as a reply; the buffers are emptied for the next one.
reply_event reply_parser::take_partial() {
  reply_event event{reply_event::status::reply, {}, {}};
  event.value.code = partial_code_;
  event.value.lines.reserve(partial_ends_.size());
  std::size_t start = 0;
  for (std::size_t end : partial_ends_) {
    event.value.lines.emplace_back(std::string_view(partial_text_).substr(start, end - start));
    start = end;
  }
  partial_text_.clear();
  partial_ends_.clear();
  extract_enhanced(event.value);
  return event;
}

}  // namespace mailsim::smtp
