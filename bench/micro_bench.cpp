// mailsim micro-benchmarks: the sans-IO parsers on the hot path of SMTP ingest.
//
// What is measured: smtp::parse_command on the lines a busy MX sees (EHLO, MAIL and RCPT
// with ESMTP parameters, an RFC 6531 UTF-8 recipient), reply formatting and multi-line reply
// parsing (an EHLO answer), smtp::data_reader over a 1 MiB message of 78-character lines
// with some dot-stuffed lines (bytes/s; issue 2 §6 asks for at least 1 GB/s), and
// core::line_reader splitting a pipelined command burst. Inputs are built once, outside the
// timed loops; nothing here does I/O. Results and how to run them: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/line_reader.hpp"
#include "reference-server/smtp/command.hpp"
#include "reference-server/smtp/data_reader.hpp"
#include "reference-server/smtp/reply.hpp"

namespace {

using namespace mailsim;

// --- command parsing ---------------------------------------------------------------------

void run_parse(benchmark::State& state, std::string_view line) {
  std::size_t parsed = 0;
  for (auto _ : state) {
    smtp::command_parse result = smtp::parse_command(line);
    benchmark::DoNotOptimize(result);
    parsed += result.value.has_value() ? 1 : 0;
  }
  if (parsed != static_cast<std::size_t>(state.iterations())) state.SkipWithError("parse failed");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}

void parse_ehlo(benchmark::State& state) {
  run_parse(state, "EHLO client-17.mail.example.test");
}
BENCHMARK(parse_ehlo);

void parse_mail_params(benchmark::State& state) {
  run_parse(state,
            "MAIL FROM:<newsletter-bounces+alice=example.test@lists.example.org> SIZE=48213 "
            "BODY=8BITMIME RET=HDRS ENVID=QQ314159");
}
BENCHMARK(parse_mail_params);

void parse_rcpt_dsn(benchmark::State& state) {
  run_parse(state,
            "RCPT TO:<alice.smith@mailsim.test> NOTIFY=SUCCESS,FAILURE "
            "ORCPT=rfc822;alice.smith@mailsim.test");
}
BENCHMARK(parse_rcpt_dsn);

void parse_rcpt_plain(benchmark::State& state) {
  run_parse(state, "RCPT TO:<demo@mailsim.test>");
}
BENCHMARK(parse_rcpt_plain);

void parse_rcpt_utf8(benchmark::State& state) {
  // RFC 6531: a UTF-8 local part and an IDN domain in U-label form.
  run_parse(state, "RCPT TO:<j\xC3\xBCrgen.m\xC3\xBCller@b\xC3\xBC" "cher.example.test>");
}
BENCHMARK(parse_rcpt_utf8);

// --- replies -----------------------------------------------------------------------------

smtp::reply ehlo_reply() {
  smtp::reply r;
  r.code = 250;
  r.lines = {"mail.mailsim.test greets client-17.mail.example.test",
             "PIPELINING",
             "SIZE 26214400",
             "8BITMIME",
             "SMTPUTF8",
             "ENHANCEDSTATUSCODES",
             "CHUNKING",
             "BINARYMIME",
             "DSN",
             "STARTTLS",
             "AUTH SCRAM-SHA-256 PLAIN LOGIN"};
  return r;
}

void reply_format_ehlo(benchmark::State& state) {
  const smtp::reply r = ehlo_reply();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string wire = smtp::format(r);
    bytes += wire.size();
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(reply_format_ehlo);

void reply_format_250_ok(benchmark::State& state) {
  const smtp::reply r = smtp::make_reply(250, "2.0.0", "Ok: queued as 0190f3c2a7b84e21");
  for (auto _ : state) {
    std::string wire = smtp::format(r);
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(reply_format_250_ok);

void reply_parse_ehlo(benchmark::State& state) {
  const std::string wire = smtp::format(ehlo_reply());
  std::size_t lines = 0;
  for (auto _ : state) {
    smtp::reply_parser parser;
    parser.feed(wire);
    smtp::reply_event ev = parser.next();
    if (ev.state != smtp::reply_event::status::reply) {
      state.SkipWithError("EHLO reply not parsed");
      break;
    }
    lines += ev.value.lines.size();
    benchmark::DoNotOptimize(ev);
  }
  benchmark::DoNotOptimize(lines);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(reply_parse_ehlo);

// --- DATA scanning -----------------------------------------------------------------------

// A message of about `body_bytes` on the wire: RFC 5322 headers, then 78-character lines of
// text (RFC 5322 §2.1.1 recommends at most 78), one line in 64 starting with a dot (stuffed
// to "..", as a client sends it), and the end-of-data line.
std::string wire_message(std::size_t body_bytes) {
  std::string m =
      "Return-Path: <sender@example.test>\r\n"
      "From: Sender <sender@example.test>\r\n"
      "To: Demo <demo@mailsim.test>\r\n"
      "Subject: benchmark message\r\n"
      "Date: Wed, 26 Nov 2025 10:00:00 +0000\r\n"
      "Message-ID: <bench.1@example.test>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n";
  static constexpr std::string_view alphabet =
      "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the quick brown fox ";
  std::size_t line_no = 0;
  while (m.size() < body_bytes) {
    std::string line;
    if (line_no % 64 == 7) line = "..";  // a line of text that began with "."
    while (line.size() < 78) line += alphabet[(line.size() + line_no * 7) % alphabet.size()];
    m += line;
    m += "\r\n";
    ++line_no;
  }
  m += ".\r\n";
  return m;
}

// Arg 0: message bytes; arg 1: bytes per feed() call (0: the whole message at once).
void data_scan(benchmark::State& state) {
  const std::string wire = wire_message(static_cast<std::size_t>(state.range(0)));
  const std::size_t chunk = state.range(1) == 0 ? wire.size() : static_cast<std::size_t>(state.range(1));
  std::string out;
  out.reserve(wire.size());
  for (auto _ : state) {
    out.clear();
    smtp::data_reader reader({}, out);
    std::size_t at = 0;
    while (at < wire.size() && !reader.done()) {
      const std::size_t n = std::min(chunk, wire.size() - at);
      at += reader.feed(std::string_view(wire).substr(at, n));
    }
    if (!reader.done() || reader.saw_bare_newline()) {
      state.SkipWithError("end of data not found, or a bare newline reported");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
  state.counters["out_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(data_scan)
    ->ArgNames({"size", "chunk"})
    ->Args({1 << 20, 0})
    ->Args({1 << 20, 65536})
    ->Args({1 << 20, 4096})
    ->Args({100 << 10, 65536});

// The floor for DATA scanning: one memchr pass plus one copy of the same bytes.
void data_scan_floor_memchr_copy(benchmark::State& state) {
  const std::string wire = wire_message(static_cast<std::size_t>(state.range(0)));
  std::string out;
  out.reserve(wire.size());
  for (auto _ : state) {
    out.clear();
    const char* p = wire.data();
    const char* end = p + wire.size();
    while (p < end) {
      const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
      const char* stop = lf != nullptr ? static_cast<const char*>(lf) + 1 : end;
      out.append(p, static_cast<std::size_t>(stop - p));
      p = stop;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(data_scan_floor_memchr_copy)->ArgName("size")->Arg(1 << 20);

// --- line reader -------------------------------------------------------------------------

// One pipelined transaction as a PIPELINING client sends it (RFC 2920 §3.1): MAIL, ten
// RCPTs and DATA in one write; arg 0 is how many such transactions arrive in one read.
void line_reader_pipelined(benchmark::State& state) {
  std::string burst;
  for (int t = 0; t < state.range(0); ++t) {
    burst += "MAIL FROM:<sender@example.test> SIZE=1024 BODY=8BITMIME\r\n";
    for (int r = 0; r < 10; ++r) {
      burst += "RCPT TO:<user" + std::to_string(r) + "@mailsim.test> NOTIFY=FAILURE\r\n";
    }
    burst += "DATA\r\n";
  }
  const std::size_t expected = static_cast<std::size_t>(state.range(0)) * 12;
  core::line_reader reader;
  for (auto _ : state) {
    reader.feed(burst);
    std::size_t lines = 0;
    for (;;) {
      core::line l = reader.next();
      if (l.state != core::line::status::ok) break;
      benchmark::DoNotOptimize(l.text.data());
      ++lines;
    }
    if (lines != expected) {
      state.SkipWithError("wrong line count");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(expected));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(burst.size()));
}
BENCHMARK(line_reader_pipelined)->ArgName("transactions")->Arg(1)->Arg(16);

}  // namespace

BENCHMARK_MAIN();
