// The expectation parser: recursive descent over the characters of one expectation, with the
// grammar of expect.hpp. Every check that does not need data (metric names, filter keys that
// apply to a metric, functions over distributions) happens here, so that a typo fails when
// the scenario is loaded rather than after a long run.
#include <array>
#include <charconv>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "simulator/metrics/expect_ast.hpp"

namespace mailsim::sim::metrics::detail {
namespace {

struct record_name {
  std::string_view name;
  record_metric metric;
};
constexpr std::array<record_name, 12> record_names{{
    {"sent", record_metric::sent},
    {"delivered", record_metric::delivered},
    {"bounced", record_metric::bounced},
    {"bounces", record_metric::bounced},
    {"expired", record_metric::expired},
    {"pending", record_metric::pending},
    {"inbox", record_metric::inbox},
    {"junk", record_metric::junk},
    {"trap_hits", record_metric::trap_hits},
    {"complaints", record_metric::complaints},
    {"deferrals", record_metric::deferrals},
    {"attempts", record_metric::attempts},
}};

struct series_name {
  std::string_view name;
  series_metric metric;
};
constexpr std::array<series_name, 4> series_names{{
    {"connections", series_metric::connections},
    {"accepted", series_metric::accepted},
    {"rejected", series_metric::rejected},
    {"deferred", series_metric::deferred},
}};

struct function_name {
  std::string_view name;
  dist_function function;
};
constexpr std::array<function_name, 7> function_names{{
    {"p50", dist_function::p50},
    {"p90", dist_function::p90},
    {"p95", dist_function::p95},
    {"p99", dist_function::p99},
    {"max", dist_function::max},
    {"min", dist_function::min},
    {"mean", dist_function::mean},
}};

struct key_name {
  std::string_view name;
  filter_key key;
};
constexpr std::array<key_name, 7> key_names{{
    {"provider", filter_key::provider},
    {"domain", filter_key::domain},
    {"sender", filter_key::sender},
    {"status", filter_key::status},
    {"code", filter_key::code},
    {"kind", filter_key::kind},
    {"ip", filter_key::ip},
}};

constexpr std::string_view metric_list =
    "sent, delivered, bounced, bounces, expired, pending, inbox, junk, trap_hits, complaints, "
    "deferrals, attempts, connections, accepted, rejected, deferred, listings, attempts_mean, "
    "<metric>_ratio, or a function such as p95(delivery_delay)";

bool is_word_char(char c) {
  return core::is_alnum(c) || c == '_';
}

// The filter keys a leaf accepts, as text for messages, and whether `key` is one of them.
std::string_view allowed_keys(const leaf& l) {
  if (l.kind == leaf_kind::listings) return "ip";
  if (l.kind == leaf_kind::series_count) {
    return l.series == series_metric::connections ? "provider, ip" : "provider, ip, code, status";
  }
  return "provider, domain, sender, status, code, kind, ip";
}

bool key_allowed(const leaf& l, filter_key key) {
  if (l.kind == leaf_kind::listings) return key == filter_key::ip;
  if (l.kind != leaf_kind::series_count) return true;
  if (key == filter_key::provider || key == filter_key::ip) return true;
  const bool reply_key = key == filter_key::code || key == filter_key::status;
  return reply_key && l.series != series_metric::connections;
}

// A reply code such as 421, or a class pattern such as 4xx.
bool valid_code_pattern(std::string_view v) {
  if (v.size() != 3) return false;
  for (char c : v) {
    if (!core::is_digit(c) && c != 'x' && c != 'X') return false;
  }
  return true;
}

// An enhanced status such as 5.1.1, with x for any component (5.x.x).
bool valid_status_pattern(std::string_view v) {
  std::size_t parts = 0;
  while (true) {
    const std::size_t dot = v.find('.');
    const std::string_view part = v.substr(0, dot);
    const bool wildcard = part == "x" || part == "X";
    bool digits = !part.empty() && part.size() <= 3;
    for (char c : part) digits = digits && core::is_digit(c);
    if (!wildcard && !digits) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    v.remove_prefix(dot + 1);
  }
  return parts == 3;
}

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  parse_outcome run() {
    parse_outcome out;
    parse_top(out.tree);
    if (error_) out.error = std::move(error_);
    return out;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<expect_syntax_error> error_;
  std::vector<leaf>* leaves_ = nullptr;
  // Parsing, evaluating and freeing the tree all recurse, so nesting and size are bounded
  // far above what a real expectation needs: a long text fails instead of the stack.
  static constexpr std::size_t nesting_max = 32;
  static constexpr std::size_t operators_max = 256;
  std::size_t nesting_ = 0;
  std::size_t operators_ = 0;

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  std::size_t column() const { return pos_ + 1; }

  void skip_ws() {
    while (!at_end() && core::is_wsp(text_[pos_])) ++pos_;
  }

  // Records the first error only: later ones are consequences of it.
  node_ptr fail(std::size_t column_at, std::string message) {
    if (!error_) error_ = expect_syntax_error{column_at, std::move(message)};
    return nullptr;
  }

  std::string_view word() {
    const std::size_t start = pos_;
    while (!at_end() && is_word_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool expect_char(char c, std::string_view what) {
    skip_ws();
    if (peek() == c) {
      ++pos_;
      return true;
    }
    fail(column(), "expected " + std::string(what));
    return false;
  }

  void parse_top(parsed& tree) {
    leaves_ = &tree.leaves;
    skip_ws();
    if (at_end()) {
      fail(1,
           "expected an expectation such as 'delivered_ratio >= 0.97' or "
           "'never listed(IP, ZONE)'");
      return;
    }
    if (looks_like_listed()) {
      parse_listed(tree);
    } else {
      parse_comparison(tree);
    }
    skip_ws();
    if (!error_ && !at_end()) fail(column(), "expected the end of the expectation");
  }

  bool looks_like_listed() {
    const std::size_t saved = pos_;
    const std::string_view first = word();
    pos_ = saved;
    return first == "never" || first == "ever" || first == "listed";
  }

  void parse_listed(parsed& tree) {
    tree.is_listed = true;
    std::string_view first = word();
    if (first == "never" || first == "ever") {
      tree.listed.never = first == "never";
      skip_ws();
      const std::size_t at = column();
      first = word();
      if (first != "listed") {
        fail(at,
             "expected 'listed' after '" + std::string(tree.listed.never ? "never" : "ever") + "'");
        return;
      }
    }
    if (!expect_char('(', "'(' after 'listed'")) return;
    tree.listed.subject = raw_argument(",)", "the listed IP");
    if (error_ || !expect_char(',', "',' between the IP and the zone")) return;
    tree.listed.zone = raw_argument(",)", "the DNSBL zone");
    if (error_) return;
    expect_char(')', "')' after the zone");
  }

  // Text up to one of `stops`, trimmed; IPs and zone names need no quoting.
  std::string raw_argument(std::string_view stops, std::string_view what) {
    skip_ws();
    const std::size_t start = pos_;
    while (!at_end() && stops.find(text_[pos_]) == std::string_view::npos) ++pos_;
    const std::string_view value = core::trim(text_.substr(start, pos_ - start));
    if (value.empty()) fail(start + 1, "expected " + std::string(what));
    return std::string(value);
  }

  void parse_comparison(parsed& tree) {
    tree.left = parse_expr();
    if (error_) return;
    skip_ws();
    const std::size_t at = column();
    const std::optional<comparison> cmp = parse_operator();
    if (!cmp) {
      const std::string hint = peek() == '=' ? " ('=' is written '==')" : "";
      fail(at, "expected a comparison (>=, <=, ==, !=, >, <)" + hint);
      return;
    }
    tree.cmp = *cmp;
    tree.right = parse_expr();
  }

  std::optional<comparison> parse_operator() {
    const std::string_view rest = text_.substr(pos_);
    static constexpr std::array<std::pair<std::string_view, comparison>, 6> ops{{
        {">=", comparison::ge},
        {"<=", comparison::le},
        {"==", comparison::eq},
        {"!=", comparison::ne},
        {">", comparison::gt},
        {"<", comparison::lt},
    }};
    for (const auto& [token, cmp] : ops) {
      if (rest.starts_with(token)) {
        pos_ += token.size();
        return cmp;
      }
    }
    return std::nullopt;
  }

  node_ptr make_binary(char op, node_ptr left, node_ptr right, std::size_t at) {
    if (++operators_ > operators_max) {
      return fail(at, "expected at most " + std::to_string(operators_max) + " operators");
    }
    auto n = std::make_unique<node>();
    n->what = binary{op, std::move(left), std::move(right)};
    n->column = at;
    return n;
  }

  // expr := term (("+" | "-") term)*
  node_ptr parse_expr() {
    node_ptr left = parse_term();
    while (!error_) {
      skip_ws();
      const char op = peek();
      if (op != '+' && op != '-') break;
      const std::size_t at = column();
      ++pos_;
      node_ptr right = parse_term();
      if (error_) return nullptr;
      left = make_binary(op, std::move(left), std::move(right), at);
    }
    return error_ ? nullptr : std::move(left);
  }

  // term := factor (("*" | "/") factor)*
  node_ptr parse_term() {
    node_ptr left = parse_factor();
    while (!error_) {
      skip_ws();
      const char op = peek();
      if (op != '*' && op != '/') break;
      const std::size_t at = column();
      ++pos_;
      node_ptr right = parse_factor();
      if (error_) return nullptr;
      left = make_binary(op, std::move(left), std::move(right), at);
    }
    return error_ ? nullptr : std::move(left);
  }

  node_ptr parse_factor() {
    skip_ws();
    const char c = peek();
    if (core::is_digit(c) || c == '.') return parse_number();
    if (c == '(') {
      if (nesting_ == nesting_max) {
        return fail(column(), "expected at most " + std::to_string(nesting_max) +
                                  " nested parentheses");
      }
      ++pos_;
      ++nesting_;
      node_ptr inner = parse_expr();
      --nesting_;
      if (error_ || !expect_char(')', "')' to close '('")) return nullptr;
      return inner;
    }
    if (core::is_alpha(c) || c == '_') return parse_name();
    return fail(column(), "expected a number, a metric, a function such as p95(...) or '('");
  }

  // NUMBER [unit] | NUMBER "%"; durations are held in seconds.
  node_ptr parse_number() {
    const std::size_t start = pos_;
    while (!at_end() && (core::is_digit(peek()) || peek() == '.')) ++pos_;
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last) {
      return fail(start + 1, "expected a number such as 0.97, 30 or 12.5");
    }
    literal lit{value, value_kind::number};
    if (peek() == '%') {
      ++pos_;
      lit = literal{value / 100.0, value_kind::ratio};
    } else if (core::is_alpha(peek())) {
      const std::size_t unit_at = column();
      const std::string_view unit = word();
      const std::optional<double> seconds = unit_seconds(unit);
      if (!seconds) {
        return fail(unit_at, "expected a unit (ms, s, m, h, d) or '%' after the number, not '" +
                                 std::string(unit) + "'");
      }
      lit = literal{value * *seconds, value_kind::duration};
    }
    auto n = std::make_unique<node>();
    n->what = lit;
    n->column = start + 1;
    return n;
  }

  static std::optional<double> unit_seconds(std::string_view unit) {
    if (unit == "ms") return 0.001;
    if (unit == "s") return 1.0;
    if (unit == "m") return 60.0;
    if (unit == "h") return 3600.0;
    if (unit == "d") return 86400.0;
    return std::nullopt;
  }

  node_ptr parse_name() {
    const std::size_t start = pos_;
    const std::string_view name = word();
    for (const function_name& f : function_names) {
      if (f.name == name) return parse_function(f.function, start);
    }
    leaf l;
    l.column = start + 1;
    if (!resolve_metric(name, l)) return nullptr;
    return finish_leaf(std::move(l), start);
  }

  // FUNC "(" metric [filters] ")"
  node_ptr parse_function(dist_function function, std::size_t start) {
    if (!expect_char('(', "'(' after '" + std::string(text_.substr(start, pos_ - start)) + "'")) {
      return nullptr;
    }
    skip_ws();
    const std::size_t metric_at = pos_;
    const std::string_view metric = word();
    leaf l;
    l.kind = leaf_kind::distribution;
    l.function = function;
    l.column = start + 1;
    if (metric == "delivery_delay") {
      l.source = dist_source::delivery_delay;
    } else if (metric == "attempts") {
      l.source = dist_source::attempts;
    } else {
      return fail(metric_at + 1, "expected delivery_delay or attempts inside the function");
    }
    if (!parse_filters(l)) return nullptr;
    if (!expect_char(')', "')' to close the function")) return nullptr;
    return finish_leaf(std::move(l), start);
  }

  node_ptr finish_leaf(leaf l, std::size_t start) {
    if (l.kind != leaf_kind::distribution && !parse_filters(l)) return nullptr;
    l.text = std::string(text_.substr(start, pos_ - start));
    auto n = std::make_unique<node>();
    n->what = leaves_->size();
    n->column = start + 1;
    leaves_->push_back(std::move(l));
    return n;
  }

  bool resolve_metric(std::string_view name, leaf& l) {
    if (name == "delivery_delay") {
      fail(l.column,
           "delivery_delay is a distribution: use it inside a function such as "
           "p95(delivery_delay)");
      return false;
    }
    if (name == "listings") {
      l.kind = leaf_kind::listings;
      return true;
    }
    if (name == "attempts_mean") {
      l.kind = leaf_kind::attempts_mean;
      return true;
    }
    for (const series_name& s : series_names) {
      if (s.name == name) {
        l.kind = leaf_kind::series_count;
        l.series = s.metric;
        return true;
      }
    }
    std::string_view base = name;
    const bool ratio = base.ends_with("_ratio");
    if (ratio) base.remove_suffix(6);
    for (const record_name& r : record_names) {
      if (r.name == base) {
        l.kind = ratio ? leaf_kind::record_ratio : leaf_kind::record_count;
        l.record = r.metric;
        return true;
      }
    }
    fail(l.column,
         "unknown metric '" + std::string(name) + "'; expected one of " + std::string(metric_list));
    return false;
  }

  // filters := "{" key "=" value ("," key "=" value)* "}"
  bool parse_filters(leaf& l) {
    skip_ws();
    if (peek() != '{') return true;
    ++pos_;
    while (true) {
      if (!parse_one_filter(l)) return false;
      skip_ws();
      if (peek() != ',') break;
      ++pos_;
    }
    return expect_char('}', "',' or '}' after a filter");
  }

  bool parse_one_filter(leaf& l) {
    skip_ws();
    const std::size_t key_at = column();
    const std::string_view key_text = word();
    const key_name* key = nullptr;
    for (const key_name& k : key_names) {
      if (k.name == key_text) key = &k;
    }
    if (key == nullptr) {
      fail(key_at,
           "expected a filter key (provider, domain, sender, status, code, kind, ip)" +
               (key_text.empty() ? std::string() : ", not '" + std::string(key_text) + "'"));
      return false;
    }
    if (!key_allowed(l, key->key)) {
      fail(key_at, "filter key '" + std::string(key->name) + "' does not apply here; it takes " +
                       std::string(allowed_keys(l)));
      return false;
    }
    if (!expect_char('=', "'=' after the filter key")) return false;
    const std::size_t value_at = pos_;
    std::string value = raw_argument(",}", "a value after '" + std::string(key->name) + "='");
    if (error_) return false;
    if (!check_filter_value(key->key, value, value_at)) return false;
    l.filters.push_back(filter{key->key, std::move(value)});
    return true;
  }

  bool check_filter_value(filter_key key, std::string_view value, std::size_t at) {
    while (at < text_.size() && core::is_wsp(text_[at])) ++at;
    if (key == filter_key::code && !valid_code_pattern(value)) {
      fail(at + 1, "expected a reply code such as 421 or 4xx");
      return false;
    }
    if (key == filter_key::status && !valid_status_pattern(value)) {
      fail(at + 1, "expected an enhanced status such as 5.1.1 or 5.x.x");
      return false;
    }
    return true;
  }
};

}  // namespace

parse_outcome parse_expectation(std::string_view text) {
  return parser(text).run();
}

}  // namespace mailsim::sim::metrics::detail
