// mailsim::sim::metrics summary — the totals, ratios and distributions of a run, for reports.
//
// Contract: summarize() reads a recorder once (records, series, listings) and returns plain
// data that depends only on the recorder's contents: maps are ordered by name, days ascend,
// so two equal recorders give equal summaries and equal report bytes. Delivery delay is
// final_at - queued_at of delivered records; percentiles use the nearest rank (the smallest
// value with at least p% of the values at or below it), as the expectation language does.
// Pure: no I/O, no clock. Also the number formats shared by expectations and reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "simulator/metrics/recorder.hpp"

namespace mailsim::sim::metrics {

// A distribution's shape; all zero when count is 0.
struct distribution {
  std::size_t count = 0;
  double p50 = 0;
  double p90 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
  double mean = 0;
};

struct totals {
  std::size_t sent = 0;  // records: one per (message, recipient)
  std::size_t delivered = 0;
  std::size_t bounced = 0;
  std::size_t expired = 0;
  std::size_t pending = 0;
  std::size_t inbox = 0;
  std::size_t junk = 0;
  std::size_t trap_hits = 0;
  std::size_t complaints = 0;
  std::size_t deferrals = 0;
  std::size_t attempts = 0;
  std::map<std::string, std::size_t> bounced_by_status;  // "5.1.1" → count ("" when none)
};

// One day since the run's start: records by the day they were queued or reached their
// outcome, and the receivers' counters (the series) of that day.
struct day_summary {
  std::int64_t day = 0;
  std::size_t queued = 0;
  std::size_t delivered = 0;
  std::size_t bounced = 0;
  std::size_t expired = 0;
  std::size_t connections = 0;
  std::size_t accepted = 0;
  std::size_t deferred = 0;
  std::size_t rejected = 0;
  std::size_t trap_hits = 0;
  std::size_t complaints = 0;
};

struct group_summary {
  totals counts;
  distribution delivery_delay_s;  // seconds, delivered records only
  distribution attempts;          // every record
  // Ascending, only days on which something happened. Receivers count by provider and IP,
  // not by sender, so a sender's days hold record counts only.
  std::vector<day_summary> days;
  // part / sent; nullopt when nothing was sent (a ratio of nothing is not 0).
  std::optional<double> ratio(std::size_t part) const;
};

struct summary {
  group_summary all;
  std::map<std::string, group_summary> by_provider;  // "" for domains outside the world
  std::map<std::string, group_summary> by_sender;
  std::vector<listing> listings;  // in the order they happened
};

summary summarize(const recorder& record);

// 750 s → "12m30s", 90061.5 s → "1d1h1m1.5s", 0.25 s → "250ms", 0 → "0s" (rounded to ms).
std::string format_duration_s(double seconds);
// Whole numbers as integers ("1000"), others with 4 significant digits ("0.9812").
std::string format_number(double value);

}  // namespace mailsim::sim::metrics
