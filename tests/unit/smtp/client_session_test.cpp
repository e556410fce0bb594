// Client session tests. Most drive the client against the real server session in memory: a
// pump moves each side's output to the other (whole, or a few bytes at a time), answers the
// server's events with a scripted policy and completes STARTTLS on both sides without
// crypto. Others feed hand-written server transcripts, split at every byte boundary, and
// check that the client ends cleanly whatever the server says.
#include "reference-server/smtp/client_session.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/smtp/server_session.hpp"
#include "tests/support/byte_split.hpp"

namespace mailsim::smtp {
namespace {

using mailsim::test::printable;

// ---------------------------------------------------------------------------------------
// Fixtures

path address(std::string_view text) {
  path_parse p = parse_path(text, {true, true, false, false});
  EXPECT_TRUE(p.value.has_value()) << text;
  return p.value.value_or(path{});
}

envelope make_envelope(std::string_view from, const std::vector<std::string_view>& to) {
  envelope env;
  env.reverse_path = address(from);
  for (auto t : to) env.recipients.push_back({address(t), {}, std::nullopt});
  return env;
}

struct job {
  envelope env;
  std::string message;
};

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
