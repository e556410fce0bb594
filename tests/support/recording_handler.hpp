// Test double: a core::stream_handler that records what a stream reported, in order — for
// tests of transports (the memory transport, the Asio transport) and of their users.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/transport.hpp"

namespace mailsim::test {

struct recording_handler : core::stream_handler {
  std::vector<std::string> events;  // "connected", "data", "tls", "closed"
  std::string data;                 // every byte received
  std::optional<std::error_code> closed;
  std::optional<core::tls_result> tls;
  std::function<void()> on_data_hook;  // runs after each piece of data is recorded

  void on_connected() override { events.push_back("connected"); }
  void on_data(std::string_view bytes) override {
    events.push_back("data");
    data += bytes;
    if (on_data_hook) on_data_hook();
  }
  void on_tls_ready(const core::tls_result& r) override {
    events.push_back("tls");
    tls = r;
  }
  void on_closed(std::error_code reason) override {
    events.push_back("closed");
    closed = reason;
  }
  bool has(const std::string& text) const { return data.find(text) != std::string::npos; }
};

}  // namespace mailsim::test
