// Test harness for the POP3 session: runs a session over input pieces the way a driver
// would (auth events run run_auth(), stls events "do" the handshake at once) and records
// what the server wrote.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/pop3/session.hpp"
#include "tests/support/byte_split.hpp"
#include "tests/support/session_runs.hpp"
#include "tests/unit/pop3/memory_maildrop.hpp"

namespace mailsim::pop3::test {

struct session_run {
  std::string output;              // every byte the server wrote
  std::vector<event_kind> events;  // every event other than need_more, in order
  bool closed = false;
  int tls_handshakes = 0;
};

struct harness_config {
  options opts = default_options();
  limits lim;
  bool eof_at_end = true;

  static options default_options() {
    options o;
    o.hostname = "pop.example.test";
    o.allow_plaintext_auth = true;
    return o;
  }
};

// Two messages for alice: a plain one and one with a dot-stuffing trap.
inline memory_mailboxes sample_mailboxes() {
  memory_mailboxes m;
  m.boxes["alice@example.test"] = {
      {"uid-one", "Subject: one\r\n\r\nHello\r\n"},
      {"uid-two", "Subject: two\r\n\r\n.hidden\r\nline 2\r\n..\r\nlast\r\n"},
  };
  m.boxes["bob@example.test"] = {};
  return m;
}

// Everything a session needs, owned together.
struct fixture {
  core::manual_clock clock;
  core::splitmix_random random{7};
  test_credentials credentials;
  memory_mailboxes mailboxes = sample_mailboxes();
  memory_opener opener{mailboxes};

  deps make_deps() { return {&clock, &random, &credentials, &opener}; }
};

// Answers events until the session needs input or closed.
inline void drain(session& s, session_run& run) {
  for (int guard = 0; guard < 100000; ++guard) {
    event_kind ev = s.next_event();
    run.output += s.take_output();
    if (ev == event_kind::need_more) return;
    run.events.push_back(ev);
    switch (ev) {
      case event_kind::auth:
        s.run_auth();
        break;
      case event_kind::stls:
        ++run.tls_handshakes;
        s.tls_started();
        break;
      case event_kind::write:  // the output was taken above
        break;
      case event_kind::close:
        run.closed = true;
        return;
      case event_kind::need_more:
        return;
    }
  }
  ADD_FAILURE() << "the session keeps producing events";
}

inline session_run run_session(fixture& f, const mailsim::test::pieces& input,
                               const harness_config& config) {
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  mailsim::test::run_pieces(s, run, input, config.eof_at_end, drain);
  return run;
}

inline session_run run_session(std::string_view input, const harness_config& config = {}) {
  fixture f;
  return run_session(f, {input}, config);
}

// Runs the session over every split of `input`, each with fresh mailboxes, and checks that
// all runs write the same bytes; returns the first run.
inline session_run run_every_split(std::string_view input, const harness_config& config = {}) {
  return mailsim::test::same_output_every_split(input, [&](const mailsim::test::pieces& p) {
    fixture f;
    return run_session(f, p, config);
  });
}

inline constexpr std::string_view greeting = "+OK POP3 mailsim ready\r\n";
inline constexpr std::string_view login = "USER alice@example.test\r\nPASS secret\r\n";
inline constexpr std::string_view login_reply =
    "+OK send PASS\r\n+OK maildrop has 2 messages (66 octets)\r\n";

// The replies after the greeting, as a readable string.
inline std::string replies(const session_run& run) {
  std::string out = run.output;
  if (out.rfind(greeting, 0) == 0) out.erase(0, greeting.size());
  return mailsim::test::printable(out);
}

}  // namespace mailsim::pop3::test
