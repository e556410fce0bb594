// A run's recorder as plain Python data: records, daily series, listings and the summary of
// metrics/summary.hpp (which follows the expectation language's definitions, so that a
// sweep's table and a scenario's `expect:` agree: ratios over `sent`, delivery delay =
// final_at - queued_at of delivered records in seconds, nearest-rank percentiles).
#include <map>
#include <string>
#include <vector>

#include "pyapi/bindings/bindings.hpp"
#include "simulator/metrics/summary.hpp"

namespace py = pybind11;

namespace mailsim::pyapi {
namespace {

namespace metrics = sim::metrics;

double seconds_between(core::time_point from, core::time_point to) {
  return static_cast<double>((to - from).count()) / 1000.0;
}

py::object optional_seconds(core::time_point start, const std::optional<core::time_point>& t) {
  if (!t) return py::none();
  return py::float_(seconds_between(start, *t));
}

py::dict record_to_dict(const metrics::message_record& r, core::time_point start) {
  py::dict d;
  d["message"] = r.message;
  d["sender"] = r.sender;
  d["from"] = r.from;
  d["recipient"] = r.recipient;
  d["domain"] = r.domain;
  d["provider"] = r.provider;
  d["kind"] = r.kind;
  d["queued_s"] = seconds_between(start, r.queued_at);
  d["final_s"] = optional_seconds(start, r.final_at);
  d["delay_s"] = r.final_at ? py::object(py::float_(seconds_between(r.queued_at, *r.final_at)))
                            : py::object(py::none());
  d["outcome"] = metrics::to_string(r.outcome);
  d["placement"] = metrics::to_string(r.placed);
  d["code"] = r.code;
  d["status"] = r.status;
  d["ip"] = r.ip;
  d["attempts"] = r.attempts;
  d["deferrals"] = r.deferrals;
  d["trap_hit"] = r.trap_hit;
  d["complained"] = r.complained;
  d["bounce_returned"] = r.bounce_returned;
  return d;
}

py::object optional_float(const std::optional<double>& v) {
  if (!v) return py::none();
  return py::float_(*v);
}

// A distribution as p50_<name> ... mean_<name>; None when it is empty.
void add_distribution(py::dict& d, const metrics::distribution& dist, const std::string& name) {
  const auto put = [&](const std::string& key, double v) {
    d[py::str(key)] = dist.count == 0 ? py::object(py::none()) : py::object(py::float_(v));
  };
  put("p50_" + name, dist.p50);
  put("p90_" + name, dist.p90);
  put("p95_" + name, dist.p95);
  put("p99_" + name, dist.p99);
  put("max_" + name, dist.max);
  put("mean_" + name, dist.mean);
}

void add_day_totals(py::dict& d, const std::vector<metrics::day_summary>& days) {
  std::size_t connections = 0, accepted = 0, deferred = 0, rejected = 0;
  for (const metrics::day_summary& day : days) {
    connections += day.connections;
    accepted += day.accepted;
    deferred += day.deferred;
    rejected += day.rejected;
  }
  d["connections"] = connections;
  d["accepted"] = accepted;
  d["deferred"] = deferred;
  d["rejected"] = rejected;
}

// The flat headline numbers of a group: counts, ratios over sent, attempts and delay.
py::dict group_to_dict(const metrics::group_summary& g) {
  const metrics::totals& t = g.counts;
  py::dict d;
  d["sent"] = t.sent;
  d["delivered"] = t.delivered;
  d["bounced"] = t.bounced;
  d["expired"] = t.expired;
  d["pending"] = t.pending;
  d["inbox"] = t.inbox;
  d["junk"] = t.junk;
  d["trap_hits"] = t.trap_hits;
  d["complaints"] = t.complaints;
  d["attempts"] = t.attempts;
  d["deferrals"] = t.deferrals;
  d["delivered_ratio"] = optional_float(g.ratio(t.delivered));
  d["bounced_ratio"] = optional_float(g.ratio(t.bounced));
  d["expired_ratio"] = optional_float(g.ratio(t.expired));
  d["inbox_ratio"] = optional_float(g.ratio(t.inbox));
  d["junk_ratio"] = optional_float(g.ratio(t.junk));
  d["attempts_mean"] = g.attempts.count == 0 ? py::object(py::none())
                                             : py::object(py::float_(g.attempts.mean));
  add_distribution(d, g.delivery_delay_s, "delivery_delay");
  add_day_totals(d, g.days);
  return d;
}

py::dict day_to_dict(const metrics::day_summary& day) {
  py::dict d;
  d["day"] = day.day;
  d["queued"] = day.queued;
  d["delivered"] = day.delivered;
  d["bounced"] = day.bounced;
  d["expired"] = day.expired;
  d["connections"] = day.connections;
  d["accepted"] = day.accepted;
  d["deferred"] = day.deferred;
  d["rejected"] = day.rejected;
  d["trap_hits"] = day.trap_hits;
  d["complaints"] = day.complaints;
  return d;
}

py::dict groups_to_dict(const std::map<std::string, metrics::group_summary>& groups) {
  py::dict d;
  for (const auto& [name, g] : groups) d[py::str(name)] = group_to_dict(g);
  return d;
}

}  // namespace

py::list records_to_list(const metrics::recorder& record) {
  py::list out;
  for (const metrics::message_record& r : record.records()) {
    out.append(record_to_dict(r, record.start()));
  }
  return out;
}

py::list series_to_list(const metrics::recorder& record) {
  py::list out;
  for (const auto& [key, counts] : record.series()) {
    py::dict d;
    d["provider"] = key.provider;
    d["ip"] = key.ip;
    d["day"] = key.day;
    d["connections"] = counts.connections;
    d["accepted"] = counts.accepted;
    d["deferred"] = counts.deferred;
    d["rejected"] = counts.rejected;
    d["trap_hits"] = counts.trap_hits;
    d["complaints"] = counts.complaints;
    py::dict replies;
    for (const auto& [reply, n] : counts.by_reply) replies[py::str(reply)] = n;
    d["by_reply"] = replies;
    out.append(d);
  }
  return out;
}

py::list listings_to_list(const metrics::recorder& record) {
  py::list out;
  for (const metrics::listing& l : record.listings()) {
    py::dict d;
    d["zone"] = l.zone;
    d["subject"] = l.subject;
    d["listed_s"] = seconds_between(record.start(), l.listed_at);
    d["delisted_s"] = optional_seconds(record.start(), l.delisted_at);
    d["reason"] = l.reason;
    out.append(d);
  }
  return out;
}

py::dict summary_of(const metrics::recorder& record) {
  const metrics::summary sum = metrics::summarize(record);
  py::dict d = group_to_dict(sum.all);
  d["listings"] = sum.listings.size();
  py::dict by_status;
  for (const auto& [status, n] : sum.all.counts.bounced_by_status) by_status[py::str(status)] = n;
  d["bounced_by_status"] = by_status;
  return d;
}

py::dict breakdown_of(const metrics::recorder& record) {
  const metrics::summary sum = metrics::summarize(record);
  py::dict d;
  d["by_provider"] = groups_to_dict(sum.by_provider);
  d["by_sender"] = groups_to_dict(sum.by_sender);
  py::list days;
  for (const metrics::day_summary& day : sum.all.days) days.append(day_to_dict(day));
  d["days"] = days;
  return d;
}

}  // namespace mailsim::pyapi
