// Client session tests without a server: hand-written server transcripts, split at every
// byte boundary, that the client must end cleanly whatever they say; the RFC 5321
// §4.5.3.2 timeouts on a manual clock; calls the client refuses.
#include <gtest/gtest.h>

#include <algorithm>

#include "reference-server/smtp/client_session.hpp"
#include "tests/support/byte_split.hpp"
#include "tests/unit/smtp/client_fixtures.hpp"

namespace mailsim::smtp {
namespace {

using client_test::job;
using client_test::make_envelope;
using mailsim::test::printable;

// ---------------------------------------------------------------------------------------
// Hand-written server transcripts

struct script_result {
  std::vector<client_event> events;
  std::string output;
  client_event closed;
  bool ended = false;  // a closed event was seen
};

// Feeds the pieces as the server's bytes, starting `jobs` at each ready_for_transaction and
// quitting when they are done (or never, when `quit` is false); then EOF.
script_result run_script(const client_options& options, const mailsim::test::pieces& input,
                         const std::vector<job>& jobs, bool quit = true, client_limits lim = {}) {
  core::manual_clock clock;
  core::splitmix_random random(3);
  client_session c(options, lim, {&clock, &random});
  script_result out;
  std::size_t next = 0;
  auto drain = [&] {
    for (int guard = 0; guard < 100000; ++guard) {
      client_event ev = c.next_event();
      const bool wrote = c.has_output();
      while (c.has_output()) out.output += c.take_output();
      if (ev.kind == client_event_kind::need_more || ev.kind == client_event_kind::waiting) {
        if (wrote) continue;  // the replies already fed may answer what was just written
        return;
      }
      if (ev.kind == client_event_kind::closed) {
        out.closed = ev;
        out.ended = true;
        return;
      }
      if (ev.kind == client_event_kind::ready_for_transaction) {
        if (next < jobs.size()) {
          c.start_transaction(jobs[next].env, jobs[next].message);
          ++next;
        } else if (quit) {
          c.quit();
        }
      }
      if (ev.kind == client_event_kind::starttls) c.tls_started();
      out.events.push_back(std::move(ev));
    }
    ADD_FAILURE() << "the client keeps producing events";
  };
  drain();
  for (auto piece : input) {
    c.feed(piece);
    drain();
  }
  c.feed_eof();
  drain();
  EXPECT_TRUE(c.closed());
  EXPECT_FALSE(c.next_deadline().has_value());
  return out;
}

struct script_case {
  std::string name;
  std::string server;   // the server's bytes
  close_reason reason;  // how the client must end
};

TEST(client_session, hostile_replies_end_cleanly_at_every_split) {
  client_options options;
  options.helo_name = "client.test";
  std::string thousand_lines = "220 hi\r\n";
  for (int i = 0; i < 999; ++i) thousand_lines += "250-EXT" + std::to_string(i) + "\r\n";
  thousand_lines += "250 END\r\n";
  const std::vector<script_case> cases = {
      {"garbage", "hello there\r\n", close_reason::protocol_error},
      {"binary garbage", std::string("\x16\x03\x01\x00\xa5\x01\x00\r\n", 9),
       close_reason::protocol_error},
      {"binary without line end", std::string("\x16\x03\x01\x00\xa5", 5),
       close_reason::peer_closed},
      {"mismatched multiline", "220-mx.test\r\n230 different\r\n", close_reason::protocol_error},
      {"mismatched ehlo", "220 mx\r\n250-mx\r\n251 PIPELINING\r\n", close_reason::protocol_error},
      {"over-long line", "220 " + std::string(5000, 'x') + "\r\n", close_reason::protocol_error},
      {"1000-line reply", thousand_lines, close_reason::protocol_error},
      {"code out of range", "220 mx\r\n199 what\r\n", close_reason::protocol_error},
      {"code too short", "22\r\n", close_reason::protocol_error},
      {"no separator", "220mx.test\r\n", close_reason::protocol_error},
      {"unsolicited reply", "220 mx\r\n250 mx\r\n250 extra\r\n", close_reason::protocol_error},
      {"421 greeting", "421 4.3.2 mx busy\r\n", close_reason::service_unavailable},
      {"554 greeting", "554 5.7.1 go away\r\n221 bye\r\n", close_reason::greeting_refused},
      {"silence", "", close_reason::peer_closed},
      {"half a reply", "220 mx\r\n250-mx\r\n250-PIPE", close_reason::peer_closed},
      {"ehlo and helo refused", "220 mx\r\n502 no\r\n501 no\r\n221 bye\r\n",
       close_reason::helo_refused},
  };
  for (const auto& c : cases) {
    script_result first;
    bool have_first = false;
    mailsim::test::for_each_split(c.server, [&](const mailsim::test::pieces& p) {
      script_result r = run_script(options, p, {}, false);
      EXPECT_TRUE(r.ended) << c.name;
      EXPECT_EQ(r.closed.reason, c.reason)
          << c.name << ": " << close_reason_name(r.closed.reason) << " " << r.closed.detail;
      if (!have_first) {
        first = r;
        have_first = true;
        return;
      }
      EXPECT_EQ(printable(r.output), printable(first.output)) << c.name;
      EXPECT_EQ(r.closed.detail, first.closed.detail) << c.name;
    });
  }
}

TEST(client_session, hostile_replies_during_a_transaction_fail_it_as_transient) {
  client_options options;
  std::vector<job> jobs = {{make_envelope("<a@c.test>", {"<b@mx.test>"}), "x\r\n"}};
  const std::string setup = "220 mx\r\n250-mx\r\n250 PIPELINING\r\n";
  const std::vector<script_case> cases = {
      {"garbage after MAIL", setup + "250 ok\r\nnonsense\r\n", close_reason::protocol_error},
      {"421 after RCPT", setup + "250 ok\r\n421 4.3.2 bye\r\n", close_reason::service_unavailable},
      {"EOF after the dot", setup + "250 ok\r\n250 ok\r\n354 go\r\n", close_reason::peer_closed},
      {"250 to DATA", setup + "250 ok\r\n250 ok\r\n250 what\r\n", close_reason::protocol_error},
      {"mismatch in final", setup + "250 ok\r\n250 ok\r\n354 go\r\n250-a\r\n550 b\r\n",
       close_reason::protocol_error},
  };
  for (const auto& c : cases) {
    mailsim::test::for_each_split(c.server, [&](const mailsim::test::pieces& p) {
      script_result r = run_script(options, p, jobs, false);
      EXPECT_EQ(r.closed.reason, c.reason) << c.name << ": " << r.closed.detail;
      auto result = std::find_if(r.events.begin(), r.events.end(), [](const client_event& e) {
        return e.kind == client_event_kind::transaction_result;
      });
      ASSERT_NE(result, r.events.end()) << c.name;
      EXPECT_EQ(result->result.answer.code / 100, 4) << c.name;
      ASSERT_EQ(result->result.recipients.size(), 1u);
      EXPECT_FALSE(result->result.recipients[0].delivered()) << c.name;
      EXPECT_EQ(result->result.recipients[0].answer.code / 100, 4) << c.name;
    });
  }
}

TEST(client_session, bare_lf_replies_are_tolerated_like_crlf) {
  // The reply parser accepts LF-terminated replies from remote servers (reply.hpp); the
  // client must then behave exactly as with CRLF.
  client_options options;
  std::vector<job> jobs = {{make_envelope("<a@c.test>", {"<b@mx.test>"}), "x\r\n"}};
  const std::string server = "220 mx\n250 mx\n250 ok\n250 ok\n354 go\n250 queued\n221 bye\n";
  mailsim::test::for_each_split(server, [&](const mailsim::test::pieces& p) {
    script_result r = run_script(options, p, jobs);
    EXPECT_EQ(r.closed.reason, close_reason::quit) << r.closed.detail;
    EXPECT_EQ(printable(r.output),
              printable("EHLO localhost\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\n"
                        "DATA\r\nx\r\n.\r\nQUIT\r\n"));
  });
}

TEST(client_session, helo_fallback_when_ehlo_is_refused) {
  client_options options;
  options.helo_name = "client.test";
  std::vector<job> jobs = {
      {make_envelope("<a@c.test>", {"<b@mx.test>"}), "Subject: old\r\n\r\nplain\r\n"}};
  for (const std::string code : {"500", "502", "504", "550"}) {
    const std::string server = "220 old.test SMTP\r\n" + code +
                               " 5.5.1 EHLO? never heard of it\r\n"
                               "250 old.test\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n"
                               "250 accepted\r\n221 bye\r\n";
    mailsim::test::for_each_split(server, [&](const mailsim::test::pieces& p) {
      script_result r = run_script(options, p, jobs);
      EXPECT_EQ(r.closed.reason, close_reason::quit) << code;
      // No ESMTP parameters after HELO, and one command at a time.
      EXPECT_EQ(printable(r.output),
                printable("EHLO client.test\r\nHELO client.test\r\nMAIL FROM:<a@c.test>\r\n"
                          "RCPT TO:<b@mx.test>\r\nDATA\r\nSubject: old\r\n\r\nplain\r\n.\r\n"
                          "QUIT\r\n"))
          << code;
    });
  }
}

TEST(client_session, starttls_drops_bytes_pipelined_before_the_handshake) {
  client_options options;
  options.starttls = tls_policy::required;
  // "250 injected" arrives in clear text right after the 220 (the client side of
  // CVE-2011-0411): it must not be taken as the answer to the EHLO sent after TLS.
  const std::string before = "220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go ahead\r\n250 injected\r\n";
  const std::string after = "250-mx\r\n250 SIZE 1000\r\n221 bye\r\n";
  core::manual_clock clock;
  core::splitmix_random random(1);
  client_session c(options, {}, {&clock, &random});
  c.feed(before);
  std::vector<client_event_kind> kinds;
  std::string written;
  for (int guard = 0; guard < 100; ++guard) {
    client_event ev = c.next_event();
    if (ev.kind == client_event_kind::need_more && c.has_output()) {
      written += c.take_output();
      continue;
    }
    if (ev.kind == client_event_kind::waiting) break;
    kinds.push_back(ev.kind);
  }
  ASSERT_EQ(kinds, std::vector<client_event_kind>{client_event_kind::starttls});
  EXPECT_EQ(written, "EHLO localhost\r\nSTARTTLS\r\n");
  c.feed("250 also injected, during the handshake\r\n");
  c.tls_started();
  EXPECT_EQ(c.take_output(), "EHLO localhost\r\n");
  c.feed(after);
  EXPECT_EQ(c.next_event().kind, client_event_kind::ready_for_transaction);
  EXPECT_FALSE(c.has_output());
  EXPECT_TRUE(c.capabilities().size);
  EXPECT_EQ(c.capabilities().size_max, 1000u);
  EXPECT_TRUE(c.tls_active());
}

TEST(client_session, starttls_refused_under_required_policy_quits) {
  client_options options;
  options.starttls = tls_policy::required;
  const std::string server =
      "220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n221 bye\r\n";
  script_result r = run_script(options, {server}, {});
  EXPECT_EQ(r.closed.reason, close_reason::tls_required);
  EXPECT_EQ(r.closed.answer.code, 454);
  EXPECT_EQ(r.output, "EHLO localhost\r\nSTARTTLS\r\nQUIT\r\n");
  // Opportunistic: go on in clear text.
  options.starttls = tls_policy::opportunistic;
  r = run_script(options, {server}, {});
  EXPECT_EQ(r.closed.reason, close_reason::quit);
}

TEST(client_session, auth_success_without_proof_is_not_accepted) {
  client_options options;
  options.credentials = client_credentials{"alice", "pw"};
  options.cleartext_auth_without_tls = true;
  // LOGIN has not sent the password yet when this server says 235.
  const std::string server = "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n235 2.7.0 sure\r\n221 bye\r\n";
  script_result r = run_script(options, {server}, {});
  EXPECT_EQ(r.closed.reason, close_reason::auth_failed);
  EXPECT_EQ(r.output, "EHLO localhost\r\nAUTH LOGIN\r\nQUIT\r\n");
}

TEST(client_session, bad_auth_challenge_cancels_the_exchange) {
  client_options options;
  options.credentials = client_credentials{"alice", "pw"};
  options.cleartext_auth_without_tls = true;
  const std::string server =
      "220 mx\r\n250-mx\r\n250 AUTH=LOGIN\r\n334 not*base64\r\n501 5.0.0 cancelled\r\n221 bye\r\n";
  script_result r = run_script(options, {server}, {});
  EXPECT_EQ(r.closed.reason, close_reason::auth_failed);
  EXPECT_EQ(r.closed.detail, "AUTH cancelled: challenge is not base64");
  EXPECT_EQ(r.output, "EHLO localhost\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n");
}

// ---------------------------------------------------------------------------------------
// Timeouts (RFC 5321 §4.5.3.2)

struct timed {
  core::manual_clock clock;
  core::splitmix_random random{5};
  client_session c;

  explicit timed(client_limits lim = {}, client_options options = {})
      : c(std::move(options), lim, {&clock, &random}) {}

  // The time left before the deadline.
  core::duration_ms left() {
    auto d = c.next_deadline();
    EXPECT_TRUE(d.has_value());
    return d ? *d - clock.now() : core::duration_ms{-1};
  }
  // Events until the client waits; with `write`, its output is taken (and kept in
  // `written`) whenever it asks for that.
  std::vector<client_event> drain(bool write = true) {
    std::vector<client_event> out;
    for (int guard = 0; guard < 1000; ++guard) {
      client_event ev = c.next_event();
      if (ev.kind == client_event_kind::need_more && write && c.has_output()) {
        while (c.has_output()) written += c.take_output();
        continue;
      }
      if (ev.kind == client_event_kind::need_more || ev.kind == client_event_kind::waiting) break;
      out.push_back(ev);
      if (ev.kind == client_event_kind::closed) break;
    }
    return out;
  }
  std::string written;
  void expire() {
    clock.set(*c.next_deadline() - core::duration_ms{1});
    c.on_timeout(clock.now());
    EXPECT_FALSE(c.closed());
    clock.advance(core::duration_ms{1});
    c.on_timeout(clock.now());
  }
};

using std::chrono::minutes;

TEST(client_session, greeting_timeout_is_five_minutes) {
  timed t;
  EXPECT_EQ(t.drain().size(), 0u);
  EXPECT_EQ(t.left(), minutes(5));
  t.expire();
  auto events = t.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, close_reason::timeout);
  EXPECT_EQ(events[0].detail, "timeout waiting for the reply to greeting");
}

TEST(client_session, transaction_timeouts_follow_rfc_5321) {
  client_limits lim;
  lim.data_block_bytes = 10;
  timed t(lim);
  t.c.feed("220 mx\r\n250 mx\r\n");
  ASSERT_EQ(t.drain().at(0).kind, client_event_kind::ready_for_transaction);
  EXPECT_FALSE(t.c.next_deadline().has_value());  // idle between transactions
  ASSERT_TRUE(t.c.start_transaction(make_envelope("<a@c.test>", {"<b@mx.test>"}),
                                    std::string(25, 'x') + "\r\n"));
  t.drain();
  EXPECT_EQ(t.left(), minutes(5));  // MAIL
  t.clock.advance(minutes(1));
  t.c.feed("250 ok\r\n");
  t.drain();
  EXPECT_EQ(t.left(), minutes(5));  // RCPT, counted from the MAIL reply
  t.c.feed("250 ok\r\n");
  t.drain();
  EXPECT_EQ(t.left(), minutes(2));  // DATA initiation
  t.c.feed("354 go\r\n");
  t.drain(false);
  EXPECT_EQ(t.left(), minutes(3));  // data block
  t.clock.advance(minutes(2));
  EXPECT_EQ(t.c.take_output().size(), 10u);
  EXPECT_EQ(t.left(), minutes(3));  // each block restarts it
  t.c.take_output();
  EXPECT_EQ(t.c.take_output(), "xxxxx\r\n.\r\n");
  EXPECT_FALSE(t.c.has_output());
  EXPECT_EQ(t.left(), minutes(10));  // DATA termination
  EXPECT_EQ(t.written, "EHLO localhost\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
  t.expire();
  auto events = t.drain();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, client_event_kind::transaction_result);
  EXPECT_EQ(events[0].result.answer.code, 451);
  EXPECT_EQ(events[0].result.answer.enhanced, "4.4.2");
  EXPECT_TRUE(events[0].result.recipients.at(0).local);
  EXPECT_EQ(events[1].reason, close_reason::timeout);
  EXPECT_EQ(events[1].detail, "timeout waiting for the reply to end of data");
}

TEST(client_session, stalled_data_block_times_out) {
  client_limits lim;
  lim.data_block_bytes = 4;
  timed t(lim);
  t.c.feed("220 mx\r\n250 mx\r\n");
  t.drain();
  t.c.start_transaction(make_envelope("<a@c.test>", {"<b@mx.test>"}), "0123456789\r\n");
  t.drain();
  t.c.feed("250 ok\r\n");
  t.drain();
  t.c.feed("250 ok\r\n");
  t.drain();
  t.c.feed("354 go\r\n");
  t.drain(false);
  EXPECT_EQ(t.c.take_output(), "0123");  // one block, then the driver never asks again
  t.expire();
  auto events = t.drain(false);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].detail, "timeout sending message data");
}

TEST(client_session, configured_timeouts_are_used) {
  client_limits lim;
  lim.greeting_timeout = core::duration_ms{1500};
  lim.command_timeout = core::duration_ms{700};
  timed t(lim);
  EXPECT_EQ(t.left(), core::duration_ms{1500});
  t.c.feed("220 mx\r\n");
  t.drain();
  EXPECT_EQ(t.left(), core::duration_ms{700});  // EHLO
}

TEST(client_session, quit_closes_after_221_or_its_timeout) {
  timed t;
  t.c.feed("220 mx\r\n250 mx\r\n");
  t.drain();
  EXPECT_TRUE(t.c.quit());
  EXPECT_EQ(t.c.take_output(), "QUIT\r\n");
  EXPECT_EQ(t.left(), minutes(5));
  t.expire();
  auto events = t.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, close_reason::quit);
  EXPECT_FALSE(t.c.quit());

  timed u;
  u.c.feed("220 mx\r\n250 mx\r\n");
  u.drain();
  u.c.quit();
  u.c.feed("221 2.0.0 bye\r\n");
  events = u.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, close_reason::quit);
  EXPECT_EQ(u.written, "EHLO localhost\r\nQUIT\r\n");
}

TEST(client_session, quit_during_setup_waits_for_the_reply_in_flight) {
  timed t;
  EXPECT_TRUE(t.c.quit());
  EXPECT_EQ(t.c.take_output(), "");  // nothing may be sent before the greeting
  t.c.feed("220 mx\r\n221 bye\r\n");
  EXPECT_TRUE(t.drain(false).empty());
  EXPECT_EQ(t.c.take_output(), "QUIT\r\n");
  auto events = t.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, close_reason::quit);
}

TEST(client_session, quit_during_a_transaction_lets_it_finish_first) {
  timed t;
  t.c.feed("220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
  t.drain();
  ASSERT_TRUE(t.c.start_transaction(make_envelope("<a@c.test>", {"<b@mx.test>"}), "m\r\n"));
  EXPECT_TRUE(t.c.quit());
  t.c.feed("250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n");
  auto events = t.drain();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, client_event_kind::recipient_result);
  EXPECT_EQ(events[1].kind, client_event_kind::transaction_result);
  EXPECT_EQ(events[1].result.answer.code, 250);
  EXPECT_EQ(events[2].reason, close_reason::quit);
  EXPECT_EQ(t.written,
            "EHLO localhost\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\n"
            "DATA\r\nm\r\n.\r\nQUIT\r\n");
}

TEST(client_session, unsolicited_421_while_idle_closes) {
  timed t;
  t.c.feed("220 mx\r\n250 mx\r\n");
  t.drain();
  t.c.feed("421 4.4.2 mx idle timeout\r\n");
  auto events = t.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, close_reason::service_unavailable);
  EXPECT_EQ(events[0].answer.enhanced, "4.4.2");
  EXPECT_FALSE(t.c.start_transaction(make_envelope("<a@c.test>", {"<b@mx.test>"}), "m"));
}

// ---------------------------------------------------------------------------------------
// Refused calls and pieces

TEST(client_session, refused_calls_leave_the_session_unchanged) {
  timed t;
  envelope env = make_envelope("<a@c.test>", {"<b@mx.test>"});
  EXPECT_FALSE(t.c.start_transaction(env, "x"));  // not greeted yet
  auto events = t.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, client_event_kind::error);
  t.c.feed("220 mx\r\n250 mx\r\n");
  t.drain();
  EXPECT_FALSE(t.c.start_transaction(make_envelope("<a@c.test>", {}), "x"));
  envelope many = env;
  many.recipients.assign(101, env.recipients[0]);
  EXPECT_FALSE(t.c.start_transaction(many, "x"));
  envelope injected = env;
  injected.recipients[0].address.box.local_part = "b\r\nRCPT TO:<evil@x.test>";
  EXPECT_FALSE(t.c.start_transaction(injected, "x"));
  envelope bad_envid = env;
  bad_envid.envid = "has space";
  EXPECT_FALSE(t.c.start_transaction(bad_envid, "x"));
  events = t.drain();
  EXPECT_EQ(events.size(), 4u);
  EXPECT_EQ(t.written, "EHLO localhost\r\n");
  EXPECT_FALSE(t.c.has_output());
  EXPECT_TRUE(t.c.ready());
  EXPECT_TRUE(t.c.start_transaction(env, "x"));
}

}  // namespace
}  // namespace mailsim::smtp
