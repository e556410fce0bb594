#include "simulator/engine/trace.hpp"

#include <algorithm>
#include <chrono>

namespace mailsim::sim {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char c) {
  out += "\\x";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0x0f];
}

bool source_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("._:/@#+-").find(static_cast<char>(c)) != std::string_view::npos;
}

void append_cut_marker(std::string& out, std::size_t left_out) {
  if (left_out == 0) return;
  out += "...(+";
  out += std::to_string(left_out);
  out += ')';
}

// Two decimal digits, zero-padded, or more for a wider field.
void append_padded(std::string& out, long long value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

// The escape quote_bytes() writes for `c`, or nullptr when `c` stands for itself.
const char* quote_escape(unsigned char c) {
  switch (c) {
    case '\r':
      return "\\r";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\\':
      return "\\\\";
    case '"':
      return "\\\"";
    default:
      return c >= 0x20 && c <= 0x7e ? nullptr : "";  // "": a hex escape
  }
}

}  // namespace

void memory_sink::write(std::string_view line) {
  if (lines_max_ == 0) {
    ++dropped_;
    return;
  }
  if (lines_.size() == lines_max_) {
    // The oldest line's buffer carries the new one: a full tail allocates nothing.
    std::string reused = std::move(lines_.front());
    lines_.pop_front();
    ++dropped_;
    reused.assign(line);
    lines_.push_back(std::move(reused));
    return;
  }
  lines_.emplace_back(line);
}

std::string memory_sink::text() const {
  std::string out;
  for (const auto& line : lines_) out += line;
  return out;
}

void digest_sink::write(std::string_view line) {
  for (unsigned char c : line) {
    digest_ ^= c;
    digest_ *= 0x100000001b3ULL;
  }
  ++lines_;
}

std::string digest_sink::hex() const {
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = hex_digits[(digest_ >> (4 * i)) & 0x0f];
  return out;
}

void trace::remove_sink(trace_sink& sink) {
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), &sink), sinks_.end());
}

void trace::record(std::string_view source, std::string_view text) {
  if (sinks_.empty()) return;
  // Many lines share a millisecond: its text is formatted once, and the line is built in a
  // buffer that keeps its capacity from line to line.
  const core::time_point now = clock_.now();
  if (now != time_of_text_ || time_text_.empty()) {
    time_text_ = format_time(now);
    time_of_text_ = now;
  }
  line_.assign(time_text_);
  append_line_rest(line_, source, text, limits_.text_bytes_max);
  ++lines_;
  for (auto* sink : sinks_) sink->write(line_);
}

std::string format_time(core::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{sys_days{day}};
  const auto ms = (t - day).count();  // milliseconds into the day
  std::string out;
  append_padded(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  append_padded(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  append_padded(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  append_padded(out, ms / 3'600'000, 2);
  out += ':';
  append_padded(out, ms / 60'000 % 60, 2);
  out += ':';
  append_padded(out, ms / 1000 % 60, 2);
  out += '.';
  append_padded(out, ms % 1000, 3);
  out += 'Z';
  return out;
}

std::string format_line(core::time_point t, std::string_view source, std::string_view text,
                        std::size_t text_bytes_max) {
  std::string line = format_time(t);
  append_line_rest(line, source, text, text_bytes_max);
  return line;
}

void append_line_rest(std::string& line, std::string_view source, std::string_view text,
                      std::size_t text_bytes_max) {
  const std::size_t kept = std::min(text.size(), text_bytes_max);
  line.reserve(line.size() + source.size() + kept + 24);
  line += ' ';
  if (source.empty()) line += '-';
  for (unsigned char c : source) line += source_char(c) ? static_cast<char>(c) : '_';
  line += ' ';
  // Runs of printable bytes go in whole: the trace copies every protocol byte of a run.
  const std::string_view rest = text.substr(0, kept);
  std::size_t run = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const auto c = static_cast<unsigned char>(rest[i]);
    if (c >= 0x20 && c <= 0x7e) continue;
    line.append(rest.substr(run, i - run));
    append_hex_escape(line, c);
    run = i + 1;
  }
  line.append(rest.substr(run));
  append_cut_marker(line, text.size() - kept);
  line += '\n';
}

std::string quote_bytes(std::string_view bytes, std::size_t bytes_max) {
  const std::size_t kept = std::min(bytes.size(), bytes_max);
  const std::string_view rest = bytes.substr(0, kept);
  std::string out;
  out.reserve(kept + kept / 16 + 24);  // CRLF every line or so
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const auto c = static_cast<unsigned char>(rest[i]);
    const char* escape = quote_escape(c);
    if (escape == nullptr) continue;
    out.append(rest.substr(run, i - run));
    if (*escape != '\0') {
      out += escape;
    } else {
      append_hex_escape(out, c);
    }
    run = i + 1;
  }
  out.append(rest.substr(run));
  out += '"';
  append_cut_marker(out, bytes.size() - kept);
  return out;
}

}  // namespace mailsim::sim
