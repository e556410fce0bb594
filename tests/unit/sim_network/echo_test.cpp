// simulator/network: a two-party exchange is reproducible from its seed, trace and all.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/sim_network/harness.hpp"

namespace mailsim::sim::network::test {
namespace {

using core::duration_ms;

// A client that sends `lines` lines, one per echo, then closes; retries after a reset.
class echo_client final : public core::stream_handler {
 public:
  echo_client(core::transport& t, scheduler& s, prng& g, int lines)
      : transport_(t), sched_(s), random_(g), lines_left_(lines) {}

  void start() {
    core::connect_request request;
    request.remote = {"198.51.100.25", 7};
    request.timeout = duration_ms{10'000};
    stream_ = transport_.connect(request, *this);
  }
  void on_connected() override { send_line(); }
  void on_data(std::string_view bytes) override {
    echoed_ += bytes;
    if (--lines_left_ > 0) {
      send_line();
    } else {
      stream_->close();
    }
  }
  void on_tls_ready(const core::tls_result&) override {}
  void on_closed(std::error_code) override {
    // Try again a little later: the delay comes from the seeded stream.
    sched_.schedule_after(duration_ms{static_cast<std::int64_t>(random_.uniform(1'000))},
                          [this] { start(); });
  }
  const std::string& echoed() const { return echoed_; }

 private:
  void send_line() {
    stream_->write("line " + std::to_string(random_.uniform(1'000'000)) + "\r\n");
  }
  core::transport& transport_;
  scheduler& sched_;
  prng& random_;
  int lines_left_;
  std::string echoed_;
  std::unique_ptr<core::stream> stream_;
};

class echo_server final : public accept_handler {
 public:
  struct session final : core::stream_handler {
    std::unique_ptr<link_stream> stream;
    void on_connected() override {}
    void on_data(std::string_view bytes) override { stream->write(bytes); }
    void on_tls_ready(const core::tls_result&) override {}
    void on_closed(std::error_code) override {}
  };
  core::stream_handler* on_accept(std::unique_ptr<link_stream> stream) override {
    sessions_.push_back(std::make_unique<session>());
    sessions_.back()->stream = std::move(stream);
    return sessions_.back().get();
  }

 private:
  std::vector<std::unique_ptr<session>> sessions_;
};

// Three clients echo twenty lines each over lossy links; returns the transcript.
std::string run_echo(std::uint64_t seed) {
  scheduler sched;
  random_streams streams(seed);
  trace tr(sched.clock());
  memory_sink sink;
  tr.add_sink(sink);
  network_options options;
  options.default_link = link_profile{duration_ms{20}, 50'000, 0.02};
  echo_server server;
  virtual_network net(sched, streams, &tr, options);
  net.listen({"198.51.100.25", 7}, server);
  std::vector<std::unique_ptr<core::transport>> hosts;
  std::vector<std::unique_ptr<echo_client>> clients;
  for (int i = 0; i < 3; ++i) {
    hosts.push_back(net.make_transport({"192.0.2." + std::to_string(i + 1)}));
    prng& g = streams.stream("client" + std::to_string(i));
    clients.push_back(std::make_unique<echo_client>(*hosts.back(), sched, g, 20));
    clients.back()->start();
  }
  sched.run_until(sched.now() + duration_ms{60'000});
  tr.record("test", "resets " + std::to_string(net.stats().resets));
  return sink.text();
}

TEST(Echo, TwoRunsWithTheSameSeedGiveTheSameTranscript) {
  const std::string first = run_echo(7);
  EXPECT_EQ(first, run_echo(7));
  EXPECT_NE(first.find(" > "), std::string::npos);  // bytes went one way …
  EXPECT_NE(first.find(" < "), std::string::npos);  // … and came back
}

TEST(Echo, AnotherSeedGivesAnotherTranscript) {
  EXPECT_NE(run_echo(7), run_echo(8));
}

}  // namespace
}  // namespace mailsim::sim::network::test
