// Fuzz target: the IMAP command reader and parser (reference-server/imap/command_reader.hpp,
// parser.hpp). Byte 0: bit 0 UTF8=ACCEPT, bit 1 small limits, bit 2 LITERAL+ (else LITERAL-),
// bit 3 refuse every synchronizing literal, bits 4-7 the nesting limit; byte 1 the split
// points; the rest is the client's stream. Checks: limits hold for every complete command,
// nothing is framed after a fatal error, and every parsed mailbox name is valid UTF-8 that
// survives a modified UTF-7 round trip, and the outcome does not depend on the split points.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/imap/command_reader.hpp"
#include "reference-server/imap/mutf7.hpp"
#include "reference-server/imap/parser.hpp"
#include "reference-server/imap/response_format.hpp"

namespace {

using namespace mailsim;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "imap_command invariant broken: %s\n", what);
  std::abort();
}

void check_mailbox(const std::string& name) {
  if (!imap::is_valid_utf8(name)) fail("mailbox name is not UTF-8");
  const auto encoded = imap::utf8_to_mutf7(name);
  if (!encoded || imap::mutf7_to_utf8(*encoded) != name) fail("mailbox round trip");
  (void)imap::format_astring(*encoded);
}

void check_command(const imap::command& cmd) {
  if (cmd.tag.empty()) fail("empty tag");
  if (const auto* sel = std::get_if<imap::select_args>(&cmd.args)) check_mailbox(sel->mailbox);
  if (const auto* box = std::get_if<imap::mailbox_args>(&cmd.args)) check_mailbox(box->mailbox);
  if (const auto* app = std::get_if<imap::append_args>(&cmd.args)) check_mailbox(app->mailbox);
  if (const auto* copy = std::get_if<imap::copy_args>(&cmd.args)) {
    check_mailbox(copy->mailbox);
    (void)imap::to_string(copy->set);
  }
  (void)imap::command_name_text(cmd.name);
}

imap::reader_limits limits_for(std::uint8_t flags) {
  imap::reader_limits limits;
  if ((flags & 2) != 0) {
    limits.line_bytes_max = 64;
    limits.literal_bytes_max = 32;
    limits.literals_per_command_max = 3;
    limits.command_bytes_max = 128;
  }
  limits.nonsync_literal_bytes_max =
      (flags & 4) != 0 ? limits.literal_bytes_max : imap::literal_minus_bytes_max;
  return limits;
}

// Runs the whole stream, fed as `pieces` gives it, and returns a transcript of the events.
std::string run(fuzz::splitter pieces, std::uint8_t flags, const imap::parse_options& options) {
  const imap::reader_limits limits = limits_for(flags);
  imap::command_reader reader(limits);
  std::string transcript;
  bool closed = false;
  while (!pieces.done()) {
    reader.feed(pieces.next());
    for (;;) {
      imap::read_event ev = reader.next();
      if (ev.state == imap::read_event::status::need_more) break;
      if (closed) return transcript;
      transcript += std::to_string(static_cast<int>(ev.state)) + ev.tag.value_or("-") + ";";
      if (ev.state == imap::read_event::status::error) {
        transcript += std::to_string(ev.error.value());
        closed = ev.fatal;
        continue;
      }
      if (ev.state == imap::read_event::status::continuation_needed) {
        if (ev.literal_bytes > limits.literal_bytes_max) fail("accepted an over-size literal");
        if ((flags & 8) != 0) reader.refuse_literal();
        continue;
      }
      if (ev.command.total_bytes() > limits.command_bytes_max) fail("command over the limit");
      for (const imap::segment& seg : ev.command.segments) transcript += seg.bytes + "|";
      const imap::parse_result r = imap::parse_command(ev.command, options);
      if (r.value) check_command(*r.value);
      if (!r.value && r.error.text.empty()) fail("error without text");
      transcript += r.value ? "ok" : r.error.text;
      (void)imap::is_idle_done(ev.command);
    }
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  const std::uint8_t seed = in.byte();
  imap::parse_options options;
  options.utf8_accept = (flags & 1) != 0;
  options.nesting_depth_max = 1u + (flags >> 4);
  // The same bytes must frame and parse the same however they are split (line by line is
  // the one split that arrives whole for every line).
  const std::string split = run(fuzz::splitter(in.rest(), seed), flags, options);
  const std::string lines = run(fuzz::splitter(in.rest(), seed, true), flags, options);
  if (split != lines) fail("the outcome depends on how the stream was split");
  return 0;
}
