// The expectation evaluator: parses (expect_parse.cpp), reads every metric of the expression
// in one pass over the records (plus one over the small series map and one over listings),
// then computes both sides and compares them. Records are read in place, never copied; a
// distribution keeps only its numbers.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "reference-server/core/ascii.hpp"
#include "simulator/metrics/expect_ast.hpp"
#include "simulator/metrics/summary.hpp"

namespace mailsim::sim::metrics {
namespace {

using namespace detail;

struct value {
  double number = 0;
  value_kind kind = value_kind::number;
  std::string error;  // set when the value could not be computed
};

// What one leaf gathered during the pass.
struct accumulator {
  double numerator = 0;
  double denominator = 0;      // matching records, for ratios and means
  std::vector<double> values;  // for distributions
};

bool equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (core::ascii_lower(a[i]) != core::ascii_lower(b[i])) return false;
  }
  return true;
}

// "4xx" matches 421; "421" only 421.
bool code_matches(std::string_view pattern, std::string_view code) {
  if (code.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char p = pattern[i];
    if (p != 'x' && p != 'X' && p != code[i]) return false;
  }
  return true;
}

// "5.x.x" matches 5.7.1; each component compares whole.
bool status_matches(std::string_view pattern, std::string_view status) {
  while (true) {
    const std::size_t pdot = pattern.find('.');
    const std::size_t sdot = status.find('.');
    const std::string_view p = pattern.substr(0, pdot);
    const std::string_view s = status.substr(0, sdot);
    if (p != "x" && p != "X" && p != s) return false;
    if (pdot == std::string_view::npos || sdot == std::string_view::npos) {
      return pdot == std::string_view::npos && sdot == std::string_view::npos;
    }
    pattern.remove_prefix(pdot + 1);
    status.remove_prefix(sdot + 1);
  }
}

std::string_view code_text(int code, char (&buffer)[12]) {
  if (code <= 0 || code > 999) return {};
  buffer[0] = static_cast<char>('0' + code / 100);
  buffer[1] = static_cast<char>('0' + code / 10 % 10);
  buffer[2] = static_cast<char>('0' + code % 10);
  return std::string_view(buffer, 3);
}

bool record_matches(const std::vector<filter>& filters, const message_record& r) {
  for (const filter& f : filters) {
    char buffer[12];
    switch (f.key) {
      case filter_key::provider:
        if (r.provider != f.value) return false;
        break;
      case filter_key::domain:
        if (!equal_ci(r.domain, f.value)) return false;
        break;
      // A sender is named either by its scenario name or by its reverse path.
      case filter_key::sender:
        if (r.sender != f.value && !equal_ci(r.from, f.value)) return false;
        break;
      case filter_key::status:
        if (!status_matches(f.value, r.status)) return false;
        break;
      case filter_key::code:
        if (!code_matches(f.value, code_text(r.code, buffer))) return false;
        break;
      case filter_key::kind:
        if (r.kind != f.value) return false;
        break;
      case filter_key::ip:
        if (r.ip != f.value) return false;
        break;
    }
  }
  return true;
}

double record_amount(record_metric metric, const message_record& r) {
  switch (metric) {
    case record_metric::sent:
      return 1;
    case record_metric::delivered:
      return r.outcome == fate::delivered ? 1 : 0;
    case record_metric::bounced:
      return r.outcome == fate::bounced ? 1 : 0;
    case record_metric::expired:
      return r.outcome == fate::expired ? 1 : 0;
    case record_metric::pending:
      return r.outcome == fate::pending ? 1 : 0;
    case record_metric::inbox:
      return r.placed == placement::inbox ? 1 : 0;
    case record_metric::junk:
      return r.placed == placement::junk ? 1 : 0;
    case record_metric::trap_hits:
      return r.trap_hit ? 1 : 0;
    case record_metric::complaints:
      return r.complained ? 1 : 0;
    case record_metric::deferrals:
      return r.deferrals;
    case record_metric::attempts:
      return r.attempts;
  }
  return 0;
}

void gather_record(const leaf& l, const message_record& r, accumulator& acc) {
  if (!record_matches(l.filters, r)) return;
  switch (l.kind) {
    case leaf_kind::record_count:
    case leaf_kind::record_ratio:
      acc.numerator += record_amount(l.record, r);
      acc.denominator += 1;
      return;
    case leaf_kind::attempts_mean:
      acc.numerator += r.attempts;
      acc.denominator += 1;
      return;
    case leaf_kind::distribution:
      if (l.source == dist_source::attempts) {
        acc.values.push_back(r.attempts);
      } else if (r.outcome == fate::delivered && r.final_at) {
        // Delivery delay is final_at - queued_at of delivered records, in seconds.
        acc.values.push_back(static_cast<double>((*r.final_at - r.queued_at).count()) / 1000.0);
      }
      return;
    case leaf_kind::series_count:
    case leaf_kind::listings:
      return;
  }
}

// A reply such as "421 4.7.28" against the code/status filters of a series leaf.
bool reply_matches(const std::vector<filter>& filters, std::string_view reply) {
  const std::size_t space = reply.find(' ');
  const std::string_view code = reply.substr(0, space);
  const std::string_view status =
      space == std::string_view::npos ? std::string_view{} : core::trim(reply.substr(space + 1));
  for (const filter& f : filters) {
    if (f.key == filter_key::code && !code_matches(f.value, code)) return false;
    if (f.key == filter_key::status && !status_matches(f.value, status)) return false;
  }
  return true;
}

bool has_reply_filter(const std::vector<filter>& filters) {
  return std::any_of(filters.begin(), filters.end(), [](const filter& f) {
    return f.key == filter_key::code || f.key == filter_key::status;
  });
}

// Replies by_reply counts for every counter; the metric's own class picks them out.
char reply_class(series_metric metric) {
  switch (metric) {
    case series_metric::accepted:
      return '2';
    case series_metric::deferred:
      return '4';
    case series_metric::rejected:
      return '5';
    case series_metric::connections:
      return '\0';
  }
  return '\0';
}

double series_amount(const leaf& l, const series_key& key, const series_counts& counts) {
  for (const filter& f : l.filters) {
    if (f.key == filter_key::provider && key.provider != f.value) return 0;
    if (f.key == filter_key::ip && key.ip != f.value) return 0;
  }
  if (has_reply_filter(l.filters)) {
    const char wanted = reply_class(l.series);
    double sum = 0;
    for (const auto& [reply, n] : counts.by_reply) {
      if (!reply.empty() && reply[0] == wanted && reply_matches(l.filters, reply)) {
        sum += static_cast<double>(n);
      }
    }
    return sum;
  }
  switch (l.series) {
    case series_metric::connections:
      return static_cast<double>(counts.connections);
    case series_metric::accepted:
      return static_cast<double>(counts.accepted);
    case series_metric::deferred:
      return static_cast<double>(counts.deferred);
    case series_metric::rejected:
      return static_cast<double>(counts.rejected);
  }
  return 0;
}

double listing_amount(const leaf& l, const recorder& record) {
  double sum = 0;
  for (const listing& entry : record.listings()) {
    bool match = true;
    for (const filter& f : l.filters) match = match && entry.subject == f.value;
    if (match) sum += 1;
  }
  return sum;
}

// One pass over each source, filling an accumulator per leaf.
std::vector<accumulator> gather(const std::vector<leaf>& leaves, const recorder& record) {
  std::vector<accumulator> acc(leaves.size());
  std::vector<std::size_t> record_leaves;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const leaf_kind k = leaves[i].kind;
    if (k == leaf_kind::series_count) {
      for (const auto& [key, counts] : record.series()) {
        acc[i].numerator += series_amount(leaves[i], key, counts);
      }
    } else if (k == leaf_kind::listings) {
      acc[i].numerator = listing_amount(leaves[i], record);
    } else {
      record_leaves.push_back(i);
    }
  }
  if (record_leaves.empty()) return acc;
  for (const message_record& r : record.records()) {
    for (std::size_t i : record_leaves) gather_record(leaves[i], r, acc[i]);
  }
  return acc;
}

// Nearest rank: the smallest value with at least p% of the values at or below it.
double percentile(std::vector<double>& values, double p) {
  const auto n = static_cast<double>(values.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  if (rank == 0) rank = 1;
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

value distribution_value(const leaf& l, std::vector<double>& values) {
  if (values.empty()) {
    return value{0, value_kind::number,
                 l.text + " has no values: " +
                     (l.source == dist_source::delivery_delay ? "no delivered message matches"
                                                              : "no message matches")};
  }
  const value_kind kind =
      l.source == dist_source::delivery_delay ? value_kind::duration : value_kind::count;
  switch (l.function) {
    case dist_function::p50:
      return value{percentile(values, 50), kind, {}};
    case dist_function::p90:
      return value{percentile(values, 90), kind, {}};
    case dist_function::p95:
      return value{percentile(values, 95), kind, {}};
    case dist_function::p99:
      return value{percentile(values, 99), kind, {}};
    case dist_function::max:
      return value{*std::max_element(values.begin(), values.end()), kind, {}};
    case dist_function::min:
      return value{*std::min_element(values.begin(), values.end()), kind, {}};
    case dist_function::mean:
      break;
  }
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  return value{mean, kind == value_kind::count ? value_kind::number : kind, {}};
}

value leaf_value(const leaf& l, accumulator& acc) {
  switch (l.kind) {
    case leaf_kind::record_count:
    case leaf_kind::series_count:
    case leaf_kind::listings:
      return value{acc.numerator, value_kind::count, {}};
    case leaf_kind::record_ratio:
    case leaf_kind::attempts_mean:
      if (acc.denominator == 0) {
        return value{0, value_kind::number,
                     l.text + " divides by zero: no message matches (sent is 0)"};
      }
      return value{acc.numerator / acc.denominator,
                   l.kind == leaf_kind::record_ratio ? value_kind::ratio : value_kind::number,
                   {}};
    case leaf_kind::distribution:
      return distribution_value(l, acc.values);
  }
  return {};
}

// The kind of a result, so that counts / counts reads as a ratio and 2 * 30m as a duration.
value_kind combine_kind(char op, value_kind a, value_kind b) {
  if (op == '+' || op == '-') {
    if (a == b) return a;
    if (a == value_kind::number) return b;
    if (b == value_kind::number) return a;
    return value_kind::number;
  }
  if (op == '*') {
    if (a == value_kind::number) return b;
    if (b == value_kind::number) return a;
    return a == value_kind::count && b == value_kind::count ? value_kind::count
                                                            : value_kind::number;
  }
  if (a == b && (a == value_kind::count || a == value_kind::duration)) return value_kind::ratio;
  return b == value_kind::number ? a : value_kind::number;
}

class evaluator {
 public:
  evaluator(const std::vector<leaf>& leaves, std::vector<accumulator>& acc)
      : leaves_(leaves), acc_(acc) {}

  value eval(const node& n) {
    if (const auto* lit = std::get_if<literal>(&n.what)) return value{lit->value, lit->kind, {}};
    if (const auto* index = std::get_if<std::size_t>(&n.what)) {
      return leaf_value(leaves_[*index], acc_[*index]);
    }
    const auto& b = std::get<binary>(n.what);
    value left = eval(*b.left);
    if (!left.error.empty()) return left;
    value right = eval(*b.right);
    if (!right.error.empty()) return right;
    return apply(b.op, left, right, n.column);
  }

 private:
  const std::vector<leaf>& leaves_;
  std::vector<accumulator>& acc_;

  value apply(char op, const value& a, const value& b, std::size_t column) const {
    const value_kind kind = combine_kind(op, a.kind, b.kind);
    switch (op) {
      case '+':
        return value{a.number + b.number, kind, {}};
      case '-':
        return value{a.number - b.number, kind, {}};
      case '*':
        return value{a.number * b.number, kind, {}};
      default:
        break;
    }
    if (b.number == 0) {
      return value{
          0, kind,
          "division by zero at column " + std::to_string(column) + ": the denominator is 0"};
    }
    return value{a.number / b.number, kind, {}};
  }
};

// Equality and the bounds allow for the rounding of decimal literals (0.97 vs 97/100).
bool compare(comparison cmp, double a, double b) {
  const double slack = 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
  switch (cmp) {
    case comparison::ge:
      return a >= b - slack;
    case comparison::le:
      return a <= b + slack;
    case comparison::eq:
      return std::fabs(a - b) <= slack;
    case comparison::ne:
      return std::fabs(a - b) > slack;
    case comparison::gt:
      return a > b + slack;
    case comparison::lt:
      return a < b - slack;
  }
  return false;
}

std::string format_value(const value& v) {
  switch (v.kind) {
    case value_kind::duration:
      return format_duration_s(v.number);
    case value_kind::count:
    case value_kind::ratio:
    case value_kind::number:
      break;
  }
  return format_number(v.number);
}

expect_result evaluate_listed(const listed_check& check, const recorder& record) {
  const listing* first = nullptr;
  std::size_t times = 0;
  for (const listing& l : record.listings()) {
    if (l.zone != check.zone || l.subject != check.subject) continue;
    if (first == nullptr) first = &l;
    ++times;
  }
  expect_result result;
  result.passed = check.never ? first == nullptr : first != nullptr;
  if (first == nullptr) {
    result.measured = "not listed";
  } else {
    const double since_s = static_cast<double>((first->listed_at - record.start()).count()) / 1000;
    result.measured = "listed " + std::to_string(times) + (times == 1 ? " time" : " times") +
                      ", first after " + format_duration_s(since_s);
    if (!first->reason.empty()) result.measured += " (" + first->reason + ")";
  }
  return result;
}

}  // namespace

std::optional<expect_syntax_error> check_expectation(std::string_view text) {
  return parse_expectation(text).error;
}

expect_result evaluate_expectation(std::string_view text, const recorder& record) {
  const parse_outcome outcome = parse_expectation(text);
  expect_result result;
  if (outcome.error) {
    result.error = "syntax error at column " + std::to_string(outcome.error->column) + ": " +
                   outcome.error->message;
    return result;
  }
  const parsed& tree = outcome.tree;
  if (tree.is_listed) return evaluate_listed(tree.listed, record);
  std::vector<accumulator> acc = gather(tree.leaves, record);
  evaluator eval(tree.leaves, acc);
  const value left = eval.eval(*tree.left);
  if (!left.error.empty()) {
    result.error = left.error;
    return result;
  }
  result.measured = format_value(left);
  const value right = eval.eval(*tree.right);
  if (!right.error.empty()) {
    result.error = right.error;
    return result;
  }
  result.passed = compare(tree.cmp, left.number, right.number);
  return result;
}

}  // namespace mailsim::sim::metrics
