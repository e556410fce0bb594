// Fuzz target: the SMTP reply parser (reference-server/smtp/reply.hpp). Byte 0 chooses the
// split points; the rest is the server's byte stream, fed in pieces, with every complete
// reply taken after each piece.
#include <cstddef>
#include <cstdint>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/smtp/reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  fuzz::input in(data, size);
  const std::uint8_t seed = in.byte();
  fuzz::splitter pieces(in.rest(), seed);
  smtp::reply_parser parser(smtp::reply_limits{256, 8});  // small, so inputs reach them
  while (!pieces.done()) {
    parser.feed(pieces.next());
    for (;;) {
      smtp::reply_event ev = parser.next();
      if (ev.state != smtp::reply_event::status::reply) break;
      (void)ev.value.text();
      (void)smtp::format(ev.value);
    }
  }
  return 0;
}
