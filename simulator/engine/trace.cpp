#include "simulator/engine/trace.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>

#include "reference-server/core/ascii.hpp"

namespace mailsim::sim {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char c) {
  out += "\\x";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0x0f];
}

// The bytes a line's <source> keeps; every other byte becomes '_'. A table: every line of a
// run passes its source through here.
constexpr auto source_chars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] =
        core::is_alnum(static_cast<char>(c)) || core::is_one_of("._:/@#+-", static_cast<char>(c));
  }
  return table;
}();

void append_cut_marker(std::string& out, std::size_t left_out) {
  if (left_out == 0) return;
  out += "...(+";
  out += std::to_string(left_out);
  out += ')';
}

// `value` as exactly `width` decimal digits, zero-padded, written at `p`.
void put_digits(char* p, unsigned long long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Appends format_time(t). Fixed-width fields are written in place: a run of sparse events
// formats a new time for almost every line of its transcript.
void append_time(std::string& out, core::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{sys_days{day}};
  const auto ms = static_cast<unsigned long long>((t - day).count());  // into the day
  char text[] = "0000-00-00T00:00:00.000Z";
  put_digits(text + 5, static_cast<unsigned>(ymd.month()), 2);
  put_digits(text + 8, static_cast<unsigned>(ymd.day()), 2);
  put_digits(text + 11, ms / 3'600'000, 2);
  put_digits(text + 14, ms / 60'000 % 60, 2);
  put_digits(text + 17, ms / 1000 % 60, 2);
  put_digits(text + 20, ms % 1000, 3);
  const int year = static_cast<int>(ymd.year());
  if (year >= 0 && year <= 9999) {
    put_digits(text, static_cast<unsigned>(year), 4);
    out.append(text, sizeof text - 1);
    return;
  }
  // Outside four digits (no scenario starts there): the year as std::to_string writes it,
  // zero-filled in front to four characters.
  const std::string digits = std::to_string(year);
  if (digits.size() < 4) out.append(4 - digits.size(), '0');
  out += digits;
  out.append(text + 4, sizeof text - 5);
}

// Words of eight bytes, for scanning and hashing a line a word at a time. Big-endian hosts
// swap them so that the digest of a transcript is the same everywhere.
constexpr std::uint64_t byte_ones = 0x0101010101010101ULL;
constexpr std::uint64_t byte_highs = 0x8080808080808080ULL;

std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// Nonzero when some byte of `w` is 0 (the classic test: exact for the word as a whole).
std::uint64_t zero_byte(std::uint64_t w) { return (w - byte_ones) & ~w & byte_highs; }

// Nonzero when some byte of `w` needs an escape: outside 0x20-0x7e, or (quoted) '"' or '\\'.
std::uint64_t escapes_in(std::uint64_t w, bool quoted) {
  std::uint64_t bad = ((w - byte_ones * 0x20) & ~w & byte_highs)  // a byte below 0x20
                      | (((w + byte_ones) | w) & byte_highs);     // a byte of 0x7f or more
  if (quoted) bad |= zero_byte(w ^ (byte_ones * '"')) | zero_byte(w ^ (byte_ones * '\\'));
  return bad;
}

bool plain_byte(unsigned char c, bool quoted) {
  return c >= 0x20 && c <= 0x7e && !(quoted && (c == '"' || c == '\\'));
}

// How many bytes at the front of `s` stand for themselves in a line (quoted: in quotes).
// Protocol payloads are long runs of such bytes: they are checked eight at a time.
std::size_t plain_prefix(std::string_view s, bool quoted) {
  std::size_t i = 0;
  while (i + 8 <= s.size() && escapes_in(load_word(s.data() + i), quoted) == 0) i += 8;
  while (i < s.size() && plain_byte(static_cast<unsigned char>(s[i]), quoted)) ++i;
  return i;
}

// Appends " <source> " as every line has it.
void append_source(std::string& line, std::string_view source) {
  line += ' ';
  if (source.empty()) line += '-';
  const std::size_t source_at = line.size();
  line.append(source);
  for (std::size_t i = source_at; i < line.size(); ++i) {
    if (!source_chars[static_cast<unsigned char>(line[i])]) line[i] = '_';
  }
  line += ' ';
}

// Appends a line's text as kept, with "\xHH" escapes. Runs of printable bytes go in whole:
// the trace copies every protocol byte of a run.
void append_text(std::string& line, std::string_view kept) {
  while (!kept.empty()) {
    const std::size_t run = plain_prefix(kept, false);
    line.append(kept.substr(0, run));
    if (run == kept.size()) break;
    append_hex_escape(line, static_cast<unsigned char>(kept[run]));
    kept.remove_prefix(run + 1);
  }
}

// The escape quote_bytes() writes for a byte that does not stand for itself ("": a hex one).
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
      return "";
  }
}

// Appends what append_quoted() does, for bytes already cut: `left_out` bytes followed them.
void append_quoted_kept(std::string& out, std::string_view kept, std::size_t left_out) {
  out.reserve(out.size() + kept.size() + kept.size() / 16 + 24);  // CRLF every line or so
  out += '"';
  while (!kept.empty()) {
    const std::size_t run = plain_prefix(kept, true);
    out.append(kept.substr(0, run));
    if (run == kept.size()) break;
    const auto c = static_cast<unsigned char>(kept[run]);
    if (const char* escape = quote_escape(c); *escape != '\0') {
      out += escape;
    } else {
      append_hex_escape(out, c);
    }
    kept.remove_prefix(run + 1);
  }
  out += '"';
  append_cut_marker(out, left_out);
}

// Appends what follows the time in an event's line. `scratch` carries a payload line's text.
void append_event_rest(std::string& line, const trace_event& e, std::string& scratch) {
  if (e.payload_line) {
    scratch.assign(e.text);
    append_quoted_kept(scratch, e.payload, e.payload_left_out);
    append_printable_line_rest(line, e.source, scratch, e.text_bytes_max);
    return;
  }
  line.reserve(line.size() + e.source.size() + e.text.size() + 24);
  append_source(line, e.source);
  append_text(line, e.text);
  append_cut_marker(line, e.text_left_out);
  line += '\n';
}

// The digest's chaining: a word at a time (multiply and xor-shift).
void mix(std::uint64_t& h, std::uint64_t w) {
  constexpr std::uint64_t odd = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio
  h = (h ^ w) * odd;
  h ^= h >> 29;  // the multiply carries upwards only; this brings the high bits down
}

// The last `n` (1..7) bytes of `bytes` as a word, the first of them lowest, zeros above: what
// load_word() gives for them copied into eight zero bytes. A field of eight bytes or more
// reads its last eight and shifts out those already chained (no copy: every field of every
// event ends here).
std::uint64_t tail_word(std::string_view bytes, std::size_t n) {
  if (bytes.size() >= 8) return load_word(bytes.data() + bytes.size() - 8) >> (8 * (8 - n));
  std::uint64_t w = 0;
  for (std::size_t k = 0; k < n; ++k) {
    w |= std::uint64_t{static_cast<unsigned char>(bytes[bytes.size() - n + k])} << (8 * k);
  }
  return w;
}

// Chains `bytes` into `h` eight bytes at a time, then their length.
void hash_field(std::uint64_t& h, std::string_view bytes) {
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) mix(h, load_word(bytes.data() + i));
  if (i < bytes.size()) mix(h, tail_word(bytes, bytes.size() - i));
  mix(h, bytes.size());
}

}  // namespace

void append_event_line(std::string& line, const trace_event& e) {
  append_time(line, e.at);
  std::string scratch;
  append_event_rest(line, e, scratch);
}

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
  hash_field(digest_, line);
  ++lines_;
}

void digest_sink::write_event(const trace_event& e) {
  std::uint64_t h = digest_;
  mix(h, static_cast<std::uint64_t>(core::epoch_ms(e.at)));
  hash_field(h, e.source);
  hash_field(h, e.text);
  mix(h, e.text_left_out);
  mix(h, e.payload_line ? 1U : 0U);
  if (e.payload_line) {
    hash_field(h, e.payload);
    mix(h, e.payload_left_out);
  }
  digest_ = h;
  ++lines_;
}

tail_sink::entry& tail_sink::next_entry() {
  if (ring_.size() < lines_max_) return ring_.emplace_back();
  entry& oldest = ring_[first_];  // its strings' capacity carries the new event
  first_ = (first_ + 1) % ring_.size();
  ++dropped_;
  return oldest;
}

void tail_sink::write(std::string_view line) {
  if (lines_max_ == 0) {
    ++dropped_;
    return;
  }
  entry& x = next_entry();
  x.is_line = true;
  x.line.assign(line);
}

void tail_sink::write_event(const trace_event& e) {
  if (lines_max_ == 0) {
    ++dropped_;
    return;
  }
  entry& x = next_entry();
  x.is_line = false;
  x.event = e;
  x.source.assign(e.source);
  x.text.assign(e.text);
  x.payload.assign(e.payload);
}

std::vector<std::string> tail_sink::lines() const {
  std::vector<std::string> out;
  out.reserve(ring_.size());
  for (std::size_t k = 0; k < ring_.size(); ++k) {
    const entry& x = ring_[(first_ + k) % ring_.size()];
    if (x.is_line) {
      out.push_back(x.line);
      continue;
    }
    trace_event e = x.event;
    e.source = x.source;
    e.text = x.text;
    e.payload = x.payload;
    std::string line;
    append_event_line(line, e);
    out.push_back(std::move(line));
  }
  return out;
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
  trace_event e;
  e.at = clock_.now();
  e.source = source;
  const std::size_t kept = std::min(text.size(), limits_.text_bytes_max);
  e.text = text.substr(0, kept);
  e.text_left_out = text.size() - kept;
  e.text_bytes_max = limits_.text_bytes_max;
  dispatch(e);
}

void trace::record_payload(std::string_view source, std::string_view head, std::string_view payload,
                           std::size_t payload_bytes_max) {
  if (sinks_.empty()) return;
  trace_event e;
  e.at = clock_.now();
  e.source = source;
  e.text = head;
  e.payload_line = true;
  const std::size_t kept = std::min(payload.size(), payload_bytes_max);
  e.payload = payload.substr(0, kept);
  e.payload_left_out = payload.size() - kept;
  e.text_bytes_max = limits_.text_bytes_max;
  dispatch(e);
}

// The line is formatted once, for the first sink that takes lines, if any does. Many lines
// share a millisecond: its text is formatted once, and the line is built in a buffer that
// keeps its capacity from line to line.
void trace::dispatch(const trace_event& e) {
  ++lines_;
  bool formatted = false;
  for (auto* sink : sinks_) {
    if (sink->takes_events()) {
      sink->write_event(e);
      continue;
    }
    if (!formatted) {
      if (e.at != time_of_text_ || time_text_.empty()) {
        time_text_.clear();
        append_time(time_text_, e.at);
        time_of_text_ = e.at;
      }
      line_.assign(time_text_);
      append_event_rest(line_, e, scratch_);
      formatted = true;
    }
    sink->write(line_);
  }
}

std::string format_time(core::time_point t) {
  std::string out;
  append_time(out, t);
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
  append_source(line, source);
  append_text(line, text.substr(0, kept));
  append_cut_marker(line, text.size() - kept);
  line += '\n';
}

void append_printable_line_rest(std::string& line, std::string_view source, std::string_view text,
                                std::size_t text_bytes_max) {
  const std::size_t kept = std::min(text.size(), text_bytes_max);
  line.reserve(line.size() + source.size() + kept + 24);
  append_source(line, source);
  line.append(text.substr(0, kept));
  append_cut_marker(line, text.size() - kept);
  line += '\n';
}

std::string quote_bytes(std::string_view bytes, std::size_t bytes_max) {
  std::string out;
  append_quoted(out, bytes, bytes_max);
  return out;
}

void append_quoted(std::string& out, std::string_view bytes, std::size_t bytes_max) {
  const std::size_t kept = std::min(bytes.size(), bytes_max);
  append_quoted_kept(out, bytes.substr(0, kept), bytes.size() - kept);
}

}  // namespace mailsim::sim
