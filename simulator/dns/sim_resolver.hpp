// mailsim::sim::dns sim_resolver — the world's core::resolver in virtual time.
//
// Contract (core/resolver.hpp): resolve() never calls back; each query gets exactly one
// answer, as a scheduler event. Answers come from libunbound in process, loaded with the
// zone model (zone_model::local_zone_lines / local_data_lines) and never allowed onto the
// network (every address is do-not-query). The root is "static" unless the model declares
// it, so the world is exactly the model: a name with no record is NXDOMAIN, a name with
// other types only NODATA. libunbound does not follow local-data CNAMEs, so this resolver
// follows them itself (up to cname_depth_max), asking libunbound for each link, as a
// recursive resolver would (RFC 1034 §3.6.2); the answer's TTL is the chain's smallest.
// The lookup itself is synchronous inside the query's event (only local data is answered,
// so nothing waits); the answer is delivered answer_latency_ms later (cache hits:
// cache_hit_latency_ms). Records of one name and type come in the model's order.
// Cache: answers are kept per (name, type) for their TTL in virtual time (negative answers
// for negative_ttl_s, as if every zone's SOA MINIMUM were that, RFC 2308 §5), at most
// cache_entries_max entries (when full, the entry that expires first goes). A model change
// (update_model) rebuilds the libunbound context at its next query but leaves the cache:
// like any resolver's, it serves an answer until its TTL runs out, never after. Below the
// cache, libunbound's answer to each (name, type) is asked once per model version and
// kept: a synchronous libunbound query costs about half a millisecond, and its answer
// cannot change until the model does.
// Faults: a fault on a name (and, with subtree, every name below it) answers servfail,
// nxdomain or timeout to queries made in [from, to); they are checked before the cache
// (the world's resolver path is what fails); timeout answers after timeout_ms.
// Trace (source "dns"): "qN query NAME TYPE" when asked, "qN answer STATUS ttl=T (src)
// DATA" when answered; src is unbound, cache or fault. Single-threaded, like the scheduler.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/core/resolver.hpp"
#include "simulator/dns/zone_model.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"

namespace mailsim::sim::dns {

struct resolver_options {
  core::duration_ms answer_latency_ms{20};
  core::duration_ms cache_hit_latency_ms{0};
  core::duration_ms timeout_ms{10'000};  // a "timeout" fault answers after this
  std::size_t cache_entries_max = 100'000;
  std::uint32_t negative_ttl_s = 60;
  unsigned cname_depth_max = 8;
};

enum class fault_kind { servfail, timeout, nxdomain };

struct dns_fault {
  std::string name;  // normalized like zone_model names
  bool subtree = false;
  fault_kind kind = fault_kind::servfail;
  core::time_point from;
  core::time_point to;  // exclusive
};

struct resolver_stats {
  std::uint64_t queries = 0, cache_hits = 0, cache_misses = 0, faulted = 0;
  std::uint64_t evictions = 0, context_builds = 0;
};

class sim_resolver final : public core::resolver {
 public:
  // nullptr and `error` set (validate()'s sentence, or libunbound's) when the model is bad.
  static std::unique_ptr<sim_resolver> create(scheduler& sched, trace* tr, zone_model model,
                                              resolver_options options, std::string& error);
  ~sim_resolver() override;
  sim_resolver(const sim_resolver&) = delete;
  sim_resolver& operator=(const sim_resolver&) = delete;

  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> on_answer) override;

  // Changes the world's data now (a DNSBL listing appears). False and `error` set when
  // the changed model does not validate; the old model then stays.
  bool update_model(const std::function<void(zone_model&)>& change, std::string& error);
  // The same at virtual time `at` (a bad change is traced and dropped).
  void schedule_update(core::time_point at, std::function<void(zone_model&)> change);

  void add_fault(dns_fault fault) { faults_.push_back(std::move(fault)); }
  const zone_model& model() const { return model_; }
  const resolver_stats& stats() const { return stats_; }
  std::size_t cache_size() const { return cache_.size(); }

 private:
  struct context;
  using key = std::pair<std::string, core::rr_type>;
  using expiry_index = std::multimap<core::time_point, key>;
  struct cached {
    core::dns_answer answer;
    expiry_index::iterator expiry;  // its entry in expiries_
  };

  sim_resolver(scheduler& sched, trace* tr, zone_model model, resolver_options options);
  std::optional<fault_kind> fault_for(const std::string& name) const;
  core::dns_answer lookup(const std::string& name, core::rr_type type);
  core::dns_answer ask_unbound(const std::string& name, core::rr_type type);
  void remember(const key& k, const core::dns_answer& answer);
  std::optional<core::dns_answer> recall(const key& k);
  void forget(std::map<key, cached>::iterator it);
  void deliver(std::uint64_t id, core::duration_ms delay, const char* source,
               core::dns_answer answer, std::function<void(const core::dns_answer&)> cb);
  std::string& trace_line(std::uint64_t id, std::string_view what);

  scheduler& sched_;
  trace* trace_;
  zone_model model_;
  resolver_options options_;
  std::unique_ptr<context> ctx_;
  std::map<key, core::dns_answer> asked_;  // libunbound's answers for ctx_version_
  std::uint64_t ctx_version_ = 0;
  std::map<key, cached> cache_;
  expiry_index expiries_;  // cache entries by expiry time, to evict the soonest first
  std::vector<dns_fault> faults_;
  resolver_stats stats_;
  std::uint64_t next_id_ = 1;
  std::string line_;  // a trace line being built
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "ok ttl=300 10 mx.example.test,20 mx2.example.test": the answer as the trace writes it.
std::string describe(const core::dns_answer& answer);
// Appends what describe() returns, without a string of its own.
void append_description(std::string& out, const core::dns_answer& answer);

}  // namespace mailsim::sim::dns
