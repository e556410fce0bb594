// Test harness for the IMAP session: runs sessions the way a driver would (auth events run
// run_auth(), starttls events "do" the handshake at once) over a shared memory store, and
// records what the server wrote.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/imap/session.hpp"
#include "tests/support/byte_split.hpp"
#include "tests/support/session_runs.hpp"
#include "tests/unit/imap_session/memory_backend.hpp"

namespace mailsim::imap::test {

inline constexpr std::string_view alice = "alice@example.test";

inline const std::string& plain_message() {
  static const std::string text =
      "From: Bob <bob@example.test>\r\n"
      "To: alice@example.test\r\n"
      "Subject: hello\r\n"
      "Date: Mon, 13 Nov 2023 10:00:00 +0000\r\n"
      "\r\n"
      "Hello Alice\r\n";
  return text;
}

inline const std::string& multipart_message() {
  static const std::string text =
      "From: Carol <carol@example.test>\r\n"
      "To: alice@example.test\r\n"
      "Subject: report\r\n"
      "Date: Tue, 14 Nov 2023 09:30:00 +0100\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n"
      "See attached.\r\n"
      "--b1\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "AAECAw==\r\n"
      "--b1--\r\n";
  return text;
}

// alice's INBOX: the plain message (UID 1, \Seen) and the multipart one (UID 2).
inline void fill_sample(memory_store& store) {
  store.deliver(std::string(alice), "INBOX", plain_message(), flag_seen);
  store.deliver(std::string(alice), "INBOX", multipart_message());
  store.account("bob@example.test");
}

struct harness_config {
  options opts = default_options();
  limits lim;
  bool eof_at_end = true;

  static options default_options() {
    options o;
    o.hostname = "imap.example.test";
    o.allow_plaintext_auth = true;
    o.tls_available = true;
    return o;
  }
};

struct fixture {
  core::manual_clock clock;
  core::splitmix_random random{7};
  test_credentials credentials;
  memory_store store;
  memory_opener opener{store};

  fixture() { fill_sample(store); }
  deps make_deps() { return {&clock, &random, &credentials, &opener}; }
};

struct session_run {
  std::string output;
  std::vector<event_kind> events;
  bool closed = false;
  int tls_handshakes = 0;
  int writes = 0;  // event_kind::write: a FETCH answered in parts
};

// Answers events until the session needs input or closed.
inline void drain(session& s, session_run& run) {
  for (int guard = 0; guard < 100000; ++guard) {
    event_kind ev = s.next_event();
    run.output += s.take_output();
    if (ev == event_kind::need_more) return;
    if (ev == event_kind::write) {  // a long answer in parts: the output above took it
      ++run.writes;
      continue;
    }
    run.events.push_back(ev);
    switch (ev) {
      case event_kind::auth:
        s.run_auth();
        break;
      case event_kind::starttls:
        ++run.tls_handshakes;
        s.tls_started();
        break;
      case event_kind::close:
        run.closed = true;
        return;
      case event_kind::need_more:
      case event_kind::write:
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

// Runs the session over every split of `input`, each with fresh store, and checks that
// all runs write the same bytes; returns the first run.
inline session_run run_every_split(std::string_view input, const harness_config& config = {}) {
  return mailsim::test::same_output_every_split(input, [&](const mailsim::test::pieces& p) {
    fixture f;
    return run_session(f, p, config);
  });
}

// One interactive client: send() feeds bytes and returns what the server answered.
class client {
 public:
  explicit client(fixture& f, const harness_config& config = {})
      : session_(config.opts, config.lim, f.make_deps()) {
    session_.start();
    drain(session_, run_);
    greeting_ = std::exchange(run_.output, {});
  }
  std::string send(std::string_view bytes) {
    session_.feed(bytes);
    drain(session_, run_);
    return std::exchange(run_.output, {});
  }
  std::string login() { return send("L1 LOGIN alice@example.test secret\r\n"); }
  std::string greeting() const { return greeting_; }
  bool closed() const { return run_.closed; }
  session& raw() { return session_; }
  std::string pump() {
    drain(session_, run_);
    return std::exchange(run_.output, {});
  }

 private:
  session session_;
  session_run run_;
  std::string greeting_;
};

// A client logged in with INBOX selected.
struct selected_client {
  fixture f;
  client c{f};
  selected_client() {
    c.login();
    c.send("s SELECT INBOX\r\n");
  }
};

// Removal by "another program": the message leaves alice's folder without any session
// being told, as when a Maildir file is deleted under an open mailbox. False when there is
// no such folder.
inline bool expunge_outside(fixture& f, const std::string& mailbox, std::uint32_t uid) {
  memory_folder* folder = f.store.folder(std::string(alice), mailbox);
  if (folder == nullptr) return false;
  std::erase_if(folder->entries, [uid](const message_entry& e) { return e.uid == uid; });
  folder->texts.erase(uid);
  ++folder->highest_modseq;
  return true;
}

}  // namespace mailsim::imap::test
