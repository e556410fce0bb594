#include "simulator/world/world.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "simulator/dns/sim_resolver.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/bounce_sink.hpp"
#include "simulator/world/dnsbl_operator.hpp"
#include "simulator/world/receiver.hpp"
#include "simulator/world/sender.hpp"
#include "simulator/world/workload.hpp"
#include "simulator/world/world_dns.hpp"
#include "simulator/world/world_faults.hpp"

namespace mailsim::sim::world {
namespace {

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string{} : dns::normalize_name(address.substr(at + 1));
}

}  // namespace

// Members are declared in dependency order, so that they are destroyed users first: the
// workloads, the senders (their engines hold the transports and the resolver), the
// senders' bounce sinks, the providers, the DNSBL operators, the network and the resolver
// last.
class world::impl {
 public:
  impl(const world_spec& spec, scheduler& sched, const random_streams& streams, trace* tr,
       metrics::recorder& record);

  void start();
  void finish();
  world_stats stats() const;

 private:
  void build_dns();
  void build_providers();
  void build_senders();
  void build_bounce_sinks();
  void build_workloads();
  std::size_t sender_index(const workload_spec& w) const;

  world_spec spec_;
  scheduler& sched_;
  const random_streams& streams_;
  trace* tr_;
  metrics::recorder& record_;
  core::time_point run_start_;
  std::vector<std::optional<auth::private_key>> dkim_keys_;  // per sender
  std::unique_ptr<dns::sim_resolver> dns_;
  std::unique_ptr<network::virtual_network> net_;
  std::vector<std::unique_ptr<dnsbl_operator>> dnsbls_;
  std::vector<std::unique_ptr<provider>> providers_;
  std::vector<std::unique_ptr<bounce_sink>> sinks_;
  std::vector<std::unique_ptr<sender>> senders_;
  std::vector<std::unique_ptr<workload>> workloads_;
  std::uint64_t next_message_ = 1;
  bool started_ = false;
};

world::impl::impl(const world_spec& spec, scheduler& sched, const random_streams& streams,
                  trace* tr, metrics::recorder& record)
    : spec_(spec), sched_(sched), streams_(streams), tr_(tr), record_(record),
      run_start_(sched.now()) {
  fill_defaults(spec_);
  for (const workload_spec& w : spec_.workload) sender_index(w);  // checks before building
  check_faults(spec_);
  build_dns();
  network::network_options options;
  options.default_link.latency = spec_.latency;
  net_ = std::make_unique<network::virtual_network>(sched_, streams_, tr_, options);
  build_providers();
  build_senders();
  build_bounce_sinks();
  build_workloads();
}

void world::impl::build_dns() {
  dns::zone_model model = build_zone_model(spec_);
  // DKIM keys come from each sender's own stream, so the published records are reproducible.
  for (const sender_spec& s : spec_.senders) {
    prng random = streams_.fresh("sender/" + s.name + "/dkim");
    dkim_keys_.push_back(make_dkim_key(s, random));
    if (dkim_keys_.back()) {
      model.add_txt(dkim_record_name(s), dkim_keys_.back()->dns_record(), 3600);
    }
  }
  for (const dnsbl_spec& d : spec_.dnsbls) {
    dnsbls_.push_back(std::make_unique<dnsbl_operator>(d, sched_, tr_, record_));
    dnsbls_.back()->add_to(model);
  }
  std::string error;
  dns_ = dns::sim_resolver::create(sched_, tr_, std::move(model), {}, error);
  if (!dns_) spec_error(source_ref{}, "the world's DNS data is not valid: " + error);
  for (auto& d : dnsbls_) d->attach(*dns_);
}

void world::impl::build_providers() {
  world_services services;
  services.sched = &sched_;
  services.streams = &streams_;
  services.tr = tr_;
  services.net = net_.get();
  services.dns = dns_.get();
  services.record = &record_;
  // Every operator hears every trap hit and complaint; each applies its own rule.
  services.trap_hit = [this](const std::string& ip, const std::string& domain,
                             core::time_point at) {
    for (auto& d : dnsbls_) d->trap_hit(ip, domain, at);
  };
  services.complaint = [this](const std::string& ip, const std::string& domain,
                              core::time_point at) {
    for (auto& d : dnsbls_) d->complaint(ip, domain, at);
  };
  // Providers ask a zone by the kind its operator gives it (IP at connect, domain at MAIL).
  for (const dnsbl_spec& d : spec_.dnsbls) {
    policy::dnsbl_list l;
    l.zone = dns::normalize_name(d.zone);
    l.kind = d.kind == dnsbl_spec::subject_kind::domain ? policy::dnsbl_kind::domain
                                                        : policy::dnsbl_kind::ip;
    services.dnsbl_lists.push_back(std::move(l));
  }
  for (const provider_spec& p : spec_.providers) {
    try {
      providers_.push_back(std::make_unique<provider>(p, services));
    } catch (const std::invalid_argument& e) {
      // The receivers' own checks (an unknown profile) get the provider's place in the spec.
      spec_error(p.where, "provider " + p.name + ": " + e.what());
    }
  }
}

void world::impl::build_senders() {
  for (const sender_spec& s : spec_.senders) {
    sender_deps deps;
    deps.sched = &sched_;
    deps.tr = tr_;
    deps.net = net_.get();
    deps.dns = dns_.get();
    deps.record = &record_;
    deps.run_start = run_start_;
    deps.dkim_key = dkim_keys_[senders_.size()];
    senders_.push_back(std::make_unique<sender>(s, deps, streams_.fresh("sender/" + s.name)));
  }
}

// Where accept-then-bounce reports come back: one sink per sender domain the DNS routes
// to the senders themselves (world_dns.hpp bounce_routes).
void world::impl::build_bounce_sinks() {
  bounce_sink_deps deps;
  deps.sched = &sched_;
  deps.streams = &streams_;
  deps.tr = tr_;
  deps.net = net_.get();
  deps.record = &record_;
  for (const bounce_route& r : bounce_routes(spec_)) {
    sinks_.push_back(std::make_unique<bounce_sink>(r.domain, r.host, r.addresses, deps));
  }
}

void world::impl::build_workloads() {
  std::vector<population_view> views;
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    const provider* owner = providers_[i].get();
    const mailbox_spec& boxes = spec_.providers[i].mailboxes;  // providers_ follow the spec
    views.push_back({owner->name(), owner->domains(), &owner->population(),
                     [owner](const std::string& a) { return owner->kind_of(a); },
                     boxes.trap_domain ? std::vector<std::string>{} : boxes.roles});
  }
  for (std::size_t i = 0; i < spec_.workload.size(); ++i) {
    const workload_spec& w = spec_.workload[i];
    sender* out = senders_[sender_index(w)].get();
    workloads_.push_back(std::make_unique<workload>(
        w, sched_, streams_.fresh("workload/" + std::to_string(i + 1)), views, next_message_,
        [out](outgoing_message m) { out->submit(std::move(m)); }));
  }
}

// The first sender whose domain is the workload's reverse-path domain.
std::size_t world::impl::sender_index(const workload_spec& w) const {
  const std::string domain = domain_of(w.from);
  for (std::size_t i = 0; i < spec_.senders.size(); ++i) {
    if (spec_.senders[i].domain == domain) return i;
  }
  spec_error(w.where, "workload 'from' " + w.from + ": no sender has the domain '" + domain + "'");
}

void world::impl::start() {
  if (started_) return;
  started_ = true;
  schedule_faults(spec_, run_start_, *dns_, *net_);
  for (auto& p : providers_) p->start();
  for (auto& b : sinks_) b->start();
  for (auto& s : senders_) s->start();
  for (auto& w : workloads_) w->start(run_start_);
}

void world::impl::finish() {
  for (auto& w : workloads_) w->stop();
  for (auto& s : senders_) s->stop();
  for (auto& p : providers_) p->stop();
  for (auto& b : sinks_) b->stop();
}

world_stats world::impl::stats() const {
  world_stats out;
  for (const auto& s : senders_) {
    const sender_stats st = s->stats();
    out.connections += st.engine.connections_made;
    out.enqueued += st.recipients;
  }
  out.dns_queries = dns_->stats().queries;
  return out;
}

world::world(const world_spec& spec, scheduler& sched, const random_streams& streams, trace* tr,
             metrics::recorder& record)
    : impl_(std::make_unique<impl>(spec, sched, streams, tr, record)) {}

world::~world() = default;

void world::start() { impl_->start(); }
void world::finish() { impl_->finish(); }
world_stats world::stats() const { return impl_->stats(); }

}  // namespace mailsim::sim::world
