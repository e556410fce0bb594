// Fuzz target: the DATA reader (reference-server/smtp/data_reader.hpp). Byte 0 chooses the
// bare-newline policy and a small size limit, byte 1 the split points; the rest is the
// stream after "354". Checks: feed() never consumes more than it was given, and once done,
// the message holds no bare LF unless the reader recorded one under the reject policy.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/smtp/data_reader.hpp"

namespace {

bool has_bare_lf(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
  }
  return false;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "data_reader invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  smtp::data_reader_options options;
  options.bare_newlines =
      (flags & 1) != 0 ? smtp::bare_newline_policy::normalize : smtp::bare_newline_policy::reject;
  options.message_bytes_max = (flags & 2) != 0 ? (flags >> 2) * 8u : 1u << 20;
  const std::uint8_t seed = in.byte();
  std::string out;
  smtp::data_reader reader(options, out);
  fuzz::splitter pieces(in.rest(), seed);
  while (!pieces.done() && !reader.done()) {
    const std::string_view piece = pieces.next();
    const std::size_t consumed = reader.feed(piece);
    if (consumed > piece.size()) fail("consumed more than the input");
    if (consumed < piece.size() && !reader.done()) fail("stopped early without the end line");
  }
  if (reader.done() && has_bare_lf(out) &&
      (options.bare_newlines == smtp::bare_newline_policy::normalize || !reader.saw_bare_newline())) {
    fail("bare LF in the message");
  }
  if (reader.total_bytes() < out.size()) fail("total_bytes below the message size");
  return 0;
}
