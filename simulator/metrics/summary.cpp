// summarize(): one pass over the records feeding the overall, per-provider and per-sender
// groups (each with its days), then one over the series. Distributions keep numbers only.
#include "simulator/metrics/summary.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace mailsim::sim::metrics {
namespace {

// A group while it is being filled: the totals, the raw values of its distributions and
// its days.
struct group_builder {
  totals counts;
  std::vector<double> delays_s;
  std::vector<double> attempts;
  std::map<std::int64_t, day_summary> days;
};

double nearest_rank(const std::vector<double>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  if (rank == 0) rank = 1;
  return sorted[rank - 1];
}

distribution shape(std::vector<double>& values) {
  distribution d;
  d.count = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.p50 = nearest_rank(values, 50);
  d.p90 = nearest_rank(values, 90);
  d.p95 = nearest_rank(values, 95);
  d.p99 = nearest_rank(values, 99);
  d.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  return d;
}

group_summary finish(group_builder& b) {
  group_summary g;
  g.counts = std::move(b.counts);
  g.delivery_delay_s = shape(b.delays_s);
  g.attempts = shape(b.attempts);
  for (auto& [day, row] : b.days) {
    row.day = day;
    g.days.push_back(row);
  }
  return g;
}

std::int64_t day_of(core::time_point start, core::time_point at) {
  return std::chrono::floor<std::chrono::days>(at - start).count();
}

void add_to_days(std::map<std::int64_t, day_summary>& days, core::time_point start,
                 const message_record& r) {
  ++days[day_of(start, r.queued_at)].queued;
  if (!r.final_at) return;
  day_summary& d = days[day_of(start, *r.final_at)];
  if (r.outcome == fate::delivered) ++d.delivered;
  if (r.outcome == fate::bounced) ++d.bounced;
  if (r.outcome == fate::expired) ++d.expired;
}

void add_record(group_builder& g, core::time_point start, const message_record& r) {
  add_to_days(g.days, start, r);
  totals& t = g.counts;
  ++t.sent;
  switch (r.outcome) {
    case fate::pending:
      ++t.pending;
      break;
    case fate::delivered:
      ++t.delivered;
      break;
    case fate::bounced:
      ++t.bounced;
      ++t.bounced_by_status[r.status];
      break;
    case fate::expired:
      ++t.expired;
      break;
  }
  if (r.placed == placement::inbox) ++t.inbox;
  if (r.placed == placement::junk) ++t.junk;
  if (r.trap_hit) ++t.trap_hits;
  if (r.complained) ++t.complaints;
  t.deferrals += r.deferrals;
  t.attempts += r.attempts;
  g.attempts.push_back(r.attempts);
  if (r.outcome == fate::delivered && r.final_at) {
    g.delays_s.push_back(static_cast<double>((*r.final_at - r.queued_at).count()) / 1000.0);
  }
}

void add_counts(day_summary& d, const series_counts& c) {
  d.connections += c.connections;
  d.accepted += c.accepted;
  d.deferred += c.deferred;
  d.rejected += c.rejected;
  d.trap_hits += c.trap_hits;
  d.complaints += c.complaints;
}

// The receivers' counters go to the overall days and to their provider's days.
void add_series(group_builder& all, std::map<std::string, group_builder>& providers,
                const recorder& record) {
  for (const auto& [key, c] : record.series()) {
    add_counts(all.days[key.day], c);
    add_counts(providers[key.provider].days[key.day], c);
  }
}

}  // namespace

std::optional<double> group_summary::ratio(std::size_t part) const {
  if (counts.sent == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(counts.sent);
}

summary summarize(const recorder& record) {
  group_builder all;
  std::map<std::string, group_builder> providers;
  std::map<std::string, group_builder> senders;
  for (const message_record& r : record.records()) {
    add_record(all, record.start(), r);
    add_record(providers[r.provider], record.start(), r);
    add_record(senders[r.sender], record.start(), r);
  }
  add_series(all, providers, record);

  summary s;
  s.all = finish(all);
  for (auto& [name, b] : providers) s.by_provider.emplace(name, finish(b));
  for (auto& [name, b] : senders) s.by_sender.emplace(name, finish(b));
  s.listings = record.listings();
  return s;
}

std::string format_duration_s(double seconds) {
  // Beyond about 10^15 s (or infinite) no long long of milliseconds holds the value: it
  // prints as a plain number of seconds.
  if (!std::isfinite(seconds) || std::fabs(seconds) >= 1e15) return format_number(seconds) + "s";
  auto ms = static_cast<long long>(std::llround(seconds * 1000.0));
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms == 0) return "0s";
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  static constexpr std::pair<long long, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  if (ms == 0) return out;
  out += std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03lld", ms % 1000);
    std::string f = fraction;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "s";
}

std::string format_number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

}  // namespace mailsim::sim::metrics
