// Client session tests against the real server session in memory: a pump moves each side's
// output to the other (whole, or a few bytes at a time), answers the server's events with a
// scripted policy and completes STARTTLS on both sides without crypto. Hand-written server
// transcripts and timeouts are in client_script_test.cpp.
#include "reference-server/smtp/client_session.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/smtp/server_session.hpp"
#include "tests/support/byte_split.hpp"
#include "tests/unit/smtp/client_fixtures.hpp"

namespace mailsim::smtp {
namespace {

using client_test::address;
using client_test::job;
using client_test::make_envelope;
using mailsim::test::printable;

// ---------------------------------------------------------------------------------------
// Fixtures

struct delivered {
  envelope env;
  std::string content;
};

using policy_fn = std::function<decision(server_event_kind, const server_session&)>;

// The password hash costs 4096 PBKDF2 rounds: the least a SCRAM client accepts (RFC 7677 §4).
class test_credentials final : public sasl::credential_store {
 public:
  test_credentials() {
    core::splitmix_random random(99);
    sasl::hash_params params;
    params.iterations = 4096;
    hash_ = sasl::hash_password("s3cret pass", params, random);
  }
  std::optional<std::string> password_hash(std::string_view user) const override {
    if (user == "alice") return hash_;
    return std::nullopt;
  }

 private:
  std::string hash_;
};

const test_credentials& credentials() {
  static const test_credentials store;
  return store;
}

struct world {
  server_options server;
  limits server_limits;
  policy_fn policy;
  client_options client;
  client_limits client_lim;
  std::vector<job> jobs;  // started one after another at ready_for_transaction
  std::size_t chunk = 0;  // bytes per transfer in each direction; 0: everything at once
};

struct outcome {
  std::vector<client_event> events;  // every client event but need_more/waiting
  std::vector<transaction_result> results;
  std::vector<std::string> writes;  // each take_output() of the client, in order
  std::string server_input;         // every byte the server received
  std::vector<delivered> messages;  // accepted by the server
  std::vector<server_event_kind> server_events;
  client_event closed;
  bool client_closed = false;
  bool server_closed = false;
  bool authenticated = false;
  bool tls = false;
  server_capabilities caps;

  std::size_t count(client_event_kind kind) const {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const client_event& e) { return e.kind == kind; }));
  }
};

world default_world() {
  world w;
  w.server.hostname = "mx.test";
  w.server.greeting_text = "ESMTP";
  w.client.helo_name = "client.test";
  return w;
}

// Moves at most `chunk` bytes (all when 0) from `from` into `feed`.
template <typename Feed>
bool transfer(std::string& from, std::size_t chunk, Feed feed) {
  if (from.empty()) return false;
  const std::size_t n = chunk == 0 ? from.size() : std::min(chunk, from.size());
  feed(std::string_view(from).substr(0, n));
  from.erase(0, n);
  return true;
}

class pump {
 public:
  explicit pump(const world& w)
      : w_(w),
        server_(w.server, w.server_limits, {&clock_, &server_random_, &credentials()}),
        client_(w.client, w.client_lim, {&clock_, &client_random_}) {}

  outcome run() {
    for (int round = 0; round < 2'000'000; ++round) {
      bool progress = drain_server();
      progress |= transfer(to_client_, w_.chunk, [&](std::string_view b) { client_.feed(b); });
      if (to_client_.empty() && out_.server_closed && !client_eof_) {
        client_.feed_eof();
        client_eof_ = progress = true;
      }
      progress |= drain_client();
      progress |= transfer(to_server_, w_.chunk, [&](std::string_view b) {
        out_.server_input += b;
        server_.feed(b);
      });
      if (to_server_.empty() && out_.client_closed && !server_eof_) {
        server_.feed_eof();
        server_eof_ = progress = true;
      }
      if (out_.client_closed && out_.server_closed && to_client_.empty() && to_server_.empty()) {
        break;
      }
      if (!progress && !advance_time()) break;
    }
    EXPECT_TRUE(out_.client_closed && out_.server_closed) << "the sessions did not finish";
    out_.authenticated = client_.authenticated();
    out_.tls = client_.tls_active();
    out_.caps = client_.capabilities();
    return std::move(out_);
  }

  core::manual_clock& clock() { return clock_; }

 private:
  bool drain_server() {
    bool progress = false;
    while (!out_.server_closed) {
      server_event ev = server_.next_event();
      to_client_ += server_.take_output();
      if (ev.kind == server_event_kind::need_more || ev.kind == server_event_kind::waiting) break;
      progress = true;
      out_.server_events.push_back(ev.kind);
      if (ev.kind == server_event_kind::close) {
        out_.server_closed = true;
      } else if (ev.kind == server_event_kind::starttls) {
        server_.tls_started();  // the 220 is already on its way; the "handshake" succeeds
      } else if (ev.kind == server_event_kind::auth) {
        server_.run_auth();  // a driver would hash the password on a worker thread
      } else {
        answer(ev.kind);
      }
    }
    return progress;
  }

  void answer(server_event_kind kind) {
    decision d = w_.policy ? w_.policy(kind, server_) : decision::accept();
    if (kind == server_event_kind::message && d.type == decision::kind::accept) {
      out_.messages.push_back({server_.current_envelope(), std::string(server_.message())});
    }
    server_.submit(d);
  }

  bool drain_client() {
    bool progress = false;
    while (!out_.client_closed) {
      client_event ev = client_.next_event();
      while (client_.has_output()) {
        out_.writes.push_back(client_.take_output());
        to_server_ += out_.writes.back();
      }
      if (ev.kind == client_event_kind::need_more || ev.kind == client_event_kind::waiting) break;
      progress = true;
      on_client_event(ev);
      out_.events.push_back(std::move(ev));
    }
    return progress;
  }

  void on_client_event(const client_event& ev) {
    switch (ev.kind) {
      case client_event_kind::ready_for_transaction:
        if (next_job_ < w_.jobs.size()) {
          const job& j = w_.jobs[next_job_++];
          EXPECT_TRUE(client_.start_transaction(j.env, j.message));
        } else {
          client_.quit();
        }
        break;
      case client_event_kind::starttls:
        client_.tls_started();
        break;
      case client_event_kind::transaction_result:
        out_.results.push_back(ev.result);
        break;
      case client_event_kind::closed:
        out_.closed = ev;
        out_.client_closed = true;
        break;
      default:
        break;
    }
  }

  // Nothing moves: let virtual time run to the earliest deadline (AUTH failure delays,
  // timeouts).
  bool advance_time() {
    auto c = client_.next_deadline();
    auto s = out_.server_closed ? std::nullopt : server_.next_deadline();
    if (!c && !s) return false;
    core::time_point t = c && s ? std::min(*c, *s) : (c ? *c : *s);
    clock_.set(std::max(t, clock_.now()));
    client_.on_timeout(clock_.now());
    if (!out_.server_closed) server_.on_timeout(clock_.now());
    return true;
  }

  const world& w_;
  core::manual_clock clock_;
  core::splitmix_random server_random_{11};
  core::splitmix_random client_random_{7};
  server_session server_;
  client_session client_;
  outcome out_;
  std::string to_client_;
  std::string to_server_;
  std::size_t next_job_ = 0;
  bool client_eof_ = false;
  bool server_eof_ = false;
};

outcome run(const world& w) {
  return pump(w).run();
}

// Runs the world whole, in 7-byte and in 1-byte transfers, with and without pipelining, and
// checks that every run delivers the same messages; returns the first run.
outcome run_all_ways(world w) {
  outcome first = run(w);
  for (bool pipelining : {true, false}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{0}}) {
      w.server.pipelining = pipelining;
      w.chunk = chunk;
      outcome o = run(w);
      EXPECT_EQ(o.messages.size(), first.messages.size()) << "chunk " << chunk;
      for (std::size_t i = 0; i < std::min(o.messages.size(), first.messages.size()); ++i) {
        EXPECT_EQ(printable(o.messages[i].content), printable(first.messages[i].content));
      }
      EXPECT_EQ(o.closed.reason, first.closed.reason);
      EXPECT_EQ(o.results.size(), first.results.size());
    }
  }
  return first;
}

// ---------------------------------------------------------------------------------------
// Delivery against the real server

TEST(client_session, delivers_byte_identical_with_dot_stuffing) {
  world w = default_world();
  const std::string message =
      "From: a@c.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n"
      "middle.dot\r\n. space\r\n.\r\n.\r\nlast\r\n";
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), message});
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(printable(o.messages[0].content), printable(message));
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].answer.code, 250);
  EXPECT_EQ(o.results[0].delivered_count(), 1u);
  EXPECT_EQ(o.closed.reason, close_reason::quit);
  EXPECT_NE(o.server_input.find("\r\n..leading dot\r\n...two dots\r\n..\r\n"), std::string::npos);
  EXPECT_TRUE(o.server_closed);
}

TEST(client_session, message_without_final_crlf_gets_one) {
  world w = default_world();
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "Subject: x\r\n\r\nno end"});
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), ""});
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), ".\r\n."});
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 3u);
  EXPECT_EQ(o.messages[0].content, "Subject: x\r\n\r\nno end\r\n");
  EXPECT_EQ(o.messages[1].content, "");
  EXPECT_EQ(o.messages[2].content, ".\r\n.\r\n");
}

TEST(client_session, bare_line_ends_become_crlf_so_nothing_is_smuggled) {
  world w = default_world();
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}),
                    "Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@c.test>\r\nmore\r.\r\n"});
  outcome o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].content,
            "Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@c.test>\r\nmore\r\n.\r\n");
  EXPECT_EQ(o.server_events.size(), 6u);  // connect, helo, mail, rcpt, message, close
}

TEST(client_session, pipelining_sends_mail_rcpts_and_data_in_one_write) {
  world w = default_world();
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>", "<c@mx.test>"}), "hi\r\n"});
  outcome o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_TRUE(o.caps.pipelining);
  // One write for the whole group; no 8-bit content, so no BODY parameter.
  const std::string expected =
      "MAIL FROM:<a@c.test> SIZE=4\r\nRCPT TO:<b@mx.test>\r\n"
      "RCPT TO:<c@mx.test>\r\nDATA\r\n";
  EXPECT_NE(std::find(o.writes.begin(), o.writes.end(), expected), o.writes.end())
      << printable(o.server_input);
  EXPECT_EQ(o.server_input.find("BODY="), std::string::npos);
  EXPECT_EQ(o.count(client_event_kind::recipient_result), 2u);

  w.server.pipelining = false;
  o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_NE(std::find(o.writes.begin(), o.writes.end(), "MAIL FROM:<a@c.test> SIZE=4\r\n"),
            o.writes.end());
  EXPECT_NE(std::find(o.writes.begin(), o.writes.end(), "RCPT TO:<c@mx.test>\r\n"), o.writes.end());
  EXPECT_NE(std::find(o.writes.begin(), o.writes.end(), "DATA\r\n"), o.writes.end());
}

TEST(client_session, bdat_when_preferred_carries_the_bytes_unchanged) {
  world w = default_world();
  w.client.prefer_bdat = true;
  const std::string message = "Subject: b\r\n\r\n.dot\r\nno final newline";
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), message});
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].content, message);
  EXPECT_NE(o.server_input.find("BDAT " + std::to_string(message.size()) + " LAST\r\n" + message),
            std::string::npos);
  EXPECT_EQ(o.server_input.find("DATA\r\n"), std::string::npos);
}

TEST(client_session, binarymime_goes_by_bdat_or_fails_locally) {
  world w = default_world();
  envelope env = make_envelope("<a@c.test>", {"<b@mx.test>"});
  env.body = body_type::binary_mime;
  const std::string message("bin\0\xff\n.\n\r\x80", 10);
  w.jobs.push_back({env, message});
  w.client_lim.data_block_bytes = 4;  // several blocks for one chunk
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(printable(o.messages[0].content), printable(message));
  EXPECT_EQ(o.messages[0].env.body, body_type::binary_mime);

  w.server.chunking = false;
  o = run(w);
  EXPECT_TRUE(o.messages.empty());
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_TRUE(o.results[0].local);
  EXPECT_EQ(o.results[0].answer.code, 554);
  EXPECT_EQ(o.results[0].answer.enhanced, "5.6.3");
  EXPECT_EQ(o.server_input.find("MAIL"), std::string::npos);
}

TEST(client_session, size_is_declared_and_checked_before_mail) {
  world w = default_world();
  w.server_limits.message_bytes_max = 100;
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), std::string(200, 'x') + "\r\n"});
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "small\r\n"});
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_TRUE(o.results[0].local);
  EXPECT_EQ(o.results[0].answer.code, 552);
  EXPECT_EQ(o.results[0].answer.enhanced, "5.3.4");
  ASSERT_EQ(o.results[0].recipients.size(), 1u);
  EXPECT_TRUE(o.results[0].recipients[0].local);
  EXPECT_FALSE(o.results[0].recipients[0].delivered());
  // Nothing of the big one went out: one MAIL only, the small message's.
  EXPECT_EQ(o.server_input.find("MAIL"), o.server_input.rfind("MAIL"));
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].env.declared_size, 7u);
  EXPECT_EQ(o.caps.size_max, 100u);
}

TEST(client_session, eight_bit_needs_8bitmime) {
  world w = default_world();
  const std::string message = "Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n";
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), message});
  outcome o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].content, message);
  EXPECT_EQ(o.messages[0].env.body, body_type::eight_bit_mime);

  w.server.eight_bit_mime = false;
  o = run(w);
  EXPECT_TRUE(o.messages.empty());
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].answer.code, 554);
  EXPECT_EQ(o.results[0].answer.enhanced, "5.6.3");
  EXPECT_TRUE(o.results[0].local);
  EXPECT_EQ(o.server_input.find("MAIL"), std::string::npos);
  EXPECT_EQ(o.closed.reason, close_reason::quit);
}

TEST(client_session, one_8bit_byte_anywhere_is_seen) {
  // The scan takes eight bytes per step: a byte at every offset of the steps and of the tail.
  const std::string ascii = "Subject: x\r\n\r\n0123456789abcdefghij\r\n";
  for (std::size_t at = 0; at < ascii.size(); ++at) {
    if (ascii[at] == '\r' || ascii[at] == '\n') continue;
    std::string message = ascii;
    message[at] = '\x80';
    world w = default_world();
    w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), message});
    const outcome o = run(w);
    ASSERT_EQ(o.messages.size(), 1u) << at;
    EXPECT_EQ(o.messages[0].env.body, body_type::eight_bit_mime) << at;
  }
  world w = default_world();
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), ascii});
  const outcome o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_NE(o.messages[0].env.body, body_type::eight_bit_mime);
}

TEST(client_session, utf8_envelope_needs_smtputf8) {
  world w = default_world();
  w.jobs.push_back({make_envelope("<\xc3\xa9l\xc3\xa8ve@c.test>", {"<b@mx.test>"}), "x\r\n"});
  outcome o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_TRUE(o.messages[0].env.smtputf8);
  EXPECT_NE(o.server_input.find(" SMTPUTF8"), std::string::npos);

  w.server.smtputf8 = false;
  o = run(w);
  EXPECT_TRUE(o.messages.empty());
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].answer.code, 553);
  EXPECT_EQ(o.results[0].answer.enhanced, "5.6.7");
  EXPECT_EQ(o.server_input.find("MAIL"), std::string::npos);

  // A UTF-8 header flagged by the envelope fails the same way (with 5.6.9), an ASCII one not.
  envelope env = make_envelope("<a@c.test>", {"<b@mx.test>"});
  env.smtputf8 = true;
  w.jobs = {{env, "Subject: \xc3\xa9t\xc3\xa9\r\n\r\nx\r\n"},
            {env, "Subject: ascii\r\n\r\n\xc3\xa9\r\n"}};
  o = run(w);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].answer.enhanced, "5.6.9");
  EXPECT_EQ(o.results[1].answer.code, 250);
}

TEST(client_session, dsn_parameters_reach_the_server_envelope_only_when_offered) {
  world w = default_world();
  envelope env = make_envelope("<a@c.test>", {"<b@mx.test>", "<c@mx.test>"});
  env.ret = dsn_ret::headers;
  env.envid = "QQ+2B1";
  env.recipients[0].notify = {true, false, true, false, true};
  env.recipients[0].orcpt = "rfc822;b+40mx.test";
  env.recipients[1].notify = {true, true, false, false, false};
  w.jobs.push_back({env, "x\r\n"});
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 1u);
  const envelope& got = o.messages[0].env;
  EXPECT_EQ(got.ret, dsn_ret::headers);
  EXPECT_EQ(got.envid, "QQ+2B1");
  ASSERT_EQ(got.recipients.size(), 2u);
  EXPECT_TRUE(got.recipients[0].notify.success && got.recipients[0].notify.delay);
  EXPECT_FALSE(got.recipients[0].notify.failure);
  EXPECT_EQ(got.recipients[0].orcpt, "rfc822;b+40mx.test");
  EXPECT_TRUE(got.recipients[1].notify.never);

  w.server.dsn = false;
  o = run(w);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_FALSE(o.caps.dsn);
  EXPECT_EQ(o.messages[0].env.ret, dsn_ret::unspecified);
  EXPECT_FALSE(o.messages[0].env.envid.has_value());
  EXPECT_EQ(o.server_input.find("NOTIFY"), std::string::npos);
}

TEST(client_session, one_recipient_refused_of_three) {
  world w = default_world();
  int rcpt = 0;
  w.policy = [&rcpt](server_event_kind kind, const server_session&) {
    if (kind == server_event_kind::rcpt && rcpt++ % 3 == 1) {
      return decision::refuse(make_reply(550, "5.1.1", "No such user"));
    }
    return decision::accept();
  };
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>", "<nobody@mx.test>", "<d@mx.test>"}),
                    "three\r\n"});
  for (bool pipelining : {true, false}) {
    w.server.pipelining = pipelining;
    rcpt = 0;
    outcome o = run(w);
    ASSERT_EQ(o.messages.size(), 1u);
    EXPECT_EQ(o.messages[0].env.recipients.size(), 2u);
    ASSERT_EQ(o.count(client_event_kind::recipient_result), 3u);
    std::vector<int> codes;
    for (const auto& e : o.events) {
      if (e.kind == client_event_kind::recipient_result) codes.push_back(e.answer.code);
    }
    EXPECT_EQ(codes, (std::vector<int>{250, 550, 250}));
    ASSERT_EQ(o.results.size(), 1u);
    const transaction_result& r = o.results[0];
    EXPECT_EQ(r.answer.code, 250);
    EXPECT_EQ(r.delivered_count(), 2u);
    ASSERT_EQ(r.recipients.size(), 3u);
    EXPECT_EQ(r.recipients[1].answer.code, 550);
    EXPECT_EQ(r.recipients[1].answer.enhanced, "5.1.1");
    EXPECT_FALSE(r.recipients[1].local);
    EXPECT_EQ(r.recipients[2].answer.code, 250);
    EXPECT_EQ(o.server_input.find("RSET"), std::string::npos);
  }
}

TEST(client_session, all_recipients_refused_sends_no_data_and_resets) {
  world w = default_world();
  w.policy = [](server_event_kind kind, const server_session&) {
    if (kind == server_event_kind::rcpt) {
      return decision::refuse(make_reply(450, "4.2.1", "Try later"));
    }
    return decision::accept();
  };
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>", "<c@mx.test>"}), "x\r\n"});
  w.jobs.push_back({make_envelope("<a@c.test>", {"<d@mx.test>"}), "y\r\n"});
  w.server.pipelining = false;
  outcome o = run(w);
  EXPECT_TRUE(o.messages.empty());
  EXPECT_EQ(o.server_input.find("DATA"), std::string::npos);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].answer.code, 450);
  EXPECT_EQ(o.results[0].delivered_count(), 0u);
  EXPECT_EQ(o.results[0].recipients[1].answer.enhanced, "4.2.1");
  // RSET after each aborted transaction, and the connection stays usable.
  EXPECT_NE(o.server_input.find("RCPT TO:<c@mx.test>\r\nRSET\r\nMAIL"), std::string::npos);
  EXPECT_EQ(o.closed.reason, close_reason::quit);

  // Pipelined, DATA went with the group: the server refuses it, nothing is sent after it.
  w.server.pipelining = true;
  o = run(w);
  EXPECT_TRUE(o.messages.empty());
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].answer.code, 450);
  EXPECT_NE(o.server_input.find("DATA\r\nRSET\r\n"), std::string::npos);
  EXPECT_EQ(o.closed.reason, close_reason::quit);
}

TEST(client_session, mail_refused_fails_every_recipient) {
  world w = default_world();
  w.policy = [](server_event_kind kind, const server_session&) {
    if (kind == server_event_kind::mail) {
      return decision::refuse(make_reply(550, "5.7.1", "Sender blocked"));
    }
    return decision::accept();
  };
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>", "<c@mx.test>"}), "x\r\n"});
  for (bool pipelining : {true, false}) {
    w.server.pipelining = pipelining;
    outcome o = run(w);
    ASSERT_EQ(o.results.size(), 1u);
    EXPECT_EQ(o.results[0].answer.code, 550);
    ASSERT_EQ(o.results[0].recipients.size(), 2u);
    EXPECT_EQ(o.results[0].recipients[1].answer.enhanced, "5.7.1");
    EXPECT_EQ(o.count(client_event_kind::recipient_result), 0u);
    EXPECT_EQ(o.closed.reason, close_reason::quit);
    EXPECT_EQ(o.server_input.find("RSET"), std::string::npos);
  }
}

TEST(client_session, a_421_mid_transaction_fails_it_as_transient_and_closes) {
  world w = default_world();
  w.policy = [](server_event_kind kind, const server_session& s) {
    if (kind == server_event_kind::rcpt && !s.current_envelope().recipients.empty()) {
      return decision::refuse_and_close(make_reply(421, "4.7.0", "mx.test Too busy"));
    }
    return decision::accept();
  };
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>", "<c@mx.test>"}), "x\r\n"});
  for (bool pipelining : {true, false}) {
    w.server.pipelining = pipelining;
    outcome o = run(w);
    EXPECT_TRUE(o.messages.empty());
    ASSERT_EQ(o.results.size(), 1u);
    EXPECT_EQ(o.results[0].answer.code, 421);
    ASSERT_EQ(o.results[0].recipients.size(), 2u);
    EXPECT_EQ(o.results[0].recipients[0].answer.code, 421);  // accepted, but never delivered
    EXPECT_EQ(o.results[0].recipients[1].answer.code, 421);
    EXPECT_EQ(o.closed.kind, client_event_kind::closed);
    EXPECT_EQ(o.closed.reason, close_reason::service_unavailable);
    EXPECT_EQ(o.closed.answer.enhanced, "4.7.0");
    EXPECT_EQ(o.server_input.find("QUIT"), std::string::npos);
  }
}

TEST(client_session, final_reply_refusal_fails_the_accepted_recipients) {
  world w = default_world();
  w.policy = [](server_event_kind kind, const server_session&) {
    if (kind == server_event_kind::message) {
      return decision::refuse(make_reply(554, "5.7.1", "Spam"));
    }
    return decision::accept();
  };
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "x\r\n"});
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "y\r\n"});
  outcome o = run(w);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].recipients[0].answer.code, 554);
  EXPECT_FALSE(o.results[0].local);
  EXPECT_EQ(o.server_input.find("RSET"), std::string::npos);  // "." ended the transaction
}

TEST(client_session, connection_reuse_for_three_transactions) {
  world w = default_world();
  for (int i = 0; i < 3; ++i) {
    w.jobs.push_back(
        {make_envelope("<a@c.test>", {"<b@mx.test>"}), "msg " + std::to_string(i) + "\r\n"});
  }
  outcome o = run_all_ways(w);
  ASSERT_EQ(o.messages.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(o.messages[static_cast<std::size_t>(i)].content, "msg " + std::to_string(i) + "\r\n");
  EXPECT_EQ(o.count(client_event_kind::ready_for_transaction), 4u);  // three sends, then quit
  EXPECT_EQ(o.server_input.find("EHLO"), o.server_input.rfind("EHLO"));
  EXPECT_EQ(o.server_input.find("RSET"), std::string::npos);
  EXPECT_EQ(std::count(o.server_events.begin(), o.server_events.end(), server_event_kind::connect),
            1);
}

TEST(client_session, starttls_opportunistic_greets_again_and_sees_the_new_capabilities) {
  world w = default_world();
  w.server.tls_available = true;
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "x\r\n"});
  outcome o = run_all_ways(w);
  EXPECT_EQ(o.count(client_event_kind::starttls), 1u);
  EXPECT_TRUE(o.tls);
  EXPECT_FALSE(o.caps.starttls);  // re-read after TLS: no longer offered
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_TRUE(o.messages[0].env.tls);
  EXPECT_NE(o.server_input.find("STARTTLS\r\nEHLO client.test\r\n"), std::string::npos);

  w.client.starttls = tls_policy::none;
  o = run(w);
  EXPECT_EQ(o.count(client_event_kind::starttls), 0u);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_FALSE(o.messages[0].env.tls);
}

TEST(client_session, starttls_required_but_not_offered_closes_before_mail) {
  world w = default_world();
  w.client.starttls = tls_policy::required;
  w.jobs.push_back({make_envelope("<a@c.test>", {"<b@mx.test>"}), "x\r\n"});
  outcome o = run(w);
  EXPECT_EQ(o.closed.reason, close_reason::tls_required);
  EXPECT_EQ(o.closed.detail, "TLS required but not offered");
  EXPECT_EQ(o.count(client_event_kind::ready_for_transaction), 0u);
  EXPECT_EQ(o.server_input.find("MAIL"), std::string::npos);
  EXPECT_NE(o.server_input.find("QUIT\r\n"), std::string::npos);
  EXPECT_TRUE(o.messages.empty());
}

// ---------------------------------------------------------------------------------------
// AUTH against the server session

world auth_world(const std::string& mechanism) {
  world w = default_world();
  w.server.tls_available = true;
  w.server.auth_mechanisms = {mechanism};
  w.server.require_auth = true;
  w.client.credentials = client_credentials{"alice", "s3cret pass"};
  w.jobs.push_back({make_envelope("<alice@c.test>", {"<b@mx.test>"}), "authenticated\r\n"});
  return w;
}

TEST(client_session, auth_with_each_mechanism) {
  for (const std::string mech : {"SCRAM-SHA-256", "PLAIN", "LOGIN"}) {
    outcome o = run_all_ways(auth_world(mech));
    EXPECT_TRUE(o.authenticated) << mech;
    ASSERT_EQ(o.messages.size(), 1u) << mech;
    EXPECT_EQ(o.messages[0].env.auth_user, "alice") << mech;
    EXPECT_NE(o.server_input.find("AUTH " + mech), std::string::npos) << mech;
    EXPECT_EQ(o.closed.reason, close_reason::quit) << mech;
    // SCRAM's v= comes in a last 334, acknowledged by an empty line (RFC 4954 §4).
    const bool empty_line = std::find(o.writes.begin(), o.writes.end(), "\r\n") != o.writes.end();
    EXPECT_EQ(empty_line, mech == "SCRAM-SHA-256") << mech;
  }
}

TEST(client_session, auth_picks_the_strongest_offered_mechanism) {
  world w = auth_world("LOGIN");
  w.server.auth_mechanisms = {"LOGIN", "PLAIN", "SCRAM-SHA-256"};
  outcome o = run(w);
  EXPECT_TRUE(o.authenticated);
  EXPECT_NE(o.server_input.find("AUTH SCRAM-SHA-256 "), std::string::npos);
  w.server.auth_mechanisms = {"LOGIN", "PLAIN"};
  o = run(w);
  EXPECT_NE(o.server_input.find("AUTH PLAIN "), std::string::npos);
}

TEST(client_session, auth_with_a_wrong_password_fails_and_quits) {
  for (const std::string mech : {"SCRAM-SHA-256", "PLAIN", "LOGIN"}) {
    world w = auth_world(mech);
    w.client.credentials->password = "wrong";
    outcome o = run(w);
    EXPECT_FALSE(o.authenticated) << mech;
    EXPECT_EQ(o.closed.reason, close_reason::auth_failed) << mech;
    EXPECT_EQ(o.closed.answer.code, 535) << mech;
    EXPECT_TRUE(o.messages.empty());
    EXPECT_EQ(o.server_input.find("MAIL"), std::string::npos);
  }
}

TEST(client_session, cleartext_mechanisms_wait_for_tls_but_scram_does_not) {
  world w = auth_world("PLAIN");
  w.server.tls_available = false;
  w.server.auth_requires_tls = false;
  outcome o = run(w);
  EXPECT_EQ(o.closed.reason, close_reason::auth_unavailable);
  EXPECT_EQ(o.server_input.find("AUTH"), std::string::npos);  // the password never went out
  w.client.cleartext_auth_without_tls = true;
  o = run(w);
  EXPECT_TRUE(o.authenticated);

  w = auth_world("SCRAM-SHA-256");
  w.server.tls_available = false;
  w.server.auth_requires_tls = false;
  o = run(w);
  EXPECT_TRUE(o.authenticated);
  EXPECT_EQ(o.messages.size(), 1u);
}

TEST(client_session, credentials_without_auth_offered_close_instead_of_sending) {
  world w = auth_world("PLAIN");
  w.server.auth_mechanisms.clear();
  w.server.require_auth = false;
  outcome o = run(w);
  EXPECT_EQ(o.closed.reason, close_reason::auth_unavailable);
  EXPECT_EQ(o.closed.detail, "AUTH not offered");
  EXPECT_TRUE(o.messages.empty());
}

}  // namespace
}  // namespace mailsim::smtp
