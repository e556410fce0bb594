// mailsim::sim trace — the run's transcript: one text line per protocol exchange and
// decision, stamped with virtual time.
//
// Contract: append-only. record() formats one line and hands it to every sink, in the order
// the sinks were added; nothing is buffered here. A run that draws its randomness from
// sim::random_streams and its time from sim::scheduler writes the same transcript, byte for
// byte, every time it runs with the same seed.
//
// Line format (stable: golden transcripts and reproducibility checks compare it byte for
// byte; change it only together with them):
//
//   <time> <source> <text>\n
//
// - <time>: the virtual time in UTC, ISO 8601 with milliseconds, "2023-11-14T22:13:20.000Z".
// - <source>: who speaks, e.g. "net", "dns", "mx1.gmail.sim". Bytes other than
//   [A-Za-z0-9._:/@#+-] become '_'; an empty source is "-".
// - <text>: free text. Bytes outside printable ASCII (0x20-0x7e) become "\xHH", so one event
//   is always one line. A text longer than limits.text_bytes_max is cut there and ends with
//   "...(+N)", N the bytes left out.
// Payloads (protocol bytes) are written with quote_bytes(): "EHLO a.example\r\n" in double
// quotes, C-style escapes (\r \n \t \\ \" \xHH), cut the same way.
// Sinks: memory_sink keeps the last lines_max lines (a bounded tail for failure reports),
// stream_sink writes to a std::ostream, file_sink to a file, digest_sink keeps only a 64-bit
// digest of the lines (to compare long runs without keeping them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"

namespace mailsim::sim {

class trace_sink {
 public:
  virtual ~trace_sink() = default;
  // One whole line, '\n' included.
  virtual void write(std::string_view line) = 0;
};

class memory_sink final : public trace_sink {
 public:
  explicit memory_sink(std::size_t lines_max = 100'000) : lines_max_(lines_max) {}
  void write(std::string_view line) override;
  const std::deque<std::string>& lines() const { return lines_; }
  std::string text() const;                           // the kept lines, concatenated
  std::uint64_t dropped() const { return dropped_; }  // oldest lines pushed out

 private:
  std::size_t lines_max_;
  std::deque<std::string> lines_;
  std::uint64_t dropped_ = 0;
};

class stream_sink final : public trace_sink {
 public:
  explicit stream_sink(std::ostream& out) : out_(out) {}
  void write(std::string_view line) override { out_ << line; }

 private:
  std::ostream& out_;
};

class file_sink final : public trace_sink {
 public:
  // Creates or truncates the file; ok() says whether it could be opened.
  explicit file_sink(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  bool ok() const { return out_.good(); }
  void write(std::string_view line) override { out_ << line; }
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

// The digest chains each line into the state eight bytes at a time (multiply and
// xor-shift, then the line's length): a run's transcript costs it well under a byte's work
// per byte. Lines are hashed as written: the same lines give the same digest on every
// run and machine; the value is not FNV-1a and not a cryptographic hash.
class digest_sink final : public trace_sink {
 public:
  void write(std::string_view line) override;
  std::uint64_t digest() const { return digest_; }
  std::string hex() const;  // 16 lower-case hex digits
  std::uint64_t lines() const { return lines_; }

 private:
  std::uint64_t digest_ = 0xcbf29ce484222325ULL;  // any fixed start: FNV-1a's offset basis
  std::uint64_t lines_ = 0;
};

struct trace_limits {
  std::size_t text_bytes_max = 4096;  // of one line's text, before escaping
};

class trace {
 public:
  explicit trace(const core::clock& clock, trace_limits limits = {})
      : clock_(clock), limits_(limits) {}
  trace(const trace&) = delete;
  trace& operator=(const trace&) = delete;

  // The sink must outlive the trace or be removed first.
  void add_sink(trace_sink& sink) { sinks_.push_back(&sink); }
  void remove_sink(trace_sink& sink);
  // False when no sink listens: callers may skip formatting.
  bool enabled() const { return !sinks_.empty(); }

  void record(std::string_view source, std::string_view text);
  // record() of a text the caller has already made printable (quote_bytes() output and
  // plain ASCII around it): bytes outside 0x20-0x7e are not looked for again. The payload
  // lines of a run's transcript are most of its bytes.
  void record_printable(std::string_view source, std::string_view text);
  // record() of the text made of `parts` (anything a std::string_view is made from), joined
  // in a buffer the trace keeps: callers that write a line per message build no temporaries.
  // Nothing is joined when no sink listens.
  template <class... Parts>
  void record_parts(std::string_view source, const Parts&... parts) {
    if (!enabled()) return;
    parts_.clear();
    (parts_.append(std::string_view(parts)), ...);
    record(source, parts_);
  }
  std::uint64_t lines() const { return lines_; }
  const trace_limits& limits() const { return limits_; }

 private:
  const core::clock& clock_;
  trace_limits limits_;
  std::vector<trace_sink*> sinks_;
  std::uint64_t lines_ = 0;
  std::string line_;                // the line being written (its capacity is kept)
  std::string parts_;               // record_parts(): the text joined
  core::time_point time_of_text_{};  // the time time_text_ shows
  std::string time_text_;

  void write(std::string_view source, std::string_view text, bool printable);
};

// "2023-11-14T22:13:20.000Z"
std::string format_time(core::time_point t);
// The line record() writes, for tests and for other writers of the same format.
std::string format_line(core::time_point t, std::string_view source, std::string_view text,
                        std::size_t text_bytes_max);
// Appends " <source> <text>\n" as format_line() writes it after the time.
void append_line_rest(std::string& line, std::string_view source, std::string_view text,
                      std::size_t text_bytes_max);
// The same for a text known to hold printable ASCII only (record_printable()).
void append_printable_line_rest(std::string& line, std::string_view source, std::string_view text,
                                std::size_t text_bytes_max);
// `bytes` in double quotes with C-style escapes, cut after bytes_max input bytes.
std::string quote_bytes(std::string_view bytes, std::size_t bytes_max);
// Appends what quote_bytes() returns, without a string of its own.
void append_quoted(std::string& out, std::string_view bytes, std::size_t bytes_max);

}  // namespace mailsim::sim
