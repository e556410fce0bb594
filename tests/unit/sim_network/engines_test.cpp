// The reference server's delivery engine (reference-server/queue), unchanged, on the
// simulator: the scheduler is its clock and timer service, a seeded stream its randomness,
// the virtual network its transport. A small scripted SMTP receiver listens on the network
// and offers STARTTLS. The run is reproducible: two runs give the same transcript, SMTP
// bytes included.
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "reference-server/smtp/address.hpp"
#include "simulator/network/network.hpp"

namespace mailsim::sim::network {
namespace {

using core::duration_ms;

// Answers a client line by line (PIPELINING-safe): 250 to most, 354 to DATA, 220 + TLS to
// STARTTLS, 221 + close to QUIT.
class smtp_receiver final : public accept_handler {
 public:
  std::vector<std::string> messages;
  bool saw_tls = false;

  core::stream_handler* on_accept(std::unique_ptr<link_stream> stream) override {
    sessions_.push_back(std::make_unique<session>(*this, std::move(stream)));
    return sessions_.back().get();
  }

 private:
  struct session final : core::stream_handler {
    session(smtp_receiver& o, std::unique_ptr<link_stream> s) : owner(o), stream(std::move(s)) {}
    void on_connected() override { stream->write("220 mx.dest.test ESMTP\r\n"); }
    void on_data(std::string_view bytes) override {
      buffer += bytes;
      for (auto end = buffer.find("\r\n"); end != std::string::npos; end = buffer.find("\r\n")) {
        const std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        handle(line);
      }
    }
    void on_tls_ready(const core::tls_result&) override { tls = owner.saw_tls = true; }
    void on_closed(std::error_code) override {}

    void handle(const std::string& line) {
      if (in_data) {
        if (line == ".") {
          in_data = false;
          owner.messages.push_back(message);
          message.clear();
          stream->write("250 2.0.0 queued\r\n");
        } else {
          message += line + "\r\n";
        }
        return;
      }
      const std::string verb = line.substr(0, 4);
      if (verb == "EHLO") {
        stream->write(tls ? "250-mx.dest.test\r\n250 PIPELINING\r\n"
                          : "250-mx.dest.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
      } else if (verb == "STAR") {
        stream->write("220 2.0.0 go ahead\r\n");
        stream->start_tls({});
        buffer.clear();  // RFC 3207 §4.2: nothing pipelined before the handshake counts
      } else if (verb == "DATA") {
        in_data = true;
        stream->write("354 go on\r\n");
      } else if (verb == "QUIT") {
        stream->write("221 2.0.0 bye\r\n");
        stream->close();
      } else {
        stream->write("250 2.0.0 ok\r\n");
      }
    }

    smtp_receiver& owner;
    std::unique_ptr<link_stream> stream;
    std::string buffer;
    std::string message;
    bool in_data = false;
    bool tls = false;
  };
  std::vector<std::unique_ptr<session>> sessions_;
};

// Static routes to an address need no DNS; any lookup would be a test failure.
class no_dns final : public core::resolver {
 public:
  void resolve(const std::string& name, core::rr_type,
               std::function<void(const core::dns_answer&)>) override {
    ADD_FAILURE() << "unexpected lookup of " << name;
  }
};

smtp::path path_of(const std::string& text) {
  return smtp::parse_path("<" + text + ">", {}).value.value_or(smtp::path{});
}

struct outcome {
  std::string transcript;
  std::vector<std::string> messages;
  bool tls = false;
};

outcome deliver_one(std::uint64_t seed) {
  scheduler sched;
  random_streams streams(seed);
  trace tr(sched.clock());
  memory_sink sink;
  tr.add_sink(sink);
  network_options options;
  options.default_link = link_profile{duration_ms{15}, 1'000'000};
  virtual_network net(sched, streams, &tr, options);
  smtp_receiver receiver;
  tls_profile certificate;
  certificate.names = {"mx.dest.test"};
  net.listen({"198.51.100.25", 25}, receiver, listen_options{certificate});
  auto transport = net.make_transport({"192.0.2.1"});

  prng& random = streams.stream("sender");
  no_dns dns;
  queue::memory_spool spool({}, sched.clock(), random);
  queue::engine_settings settings;
  settings.hostname = "out.sender.test";
  settings.routing.routes["*"] = {queue::route_target{"198.51.100.25", 25}};
  queue::engine_deps deps;
  deps.clock = &sched.clock();
  deps.random = &random;
  deps.timers = &sched;
  deps.resolver = &dns;
  deps.transport = transport.get();
  deps.queue = &spool;
  deps.reports = [&sched](queue::dsn_message, std::function<void(bool)> done) {
    sched.post([done] { done(true); });
  };
  queue::delivery_engine engine(settings, deps);
  engine.start();

  queue::enqueue_request request;
  request.envelope.reverse_path = path_of("alice@sender.test");
  smtp::recipient rcpt;
  rcpt.address = path_of("bob@dest.test");
  request.envelope.recipients.push_back(rcpt);
  const std::string body = "From: alice@sender.test\r\nSubject: hi\r\n\r\nHello.\r\n";
  request.message = body;
  EXPECT_TRUE(spool.enqueue(std::span<const queue::enqueue_request>(&request, 1))[0].ok());
  engine.wake();
  sched.run_until(sched.now() + duration_ms{10 * 60'000});
  return {sink.text(), receiver.messages, receiver.saw_tls};
}

TEST(Engines, TheDeliveryEngineDeliversOverTheVirtualNetworkWithStartTls) {
  const outcome run = deliver_one(1);
  ASSERT_EQ(run.messages.size(), 1u);
  EXPECT_NE(run.messages[0].find("Hello."), std::string::npos);
  EXPECT_TRUE(run.tls);
  EXPECT_NE(run.transcript.find("net c1 > 10 \"STARTTLS\\r\\n\""), std::string::npos);
  EXPECT_NE(run.transcript.find("net c1 tls ready TLSv1.3"), std::string::npos);
}

TEST(Engines, TwoRunsGiveTheSameTranscript) {
  EXPECT_EQ(deliver_one(1).transcript, deliver_one(1).transcript);
}

}  // namespace
}  // namespace mailsim::sim::network
