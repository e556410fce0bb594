// A DNSBL operator (dnsbl_operator.hpp): counts trap hits and complaints per IP (or per MAIL
// FROM domain, for a domain list) in a sliding window, lists and delists through the world's
// resolver, and tells the recorder and trace.
//
// Model choices (receiver-behaviour.md §2):
// - A listing is the RFC 5782 pair at the reversed name: A 127.0.0.2 (both styles; the
//   Spamhaus SBL code and the generic "listed" code, §2.2, §2.3) and a TXT reason. The zone
//   also carries 127.0.0.2 itself, the RFC 5782 §5 test entry that clients probe (§2.1).
// - "N hits inside the window" counts hits at times in (at - window, at]: two hits exactly a
//   window apart are not inside one window.
// - Delisting is automatic, `expire_after` after the last hit of either kind (SpamCop: 24 h
//   after the last report; Spamhaus CSS: about 3 days; OpenBSD spamd: 24 h, §2.3-2.5). A hit
//   while listed postpones it. IPs listed from the start (spec.listed) stand for manual
//   listings (SBL, §2.4) and never expire during a run.
#include "simulator/world/dnsbl_operator.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/core/ip_address.hpp"

namespace mailsim::sim::world {
namespace {

constexpr const char* listing_code = "127.0.0.2";  // RFC 5782 §2.1; SBL (§2.2)
constexpr const char* source = "dnsbl";

// "24h", "90m", "45s", "1500ms": the window in listing reasons.
std::string span_text(core::duration_ms d) {
  const std::int64_t ms = d.count();
  if (ms > 0 && ms % 3600'000 == 0) return std::to_string(ms / 3600'000) + "h";
  if (ms > 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms > 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string canonical(const std::string& ip) {
  auto addr = core::parse_ip(ip);
  return addr ? core::to_string(*addr) : ip;
}

bool lists_domains(const dnsbl_spec& spec) {
  return spec.kind == dnsbl_spec::subject_kind::domain;
}

}  // namespace

class dnsbl_operator::impl {
 public:
  impl(const dnsbl_spec& spec, scheduler& sched, trace* tr, metrics::recorder& record,
       std::uint32_t ttl_s)
      : spec_(spec),
        zone_(dns::normalize_name(spec.zone)),
        sched_(sched),
        trace_(tr),
        record_(record),
        ttl_s_(ttl_s) {
    for (const std::string& raw : spec_.listed) {
      const std::string ip = subject_of(raw);
      state& s = ips_[ip];
      if (s.listed) continue;
      s.listed = true;
      s.from_start = true;
      const std::string reason = "listed from the start";
      record_.listed(zone_, ip, sched_.now(), reason);
      note("listed " + ip + ": " + reason);
    }
  }

  const std::string& zone() const { return zone_; }

  void add_to(dns::zone_model& model) const {
    model.add_zone(zone_);
    // RFC 5782 §5: an IPv4 list answers for 127.0.0.2, a domain list for "test", so clients
    // can test it.
    add_listing(model, lists_domains(spec_) ? "test" : "127.0.0.2", "test entry (RFC 5782)");
    for (const auto& [ip, s] : ips_) {
      if (s.from_start) add_listing(model, ip, "listed from the start");
    }
  }

  void attach(dns::sim_resolver& resolver) {
    resolver_ = &resolver;
    std::vector<std::function<void(dns::zone_model&)>> waiting;
    waiting.swap(pending_);
    for (auto& change : waiting) apply(std::move(change));
  }

  // An IP list counts the client address, a domain list the MAIL FROM domain (a message
  // from the null sender is no evidence against any domain).
  void hit(const std::string& raw_ip, const std::string& domain, core::time_point at, bool trap) {
    // A kind of hit the operator has no rule for (0: off) is not evidence to it at all.
    const std::size_t rule = trap ? spec_.trap_hits : spec_.complaints;
    if (rule == 0) return;
    const std::string ip = subject_of(lists_domains(spec_) ? domain : raw_ip);
    if (ip.empty()) return;
    state& s = ips_[ip];
    std::deque<core::time_point>& hits = trap ? s.traps : s.complaints;
    hits.push_back(at);
    while (!hits.empty() && hits.front() <= at - spec_.window) hits.pop_front();
    s.last_hit = std::max(s.last_hit, at);
    if (!s.listed && hits.size() >= rule) {
      list(ip, s, at,
           std::to_string(hits.size()) + (trap ? " trap hits" : " complaints") + " in " +
               span_text(spec_.window));
    } else if (s.listed && !s.from_start) {
      schedule_delisting(ip, s);  // a new hit postpones the delisting
    }
  }

  bool listed(const std::string& ip) const {
    auto it = ips_.find(subject_of(ip));
    return it != ips_.end() && it->second.listed;
  }

 private:
  struct state {
    std::deque<core::time_point> traps;  // hit times inside the window
    std::deque<core::time_point> complaints;
    core::time_point last_hit{};
    bool listed = false;
    bool from_start = false;
    std::optional<core::timer_id> delisting;
  };

  // A domain in lower case without a trailing dot; an IP in its canonical form.
  std::string subject_of(const std::string& raw) const {
    return lists_domains(spec_) ? dns::normalize_name(raw) : canonical(raw);
  }

  // RFC 5782 §2.1 (reversed address) or §2.3 (the domain as it is) under the zone.
  std::string name_of(const std::string& subject) const {
    if (!lists_domains(spec_)) return dns::dnsbl_name(subject, zone_);
    const std::string name = subject + "." + zone_;
    // RFC 1035 §2.3.4: a name over 253 octets cannot be asked, so it is not published.
    return subject.empty() || name.size() > 253 ? std::string{} : name;
  }

  std::string txt_of(const std::string& ip, const std::string& reason) const {
    if (spec_.style == "spamhaus") {
      const char* list = lists_domains(spec_) ? "DBL" : "SBL";
      return std::string("Listed by ") + list + " (" + reason +
             "), see https://check.spamhaus.org/ for " + ip;
    }
    return ip + " listed in " + zone_ + ": " + reason;
  }

  void add_listing(dns::zone_model& model, const std::string& ip, const std::string& reason) const {
    const std::string name = name_of(ip);
    if (name.empty()) return;  // not an address (or domain): nothing a DNSBL can publish
    model.add_a(name, listing_code, ttl_s_);
    model.add_txt(name, txt_of(ip, reason), ttl_s_);
  }

  void list(const std::string& ip, state& s, core::time_point at, const std::string& reason) {
    s.listed = true;
    apply([this, ip, reason](dns::zone_model& m) { add_listing(m, ip, reason); });
    record_.listed(zone_, ip, at, reason);
    note("listed " + ip + ": " + reason);
    schedule_delisting(ip, s);
  }

  void schedule_delisting(const std::string& ip, state& s) {
    if (s.delisting) sched_.cancel(*s.delisting);
    std::weak_ptr<bool> alive = alive_;
    s.delisting = sched_.schedule(s.last_hit + spec_.expire_after, [this, alive, ip] {
      if (!alive.expired()) delist(ip);
    });
  }

  void delist(const std::string& ip) {
    auto it = ips_.find(ip);
    if (it == ips_.end() || !it->second.listed) return;
    state& s = it->second;
    s.listed = false;
    s.delisting.reset();
    apply([this, ip](dns::zone_model& m) {
      const std::string name = name_of(ip);
      m.remove(name, core::rr_type::a);
      m.remove(name, core::rr_type::txt);
    });
    record_.delisted(zone_, ip, sched_.now());
    note("delisted " + ip + ": no hit for " + span_text(spec_.expire_after));
  }

  // Changes the world's DNS now, or once the resolver exists.
  void apply(std::function<void(dns::zone_model&)> change) {
    if (resolver_ == nullptr) {
      pending_.push_back(std::move(change));
      return;
    }
    std::string error;
    if (!resolver_->update_model(change, error)) note("zone update rejected: " + error);
  }

  void note(const std::string& text) {
    if (trace_ != nullptr) trace_->record(source, zone_ + " " + text);
  }

  dnsbl_spec spec_;
  std::string zone_;
  scheduler& sched_;
  trace* trace_;
  metrics::recorder& record_;
  std::uint32_t ttl_s_;
  dns::sim_resolver* resolver_ = nullptr;
  std::vector<std::function<void(dns::zone_model&)>> pending_;
  std::map<std::string, state> ips_;  // by canonical address: add_to() writes in order
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

dnsbl_operator::dnsbl_operator(const dnsbl_spec& spec, scheduler& sched, trace* tr,
                               metrics::recorder& record, std::uint32_t ttl_s)
    : impl_(std::make_unique<impl>(spec, sched, tr, record, ttl_s)) {}

dnsbl_operator::~dnsbl_operator() = default;

const std::string& dnsbl_operator::zone() const {
  return impl_->zone();
}

void dnsbl_operator::add_to(dns::zone_model& model) const {
  impl_->add_to(model);
}

void dnsbl_operator::attach(dns::sim_resolver& resolver) {
  impl_->attach(resolver);
}

void dnsbl_operator::trap_hit(const std::string& ip, const std::string& domain,
                              core::time_point at) {
  impl_->hit(ip, domain, at, true);
}

void dnsbl_operator::complaint(const std::string& ip, const std::string& domain,
                               core::time_point at) {
  impl_->hit(ip, domain, at, false);
}

bool dnsbl_operator::listed(const std::string& ip) const {
  return impl_->listed(ip);
}

}  // namespace mailsim::sim::world
