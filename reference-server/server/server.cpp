#include "reference-server/server/server.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/tls.hpp"
#include "reference-server/server/connection.hpp"
#include "reference-server/server/credentials.hpp"
#include "reference-server/server/access_connection.hpp"
#include "reference-server/server/imap_accounts.hpp"
#include "reference-server/server/pop3_maildrop.hpp"
#include "reference-server/store/maildir.hpp"

namespace mailsim::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

store::directory_config directory_config_of(const config::server_config& cfg) {
  store::directory_config d;
  d.domains = cfg.domains;
  for (const auto& u : cfg.users) {
    d.users[u.address] = {u.address, u.password_hash, u.quota_bytes.value_or(0)};
  }
  for (const auto& [alias, targets] : cfg.aliases) d.aliases[alias] = targets;
  d.catch_all = cfg.catch_all;
  return d;
}

// What a listener says when the connection limits are reached, in its protocol: SMTP 421
// (RFC 5321 §3.1), POP3 -ERR with the RFC 3206 code, IMAP's untagged BYE (RFC 9051 §7.1.5).
std::string refusal_text(config::listener_role role, const std::string& hostname) {
  switch (role) {
    case config::listener_role::pop3:
    case config::listener_role::pop3s:
      return "-ERR [SYS/TEMP] too many connections\r\n";
    case config::listener_role::imap:
    case config::listener_role::imaps:
      return "* BYE [UNAVAILABLE] too many connections\r\n";
    default:
      return "421 4.7.0 " + hostname + " Error: too many connections\r\n";
  }
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

store::barrier_mode barrier_of(config::durability_mode mode) {
  switch (mode) {
    case config::durability_mode::syncfs:
      return store::barrier_mode::syncfs;
    case config::durability_mode::fsync_each:
      return store::barrier_mode::fsync_each;
    case config::durability_mode::journal:
      break;
  }
  return store::barrier_mode::journal;
}

}  // namespace

// Member order is destruction order in reverse: the worker (which may still hold views into
// session buffers) goes before the io_context that owns the sessions' coroutine frames.
struct smtp_server::impl {
  config::server_config cfg;
  net::system_clock clock;
  net::system_random random;
  asio::io_context io{1};
  std::unique_ptr<event_log> log;
  store::directory_config directory_cfg = directory_config_of(cfg);
  store::directory directory{directory_cfg};
  directory_credentials credentials{directory_cfg};
  std::unique_ptr<net::tls_server_context> tls;
  std::unique_ptr<store::maildir_store> store;
  std::unique_ptr<mail_access_store> mail_store;  // what POP3 and IMAP read through
  std::unique_ptr<store_maildrops> maildrops;
  std::unique_ptr<store_accounts> mail_accounts;
  std::unique_ptr<inbound_policy> policy;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer grace{io};
  std::unique_ptr<delivery_worker> worker;
  std::unique_ptr<outbound_service> outbound;  // uses the worker for local reports
  // The receiving-side checks: their resolver runs on `io`, like the sessions using it.
  std::unique_ptr<net::unbound_resolver> inbound_dns;
  std::unique_ptr<policy::inbound_state> inbound;
  asio::thread_pool auth_pool{1};
  std::optional<server_context> ctx;

  explicit impl(config::server_config c) : cfg(std::move(c)) {}
  std::string open_listeners();
  std::string start_outbound(std::function<void(std::function<void()>)> post);
  std::string start_inbound_checks();
  void load_greylist();
  void save_greylist();
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const config::listener& l);
  asio::awaitable<void> serve(tcp::socket socket, std::string ip, const config::listener& l);
  asio::awaitable<void> refuse(tcp::socket socket, std::string text);
  void begin_shutdown();
};

smtp_server::smtp_server(config::server_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}
smtp_server::~smtp_server() = default;

std::string smtp_server::start() {
  impl& m = *impl_;
  std::string error;
  m.log = std::make_unique<event_log>(m.cfg.server.log.file, m.clock, error);
  if (!error.empty()) return error;
  m.log->debug = m.cfg.server.log.level == config::log_level::debug;
  if (m.cfg.tls) {
    net::tls_settings t{m.cfg.tls->certificate, m.cfg.tls->private_key,
                        m.cfg.tls->min_version == config::tls_version::v1_3 ? "1.3" : "1.2"};
    m.tls = net::make_server_tls(t, error);
    if (!m.tls) return error;
  }
  store::maildir_config mc{m.cfg.server.maildir_root, host_name(), getpid(),
                           barrier_of(m.cfg.delivery.durability), m.cfg.delivery.journal_size};
  m.store = std::make_unique<store::maildir_store>(mc, m.clock, &m.random);
  if (auto ec = m.store->open()) {
    if (ec == std::errc::resource_unavailable_try_again) {
      return "maildir root " + mc.root + " is in use: another process holds its delivery journal";
    }
    return "cannot open maildir root " + mc.root + ": " + ec.message();
  }
  // Completes the deliveries a crash interrupted after their barrier; removes the rest.
  store::recover_report rec = m.store->recover();
  m.log->write("recover", {{"removed_tmp_files", rec.removed_files},
                           {"recovered_tmp_files", rec.recovered_files},
                           {"journal_replayed_files", rec.replayed_files},
                           {"maildirs", rec.maildirs}});
  m.policy = std::make_unique<inbound_policy>(
      m.directory, *m.store, m.cfg.domains.empty() ? std::string() : m.cfg.domains.front(),
      m.cfg.outbound.enabled);
  auto post = [&io = m.io](std::function<void()> f) { asio::post(io, std::move(f)); };
  m.worker = std::make_unique<delivery_worker>(*m.store, post);
  if (m.cfg.outbound.enabled) {
    if (std::string e = m.start_outbound(post); !e.empty()) return e;
  }
  if (m.cfg.inbound.enabled) {
    if (std::string e = m.start_inbound_checks(); !e.empty()) return e;
  }
  m.ctx.emplace(server_context{m.cfg, *m.policy, *m.worker, m.outbound.get(), *m.log, m.clock, m.random,
                               m.credentials, m.tls.get(), m.auth_pool, false, 1, 0, {}, {}});
  m.ctx->inbound = m.inbound.get();
  // Mail removed over POP3 or IMAP changes the user's quota usage.
  auto forget_usage = [&store = *m.store](const std::string& user) { store.forget_usage(user); };
  m.mail_store.reset(new mail_access_store{m.cfg.server.maildir_root, m.credentials, m.clock,
                                           forget_usage});
  m.maildrops = std::make_unique<store_maildrops>(*m.mail_store);
  m.mail_accounts = std::make_unique<store_accounts>(*m.mail_store);
  m.ctx->maildrops = m.maildrops.get();
  m.ctx->mail_accounts = m.mail_accounts.get();
  return m.open_listeners();
}

// The Public Suffix List is read once here (DMARC organizational domains); the checks'
// settings come from the `inbound:` section, the authserv-id defaulting to the host name.
std::string smtp_server::impl::start_inbound_checks() {
  std::string error;
  auto psl = auth::public_suffix_list::load_file(cfg.inbound.public_suffix_list, error);
  if (!psl) return "cannot load the public suffix list: " + error;
  inbound_dns = net::unbound_resolver::create(io, unbound_options_of(cfg.dns), error);
  if (!inbound_dns) return "dns: " + error;
  policy::inbound_settings settings = cfg.inbound.settings;
  if (settings.authserv_id.empty()) settings.authserv_id = cfg.server.hostname;
  inbound = policy::inbound_state::create(
      std::move(settings), std::make_shared<const auth::public_suffix_list>(std::move(*psl)),
      *inbound_dns, clock, random, error);
  if (!inbound) return "inbound: " + error;
  load_greylist();
  return {};
}

// The greylist table survives restarts (<state_dir>/greylist.txt), as postgrey's database
// does: otherwise every restart would greylist every sender again. Soft state: a missing or
// damaged file only costs senders one more deferral, so problems are logged, not fatal.
void smtp_server::impl::load_greylist() {
  if (!cfg.inbound.settings.greylisting) return;
  const std::string path = cfg.server.state_dir + "/greylist.txt";
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::ostringstream text;
  text << in.rdbuf();
  policy::greylist_load_result r = inbound->greylisting().load(text.str());
  log->write("greylist_loaded", {{"file", path}, {"entries", r.loaded}, {"skipped", r.skipped},
                                 {"error", r.error}});
}

void smtp_server::impl::save_greylist() {
  if (!inbound || !cfg.inbound.settings.greylisting) return;
  std::string text;
  inbound->greylisting().purge(clock.now());
  inbound->greylisting().save(text);
  std::error_code ec;
  std::filesystem::create_directories(cfg.server.state_dir, ec);
  const std::string path = cfg.server.state_dir + "/greylist.txt";
  {
    std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      log->write("greylist_save_failed", {{"file", path}});
      return;
    }
  }
  std::filesystem::rename(path + ".tmp", path, ec);
  if (ec) log->write("greylist_save_failed", {{"file", path}, {"error", ec.message()}});
}

// The spool lives in <state_dir>/queue unless configured elsewhere; state_dir is made here.
std::string smtp_server::impl::start_outbound(std::function<void(std::function<void()>)> post) {
  if (cfg.outbound.spool_dir.empty()) cfg.outbound.spool_dir = cfg.server.state_dir + "/queue";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cfg.outbound.spool_dir).parent_path(), ec);
  if (ec) return "cannot make " + cfg.server.state_dir + ": " + ec.message();
  outbound = std::make_unique<outbound_service>(
      outbound_deps{cfg, directory, *worker, *log, std::move(post)});
  return outbound->start();
}

std::string smtp_server::impl::open_listeners() {
  for (const auto& l : cfg.listeners) {
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(l.address, ec), l.port);
    if (ec) return "listener " + l.name + ": bad address " + l.address;
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return "listener " + l.name + ": cannot listen on " + l.address + ":" +
             std::to_string(l.port) + ": " + ec.message();
    }
    acceptors.push_back(std::move(acceptor));
  }
  return {};
}

std::vector<std::uint16_t> smtp_server::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& a : impl_->acceptors) out.push_back(a->local_endpoint().port());
  return out;
}

void smtp_server::run() {
  impl& m = *impl_;
  for (std::size_t i = 0; i < m.acceptors.size(); ++i) {
    asio::co_spawn(m.io, m.accept_loop(*m.acceptors[i], m.cfg.listeners[i]), asio::detached);
    m.log->write("listening", {{"listener", m.cfg.listeners[i].name},
                               {"address", m.cfg.listeners[i].address},
                               {"port", m.acceptors[i]->local_endpoint().port()}});
  }
  m.signals.async_wait([&m](boost::system::error_code ec, int signal) {
    if (!ec) m.log->write("signal", {{"signal", signal}});
    if (!ec) m.begin_shutdown();
  });
  m.io.run();
  m.auth_pool.join();
  if (m.outbound) m.outbound->stop();  // records what it can; the spool keeps the rest
  m.worker.reset();  // commit whatever is still queued before returning
  m.save_greylist();
  m.log->write("stopped", {{"messages_accepted", m.ctx->messages_accepted}});
}

void smtp_server::stop() {
  asio::post(impl_->io, [&m = *impl_] { m.begin_shutdown(); });
}

void smtp_server::impl::begin_shutdown() {
  if (ctx->stopping) return;
  ctx->stopping = true;
  boost::system::error_code ignored;
  signals.cancel(ignored);
  for (auto& a : acceptors) a->close(ignored);
  shutdown_connections(*ctx);
  grace.expires_after(cfg.limits.shutdown_grace);
  grace.async_wait([this](boost::system::error_code ec) {
    if (!ec) abort_connections(*ctx);
  });
  // The grace timer must not keep run() alive once every session has ended.
  asio::co_spawn(io, [this]() -> asio::awaitable<void> {
    asio::steady_timer poll(io);
    while (!ctx->live.empty()) {
      poll.expires_after(std::chrono::milliseconds(50));
      co_await poll.async_wait(asio::use_awaitable);
    }
    grace.cancel();
  }, asio::detached);
}

asio::awaitable<void> smtp_server::impl::accept_loop(tcp::acceptor& acceptor,
                                                     const config::listener& l) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ctx->stopping || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    std::string ip = socket.remote_endpoint(ec).address().to_string();
    if (ec) continue;
    std::size_t total = ctx->live.size();
    std::size_t& per_ip = ctx->per_ip[ip];
    if (total >= cfg.limits.connections_max || per_ip >= cfg.limits.connections_per_ip_max) {
      if (per_ip == 0) ctx->per_ip.erase(ip);
      log->write("refused", {{"peer", ip}, {"listener", l.name}, {"reason", "connection limit"}});
      if (l.implicit_tls) continue;  // no clear text before a TLS handshake: just close
      std::string text = refusal_text(l.role, cfg.server.hostname);
      asio::co_spawn(io, refuse(std::move(socket), std::move(text)), asio::detached);
      continue;
    }
    ++per_ip;
    asio::co_spawn(io, serve(std::move(socket), ip, l), asio::detached);
  }
}

asio::awaitable<void> smtp_server::impl::serve(tcp::socket socket, std::string ip,
                                               const config::listener& l) {
  switch (l.role) {
    case config::listener_role::pop3:
    case config::listener_role::pop3s:
      return serve_pop3_connection(std::move(socket), std::move(ip), l, *ctx);
    case config::listener_role::imap:
    case config::listener_role::imaps:
      return serve_imap_connection(std::move(socket), std::move(ip), l, *ctx);
    default:
      return serve_connection(std::move(socket), std::move(ip), l, *ctx);
  }
}

asio::awaitable<void> smtp_server::impl::refuse(tcp::socket socket, std::string text) {
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
  socket.close(ec);
}

}  // namespace mailsim::server
