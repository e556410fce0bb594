#include "reference-server/server/session_socket.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "reference-server/server/connection.hpp"

namespace mailsim::server {

namespace asio = boost::asio;
using boost::system::error_code;

session_socket::session_socket(tcp::socket socket, server_context& ctx, std::uint64_t session_id,
                               std::function<void()> on_expiry)
    : ctx_(ctx),
      id_(session_id),
      on_expiry_(std::move(on_expiry)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()) {
  // Every write is a whole batch of replies: sending it at once, without waiting for the
  // peer's delayed ACK of the previous segment (Nagle), saves up to 40 ms per exchange.
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
}

session_socket::~session_socket() = default;

asio::awaitable<bool> session_socket::handshake(core::time_point deadline) {
  if (ctx_.tls == nullptr) co_return false;
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx_.tls->native());
  arm(deadline);
  error_code ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::server,
                                 asio::redirect_error(asio::use_awaitable, ec));
  timer_.cancel();
  if (ec) {
    ctx_.log.write("tls_failed", {{"session", id_}, {"error", ec.message()}});
    co_return false;
  }
  ctx_.log.write("tls", {{"session", id_}, {"version", SSL_get_version(tls_->native_handle())}});
  co_return true;
}

asio::awaitable<bool> session_socket::write(std::string_view bytes, core::time_point deadline) {
  arm(deadline);
  error_code ec;
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
  }
  timer_.cancel();
  co_return !ec;
}

asio::awaitable<std::size_t> session_socket::read_some(std::span<char> buffer,
                                                       std::optional<core::time_point> deadline,
                                                       error_code& ec) {
  arm(deadline);
  std::size_t n = 0;
  auto into = asio::buffer(buffer.data(), buffer.size());
  if (tls_) {
    n = co_await tls_->async_read_some(into, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    n = co_await socket_.async_read_some(into, asio::redirect_error(asio::use_awaitable, ec));
  }
  timer_.cancel();
  co_return n;
}

// A deadline cancels the pending socket operation after telling the session.
void session_socket::arm(std::optional<core::time_point> deadline) {
  expired_ = false;
  if (!deadline) return;
  auto delay = *deadline - ctx_.clock.now();
  timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, delay.count())));
  timer_.async_wait([this](error_code ec) {
    if (ec) return;  // cancelled: the operation finished in time
    timed_out_ = true;
    expired_ = true;
    on_expiry_();
    cancel();
  });
}

void session_socket::cancel() {
  error_code ignored;
  raw().cancel(ignored);
}

void session_socket::close() {
  timer_.cancel();
  error_code ignored;
  raw().shutdown(tcp::socket::shutdown_both, ignored);
  raw().close(ignored);
}

asio::awaitable<void> run_on_pool(asio::thread_pool& pool, asio::any_io_executor io,
                                  std::function<void()> work) {
  asio::steady_timer done(io, asio::steady_timer::time_point::max());
  asio::post(pool, [&done, io, &work] {
    work();
    asio::post(io, [&done] { done.cancel(); });
  });
  error_code ec;
  co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace mailsim::server
