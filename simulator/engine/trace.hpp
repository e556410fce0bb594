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
// Sinks: memory_sink keeps the last lines_max lines, stream_sink writes to a std::ostream,
// file_sink to a file. Two sinks take the events unformatted (takes_events()): digest_sink
// keeps a 64-bit digest of them (to compare long runs without keeping them) and tail_sink the
// last lines_max of them, formatted when asked (a bounded tail for failure reports). A run
// whose sinks all take events formats no line: formatting and quoting were a sixth of a
// simulated SMTP transaction's instructions. Every sink of one trace sees the same events.
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

// One event as the trace was given it, before it is formatted into a line. Views into the
// caller's data, valid during the call.
struct trace_event {
  core::time_point at{};
  std::string_view source;
  std::string_view text;          // at most text_bytes_max bytes of it (the payload's head)
  std::size_t text_left_out = 0;  // bytes of the text beyond them (then "...(+N)")
  // record_payload(): the text is printable ASCII, `payload` follows it in double quotes
  // (quote_bytes()), and the line's text is cut at text_bytes_max after quoting.
  bool payload_line = false;
  std::string_view payload;          // at most its bytes_max bytes of the payload
  std::size_t payload_left_out = 0;  // bytes of the payload beyond them
  std::size_t text_bytes_max = 0;    // the trace's limit, for formatting
};

// Appends the line of an event, '\n' included, exactly as record() writes it.
void append_event_line(std::string& line, const trace_event& e);

class trace_sink {
 public:
  virtual ~trace_sink() = default;
  // One whole line, '\n' included.
  virtual void write(std::string_view line) = 0;
  // A sink that answers true gets write_event() instead of write() from the trace.
  virtual bool takes_events() const { return false; }
  virtual void write_event(const trace_event& /*e*/) {}
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

// The digest chains bytes into the state eight bytes at a time (multiply and xor-shift, then
// their length): a run's transcript costs it well under a byte's work per byte. From a trace
// it takes events: time (milliseconds since the epoch), source, text and payload as kept,
// the counts of bytes left out and whether it is a payload line, each in turn (a number as one
// word, bytes as their words and length). Those fields make the line, so runs with equal digests
// wrote equal transcripts. write() hashes a line as bytes. The same input gives the same digest on
// every run and machine; the value is not FNV-1a and not a cryptographic hash.
class digest_sink final : public trace_sink {
 public:
  void write(std::string_view line) override;
  bool takes_events() const override { return true; }
  void write_event(const trace_event& e) override;
  std::uint64_t digest() const { return digest_; }
  std::string hex() const;  // 16 lower-case hex digits
  std::uint64_t lines() const { return lines_; }

 private:
  std::uint64_t digest_ = 0xcbf29ce484222325ULL;  // any fixed start: FNV-1a's offset basis
  std::uint64_t lines_ = 0;
};

// The last lines_max events, formatted only when lines() is asked: a run that keeps a tail
// for its failure report pays for a copy of each event, not for its line.
class tail_sink final : public trace_sink {
 public:
  explicit tail_sink(std::size_t lines_max = 50) : lines_max_(lines_max) {}
  void write(std::string_view line) override;  // kept as it is
  bool takes_events() const override { return true; }
  void write_event(const trace_event& e) override;
  std::vector<std::string> lines() const;  // oldest first
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct entry {
    bool is_line = false;  // written with write(): `line` holds it
    std::string line;
    trace_event event;                  // its views are stale: they are set to the strings
    std::string source, text, payload;  // below when the line is formatted
  };
  entry& next_entry();

  std::size_t lines_max_;
  std::vector<entry> ring_;  // the oldest at first_ once full
  std::size_t first_ = 0;
  std::uint64_t dropped_ = 0;
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
  // A protocol payload: the line's text is `head` (printable ASCII) followed by the payload
  // in double quotes as quote_bytes(payload, payload_bytes_max) writes it. Quoted only for
  // the sinks that take lines.
  void record_payload(std::string_view source, std::string_view head, std::string_view payload,
                      std::size_t payload_bytes_max);
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
  std::string scratch_;             // a payload line's text, quoted
  std::string parts_;               // record_parts(): the text joined
  core::time_point time_of_text_{};  // the time time_text_ shows
  std::string time_text_;

  void dispatch(const trace_event& e);
};

// "2023-11-14T22:13:20.000Z"
std::string format_time(core::time_point t);
// The line record() writes, for tests and for other writers of the same format.
std::string format_line(core::time_point t, std::string_view source, std::string_view text,
                        std::size_t text_bytes_max);
// Appends " <source> <text>\n" as format_line() writes it after the time.
void append_line_rest(std::string& line, std::string_view source, std::string_view text,
                      std::size_t text_bytes_max);
// The same for a text known to hold printable ASCII only (a payload line's).
void append_printable_line_rest(std::string& line, std::string_view source, std::string_view text,
                                std::size_t text_bytes_max);
// `bytes` in double quotes with C-style escapes, cut after bytes_max input bytes.
std::string quote_bytes(std::string_view bytes, std::size_t bytes_max);
// Appends what quote_bytes() returns, without a string of its own.
void append_quoted(std::string& out, std::string_view bytes, std::size_t bytes_max);

}  // namespace mailsim::sim
