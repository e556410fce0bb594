#include "reference-server/server/pop3_connection.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "reference-server/pop3/session.hpp"
#include "reference-server/server/connection.hpp"
#include "reference-server/server/session_socket.hpp"

namespace mailsim::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

pop3::options pop3_options(const config::server_config& cfg, const config::listener& l) {
  pop3::options o;
  o.hostname = cfg.server.hostname;
  o.greeting_text = cfg.pop3.greeting;
  o.tls_available = cfg.tls.has_value() && !l.implicit_tls;
  o.tls_active = l.implicit_tls;
  o.allow_plaintext_auth = l.auth_without_tls;  // RFC 2595 §2: passwords under TLS only
  o.auth_mechanisms = cfg.pop3.auth_mechanisms;
  return o;
}

pop3::limits pop3_limits(const config::server_config& cfg) {
  pop3::limits lim;
  lim.idle_timeout = cfg.pop3.idle_timeout;
  return lim;
}

class pop3_connection final : public live_session {
 public:
  pop3_connection(tcp::socket socket, std::string peer_ip, const config::listener& listener,
                  server_context& ctx)
      : ctx_(ctx),
        listener_(listener),
        session_(pop3_options(ctx.cfg, listener), pop3_limits(ctx.cfg),
                 {&ctx.clock, &ctx.random, &ctx.credentials, ctx.maildrops}),
        id_(ctx.next_session_id++),
        socket_(std::move(socket), ctx, id_, [this] { session_.on_timeout(ctx_.clock.now()); }),
        peer_ip_(std::move(peer_ip)) {
    ctx_.live.insert(this);
  }

  ~pop3_connection() override {
    ctx_.live.erase(this);
    auto it = ctx_.per_ip.find(peer_ip_);
    if (it != ctx_.per_ip.end() && --it->second == 0) ctx_.per_ip.erase(it);
  }

  asio::awaitable<void> run() {
    ctx_.log.write("connect", {{"session", id_}, {"listener", listener_.name}, {"peer", peer_ip_}});
    bool alive = !listener_.implicit_tls || co_await socket_.handshake(io_deadline());
    if (alive) session_.start();
    while (alive) {
      switch (session_.next_event()) {
        case pop3::event_kind::need_more:
          alive = co_await flush() && co_await read_more();
          break;
        case pop3::event_kind::auth:
          co_await run_on_pool(ctx_.auth_pool, socket_.executor(), [this] { session_.run_auth(); });
          break;
        case pop3::event_kind::stls:
          alive = co_await flush() && co_await socket_.handshake(io_deadline());
          if (alive) session_.tls_started();
          break;
        case pop3::event_kind::close:
          co_await flush();
          alive = false;
          break;
      }
      if (ctx_.stopping && alive && !session_.closed()) session_.shutdown();
    }
    socket_.close();
    const pop3::stats& s = session_.stats();
    ctx_.log.write("disconnect", {{"session", id_},
                                  {"user", session_.user().value_or("")},
                                  {"retrieved", s.messages_retrieved},
                                  {"deleted", s.messages_deleted},
                                  {"errors", s.errors},
                                  {"timeout", socket_.timed_out()}});
  }

  // A session waiting for the client ends now; one busy writing (a long RETR) ends when
  // the loop next looks at ctx_.stopping.
  void on_shutdown() override {
    if (!reading_ || session_.closed()) return;
    session_.shutdown();
    socket_.cancel();  // wake the pending read; the loop flushes the answer and ends
  }

  void abort() override {
    socket_.cancel();
    session_.feed_eof();
  }

 private:
  // Writes and handshakes get the idle timeout too: a client that stops reading is gone.
  core::time_point io_deadline() const { return ctx_.clock.now() + ctx_.cfg.pop3.idle_timeout; }

  asio::awaitable<bool> flush() {
    if (!session_.has_output()) co_return true;
    std::string out = session_.take_output();
    co_return co_await socket_.write(out, io_deadline());
  }

  asio::awaitable<bool> read_more() {
    std::array<char, 4096> buffer;
    error_code ec;
    reading_ = true;
    std::size_t n = co_await socket_.read_some(buffer, session_.next_deadline(), ec);
    reading_ = false;
    if (n > 0) session_.feed(std::string_view(buffer.data(), n));
    if (ec && !session_.closed()) session_.feed_eof();
    co_return true;  // the session decides what an end of input means
  }

  server_context& ctx_;
  const config::listener& listener_;
  pop3::session session_;
  std::uint64_t id_;
  session_socket socket_;
  std::string peer_ip_;
  bool reading_ = false;
};

}  // namespace

asio::awaitable<void> serve_pop3_connection(tcp::socket socket, std::string peer_ip,
                                            const config::listener& listener, server_context& ctx) {
  pop3_connection c(std::move(socket), std::move(peer_ip), listener, ctx);
  co_await c.run();
}

}  // namespace mailsim::server
