// Test helpers for simulator/network: handlers that record every event with its virtual
// time, an acceptor that keeps what it accepts, and a fixture with one client host and one
// listener.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/network/network.hpp"

namespace mailsim::sim::network::test {

inline std::string reason_name(std::error_code ec) {
  if (!ec) return "eof";
  if (ec == std::errc::connection_refused) return "refused";
  if (ec == std::errc::connection_reset) return "reset";
  if (ec == std::errc::timed_out) return "timed_out";
  if (ec == std::errc::operation_not_permitted) return "not_permitted";
  if (ec == std::errc::invalid_argument) return "invalid_argument";
  if (ec == std::errc::address_not_available) return "address_not_available";
  if (ec == std::errc::network_unreachable) return "network_unreachable";
  if (ec.category() == core::transport_category()) return ec.message();
  return "other:" + std::to_string(ec.value());
}

// Records "+<ms since start> <event>" for every call; hooks let a test answer.
class recorder final : public core::stream_handler {
 public:
  recorder(const scheduler& s, core::time_point start) : sched_(s), start_(start) {}

  void on_connected() override {
    add("connected");
    if (on_connect) on_connect();
  }
  void on_data(std::string_view bytes) override {
    add("data " + std::string(bytes));
    data += bytes;
    if (on_bytes) on_bytes(bytes);
  }
  void on_tls_ready(const core::tls_result& result) override {
    add("tls " + result.protocol);
    tls = result;
    if (on_tls) on_tls();
  }
  void on_closed(std::error_code reason) override {
    add("closed " + reason_name(reason));
    closed = reason;
  }

  std::vector<std::string> events;
  std::string data;
  std::optional<core::tls_result> tls;
  std::optional<std::error_code> closed;
  std::function<void()> on_connect;
  std::function<void(std::string_view)> on_bytes;
  std::function<void()> on_tls;

 private:
  void add(const std::string& what) {
    events.push_back("+" + std::to_string((sched_.now() - start_).count()) + " " + what);
  }
  const scheduler& sched_;
  core::time_point start_;
};

// Keeps every accepted stream with a recorder; `setup` may script the server's side.
class acceptor final : public accept_handler {
 public:
  acceptor(const scheduler& s, core::time_point start) : sched_(s), start_(start) {}

  core::stream_handler* on_accept(std::unique_ptr<link_stream> stream) override {
    handlers.push_back(std::make_unique<recorder>(sched_, start_));
    streams.push_back(std::move(stream));
    if (setup) setup(*streams.back(), *handlers.back());
    return handlers.back().get();
  }

  link_stream& stream(std::size_t i = 0) { return *streams.at(i); }
  recorder& handler(std::size_t i = 0) { return *handlers.at(i); }
  std::size_t accepted() const { return streams.size(); }

  std::function<void(link_stream&, recorder&)> setup;
  std::vector<std::unique_ptr<recorder>> handlers;  // destroyed after the streams
  std::vector<std::unique_ptr<link_stream>> streams;

 private:
  const scheduler& sched_;
  core::time_point start_;
};

using ev = std::vector<std::string>;

class network_test : public ::testing::Test {
 protected:
  void SetUp() override {
    tr.add_sink(sink);
    make_network({});
  }

  void make_network(network_options options) {
    host.reset();
    net = std::make_unique<virtual_network>(sched, streams, &tr, std::move(options));
    host = net->make_transport({"192.0.2.1", "2001:db8::1"});
    ASSERT_TRUE(net->listen(mx, server));
  }
  void latency(std::int64_t ms) { net->set_default_link(link_profile{core::duration_ms{ms}}); }

  std::unique_ptr<core::stream> connect(core::endpoint remote, core::duration_ms timeout,
                                        core::endpoint local = {}, recorder* handler = nullptr) {
    core::connect_request request;
    request.remote = std::move(remote);
    request.local = std::move(local);
    request.timeout = timeout;
    return host->connect(request, handler != nullptr ? *handler : client);
  }
  std::unique_ptr<core::stream> connect() { return connect(mx, core::duration_ms{30'000}); }

  scheduler sched;
  core::time_point t0 = sched.now();
  random_streams streams{1};
  trace tr{sched.clock()};
  memory_sink sink;
  acceptor server{sched, t0};
  recorder client{sched, t0};
  std::unique_ptr<virtual_network> net;
  std::unique_ptr<core::transport> host;
  const core::endpoint mx{"198.51.100.25", 25};
};

}  // namespace mailsim::sim::network::test
