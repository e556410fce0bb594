#include "reference-server/server/access_connection.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "reference-server/imap/session.hpp"
#include "reference-server/pop3/session.hpp"
#include "reference-server/server/connection.hpp"
#include "reference-server/server/session_socket.hpp"

namespace mailsim::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// What the driver does next, whichever protocol asked.
enum class step { read, auth, tls, write, close };

step step_of(pop3::event_kind k) {
  switch (k) {
    case pop3::event_kind::need_more: return step::read;
    case pop3::event_kind::auth: return step::auth;
    case pop3::event_kind::stls: return step::tls;
    case pop3::event_kind::write: return step::write;
    case pop3::event_kind::close: return step::close;
  }
  return step::close;
}

step step_of(imap::event_kind k) {
  switch (k) {
    case imap::event_kind::need_more: return step::read;
    case imap::event_kind::auth: return step::auth;
    case imap::event_kind::starttls: return step::tls;
    case imap::event_kind::write: return step::write;
    case imap::event_kind::close: return step::close;
  }
  return step::close;
}

// The session settings both protocols share: TLS by role, passwords only under TLS (RFC
// 2595 §2, RFC 9051 §11.1) unless the listener is a lab's, the `pop3:`/`imap:` section.
template <typename Options>
Options access_options(const config::server_config& cfg, const config::listener& l,
                       const config::mail_access_config& access) {
  Options o;
  o.hostname = cfg.server.hostname;
  o.greeting_text = access.greeting;
  o.tls_available = cfg.tls.has_value() && !l.implicit_tls;
  o.tls_active = l.implicit_tls;
  o.allow_plaintext_auth = l.auth_without_tls;
  o.auth_mechanisms = access.auth_mechanisms;
  return o;
}

pop3::session make_session(const config::listener& l, server_context& ctx, const pop3::session*) {
  const config::mail_access_config& access = ctx.cfg.pop3;
  pop3::limits lim;
  lim.idle_timeout = access.idle_timeout;
  lim.line_bytes_max = access.command_line_bytes_max;
  lim.errors_max = access.errors_max;
  lim.auth_failures_max = access.auth_failures_max;
  lim.auth_failure_delay = ctx.cfg.limits.smtp.auth_failure_delay;
  return pop3::session(access_options<pop3::options>(ctx.cfg, l, ctx.cfg.pop3), lim,
                       {&ctx.clock, &ctx.random, &ctx.credentials, ctx.maildrops});
}

imap::session make_session(const config::listener& l, server_context& ctx, const imap::session*) {
  const config::mail_access_config& access = ctx.cfg.imap;
  imap::limits lim;
  lim.autologout_authenticated = access.idle_timeout;
  lim.autologout_unauthenticated = access.login_timeout;
  lim.reader.line_bytes_max = access.command_line_bytes_max;
  lim.errors_max = access.errors_max;
  lim.auth_failures_max = access.auth_failures_max;
  lim.auth_failure_delay = ctx.cfg.limits.smtp.auth_failure_delay;
  // APPEND takes what SMTP would: a literal up to the configured message size.
  lim.reader.literal_bytes_max = static_cast<std::size_t>(ctx.cfg.limits.smtp.message_bytes_max);
  lim.reader.command_bytes_max = lim.reader.literal_bytes_max + lim.reader.line_bytes_max;
  // LITERAL+ (RFC 7888): non-synchronizing literals up to the same size, so the session
  // advertises LITERAL+ rather than LITERAL-; a larger {N+} cannot be skipped and closes.
  lim.reader.nonsync_literal_bytes_max = lim.reader.literal_bytes_max;
  return imap::session(access_options<imap::options>(ctx.cfg, l, ctx.cfg.imap), lim,
                       {&ctx.clock, &ctx.random, &ctx.credentials, ctx.mail_accounts});
}

const config::mail_access_config& access_of(const config::server_config& cfg, const pop3::session*) {
  return cfg.pop3;
}

const config::mail_access_config& access_of(const config::server_config& cfg, const imap::session*) {
  return cfg.imap;
}

nlohmann::json stats_of(const pop3::session& s) {
  return {{"retrieved", s.stats().messages_retrieved}, {"deleted", s.stats().messages_deleted},
          {"errors", s.stats().errors}};
}

nlohmann::json stats_of(const imap::session& s) {
  return {{"commands", s.stats().commands}, {"fetched", s.stats().messages_fetched},
          {"appended", s.stats().messages_appended}, {"errors", s.stats().errors}};
}

template <typename Session>
class access_connection final : public live_session {
 public:
  access_connection(tcp::socket socket, std::string peer_ip, const config::listener& listener,
                    server_context& ctx)
      : ctx_(ctx),
        listener_(listener),
        session_(make_session(listener, ctx, static_cast<const Session*>(nullptr))),
        id_(ctx.next_session_id++),
        socket_(std::move(socket), ctx, id_, [this] { session_.on_timeout(ctx_.clock.now()); }),
        peer_ip_(std::move(peer_ip)) {
    ctx_.live.insert(this);
  }

  ~access_connection() override {
    ctx_.live.erase(this);
    auto it = ctx_.per_ip.find(peer_ip_);
    if (it != ctx_.per_ip.end() && --it->second == 0) ctx_.per_ip.erase(it);
  }

  asio::awaitable<void> run() {
    ctx_.log.write("connect", {{"session", id_}, {"listener", listener_.name}, {"peer", peer_ip_}});
    bool alive = !listener_.implicit_tls || co_await socket_.handshake(io_deadline());
    if (alive) session_.start();
    while (alive) {
      switch (step_of(session_.next_event())) {
        case step::read:
          alive = co_await flush() && co_await read_more();
          break;
        case step::write:
          alive = co_await flush();
          break;
        case step::auth:
          co_await run_on_pool(ctx_.auth_pool, socket_.executor(), [this] { session_.run_auth(); });
          break;
        case step::tls:
          alive = co_await flush() && co_await socket_.handshake(io_deadline());
          if (alive) session_.tls_started();
          break;
        case step::close:
          co_await flush();
          alive = false;
          break;
      }
      if (ctx_.stopping && alive && !session_.closed()) session_.shutdown();
    }
    socket_.close();
    nlohmann::json fields = stats_of(session_);
    fields["session"] = id_;
    fields["user"] = session_.user().value_or("");
    ctx_.log.write("disconnect", std::move(fields));
  }

  // A session waiting for the client ends now; one busy writing (a long RETR or FETCH)
  // ends when the loop next looks at ctx_.stopping.
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
  // Writes and handshakes get the autologout time too: a client that stops reading is gone.
  core::time_point io_deadline() const {
    return ctx_.clock.now() + access_of(ctx_.cfg, static_cast<const Session*>(nullptr)).idle_timeout;
  }

  asio::awaitable<bool> flush() {
    if (!session_.has_output()) co_return true;
    std::string out = session_.take_output();
    co_return co_await socket_.write(out, io_deadline());
  }

  // A read that ends at the session's deadline (an IMAP IDLE poll, or the autologout that
  // closes the session) is not the end of the client's input.
  asio::awaitable<bool> read_more() {
    std::array<char, 4096> buffer;
    error_code ec;
    reading_ = true;
    std::size_t n = co_await socket_.read_some(buffer, session_.next_deadline(), ec);
    reading_ = false;
    if (n > 0) session_.feed(std::string_view(buffer.data(), n));
    if (ec && !session_.closed() && !socket_.expired()) session_.feed_eof();
    co_return true;  // the session decides what an end of input means
  }

  server_context& ctx_;
  const config::listener& listener_;
  Session session_;
  std::uint64_t id_;
  session_socket socket_;
  std::string peer_ip_;
  bool reading_ = false;
};

}  // namespace

asio::awaitable<void> serve_pop3_connection(tcp::socket socket, std::string peer_ip,
                                            const config::listener& listener, server_context& ctx) {
  access_connection<pop3::session> c(std::move(socket), std::move(peer_ip), listener, ctx);
  co_await c.run();
}

asio::awaitable<void> serve_imap_connection(tcp::socket socket, std::string peer_ip,
                                            const config::listener& listener, server_context& ctx) {
  access_connection<imap::session> c(std::move(socket), std::move(peer_ip), listener, ctx);
  co_await c.run();
}

}  // namespace mailsim::server
