// Internal to mailsim::server: the socket side of one session, shared by the SMTP and POP3
// drivers — a TCP socket, TLS once started (STARTTLS/STLS or implicit), and one deadline
// timer. Not a public header.
//
// Contract: every operation takes a deadline; when it passes, `on_expiry` runs (the driver
// tells its sans-IO session, which queues its timeout answer) and the pending operation is
// cancelled, so the coroutine resumes with an error. Used on the I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <boost/asio/ssl.hpp>

#include "reference-server/core/clock.hpp"
#include "reference-server/net/asio.hpp"

namespace mailsim::server {

struct server_context;

class session_socket {
 public:
  using tcp = boost::asio::ip::tcp;
  session_socket(tcp::socket socket, server_context& ctx, std::uint64_t session_id,
                 std::function<void()> on_expiry);
  ~session_socket();

  // The server side of a TLS handshake; logs "tls" or "tls_failed". False without a
  // certificate or when the handshake fails.
  boost::asio::awaitable<bool> handshake(core::time_point deadline);
  // Writes all of `bytes`; false on error or expiry.
  boost::asio::awaitable<bool> write(std::string_view bytes, core::time_point deadline);
  // Reads what is available (at most buffer.size()); 0 and `ec` set at end of input, on an
  // error, a cancel() or expiry. No deadline: waits for the peer as long as it takes.
  boost::asio::awaitable<std::size_t> read_some(std::span<char> buffer,
                                                std::optional<core::time_point> deadline,
                                                boost::system::error_code& ec);

  // Wakes the pending operation (shutdown, abort).
  void cancel();
  void close();
  bool tls_active() const { return tls_ != nullptr; }
  // Some operation of this socket ended at its deadline (for the disconnect log).
  bool timed_out() const { return timed_out_; }
  // The last operation ended at its deadline: an IMAP IDLE poll, not the peer leaving.
  bool expired() const { return expired_; }
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  void arm(std::optional<core::time_point> deadline);
  tcp::socket& raw() { return tls_ ? tls_->next_layer() : socket_; }

  server_context& ctx_;
  std::uint64_t id_;
  std::function<void()> on_expiry_;
  tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket&>> tls_;
  boost::asio::steady_timer timer_;
  bool timed_out_ = false;
  bool expired_ = false;
};

// Runs `work` on `pool` (password hashing is slow on purpose) and resumes on `io` when it is
// done, so that the I/O thread serves every other session meanwhile.
boost::asio::awaitable<void> run_on_pool(boost::asio::thread_pool& pool,
                                         boost::asio::any_io_executor io,
                                         std::function<void()> work);

}  // namespace mailsim::server
