#include "reference-server/server/outbound.hpp"

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference-server/auth/author.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/asio_timer.hpp"
#include "reference-server/net/asio_transport.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/file_spool.hpp"
#include "reference-server/server/delivery_worker.hpp"
#include "reference-server/server/event_log.hpp"
#include "reference-server/server/message_class.hpp"
#include "reference-server/store/trace.hpp"

namespace mailsim::server {

namespace asio = boost::asio;

namespace {

struct pending_enqueue {
  queue::enqueue_request request;
  std::function<void(queue::enqueue_result)> done;
  // The message without its X-Mailsim-Class fields, when it had any: request.message then
  // points here, so the item must not move between take_class() and the spool's enqueue().
  std::string stripped;
};

nlohmann::json event_fields(const queue::engine_event& e) {
  nlohmann::json j;
  if (!e.id.empty()) j["id"] = e.id;
  if (!e.domain.empty()) j["domain"] = e.domain;
  if (!e.recipient.empty()) j["recipient"] = e.recipient;
  if (!e.host.empty()) j["host"] = e.host;
  if (!e.address.empty()) j["address"] = e.address;
  if (!e.source.empty()) j["source"] = e.source;
  if (!e.status.empty()) j["status"] = e.status;
  if (!e.detail.empty()) j["detail"] = e.detail;
  if (e.at) j["at"] = rfc3339_utc(*e.at);
  return j;
}

}  // namespace

net::unbound_options unbound_options_of(const config::dns_config& dns) {
  net::unbound_options o;
  o.forwarders = dns.forwarders;
  o.local_zones = dns.local_zones;
  o.local_data = dns.local_data;
  o.timeout = dns.timeout;
  return o;
}

struct outbound_service::impl {
  outbound_deps deps;
  net::system_clock clock;
  net::system_random random;
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<queue::file_spool> spool;
  std::unique_ptr<net::unbound_resolver> resolver;
  std::unique_ptr<net::asio_transport> transport;
  std::unique_ptr<net::asio_timer_service> timers;
  std::unique_ptr<queue::delivery_engine> engine;
  std::vector<pending_enqueue> pending;  // outbound thread only
  std::map<std::string, auth::dkim_signer> signers;  // by From domain
  std::thread thread;
  bool stopped = false;
  std::atomic<bool> finished{false};  // the loop ran out of work

  explicit impl(outbound_deps d) : deps(std::move(d)) {}
  std::string open();
  std::string load_signers();
  void take_class(pending_enqueue& p);
  void sign(queue::enqueue_request& r);
  void flush_enqueues();
  void report(queue::dsn_message m, std::function<void(bool)> done);
  bool queue_report(const queue::dsn_message& m, const std::vector<std::string>& to);
};

outbound_service::outbound_service(outbound_deps deps) : impl_(std::make_unique<impl>(std::move(deps))) {}
outbound_service::~outbound_service() { stop(); }

std::string outbound_service::start() {
  if (std::string error = impl_->open(); !error.empty()) return error;
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([m = impl_.get()] {
    m->engine->start();
    m->io.run();
    m->finished = true;
  });
  return {};
}

void outbound_service::stop() {
  impl& m = *impl_;
  if (m.stopped || !m.thread.joinable()) return;
  m.stopped = true;
  asio::post(m.io, [&m] {
    m.flush_enqueues();
    m.engine->stop();
    m.work.reset();
  });
  // Sessions get a moment to QUIT; then the loop is stopped with whatever is left (the
  // spool has every outcome recorded so far; what was in flight is tried again later).
  for (int i = 0; i < 50 && !m.finished.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  m.io.stop();
  m.thread.join();
}

void outbound_service::enqueue(queue::enqueue_request request,
                               std::function<void(queue::enqueue_result)> done) {
  impl& m = *impl_;
  asio::post(m.io, [&m, r = std::move(request), d = std::move(done)]() mutable {
    if (m.pending.empty()) asio::post(m.io, [&m] { m.flush_enqueues(); });
    m.pending.push_back({std::move(r), std::move(d), {}});
  });
}

std::string outbound_service::impl::open() {
  const config::outbound_config& oc = deps.cfg.outbound;
  if (std::string error = load_signers(); !error.empty()) return error;
  queue::file_spool_config sc;
  sc.root = oc.spool_dir;
  sc.barrier = oc.durability == config::durability_mode::syncfs ? queue::barrier_mode::syncfs
                                                                : queue::barrier_mode::fsync_each;
  spool = std::make_unique<queue::file_spool>(sc, oc.limits, clock, random);
  if (std::error_code e = spool->open()) return "queue: cannot open " + sc.root + ": " + e.message();
  queue::recover_report rr = spool->recover();
  deps.log.write("queue_recovered", {{"messages", rr.loaded}, {"problems", rr.problems}});
  std::string error;
  resolver = net::unbound_resolver::create(io, unbound_options_of(deps.cfg.dns), error);
  if (!resolver) return "dns: " + error;
  net::asio_transport_options to;
  to.ca_file = oc.ca_file;
  transport = net::make_asio_transport(io, to, error);
  if (!transport) return "queue: " + error;
  timers = std::make_unique<net::asio_timer_service>(io);
  queue::engine_settings settings = oc.engine;
  if (settings.hostname.empty() || settings.hostname == "localhost") {
    settings.hostname = deps.cfg.server.hostname;
  }
  queue::engine_deps ed;
  ed.clock = &clock;
  ed.random = &random;
  ed.timers = timers.get();
  ed.resolver = resolver.get();
  ed.transport = transport.get();
  ed.queue = spool.get();
  ed.reports = [this](queue::dsn_message m, std::function<void(bool)> done) {
    report(std::move(m), std::move(done));
  };
  ed.events = [this](const queue::engine_event& e) {
    deps.log.write("queue_" + std::string(queue::event_name(e.what)), event_fields(e));
  };
  engine = std::make_unique<queue::delivery_engine>(std::move(settings), ed);
  return {};
}

// The keys of dkim.sign, checked at start so that a bad key stops the server, not the mail.
std::string outbound_service::impl::load_signers() {
  for (const config::dkim_signing_key& k : deps.cfg.outbound.dkim_keys) {
    std::ifstream in(k.key_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return "dkim: cannot read " + k.key_file;
    auth::private_key_result key = auth::private_key::load(text.str());
    if (!key.ok()) return "dkim: " + k.key_file + ": " + key.error.message();
    auth::sign_options o;
    o.domain = k.domain;
    o.selector = k.selector;
    o.header_canon = k.header_canon;
    o.body_canon = k.body_canon;
    if (!k.headers.empty()) o.headers = k.headers;
    auth::dkim_signer signer(std::move(*key.key), o);
    if (std::error_code e = signer.check_options()) return "dkim: " + k.domain + ": " + e.message();
    signers.emplace(k.domain, std::move(signer));
  }
  return {};
}

// Mail whose From domain has a key leaves signed (RFC 6376); the signature goes above the
// message, below this server's Received line. A failure to sign is logged, not fatal.
void outbound_service::impl::sign(queue::enqueue_request& r) {
  if (signers.empty()) return;
  const std::optional<std::string> domain = auth::author_domain(r.message);
  const auto it = domain ? signers.find(*domain) : signers.end();
  if (it == signers.end()) return;
  auth::sign_result signed_field = it->second.sign(r.message, clock.now());
  if (!signed_field.ok()) {
    deps.log.write("dkim_sign_failed", {{"domain", *domain}, {"error", signed_field.error.message()}});
    return;
  }
  r.trace += signed_field.field;
}

// The X-Mailsim-Class field picks the message's source pool and goes no further: it is
// removed before signing, so receivers never see it (message_class.hpp). A value that is
// ignored is logged once per message.
void outbound_service::impl::take_class(pending_enqueue& p) {
  message_class_scan scan = take_message_class(p.request.message);
  if (!scan.stripped) return;
  p.stripped = std::move(*scan.stripped);
  p.request.message = p.stripped;
  p.request.message_class = scan.name;
  if (!scan.problem.empty()) {
    const smtp::path& from = p.request.envelope.reverse_path;
    deps.log.write("queue_class_ignored", {{"from", from.null ? "<>" : from.box.to_string()},
                                           {"class", scan.name},
                                           {"detail", scan.problem}});
  }
}

// Everything that arrived since the last flush goes through one spool batch (one barrier).
void outbound_service::impl::flush_enqueues() {
  if (pending.empty()) return;
  std::vector<pending_enqueue> batch = std::move(pending);
  pending.clear();
  std::vector<queue::enqueue_request> requests;
  for (auto& p : batch) {  // `batch` does not change size below: the views stay valid
    take_class(p);
    sign(p.request);
    requests.push_back(p.request);
  }
  std::vector<queue::enqueue_result> results = spool->enqueue(requests);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    deps.post_inbound([d = std::move(batch[i].done), r = results[i]] { d(r); });
  }
  engine->wake();
}

// A report goes where its recipient (the original sender) lives: the local store, or the
// queue. It counts as made once durable there.
void outbound_service::impl::report(queue::dsn_message m, std::function<void(bool)> done) {
  store::resolution where = deps.directory.resolve(m.recipient.local_part, m.recipient.domain);
  std::vector<std::string> remote = where.remote;
  if (where.status == store::resolve_status::not_local_domain) remote = {m.recipient.to_string()};
  if (!remote.empty() && !queue_report(m, remote)) return done(false);
  if (where.status != store::resolve_status::local || where.users.empty()) {
    if (remote.empty()) {
      deps.log.write("queue_report_dropped", {{"to", m.recipient.to_string()},
                                              {"reason", "the sender is not a known local user"}});
    }
    return done(true);
  }
  auto bytes = std::make_shared<const std::string>(std::move(m.bytes));
  store::trace_info trace;
  trace.hostname = deps.cfg.server.hostname;
  trace.time = clock.now();
  trace.recipient = m.recipient.to_string();
  trace.protocol = "ESMTP";
  trace.peer_ip = "127.0.0.1";
  trace.helo = "localhost";
  const bool queued = deps.local.submit(
      {*bytes, store::trace_headers(trace), where.users},
      [this, bytes, done](store::delivery_result r) {
        // The worker answers on the inbound loop; the engine lives on this one.
        asio::post(io, [done, ok = r.ok()] { done(ok); });
      });
  if (!queued) done(false);
}

bool outbound_service::impl::queue_report(const queue::dsn_message& m,
                                          const std::vector<std::string>& to) {
  queue::enqueue_request r;
  r.envelope.reverse_path.null = true;
  r.envelope.body = m.body;
  r.envelope.smtputf8 = m.smtputf8;
  for (const std::string& address : to) {
    smtp::address_options options;
    smtp::path_parse p = smtp::parse_path("<" + address + ">", options);
    if (!p.value) continue;
    smtp::recipient rc;
    rc.address = *p.value;
    rc.notify = {true, true, false, false, false};  // NOTIFY=NEVER: no report about a report
    r.envelope.recipients.push_back(std::move(rc));
  }
  if (r.envelope.recipients.empty()) return true;
  r.message = m.bytes;
  r.received_from = "localhost";
  std::vector<queue::enqueue_result> res = spool->enqueue(std::span<const queue::enqueue_request>(&r, 1));
  if (res[0].ok()) engine->wake();
  return res[0].ok();
}

}  // namespace mailsim::server
