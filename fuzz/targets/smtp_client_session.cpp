// Fuzz target: the SMTP client session against hostile replies
// (reference-server/smtp/client_session.hpp). Byte 0 chooses options, byte 1 the split
// points (bit 7: one line per piece); the rest is the server's byte stream. The client starts one transaction when
// ready, then quits; starttls events get tls_started(); at the end, EOF and the deadline.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/smtp/address.hpp"
#include "reference-server/smtp/client_session.hpp"

namespace {

using namespace mailsim;

smtp::path address(std::string_view text) {
  smtp::address_options o;
  o.allow_null = true;
  return *smtp::parse_path(text, o).value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t f0 = in.byte();
  const std::uint8_t seed = in.byte();

  smtp::client_options options;
  options.helo_name = "c.test";
  options.starttls = static_cast<smtp::tls_policy>((f0 & 3) % 3);
  options.tls_active = (f0 & 4) != 0;
  if ((f0 & 8) != 0) options.credentials = smtp::client_credentials{"alice@mx.test", "secret"};
  options.cleartext_auth_without_tls = (f0 & 16) != 0;
  options.use_pipelining = (f0 & 32) == 0;
  options.prefer_bdat = (f0 & 64) != 0;
  const bool eight_bit = (f0 & 128) != 0;

  smtp::client_limits lim;
  lim.replies = smtp::reply_limits{256, 16};
  lim.recipients_max = 3;
  lim.data_block_bytes = 16;

  smtp::envelope env;
  env.reverse_path = address("<a@c.test>");
  env.recipients.push_back({address("<b@mx.test>"), {}, std::nullopt});
  env.recipients.push_back({address("<c@mx.test>"), {}, std::nullopt});
  const std::string message = eight_bit ? "Subject: \xc3\xa9\r\n\r\n.dot\r\nbody\r\n"
                                        : "Subject: x\r\n\r\n.dot\r\nbody\r\n";

  core::manual_clock clock;
  core::splitmix_random random(3);
  smtp::client_session c(options, lim, {&clock, &random});
  bool started = false;

  auto drain = [&] {
    for (int guard = 0;; ++guard) {
      if (guard > 100000) {
        std::fprintf(stderr, "client_session keeps producing events\n");
        std::abort();
      }
      const smtp::client_event ev = c.next_event();
      const bool wrote = c.has_output();
      while (c.has_output()) (void)c.take_output();
      switch (ev.kind) {
        case smtp::client_event_kind::need_more:
        case smtp::client_event_kind::waiting:
          if (wrote) continue;  // replies already fed may answer what was just written
          return;
        case smtp::client_event_kind::closed:
          return;
        case smtp::client_event_kind::ready_for_transaction:
          if (!started) {
            started = true;
            (void)c.start_transaction(env, message);
          } else {
            (void)c.quit();
          }
          break;
        case smtp::client_event_kind::starttls:
          c.tls_started();
          break;
        default:
          break;
      }
    }
  };

  drain();
  fuzz::splitter pieces(in.rest(), seed, (seed & 0x80) != 0);
  while (!pieces.done() && !c.closed()) {
    c.feed(pieces.next());
    drain();
  }
  if (!c.closed()) {
    c.feed_eof();
    drain();
  }
  if (const auto deadline = c.next_deadline(); deadline && !c.closed()) {
    clock.set(*deadline);
    c.on_timeout(clock.now());
    drain();
  }
  return 0;
}
