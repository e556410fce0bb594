// Internal to simulator/metrics: the parsed form of an expectation (expect.hpp) shared by the
// parser (expect_parse.cpp) and the evaluator (expect.cpp). Not part of the public API.
//
// Contract: parse_expectation() either returns a tree whose every metric, filter key and
// function is known and allowed where it stands, or the first syntax error with its 1-based
// column and a sentence saying what was expected. It never evaluates anything.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "simulator/metrics/expect.hpp"

namespace mailsim::sim::metrics::detail {

// What a value is, so that the measured text reads naturally (counts as integers, ratios
// with 4 significant digits, durations as 12m30s).
enum class value_kind { number, count, ratio, duration };

// Metrics counted over the message records.
enum class record_metric {
  sent,
  delivered,
  bounced,
  expired,
  pending,
  inbox,
  junk,
  trap_hits,
  complaints,
  deferrals,
  attempts
};
// Metrics counted over the receiver-side (provider, ip, day) series.
enum class series_metric { connections, accepted, rejected, deferred };

enum class filter_key { provider, domain, sender, status, code, kind, ip };

struct filter {
  filter_key key = filter_key::provider;
  std::string value;
};

// Which number a leaf produces.
enum class leaf_kind {
  record_count,   // sum over matching records of a record_metric
  record_ratio,   // record_count / sent of the same filters
  attempts_mean,  // attempts / sent of the same filters
  series_count,   // sum over matching series entries
  listings,       // listings, filtered by ip (the listed subject)
  distribution    // a function over delivery_delay or attempts
};

enum class dist_source { delivery_delay, attempts };
enum class dist_function { p50, p90, p95, p99, max, min, mean };

struct leaf {
  leaf_kind kind = leaf_kind::record_count;
  record_metric record = record_metric::sent;
  series_metric series = series_metric::connections;
  dist_source source = dist_source::delivery_delay;
  dist_function function = dist_function::p50;
  std::vector<filter> filters;
  std::string text;        // as written, for error messages
  std::size_t column = 0;  // where it starts (1-based)
};

struct node;
using node_ptr = std::unique_ptr<node>;

struct literal {
  double value = 0;
  value_kind kind = value_kind::number;
};

struct binary {
  char op = '+';  // + - * /
  node_ptr left;
  node_ptr right;
};

struct node {
  std::variant<literal, std::size_t /* index into parsed::leaves */, binary> what;
  std::size_t column = 0;
};

enum class comparison { ge, le, eq, ne, gt, lt };

struct listed_check {
  bool never = false;  // "never listed": passes when the subject was never listed
  std::string subject;
  std::string zone;
};

struct parsed {
  bool is_listed = false;
  listed_check listed;
  node_ptr left;
  node_ptr right;
  comparison cmp = comparison::ge;
  std::vector<leaf> leaves;  // every metric the expression reads, in text order
};

struct parse_outcome {
  parsed tree;
  std::optional<expect_syntax_error> error;
};

parse_outcome parse_expectation(std::string_view text);

}  // namespace mailsim::sim::metrics::detail
