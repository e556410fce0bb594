// Fuzz target: the whole IMAP server session (reference-server/imap/session.hpp) over the
// memory backend of tests/unit/imap_session. Header: byte 0 chooses options (TLS,
// plaintext logins, mechanisms, error limit), byte 1 the backend's failures (account open,
// append), whether the server shuts down midway and whether the clock runs (IDLE polls and
// autologout), byte 2 the split points (bit 7: one line per piece); the rest is the
// client's byte stream. Events are handled as a driver would: auth runs run_auth(),
// starttls calls tls_started(). Limits are small so that inputs reach them. Besides
// crashes, the target checks that the session stops asking for events, closes at EOF and
// wants no timer once closed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/imap/session.hpp"
#include "tests/unit/imap_session/memory_backend.hpp"

namespace {

using namespace mailsim;

void fill(imap::test::memory_store& store) {
  const std::string alice = "alice@example.test";
  store.deliver(alice, "INBOX", "Subject: one\r\nFrom: a@b.c\r\n\r\nHello\r\n", imap::flag_seen);
  store.deliver(alice, "INBOX",
                "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--x--\r\n");
  store.deliver(alice, "INBOX", "no header at all");
  store.deliver(alice, "Sent", "");
}

const imap::test::test_credentials& credentials() {
  static const imap::test::test_credentials store;
  return store;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "imap_session: %s\n", what);
  std::abort();
}

void drain(imap::session& s, std::string& wire) {
  for (int guard = 0;; ++guard) {
    if (guard > 100000) fail("the session keeps producing events");
    const imap::event_kind ev = s.next_event();
    wire += s.take_output();
    switch (ev) {
      case imap::event_kind::need_more:
      case imap::event_kind::close: return;
      case imap::event_kind::auth: s.run_auth(); break;
      case imap::event_kind::starttls: s.tls_started(); break;
      case imap::event_kind::write: break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t f0 = in.byte();
  const std::uint8_t f1 = in.byte();
  const std::uint8_t seed = in.byte();

  imap::options opts;
  opts.hostname = "imap.example.test";
  opts.tls_available = (f0 & 1) != 0;
  opts.tls_active = (f0 & 2) != 0;
  opts.allow_plaintext_auth = (f0 & 4) == 0;
  if ((f0 & 8) != 0) opts.auth_mechanisms = {"PLAIN", "LOGIN", "X-UNKNOWN"};
  if ((f0 & 16) != 0) opts.auth_mechanisms.clear();

  imap::limits lim;
  lim.reader.line_bytes_max = 300;
  lim.reader.literal_bytes_max = 500;
  lim.reader.nonsync_literal_bytes_max = (f0 & 64) != 0 ? 500 : 100;
  lim.reader.command_bytes_max = 2000;
  lim.reader.literals_per_command_max = 4;
  lim.errors_max = (f0 & 32) != 0 ? 0 : 8;  // 0: no error limit
  lim.auth_failures_max = 2;

  imap::test::memory_store store;
  fill(store);
  store.fail_account_open = (f1 & 1) != 0;
  store.fail_append = (f1 & 2) != 0;
  const bool shutdown_midway = (f1 & 4) != 0;
  const bool clock_runs = (f1 & 8) != 0;
  imap::test::memory_opener opener(store);

  core::manual_clock clock;
  core::splitmix_random random(1);
  std::string wire;
  {
    imap::session s(opts, lim, {&clock, &random, &credentials(), &opener});
    s.start();
    drain(s, wire);
    fuzz::splitter pieces(in.rest(), seed, (seed & 0x80) != 0);
    std::size_t fed = 0;
    while (!pieces.done() && !s.closed()) {
      s.feed(pieces.next());
      drain(s, wire);
      ++fed;
      if (clock_runs) {
        clock.advance(core::duration_ms(400));
        if (auto deadline = s.next_deadline(); deadline && *deadline <= clock.now()) {
          s.on_timeout(clock.now());
          drain(s, wire);
        }
      }
      if (shutdown_midway && fed == 6) {
        s.shutdown();
        drain(s, wire);
      }
    }
    if (!s.closed()) {
      s.feed_eof();
      drain(s, wire);
    }
    if (!s.closed()) fail("open after EOF");
    if (s.next_deadline()) fail("a closed session wants a timeout");
  }
  return 0;
}
