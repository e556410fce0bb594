// Fuzz target: the whole POP3 server session (reference-server/pop3/session.hpp) over a
// memory maildrop. Header: byte 0 chooses options (TLS, plaintext logins, mechanisms),
// byte 1 the maildrop's failures (open, lock, commit, unreadable message) and whether the
// server shuts down midway, byte 2 the split points (bit 7: one line per piece); the rest is
// the client's byte stream. Events are handled as a driver would: auth runs run_auth(), stls
// calls tls_started(). Limits are small so that inputs reach them. Besides crashes, the
// target checks two promises: nothing is committed without a QUIT, and the session stops
// asking for events.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/pop3/session.hpp"
#include "tests/unit/pop3/memory_maildrop.hpp"

namespace {

using namespace mailsim;

pop3::test::memory_mailboxes make_mailboxes() {
  pop3::test::memory_mailboxes m;
  m.boxes["alice@example.test"] = {
      {"u1", "Subject: one\r\n\r\nHello\r\n"},
      {"u2", "Subject: two\r\n\r\n.dot\r\n..\r\nno final newline"},
      {"u3", "Subject: header only"},
      {"u4", ""},
  };
  return m;
}

const pop3::test::test_credentials& credentials() {
  static const pop3::test::test_credentials store;
  return store;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "pop3_session: %s\n", what);
  std::abort();
}

void drain(pop3::session& s, std::string& wire) {
  for (int guard = 0;; ++guard) {
    if (guard > 100000) fail("the session keeps producing events");
    const pop3::event_kind ev = s.next_event();
    wire += s.take_output();
    switch (ev) {
      case pop3::event_kind::need_more:
      case pop3::event_kind::close: return;
      case pop3::event_kind::auth: s.run_auth(); break;
      case pop3::event_kind::stls: s.tls_started(); break;
      case pop3::event_kind::write: break;  // the output was taken above
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t f0 = in.byte();
  const std::uint8_t f1 = in.byte();
  const std::uint8_t seed = in.byte();

  pop3::options opts;
  opts.hostname = "pop.example.test";
  opts.tls_available = (f0 & 1) != 0;
  opts.tls_active = (f0 & 2) != 0;
  opts.allow_plaintext_auth = (f0 & 4) == 0;
  if ((f0 & 8) != 0) opts.auth_mechanisms = {"PLAIN", "LOGIN", "X-UNKNOWN"};
  if ((f0 & 16) != 0) opts.auth_mechanisms.clear();

  pop3::limits lim;
  lim.line_bytes_max = 200;
  lim.errors_max = (f0 & 32) != 0 ? 0 : 6;  // 0: no error limit
  lim.auth_failures_max = 2;

  pop3::test::memory_mailboxes boxes = make_mailboxes();
  boxes.fail_open = (f1 & 1) != 0;
  if ((f1 & 2) != 0) boxes.locked.insert("alice@example.test");
  boxes.fail_commit = (f1 & 4) != 0;
  if ((f1 & 8) != 0) boxes.unreadable.insert(1);
  const bool shutdown_midway = (f1 & 16) != 0;
  pop3::test::memory_opener opener(boxes);

  core::manual_clock clock;
  core::splitmix_random random(1);
  std::string wire;
  {
    pop3::session s(opts, lim, {&clock, &random, &credentials(), &opener});
    s.start();
    drain(s, wire);
    fuzz::splitter pieces(in.rest(), seed, (seed & 0x80) != 0);
    std::size_t fed = 0;
    while (!pieces.done() && !s.closed()) {
      s.feed(pieces.next());
      drain(s, wire);
      if (shutdown_midway && ++fed == 4) {
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
  if (!boxes.commits.empty() && wire.find("signing off (") == std::string::npos) {
    fail("deletions committed without a successful QUIT");
  }
  if (!boxes.locked.empty() && (f1 & 2) == 0) fail("the maildrop lock outlived the session");
  return 0;
}
