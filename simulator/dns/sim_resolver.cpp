// mailsim::sim::dns sim_resolver: libunbound in process (synchronous lookups on local data
// only), a TTL cache on virtual time, faults by name and window. Contract in the header.
#include "simulator/dns/sim_resolver.hpp"

#include <unbound.h>

#include <algorithm>

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::sim::dns {
namespace {

using core::dns_answer;
using core::dns_status;
using core::rr_type;

constexpr int class_in = 1;  // RFC 1035 §3.2.4
constexpr int rcode_noerror = 0;
constexpr int rcode_nxdomain = 3;

dns_answer status_only(dns_status status) {
  dns_answer a;
  a.status = status;
  return a;
}

// A name in uncompressed wire form (libunbound's rdata, RFC 1035 §3.3), lower case.
std::optional<std::string> read_name(const unsigned char* p, std::size_t size, std::size_t& pos) {
  std::string name;
  while (pos < size) {
    const std::size_t len = p[pos++];
    if (len == 0) return name;
    if (len > 63 || pos + len > size) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(p + pos), len);
    pos += len;
  }
  return std::nullopt;
}

// One record's rdata into `out`; false when it does not parse.
bool add_rdata(rr_type type, const unsigned char* p, std::size_t size, dns_answer& out) {
  std::size_t pos = 0;
  switch (type) {
    case rr_type::a:
    case rr_type::aaaa: {
      const bool v6 = type == rr_type::aaaa;
      if (size != (v6 ? 16u : 4u)) return false;
      core::ip_address ip;
      ip.v6 = v6;
      std::copy(p, p + size, ip.bytes.begin());
      out.records.push_back(core::to_string(ip));
      return true;
    }
    case rr_type::mx: {  // RFC 1035 §3.3.9
      if (size < 3) return false;
      pos = 2;
      auto exchange = read_name(p, size, pos);
      if (!exchange || pos != size) return false;
      out.mx.push_back({static_cast<std::uint16_t>((p[0] << 8) | p[1]), normalize_name(*exchange)});
      return true;
    }
    case rr_type::txt: {  // RFC 1035 §3.3.14: character-strings, joined
      std::string text;
      while (pos < size) {
        const std::size_t len = p[pos++];
        if (pos + len > size) return false;
        text.append(reinterpret_cast<const char*>(p + pos), len);
        pos += len;
      }
      out.records.push_back(std::move(text));
      return true;
    }
    case rr_type::cname:
    case rr_type::ptr: {
      auto name = read_name(p, size, pos);
      if (!name || pos != size) return false;
      out.records.push_back(normalize_name(*name));
      return true;
    }
  }
  return false;
}

dns_answer to_answer(int err, const ub_result* r, rr_type type, std::uint32_t negative_ttl_s) {
  if (err != 0 || r == nullptr) return status_only(dns_status::servfail);
  if (r->rcode == rcode_nxdomain || (r->rcode == rcode_noerror && !r->havedata)) {
    dns_answer a =
        status_only(r->rcode == rcode_nxdomain ? dns_status::nxdomain : dns_status::nodata);
    a.ttl_s = negative_ttl_s;
    return a;
  }
  if (r->rcode != rcode_noerror) return status_only(dns_status::servfail);
  dns_answer a = status_only(dns_status::ok);
  for (int i = 0; r->data[i] != nullptr; ++i) {
    const auto* rdata = reinterpret_cast<const unsigned char*>(r->data[i]);
    if (!add_rdata(type, rdata, static_cast<std::size_t>(r->len[i]), a)) {
      return status_only(dns_status::servfail);
    }
  }
  a.ttl_s = static_cast<std::uint32_t>(std::max(r->ttl, 0));
  return a;
}

const char* status_name(dns_status s) {
  switch (s) {
    case dns_status::ok: return "ok";
    case dns_status::nodata: return "nodata";
    case dns_status::nxdomain: return "nxdomain";
    case dns_status::servfail: return "servfail";
    case dns_status::timeout: return "timeout";
  }
  return "?";
}

}  // namespace

std::string describe(const dns_answer& answer) {
  std::string out;
  append_description(out, answer);
  return out;
}

void append_description(std::string& out, const dns_answer& answer) {
  out += status_name(answer.status);
  out += " ttl=";
  core::append_decimal(out, answer.ttl_s);
  char sep = ' ';
  for (const auto& mx : answer.mx) {
    out += sep;
    core::append_decimal(out, mx.preference);
    out += ' ';
    out += mx.exchange;
    sep = ',';
  }
  for (const auto& r : answer.records) {
    out += sep;
    append_quoted(out, r, 512);
    sep = ',';
  }
}

// ---------------------------------------------------------------------------------------
// The libunbound context: zones and records go in as configuration before the first query
// finalizes it (zones added later can hide their siblings in libunbound 1.17, and
// ub_ctx_data_add would reverse the order of a record set).

struct sim_resolver::context {
  struct deleter {
    void operator()(ub_ctx* c) const { ub_ctx_delete(c); }
  };
  std::unique_ptr<ub_ctx, deleter> ctx;

  static std::unique_ptr<context> build(const zone_model& model, std::string& error) {
    auto c = std::make_unique<context>();
    c->ctx.reset(ub_ctx_create());
    if (!c->ctx) {
      error = "cannot create a libunbound context";
      return nullptr;
    }
    std::vector<std::pair<const char*, std::string>> options = {
        {"rrset-roundrobin:", "no"},  // the model's order, whatever the query id
        {"do-not-query-address:", "0.0.0.0/0"},  // nothing leaves the process
        {"do-not-query-address:", "::/0"}};
    const auto declared = [&](const std::string& name) {
      return std::any_of(model.zones().begin(), model.zones().end(),
                         [&](const zone& z) { return z.name == name; });
    };
    if (!declared("")) options.emplace_back("local-zone:", ". static");
    for (const auto& name : shadowing_default_zones()) {
      if (!declared(name)) options.emplace_back("local-zone:", name + ". nodefault");
    }
    for (auto& line : model.local_zone_lines()) options.emplace_back("local-zone:", line);
    for (auto& line : model.local_data_lines()) options.emplace_back("local-data:", line);
    for (const auto& [option, value] : options) {
      if (const int rc = ub_ctx_set_option(c->ctx.get(), option, value.c_str()); rc != 0) {
        error = std::string("libunbound refused ") + option + " " + value + ": " + ub_strerror(rc);
        return nullptr;
      }
    }
    return c;
  }

  dns_answer resolve(const std::string& name, rr_type type, std::uint32_t negative_ttl_s) {
    ub_result* r = nullptr;
    const int err = ub_resolve(ctx.get(), name.c_str(), static_cast<int>(type), class_in, &r);
    dns_answer a = to_answer(err, r, type, negative_ttl_s);
    if (r != nullptr) ub_resolve_free(r);
    return a;
  }
};

sim_resolver::sim_resolver(scheduler& sched, trace* tr, zone_model model,
                           resolver_options options)
    : sched_(sched), trace_(tr), model_(std::move(model)), options_(options) {}

sim_resolver::~sim_resolver() = default;

std::unique_ptr<sim_resolver> sim_resolver::create(scheduler& sched, trace* tr, zone_model model,
                                                   resolver_options options,
                                                   std::string& error) {
  error.clear();
  if (auto bad = model.validate()) {
    error = *bad;
    return nullptr;
  }
  auto ctx = context::build(model, error);
  if (!ctx) return nullptr;
  std::unique_ptr<sim_resolver> r(new sim_resolver(sched, tr, std::move(model), options));
  r->ctx_ = std::move(ctx);
  r->ctx_version_ = r->model_.version();
  r->stats_.context_builds = 1;
  return r;
}

bool sim_resolver::update_model(const std::function<void(zone_model&)>& change,
                                std::string& error) {
  zone_model next = model_;
  change(next);
  if (auto bad = next.validate()) {
    error = *bad;
    return false;
  }
  model_ = std::move(next);
  return true;
}

void sim_resolver::schedule_update(core::time_point at, std::function<void(zone_model&)> change) {
  sched_.schedule(at, [this, token = std::weak_ptr<bool>(alive_), change = std::move(change)] {
    if (token.expired()) return;
    std::string error;
    const bool ok = update_model(change, error);
    if (trace_ != nullptr && trace_->enabled()) {
      trace_->record("dns", ok ? "model updated" : "model update rejected: " + error);
    }
  });
}

std::optional<fault_kind> sim_resolver::fault_for(const std::string& name) const {
  const auto now = sched_.now();
  for (const auto& f : faults_) {
    if (now < f.from || now >= f.to) continue;
    const std::string target = normalize_name(f.name);
    if (name == target || (f.subtree && name.size() > target.size() &&
                           name.ends_with("." + target))) {
      return f.kind;
    }
  }
  return std::nullopt;
}

// libunbound answers one name; CNAMEs (which it does not follow in local data) are
// followed here, link by link. A chain longer than cname_depth_max is servfail.
dns_answer sim_resolver::lookup(const std::string& name, rr_type type) {
  if (ctx_version_ != model_.version()) {
    std::string error;
    auto fresh = context::build(model_, error);
    if (!fresh) return status_only(dns_status::servfail);  // the model validated: unexpected
    ctx_ = std::move(fresh);
    ctx_version_ = model_.version();
    asked_.clear();
    ++stats_.context_builds;
  }
  if (!is_dns_name(name)) return status_only(dns_status::nxdomain);  // RFC 1035 §2.3.4
  std::string current = name;
  std::uint32_t ttl_min = 0x7fffffff;
  for (unsigned depth = 0;; ++depth) {
    dns_answer a = ask_unbound(current, type);
    if (a.status != dns_status::nodata || type == rr_type::cname) {
      if (a.status == dns_status::ok || a.status == dns_status::nodata ||
          a.status == dns_status::nxdomain) {
        a.ttl_s = std::min(a.ttl_s, ttl_min);
      }
      return a;
    }
    const dns_answer alias = ask_unbound(current, rr_type::cname);
    if (alias.status != dns_status::ok || alias.records.empty()) return a;
    if (depth >= options_.cname_depth_max) return status_only(dns_status::servfail);
    ttl_min = std::min(ttl_min, alias.ttl_s);
    current = alias.records.front();
  }
}

// A synchronous libunbound query sets up a worker each time (about half a millisecond);
// its answer depends only on the model version, so each (name, type) is asked once per
// version. The TTL cache above this keeps its own behaviour: hits, expiry, latency.
dns_answer sim_resolver::ask_unbound(const std::string& name, rr_type type) {
  const key k{name, type};
  if (const auto it = asked_.find(k); it != asked_.end()) return it->second;
  dns_answer a = ctx_->resolve(name, type, options_.negative_ttl_s);
  if (asked_.size() >= std::max<std::size_t>(options_.cache_entries_max, 1)) asked_.clear();
  asked_.emplace(k, a);
  return a;
}

std::optional<dns_answer> sim_resolver::recall(const key& k) {
  const auto it = cache_.find(k);
  if (it == cache_.end()) return std::nullopt;
  const auto now = sched_.now();
  const auto expires = it->second.expiry->first;
  if (expires <= now) {
    forget(it);
    return std::nullopt;
  }
  dns_answer a = it->second.answer;
  // The TTL left, rounded up so that a hit never claims 0 while the entry is live.
  const auto left_ms = (expires - now).count();
  a.ttl_s = static_cast<std::uint32_t>((left_ms + 999) / 1000);
  return a;
}

void sim_resolver::forget(std::map<key, cached>::iterator it) {
  expiries_.erase(it->second.expiry);
  cache_.erase(it);
}

void sim_resolver::remember(const key& k, const dns_answer& answer) {
  if (answer.ttl_s == 0 || options_.cache_entries_max == 0) return;
  if (const auto old = cache_.find(k); old != cache_.end()) forget(old);
  while (cache_.size() >= options_.cache_entries_max) {
    forget(cache_.find(expiries_.begin()->second));  // the soonest to expire
    ++stats_.evictions;
  }
  const auto expires = sched_.now() + core::duration_ms{std::int64_t{answer.ttl_s} * 1000};
  const auto at = expiries_.emplace(expires, k);
  cache_.emplace(k, cached{answer, at});
}

void sim_resolver::deliver(std::uint64_t id, core::duration_ms delay, const char* source,
                           dns_answer answer, std::function<void(const dns_answer&)> cb) {
  sched_.schedule_after(delay, [this, token = std::weak_ptr<bool>(alive_), id, source,
                                a = std::move(answer), cb = std::move(cb)] {
    if (token.expired()) return;
    if (trace_ != nullptr && trace_->enabled()) {
      std::string& line = trace_line(id, " answer ");
      append_description(line, a);
      line += " (";
      line += source;
      line += ')';
      trace_->record("dns", line);
    }
    if (cb) cb(a);
  });
}

// "q<id><what>" in the resolver's line buffer, which keeps its capacity from line to line.
std::string& sim_resolver::trace_line(std::uint64_t id, std::string_view what) {
  line_.assign("q");
  core::append_decimal(line_, id);
  line_ += what;
  return line_;
}

void sim_resolver::resolve(const std::string& name, rr_type type,
                           std::function<void(const dns_answer&)> on_answer) {
  const std::uint64_t id = next_id_++;
  ++stats_.queries;
  const key k{normalize_name(name), type};
  const std::string& n = k.first;
  if (trace_ != nullptr && trace_->enabled()) {
    std::string& line = trace_line(id, " query ");
    line += n;
    line += ' ';
    line += type_name(type);
    trace_->record("dns", line);
  }
  if (const auto fault = fault_for(n)) {
    ++stats_.faulted;
    switch (*fault) {
      case fault_kind::servfail:
        return deliver(id, options_.answer_latency_ms, "fault",
                       status_only(dns_status::servfail), std::move(on_answer));
      case fault_kind::nxdomain:
        return deliver(id, options_.answer_latency_ms, "fault",
                       status_only(dns_status::nxdomain), std::move(on_answer));
      case fault_kind::timeout:
        return deliver(id, options_.timeout_ms, "fault", status_only(dns_status::timeout),
                       std::move(on_answer));
    }
  }
  if (auto hit = recall(k)) {
    ++stats_.cache_hits;
    return deliver(id, options_.cache_hit_latency_ms, "cache", std::move(*hit),
                   std::move(on_answer));
  }
  ++stats_.cache_misses;
  dns_answer answer = lookup(n, type);
  remember(k, answer);
  deliver(id, options_.answer_latency_ms, "unbound", std::move(answer), std::move(on_answer));
}

}  // namespace mailsim::sim::dns
