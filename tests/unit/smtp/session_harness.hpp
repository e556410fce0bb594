// Test harness for the SMTP server session: feeds input pieces, answers events with a
// scripted policy, and records the transcript of replies and the messages accepted.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/smtp/server_session.hpp"
#include "tests/support/byte_split.hpp"

namespace mailsim::smtp::test {

struct accepted_message {
  envelope env;
  std::string content;
};

// The policy: default accepts everything; a test may refuse some events.
using policy_fn = std::function<decision(server_event_kind, const server_session&)>;

struct session_run {
  std::string output;                       // every byte the server wrote
  std::vector<accepted_message> messages;   // every message event that was accepted
  std::vector<server_event_kind> events;    // every event, in order
  bool closed = false;
  int tls_handshakes = 0;
};

struct harness_config {
  server_options options;
  limits lim;
  policy_fn policy;
  const sasl::credential_store* credentials = nullptr;
  bool eof_at_end = true;
};

inline decision accept_all(server_event_kind, const server_session&) { return decision::accept(); }

// A session driven by hand, step by step, already past its 220 greeting.
struct manual_session {
  core::manual_clock clock;
  core::splitmix_random random{1};
  server_session s;

  explicit manual_session(const harness_config& config)
      : s(config.options, config.lim, {&clock, &random, config.credentials}) {
    s.next_event();
    s.submit(decision::accept());
  }
};

// Runs one session over the given input pieces.
inline session_run run_session(const mailsim::test::pieces& input, const harness_config& config) {
  core::manual_clock clock;
  core::splitmix_random random(1);
  server_session s(config.options, config.lim, {&clock, &random, config.credentials});
  session_run run;
  policy_fn policy = config.policy ? config.policy : policy_fn(accept_all);
  auto drain = [&] {
    for (;;) {
      server_event ev = s.next_event();
      run.output += s.take_output();
      if (ev.kind == server_event_kind::need_more) return;
      if (ev.kind == server_event_kind::waiting) {
        // A delayed reply (AUTH failure): let virtual time pass.
        auto deadline = s.next_deadline();
        if (!deadline) return;
        clock.set(*deadline);
        s.on_timeout(clock.now());
        continue;
      }
      run.events.push_back(ev.kind);
      if (ev.kind == server_event_kind::close) {
        run.closed = true;
        return;
      }
      if (ev.kind == server_event_kind::auth) {  // a driver may do this on a worker thread
        s.run_auth();
        continue;
      }
      if (ev.kind == server_event_kind::starttls) {
        ++run.tls_handshakes;
        s.tls_started();
        continue;
      }
      decision d = policy(ev.kind, s);
      if (ev.kind == server_event_kind::message && d.type == decision::kind::accept) {
        run.messages.push_back({s.current_envelope(), std::string(s.message())});
      }
      s.submit(d);
    }
  };
  drain();
  for (auto piece : input) {
    if (run.closed) break;
    s.feed(piece);
    drain();
  }
  if (config.eof_at_end && !run.closed) {
    s.feed_eof();
    drain();
  }
  run.output += s.take_output();
  return run;
}

// Runs the session over every split of `input` and checks that all runs agree with the
// first; returns the first.
inline session_run run_every_split(std::string_view input, const harness_config& config) {
  session_run first;
  bool have_first = false;
  mailsim::test::for_each_split(input, [&](const mailsim::test::pieces& p) {
    session_run r = run_session(p, config);
    if (!have_first) {
      first = r;
      have_first = true;
      return;
    }
    EXPECT_EQ(mailsim::test::printable(r.output), mailsim::test::printable(first.output))
        << "split into " << p.size() << " pieces";
    EXPECT_EQ(r.messages.size(), first.messages.size());
    for (std::size_t i = 0; i < std::min(r.messages.size(), first.messages.size()); ++i) {
      EXPECT_EQ(r.messages[i].content, first.messages[i].content);
    }
  });
  return first;
}

}  // namespace mailsim::smtp::test
