// The delivery engine's scheduling half: due recipients become jobs on their destination;
// destinations plan routes, open connections within their limits and hand out jobs.
#include <algorithm>
#include <cctype>
#include <utility>

#include "reference-server/queue/engine_impl.hpp"

namespace mailsim::queue {

namespace {

// A route plan is reused for new connections this long; the resolver caches below it.
constexpr core::duration_ms plan_reuse{60'000};
constexpr core::duration_ms rate_window{60'000};
// How often destinations that hold nothing any more are looked for.
constexpr core::duration_ms forget_interval{300'000};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string_view event_name(engine_event::kind k) {
  switch (k) {
    case engine_event::kind::connecting:
      return "connecting";
    case engine_event::kind::connect_failed:
      return "connect_failed";
    case engine_event::kind::session_closed:
      return "session_closed";
    case engine_event::kind::delivered:
      return "delivered";
    case engine_event::kind::relayed:
      return "relayed";
    case engine_event::kind::deferred:
      return "deferred";
    case engine_event::kind::failed:
      return "failed";
    case engine_event::kind::throttled:
      return "throttled";
    case engine_event::kind::report_queued:
      return "report_queued";
    case engine_event::kind::removed:
      return "removed";
    case engine_event::kind::spool_error:
      return "spool_error";
  }
  return "unknown";
}

delivery_engine::delivery_engine(engine_settings settings, engine_deps deps)
    : impl_(std::make_unique<impl>(std::move(settings), deps)) {}
delivery_engine::~delivery_engine() = default;
void delivery_engine::start() {
  impl_->start();
}
void delivery_engine::wake() {
  impl_->wake();
}
void delivery_engine::stop() {
  impl_->stop();
}
const engine_stats& delivery_engine::stats() const {
  return impl_->stats;
}
std::size_t delivery_engine::jobs_in_progress() const {
  return impl_->jobs_in_progress();
}

delivery_engine::impl::impl(engine_settings settings, engine_deps deps)
    : settings_(std::move(settings)), deps_(std::move(deps)) {
  pool_next_.assign(settings_.source_pools.size(), 0);
}

delivery_engine::impl::~impl() {
  *alive_ = false;
  if (wake_timer_ != 0) deps_.timers->cancel(wake_timer_);
  for (auto& [name, d] : destinations_) {
    if (d.pump_timer != 0) deps_.timers->cancel(d.pump_timer);
  }
}

void delivery_engine::impl::emit(engine_event ev) const {
  if (deps_.events) deps_.events(ev);
}

// Reports owed from before a restart go out first; then whatever is due.
void delivery_engine::impl::start() {
  for (const std::string& id : deps_.queue->ids()) settle(id);
  run_due();
}

void delivery_engine::impl::wake() {
  schedule_wake(deps_.clock->now());
}

void delivery_engine::impl::stop() {
  stopping_ = true;
  if (wake_timer_ != 0) deps_.timers->cancel(wake_timer_);
  wake_timer_ = 0;
  wake_at_.reset();
  for (auto& [name, d] : destinations_) {
    while (!d.jobs.empty()) {
      release(d.jobs.front());
      d.jobs.pop_front();
    }
    for (auto& c : d.connections) {
      if (c->ready()) c->quit();
    }
  }
}

// Wakes are coalesced: many completions in one turn share one look at the spool.
void delivery_engine::impl::schedule_wake(core::time_point at) {
  if (stopping_) return;
  if (wake_at_ && *wake_at_ <= at) return;
  if (wake_timer_ != 0) deps_.timers->cancel(wake_timer_);
  wake_at_ = at;
  // `this` alone: the destructor cancels wake_timer_, and a lambda that fits std::function's
  // own room (trivially copyable, at most 16 bytes) costs no allocation on every wake.
  wake_timer_ = deps_.timers->schedule(at, [this] {
    wake_timer_ = 0;
    wake_at_.reset();
    run_due();
  });
}

// Messages being worked on are held out of the spool's schedule (add_jobs, release), so
// this look costs only what is newly due, however large the backlog in flight.
void delivery_engine::impl::run_due() {
  if (stopping_) return;
  const core::time_point now = deps_.clock->now();
  forget_idle_destinations(now);
  for (const std::string& id : deps_.queue->due(now)) {
    if (const queued_message* m = deps_.queue->find(id)) add_jobs(*m);
  }
  if (const auto next = deps_.queue->next_due()) {
    // Anything still due now could not be dispatched (stopping, a spool error): look later.
    schedule_wake(*next > now ? *next : now + core::duration_ms{1'000});
  }
}

void delivery_engine::impl::add_jobs(const queued_message& m) {
  const core::time_point now = deps_.clock->now();
  std::map<std::string, std::vector<std::size_t>> by_domain;
  const auto busy = in_flight_.find(m.id);
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    const recipient_status& s = m.recipients[i].status;
    if (s.state != recipient_state::pending || s.next_attempt_at > now) continue;
    if (busy != in_flight_.end() && i < busy->second.busy.size() && busy->second.busy[i]) {
      continue;
    }
    by_domain[lower(m.recipients[i].rcpt.address.box.domain)].push_back(i);
  }
  const std::size_t chunk = std::max<std::size_t>(1, settings_.client_limits.recipients_max);
  const int pool = pool_of(m);
  for (auto& [domain, indices] : by_domain) {
    destination& d = destination_for(domain);
    for (std::size_t at = 0; at < indices.size(); at += chunk) {
      delivery_job job{m.id, domain, {}, pool};
      const std::size_t end = std::min(indices.size(), at + chunk);
      job.recipients.assign(indices.begin() + static_cast<std::ptrdiff_t>(at),
                            indices.begin() + static_cast<std::ptrdiff_t>(end));
      flight& f = in_flight_[m.id];
      f.busy.resize(m.recipients.size());
      for (std::size_t i : job.recipients) {
        f.busy[i] = true;
        ++f.count;
        ++in_flight_count_;
      }
      d.jobs.push_back(std::move(job));
    }
  }
  if (by_domain.empty()) return;
  deps_.queue->hold(m.id);  // until its jobs are recorded (release)
  for (auto& [domain, indices] : by_domain) pump(destination_for(domain));
}

const destination_settings& delivery_engine::impl::settings_for(const std::string& domain) const {
  auto it = settings_.destinations.find(domain);
  return it != settings_.destinations.end() ? it->second : settings_.default_destination;
}

destination& delivery_engine::impl::destination_for(const std::string& domain) {
  auto it = destinations_.find(domain);
  if (it != destinations_.end()) return it->second;
  destination& d = destinations_[domain];
  d.domain = domain;
  d.settings = &settings_for(domain);
  stats.destinations = destinations_.size();
  return d;
}

// True when a fresh destination for the same domain would act exactly as `d` does: nothing
// waits or runs there, its plan is due for renewal, and no pause or rate window is open.
bool delivery_engine::impl::forgettable(const destination& d, core::time_point now) const {
  return d.jobs.empty() && d.connections.empty() && !d.planning && d.pump_timer == 0 &&
         d.throttled_until <= now && (!d.plan || d.plan_at + plan_reuse <= now) &&
         (d.starts.empty() || d.starts.back() + rate_window <= now);
}

// A long-running server sends to ever more domains: those it is done with are dropped, in a
// sweep every few minutes at most, so that its cost stays small beside the work done.
void delivery_engine::impl::forget_idle_destinations(core::time_point now) {
  if (now < next_forget_) return;
  next_forget_ = now + forget_interval;
  std::erase_if(destinations_, [&](const auto& entry) { return forgettable(entry.second, now); });
  stats.destinations = destinations_.size();
}

// The rules of source_pool (delivery_engine.hpp): a class pool first, then by domain.
int delivery_engine::impl::pool_of(const queued_message& m) const {
  if (!m.message_class.empty()) {
    const std::string wanted = lower(m.message_class);
    for (std::size_t i = 0; i < settings_.source_pools.size(); ++i) {
      const source_pool& p = settings_.source_pools[i];
      if (!p.addresses.empty() && lower(p.message_class) == wanted) return static_cast<int>(i);
    }
  }
  const std::string domain =
      m.envelope.reverse_path.null ? "" : lower(m.envelope.reverse_path.box.domain);
  int any = -1;
  for (std::size_t i = 0; i < settings_.source_pools.size(); ++i) {
    const source_pool& p = settings_.source_pools[i];
    if (p.addresses.empty() || !p.message_class.empty()) continue;
    if (lower(p.sender_domain) == domain) return static_cast<int>(i);
    if (p.sender_domain == "*" && any < 0) any = static_cast<int>(i);
  }
  return any;
}

std::string delivery_engine::impl::source_address(int pool) {
  if (pool < 0) return {};
  const auto& addresses = settings_.source_pools[static_cast<std::size_t>(pool)].addresses;
  std::size_t& next = pool_next_[static_cast<std::size_t>(pool)];
  return addresses[next++ % addresses.size()];
}

void delivery_engine::impl::pump_later(destination& d, core::time_point at) {
  if (d.pump_timer != 0 && d.pump_at <= at) return;
  if (d.pump_timer != 0) deps_.timers->cancel(d.pump_timer);
  d.pump_at = at;
  std::weak_ptr<bool> alive = alive_;
  const std::string domain = d.domain;
  d.pump_timer = deps_.timers->schedule(at, [this, alive, domain] {
    if (alive.expired()) return;
    destination& dest = destination_for(domain);
    dest.pump_timer = 0;
    pump(dest);
  });
}

bool delivery_engine::impl::rate_allows(destination& d) {
  const std::size_t limit = d.settings->messages_per_minute;
  if (limit == 0) return true;
  const core::time_point now = deps_.clock->now();
  while (!d.starts.empty() && d.starts.front() + rate_window <= now) d.starts.pop_front();
  if (d.starts.size() < limit) return true;
  pump_later(d, d.starts.front() + rate_window);
  return false;
}

// Jobs go to idle connections first; new connections open for what is left, within the
// destination's and the engine's connection limits.
void delivery_engine::impl::pump(destination& d) {
  if (stopping_) return;
  const core::time_point now = deps_.clock->now();
  if (d.throttled_until > now) return pump_later(d, d.throttled_until);
  for (std::size_t i = 0; i < d.connections.size() && !d.jobs.empty(); ++i) {
    outbound_connection& c = *d.connections[i];
    if (c.ready() && !assign(d, c)) continue;
  }
  std::size_t opening = 0;
  for (const auto& c : d.connections) {
    if (!c->ready() && !c->busy() && !c->finished()) ++opening;
  }
  while (d.jobs.size() > opening && d.connections.size() < d.settings->connections_max &&
         stats.connections_open < settings_.connections_total_max) {
    if (!d.plan || d.plan_at + plan_reuse <= now) return request_plan(d);
    if (!rate_allows(d)) return;
    open_connection(d, d.jobs[opening].pool);
    ++opening;
  }
}

void delivery_engine::impl::request_plan(destination& d) {
  if (d.planning) return;
  d.planning = true;
  std::weak_ptr<bool> alive = alive_;
  const std::string domain = d.domain;
  plan_route(domain, *deps_.resolver, *deps_.random, settings_.routing,
             [this, alive, domain](route_plan plan) {
               if (alive.expired()) return;
               on_plan(domain, std::move(plan));
             });
}

// A plan that defers or bounces settles every job waiting on the destination.
void delivery_engine::impl::on_plan(const std::string& domain, route_plan plan) {
  destination& d = destination_for(domain);
  d.planning = false;
  if (plan.kind == route_kind::deliver) {
    d.plan = std::move(plan);
    d.plan_at = deps_.clock->now();
    return pump(d);
  }
  d.plan.reset();
  attempt_outcome o;
  o.what = plan.kind == route_kind::bounce ? attempt_outcome::kind::failed
                                           : attempt_outcome::kind::deferred;
  o.status = plan.status;
  o.diagnostic = plan.diagnostic;
  core::fifo<delivery_job> jobs = std::move(d.jobs);
  d.jobs.clear();
  for (const delivery_job& job : jobs) record_all(job, o);
}

void delivery_engine::impl::open_connection(destination& d, int pool) {
  connection_setup setup;
  for (const route_host& h : d.plan->hosts) {
    for (const std::string& a : h.addresses) setup.targets.push_back({h.name, a, h.port});
  }
  if (setup.targets.empty()) return;
  setup.local_address = source_address(pool);
  setup.client = settings_.client;
  setup.client.helo_name = settings_.hostname;
  setup.client.starttls = d.settings->starttls;
  setup.limits = settings_.client_limits;
  setup.connect_timeout = settings_.connect_timeout;
  setup.tls_timeout = settings_.tls_handshake_timeout;
  setup.tls_verify = d.settings->tls_verify;
  connection_deps cd{deps_.clock, deps_.random, deps_.timers, deps_.transport};
  auto c = std::make_unique<outbound_connection>(std::move(setup), cd, *this);
  c->set_pool(pool);
  outbound_connection& ref = *c;
  d.connections.push_back(std::move(c));
  owners_.insert_or_assign(&ref, &d);
  ++stats.connections_made;
  ++stats.connections_open;
  ref.open();
}

// Gives `c` the next job it can carry (same source pool); false when there is none now.
bool delivery_engine::impl::assign(destination& d, outbound_connection& c) {
  const std::size_t per_connection = d.settings->messages_per_connection;
  if (stopping_ || (per_connection != 0 && c.transactions() >= per_connection)) {
    c.quit();
    return true;
  }
  if (d.throttled_until > deps_.clock->now()) return false;
  for (auto it = d.jobs.begin(); it != d.jobs.end(); ++it) {
    if (it->pool != c.pool()) continue;
    if (!rate_allows(d)) return false;
    delivery_job job = std::move(*it);
    d.jobs.erase(it);
    const queued_message* m = deps_.queue->find(job.id);
    std::error_code error;
    auto& bytes = bytes_cache_[job.id];
    if (!bytes && m != nullptr) bytes = deps_.queue->load_message(job.id, error);
    if (m == nullptr || !bytes) {
      attempt_outcome o;
      o.status = "4.3.0";
      o.diagnostic = "the queued message could not be read: " + error.message();
      record_all(job, o);
      return assign(d, c);
    }
    smtp::envelope env = m->envelope;
    env.recipients.clear();
    for (std::size_t i : job.recipients) env.recipients.push_back(m->recipients[i].rcpt);
    d.starts.push_back(deps_.clock->now());
    ++stats.transactions;
    c.send(std::move(job), env, *bytes);
    return true;
  }
  return false;
}

destination* delivery_engine::impl::destination_of(outbound_connection& c) {
  const auto it = owners_.find(&c);
  return it == owners_.end() ? nullptr : it->second;
}

// The connection is destroyed on a later turn: this is called from inside its callbacks.
void delivery_engine::impl::retire(destination& d, outbound_connection& c) {
  auto it = std::find_if(d.connections.begin(), d.connections.end(),
                         [&](const auto& p) { return p.get() == &c; });
  if (it == d.connections.end()) return;
  owners_.erase(&c);
  graveyard_.push_back(std::move(*it));
  d.connections.erase(it);
  --stats.connections_open;
  std::weak_ptr<bool> alive = alive_;
  deps_.timers->schedule(deps_.clock->now(), [this, alive] {
    if (!alive.expired()) graveyard_.clear();
  });
}

void delivery_engine::impl::on_connecting(outbound_connection& c, const connection_target& t) {
  destination* d = destination_of(c);
  engine_event ev;
  ev.what = engine_event::kind::connecting;
  ev.domain = d != nullptr ? d->domain : "";
  ev.host = t.host;
  ev.address = t.address;
  ev.source = c.local_address();
  emit(std::move(ev));
}

void delivery_engine::impl::on_target_failed(outbound_connection& c, const connection_end& why) {
  destination* d = destination_of(c);
  engine_event ev;
  ev.what = engine_event::kind::connect_failed;
  ev.domain = d != nullptr ? d->domain : "";
  ev.host = why.last.host;
  ev.address = why.last.address;
  ev.source = c.local_address();
  ev.detail = why.detail;
  emit(std::move(ev));
}

// Idle: the connection is kept a moment for jobs that may come, then closed.
void delivery_engine::impl::on_ready(outbound_connection& c) {
  destination* d = destination_of(c);
  if (d == nullptr || assign(*d, c)) return;
  std::weak_ptr<bool> alive = alive_;
  const std::string domain = d->domain;
  outbound_connection* pc = &c;
  deps_.timers->schedule(deps_.clock->now() + settings_.idle_keep, [this, alive, domain, pc] {
    if (alive.expired()) return;
    const auto dest = destinations_.find(domain);
    if (dest == destinations_.end()) return;  // forgotten: the connection is gone too
    for (const auto& p : dest->second.connections) {
      if (p.get() == pc && pc->ready()) pc->quit();
    }
  });
}

}  // namespace mailsim::queue
