// mailsim::core transport — the injected network for outbound connections.
//
// Contract: connect() returns at once; events arrive on the handler from the caller's event
// loop, never re-entrantly from connect(), write() or close(). Bytes written after close()
// are dropped. TLS is requested with start_tls() once the protocol has said so (STARTTLS);
// the handler's on_tls_ready() follows, or on_closed() with the error. Real: Asio + OpenSSL
// (reference-server/net). Simulated: in-memory links (simulator/network). Tests: the memory
// transport in tests/support.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace mailsim::core {

struct endpoint {
  std::string address;  // IPv4 dotted quad or IPv6 text form
  std::uint16_t port = 0;
};

class stream_handler {
 public:
  virtual ~stream_handler() = default;
  virtual void on_connected() = 0;
  virtual void on_data(std::string_view bytes) = 0;
  virtual void on_tls_ready() = 0;
  virtual void on_closed(std::error_code reason) = 0;
};

class stream {
 public:
  virtual ~stream() = default;
  virtual void write(std::string_view bytes) = 0;
  virtual void start_tls(const std::string& server_name) = 0;
  virtual void close() = 0;
};

class transport {
 public:
  virtual ~transport() = default;
  // `local` may have an empty address: the transport picks one.
  virtual std::unique_ptr<stream> connect(const endpoint& remote, const endpoint& local,
                                          stream_handler& handler) = 0;
};

}  // namespace mailsim::core
