#include "reference-server/server/connection.hpp"

#include <array>
#include <optional>

#include <boost/asio/ssl.hpp>
#include <nlohmann/json.hpp>

#include "reference-server/policy/inbound_chain.hpp"
#include "reference-server/server/message_class.hpp"
#include "reference-server/server/session_socket.hpp"
#include "reference-server/smtp/server_session.hpp"
#include "reference-server/store/trace.hpp"

namespace mailsim::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class connection final : public live_session {
 public:
  connection(tcp::socket socket, std::string peer_ip, const config::listener& listener,
             server_context& ctx);
  ~connection() override;
  asio::awaitable<void> run();
  void on_shutdown() override;
  void abort() override;

 private:
  asio::awaitable<bool> handshake();
  asio::awaitable<bool> flush();
  asio::awaitable<bool> read_more();
  asio::awaitable<bool> wait_delayed_reply();
  asio::awaitable<smtp::decision> deliver();
  asio::awaitable<smtp::decision> decide(const smtp::server_event& ev);
  asio::awaitable<policy::stage_verdict> check_mail(const smtp::server_event& ev);
  asio::awaitable<policy::stage_verdict> check_rcpt(const smtp::server_event& ev);
  asio::awaitable<policy::message_verdict> check_message();
  template <typename T, typename Start>
  asio::awaitable<T> await_stage(Start start);
  bool checked() const;
  store::trace_info trace_of(const smtp::envelope& env, const std::string& id) const;
  // What is stored: the message, the fields the checks add below the trace fields, and the
  // folder the checks chose ("" = inbox).
  struct outgoing {
    std::string_view message;
    std::string_view header;
    std::string_view folder;
  };
  asio::awaitable<std::string> store_locally(const store::trace_info& trace,
                                             const std::vector<std::string>& users,
                                             const outgoing& copy);
  asio::awaitable<std::string> queue_remote(const smtp::envelope& env, const store::trace_info& trace,
                                            const std::vector<std::string>& remote,
                                            const outgoing& copy);
  smtp::decision decide_now(const smtp::server_event& ev);
  void log_replies(std::string_view output);
  std::string next_message_id();
  core::time_point command_deadline() const {
    return ctx_.clock.now() + ctx_.cfg.limits.smtp.command_timeout;
  }

  server_context& ctx_;
  const config::listener& listener_;
  smtp::server_session session_;
  std::uint64_t id_;
  session_socket socket_;
  std::string peer_ip_;
  std::vector<std::vector<std::string>> recipient_users_;  // per accepted RCPT
  std::vector<std::string> recipient_remote_;             // addresses to queue, all RCPTs
  std::vector<std::string> pending_users_;                 // of the RCPT being decided
  // The receiving-side checks (SPF, DNSBL, greylisting, DKIM/DMARC, spam score) on MX
  // listeners; none on submission listeners and when the config has no `inbound:` checks.
  std::unique_ptr<policy::inbound_session> checks_;
  std::size_t message_count_ = 0;
};

connection::connection(tcp::socket socket, std::string peer_ip, const config::listener& listener,
                       server_context& ctx)
    : ctx_(ctx),
      listener_(listener),
      session_(config::session_options(ctx.cfg, listener), ctx.cfg.limits.smtp,
               {&ctx.clock, &ctx.random, &ctx.credentials}),
      id_(ctx.next_session_id++),
      socket_(std::move(socket), ctx, id_, [this] { session_.on_timeout(ctx_.clock.now()); }),
      peer_ip_(std::move(peer_ip)) {
  ctx_.live.insert(this);
  std::optional<core::ip_address> ip = core::parse_ip(peer_ip_);
  if (ctx_.inbound != nullptr && listener_.role == config::listener_role::smtp && ip) {
    checks_ = std::make_unique<policy::inbound_session>(*ctx_.inbound, *ip);
  }
}

connection::~connection() {
  ctx_.live.erase(this);
  auto it = ctx_.per_ip.find(peer_ip_);
  if (it != ctx_.per_ip.end() && --it->second == 0) ctx_.per_ip.erase(it);
}

asio::awaitable<void> connection::run() {
  ctx_.log.write("connect", {{"session", id_}, {"listener", listener_.name}, {"peer", peer_ip_}});
  bool alive = !listener_.implicit_tls || co_await handshake();
  while (alive) {
    smtp::server_event ev = session_.next_event();
    switch (ev.kind) {
      case smtp::server_event_kind::need_more:
        alive = co_await flush() && co_await read_more();
        break;
      case smtp::server_event_kind::waiting:
        alive = co_await flush() && co_await wait_delayed_reply();
        break;
      case smtp::server_event_kind::starttls:
        alive = co_await flush() && co_await handshake();
        if (alive) session_.tls_started();
        break;
      case smtp::server_event_kind::message:
        session_.submit(co_await deliver());
        break;
      case smtp::server_event_kind::auth:
        co_await run_on_pool(ctx_.auth_pool, socket_.executor(), [this] { session_.run_auth(); });
        break;
      case smtp::server_event_kind::close:
        co_await flush();
        alive = false;
        break;
      default:
        session_.submit(co_await decide(ev));
        break;
    }
    if (ctx_.stopping && alive) session_.shutdown();
  }
  socket_.close();
  ctx_.log.write("disconnect", {{"session", id_},
                                {"messages", message_count_},
                                {"errors", session_.stats().errors},
                                {"timeout", socket_.timed_out()}});
}

// Runs a check that answers at once or later through a callback (never inside the call),
// and resumes with its answer.
template <typename T, typename Start>
asio::awaitable<T> connection::await_stage(Start start) {
  std::optional<T> result;
  asio::steady_timer done(socket_.executor(), asio::steady_timer::time_point::max());
  std::optional<T> now = start([&result, &done](T r) {
    result = std::move(r);
    done.cancel();
  });
  if (now) co_return std::move(*now);
  error_code ec;
  while (!result) co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return std::move(*result);
}

// The checks apply to mail from strangers: authenticated clients are the server's own users.
bool connection::checked() const {
  return checks_ != nullptr && !session_.current_envelope().auth_user.has_value();
}

namespace {

smtp::decision refusal_of(const policy::stage_verdict& v) {
  return v.disconnect ? smtp::decision::refuse_and_close(*v.reply)
                      : smtp::decision::refuse(*v.reply);
}

}  // namespace

asio::awaitable<smtp::decision> connection::decide(const smtp::server_event& ev) {
  using kind = smtp::server_event_kind;
  if (ev.kind == kind::connect && checks_) {
    if (auto v = checks_->on_connect(); v && !v->accepted()) co_return refusal_of(*v);
  }
  if (ev.kind == kind::helo && checks_) checks_->on_helo(ev.cmd->helo_name);
  if (ev.kind == kind::mail && checked()) {
    policy::stage_verdict v = co_await check_mail(ev);
    if (!v.accepted()) co_return refusal_of(v);
  }
  if (ev.kind != kind::rcpt) co_return decide_now(ev);
  // RCPT: the local rules first (unknown users, relaying), then the checks; the recipient
  // counts only once both accepted it.
  bool authenticated = session_.current_envelope().auth_user.has_value();
  rcpt_decision d = ctx_.policy.on_rcpt(ev.cmd->address, authenticated);
  if (d.refusal) co_return smtp::decision::refuse(*d.refusal);
  if (checked()) {
    policy::stage_verdict v = co_await check_rcpt(ev);
    if (!v.accepted()) co_return refusal_of(v);
  }
  recipient_users_.push_back(std::move(d.users));
  for (auto& r : d.remote) {
    if (std::find(recipient_remote_.begin(), recipient_remote_.end(), r) == recipient_remote_.end()) {
      recipient_remote_.push_back(std::move(r));
    }
  }
  co_return smtp::decision::accept();
}

asio::awaitable<policy::stage_verdict> connection::check_mail(const smtp::server_event& ev) {
  const smtp::path& from = ev.cmd->address;
  std::string sender = from.null ? std::string() : from.box.to_string();
  co_return co_await await_stage<policy::stage_verdict>(
      [&](policy::inbound_session::stage_fn done) { return checks_->on_mail(sender, done); });
}

asio::awaitable<policy::stage_verdict> connection::check_rcpt(const smtp::server_event& ev) {
  std::string recipient = ev.cmd->address.box.to_string();
  co_return co_await await_stage<policy::stage_verdict>(
      [&](policy::inbound_session::stage_fn done) { return checks_->on_rcpt(recipient, done); });
}

asio::awaitable<policy::message_verdict> connection::check_message() {
  std::string_view message = session_.message();
  co_return co_await await_stage<policy::message_verdict>(
      [&](policy::inbound_session::message_fn done) { return checks_->on_message(message, done); });
}

smtp::decision connection::decide_now(const smtp::server_event& ev) {
  switch (ev.kind) {
    case smtp::server_event_kind::mail:
      recipient_users_.clear();
      recipient_remote_.clear();
      return smtp::decision::accept();
    case smtp::server_event_kind::vrfy:
      return smtp::decision::refuse(ctx_.policy.on_vrfy(ev.cmd->argument));
    default:  // connect (limits were checked at accept) and HELO/EHLO: any name
      return smtp::decision::accept();
  }
}

// Local copies go to the delivery worker (group commit), remote recipients to the outbound
// queue; the 250 waits until both are durable. Should one fail after the other succeeded,
// the client's retry may duplicate a copy, never lose one (at-least-once).
asio::awaitable<smtp::decision> connection::deliver() {
  const smtp::envelope& env = session_.current_envelope();
  std::vector<std::string> users;
  for (auto& list : recipient_users_) {
    for (auto& u : list) {
      if (std::find(users.begin(), users.end(), u) == users.end()) users.push_back(u);
    }
  }
  recipient_users_.clear();
  std::vector<std::string> remote = std::move(recipient_remote_);
  recipient_remote_.clear();
  if (auto refusal = ctx_.policy.on_message(users, session_.message().size())) {
    co_return smtp::decision::refuse(*refusal);
  }
  std::string id = next_message_id();
  policy::message_verdict checks;
  if (checked()) {
    checks = co_await check_message();
    ctx_.log.write("message_checks", {{"session", id_}, {"id", id}, {"results", checks.notes},
                                      {"folder", checks.folder}});
    if (checks.reply) co_return smtp::decision::refuse(*checks.reply);
  }
  const store::trace_info trace = trace_of(env, id);
  const outgoing copy{checks.rewritten ? std::string_view(*checks.rewritten) : session_.message(),
                      checks.header, checks.folder};
  std::string error;
  if (!users.empty()) error = co_await store_locally(trace, users, copy);
  if (error.empty() && !remote.empty()) error = co_await queue_remote(env, trace, remote, copy);
  if (!error.empty()) {
    ctx_.log.write("delivery_failed", {{"session", id_}, {"id", id}, {"error", error}});
    co_return smtp::decision::refuse(
        smtp::make_reply(451, "4.3.0", "Error: could not store the message, try again later"));
  }
  ++message_count_;
  ++ctx_.messages_accepted;
  nlohmann::json rcpts = nlohmann::json::array();
  for (const auto& r : env.recipients) rcpts.push_back(r.address.to_string());
  ctx_.log.write("message_accepted", {{"session", id_}, {"id", id},
                                      {"from", env.reverse_path.to_string()},
                                      {"recipients", rcpts}, {"size", session_.message().size()},
                                      {"auth", env.auth_user.value_or("")},
                                      {"queued", remote.size()}});
  co_return smtp::decision::accept_with(smtp::make_reply(250, "2.0.0", "Ok: queued as " + id));
}

store::trace_info connection::trace_of(const smtp::envelope& env, const std::string& id) const {
  store::trace_info trace;
  trace.reverse_path = env.reverse_path.null ? "" : env.reverse_path.box.to_string();
  trace.helo = env.helo_name;
  trace.peer_ip = peer_ip_;
  trace.hostname = ctx_.cfg.server.hostname;
  trace.protocol = store::protocol_word(store::protocol_flags_of(env));
  trace.id = id;
  if (env.recipients.size() == 1) trace.recipient = env.recipients[0].address.box.to_string();
  trace.time = ctx_.clock.now();
  return trace;
}

// The Maildir copies; returns "" once durable, else why not. X-Mailsim-Class fields are
// for the outbound queue only (message_class.hpp): local copies are stored without them.
asio::awaitable<std::string> connection::store_locally(const store::trace_info& trace,
                                                       const std::vector<std::string>& users,
                                                       const outgoing& copy) {
  std::optional<store::delivery_result> result;
  asio::steady_timer done(socket_.executor(), asio::steady_timer::time_point::max());
  const message_class_scan scan = take_message_class(copy.message);
  const std::string_view message = scan.stripped ? std::string_view(*scan.stripped) : copy.message;
  store::delivery_request request(message, store::trace_headers(trace) + std::string(copy.header),
                                  users, std::string(copy.folder));
  bool queued = ctx_.worker.submit(std::move(request),
                                   [&](store::delivery_result r) {
                                     result = std::move(r);
                                     done.cancel();
                                   });
  if (queued) {
    error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!result) co_return "queue full";
  co_return result->ok() ? "" : result->error.message();
}

// The outbound spool entry for the remote recipients (Return-Path is not added: the
// envelope travels on); returns "" once durable, else why not.
asio::awaitable<std::string> connection::queue_remote(const smtp::envelope& env,
                                                      const store::trace_info& trace,
                                                      const std::vector<std::string>& remote,
                                                      const outgoing& copy) {
  if (ctx_.outbound == nullptr) co_return "outbound delivery is off";
  queue::enqueue_request request;
  request.envelope = env;
  request.envelope.recipients.clear();
  for (const auto& r : env.recipients) {
    if (std::find(remote.begin(), remote.end(), r.address.box.to_string()) != remote.end()) {
      request.envelope.recipients.push_back(r);
    }
  }
  for (const auto& address : remote) {  // forwarding targets of local aliases
    const bool listed = std::any_of(request.envelope.recipients.begin(), request.envelope.recipients.end(),
                                    [&](const smtp::recipient& r) { return r.address.box.to_string() == address; });
    smtp::path_parse p = smtp::parse_path("<" + address + ">", {});
    if (listed || !p.value) continue;
    smtp::recipient rc;
    rc.address = *p.value;
    request.envelope.recipients.push_back(std::move(rc));
  }
  request.trace = store::received_header(trace) + std::string(copy.header);
  request.message = copy.message;
  request.received_from = "dns; " + env.helo_name + " (" + peer_ip_ + ")";
  std::optional<queue::enqueue_result> result;
  asio::steady_timer done(socket_.executor(), asio::steady_timer::time_point::max());
  ctx_.outbound->enqueue(std::move(request), [&](queue::enqueue_result r) {
    result = std::move(r);
    done.cancel();
  });
  error_code ec;
  co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!result) co_return "not queued";
  co_return result->ok() ? "" : result->error.message();
}

asio::awaitable<bool> connection::flush() {
  if (!session_.has_output()) co_return true;
  std::string out = session_.take_output();
  log_replies(out);
  co_return co_await socket_.write(out, command_deadline());
}

asio::awaitable<bool> connection::read_more() {
  std::array<char, 4096> buffer;
  error_code ec;
  std::size_t n = co_await socket_.read_some(buffer, session_.next_deadline(), ec);
  if (n > 0) session_.feed(std::string_view(buffer.data(), n));
  if (ec && !session_.closed()) session_.feed_eof();  // peer gone, or a shutdown abort
  co_return true;  // the session decides what an end of input means
}

// The session holds a reply until a deadline (a failed AUTH, answered late).
asio::awaitable<bool> connection::wait_delayed_reply() {
  auto deadline = session_.next_deadline();
  if (!deadline) co_return false;  // waiting for nothing the driver can give: give up
  auto delay = *deadline - ctx_.clock.now();
  asio::steady_timer t(socket_.executor(), std::chrono::milliseconds(std::max<std::int64_t>(0, delay.count())));
  error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  session_.on_timeout(ctx_.clock.now());
  co_return true;
}

asio::awaitable<bool> connection::handshake() {
  co_return co_await socket_.handshake(command_deadline());
}

void connection::log_replies(std::string_view output) {
  // One line per final reply line: 4xx and 5xx always, 2xx/3xx at debug level.
  std::size_t start = 0;
  while (start + 4 <= output.size()) {
    std::size_t end = output.find("\r\n", start);
    if (end == std::string_view::npos) break;
    std::string_view line = output.substr(start, end - start);
    start = end + 2;
    if (line.size() < 4 || line[3] != ' ') continue;
    char cls = line[0];
    if ((cls == '2' || cls == '3') && !ctx_.log.debug) continue;
    ctx_.log.write("reply", {{"session", id_}, {"class", std::string(1, cls) + "xx"},
                             {"text", std::string(line)}});
  }
}

void connection::on_shutdown() {
  // Wake the pending read; the loop flushes the 421 and ends.
  if (session_.shutdown()) socket_.cancel();
}

void connection::abort() {
  socket_.cancel();
  session_.feed_eof();
}

std::string connection::next_message_id() {
  // Unique per server run and sortable by time: milliseconds, session and message number.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llX.%llX.%zX",
                static_cast<unsigned long long>(core::epoch_ms(ctx_.clock.now())),
                static_cast<unsigned long long>(id_), message_count_ + 1);
  return buf;
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::string peer_ip,
                                       const config::listener& listener, server_context& ctx) {
  connection c(std::move(socket), std::move(peer_ip), listener, ctx);
  co_await c.run();
}

void shutdown_connections(server_context& ctx) {
  for (live_session* c : std::set<live_session*>(ctx.live)) c->on_shutdown();
}

void abort_connections(server_context& ctx) {
  for (live_session* c : std::set<live_session*>(ctx.live)) c->abort();
}

}  // namespace mailsim::server
