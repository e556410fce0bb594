#include "reference-server/queue/routing.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "reference-server/core/ip_address.hpp"

namespace mailsim::queue {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-case ASCII, without one trailing dot: the form the resolver and the routes use.
std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

// The address inside "[192.0.2.1]" or "[IPv6:2001:db8::1]", or nullopt.
std::optional<core::ip_address> parse_literal(std::string_view domain) {
  if (domain.size() < 2 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
  domain = domain.substr(1, domain.size() - 2);
  if (domain.size() >= 5 && normalize_name(domain.substr(0, 5)) == "ipv6:") {
    const auto ip = core::parse_ip(domain.substr(5));
    if (!ip || !ip->v6) return std::nullopt;
    return ip;
  }
  const auto ip = core::parse_ip(domain);
  if (!ip || ip->v6) return std::nullopt;  // RFC 5321 §4.1.3: IPv6 needs its "IPv6:" tag
  return ip;
}

const char* status_name(core::dns_status status) {
  switch (status) {
    case core::dns_status::ok:
      return "ok";
    case core::dns_status::nodata:
      return "NODATA";
    case core::dns_status::nxdomain:
      return "NXDOMAIN";
    case core::dns_status::servfail:
      return "SERVFAIL";
    case core::dns_status::timeout:
      return "timeout";
  }
  return "unknown";
}

bool is_temporary(core::dns_status status) {
  return status == core::dns_status::servfail || status == core::dns_status::timeout;
}

route_plan make_failure(route_kind kind, std::string status, std::string diagnostic) {
  route_plan plan;
  plan.kind = kind;
  plan.status = std::move(status);
  plan.diagnostic = std::move(diagnostic);
  return plan;
}

// One host being resolved.
struct host_work {
  std::string name;
  std::uint16_t preference = 0;
  std::uint16_t port = 25;
  std::vector<std::string> v6;
  std::vector<std::string> v4;
  bool temporary_failure = false;
};

// The state of one plan while its lookups are out. Shared by the resolver callbacks, so that
// it lives until the last answer, whoever drops it first.
class planner : public std::enable_shared_from_this<planner> {
 public:
  planner(std::string domain, core::resolver& resolver, core::random_source& random,
          const route_options& options, route_callback done)
      : domain_(std::move(domain)),
        resolver_(resolver),
        random_(random),
        port_(options.port),
        families_(options.families),
        mx_hosts_max_(options.mx_hosts_max),
        addresses_max_(options.addresses_max),
        done_(std::move(done)) {
    for (const auto& name : options.local_names) local_names_.push_back(normalize_name(name));
    for (const auto& text : options.local_addresses) {
      if (const auto ip = core::parse_ip(text)) local_addresses_.push_back(*ip);
    }
  }

  void start_static(const std::vector<route_target>& targets);
  void start_literal(const core::ip_address& ip);
  void start_mx();
  void fail(route_plan plan) { finish(std::move(plan)); }

 private:
  void on_mx(const core::dns_answer& answer);
  void take_exchanges(std::vector<core::mx_record> records);
  void shuffle_equal_preferences();
  bool drop_self_by_name();
  void lookup_addresses();
  void on_addresses(std::size_t host, bool v6, const core::dns_answer& answer);
  void answered();
  void finish_lookups();
  void drop_self_by_address();
  route_plan assemble();
  void finish(route_plan plan);
  bool wants_v6() const { return families_ != address_families::ipv4_only; }
  bool wants_v4() const { return families_ != address_families::ipv6_only; }
  bool is_local_address(const std::string& text) const;

  std::string domain_;
  core::resolver& resolver_;
  core::random_source& random_;
  std::uint16_t port_;
  address_families families_;
  std::size_t mx_hosts_max_;
  std::size_t addresses_max_;
  std::vector<std::string> local_names_;
  std::vector<core::ip_address> local_addresses_;
  route_callback done_;

  std::vector<host_work> hosts_;
  std::size_t pending_ = 0;
  bool static_ = false;
  bool loop_ = false;  // the loop check dropped every host
  std::vector<std::string> notes_;
};

void planner::start_static(const std::vector<route_target>& targets) {
  static_ = true;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    host_work host;
    host.name = normalize_name(targets[i].host);
    if (const auto ip = parse_literal(host.name)) host.name = core::to_string(*ip);  // "[…]"
    host.preference = static_cast<std::uint16_t>(std::min<std::size_t>(i, UINT16_MAX));
    host.port = targets[i].port == 0 ? port_ : targets[i].port;
    hosts_.push_back(std::move(host));
  }
  lookup_addresses();
}

void planner::start_literal(const core::ip_address& ip) {
  host_work host;
  host.name = domain_;
  host.port = port_;
  (ip.v6 ? host.v6 : host.v4).push_back(core::to_string(ip));
  hosts_.push_back(std::move(host));
  finish_lookups();
}

void planner::start_mx() {
  auto self = shared_from_this();
  resolver_.resolve(domain_, core::rr_type::mx,
                    [self](const core::dns_answer& answer) { self->on_mx(answer); });
}

void planner::on_mx(const core::dns_answer& answer) {
  switch (answer.status) {
    case core::dns_status::nxdomain:
      return finish(make_failure(route_kind::bounce, "5.1.2",
                                 "domain " + domain_ + " does not exist (DNS NXDOMAIN)"));
    case core::dns_status::servfail:
    case core::dns_status::timeout:
      return finish(make_failure(route_kind::defer, "4.4.3",
                                 "temporary DNS failure looking up the MX of " + domain_ + " (" +
                                     status_name(answer.status) + ")"));
    case core::dns_status::nodata:
      break;
    case core::dns_status::ok:
      if (!answer.mx.empty()) return take_exchanges(answer.mx);
      break;
  }
  // RFC 5321 §5.1: no MX records → the implicit MX, the domain itself at preference 0.
  host_work host;
  host.name = domain_;
  host.port = port_;
  hosts_.push_back(std::move(host));
  if (drop_self_by_name()) return;
  lookup_addresses();
}

void planner::take_exchanges(std::vector<core::mx_record> records) {
  const auto is_root = [](const core::mx_record& r) {
    return r.exchange.empty() || r.exchange == ".";
  };
  // RFC 7505 §3: a null MX is the domain's only MX record, preference 0, exchange ".".
  if (std::all_of(records.begin(), records.end(),
                  [&](const auto& r) { return is_root(r) && r.preference == 0; })) {
    return finish(make_failure(route_kind::bounce, "5.1.10",
                               "domain " + domain_ + " does not accept mail (null MX, RFC 7505)"));
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.preference < b.preference; });
  for (const auto& record : records) {
    if (is_root(record)) {
      notes_.push_back("MX " + std::to_string(record.preference) + " \".\" skipped");
      continue;
    }
    const std::string name = normalize_name(record.exchange);
    const bool seen = std::any_of(hosts_.begin(), hosts_.end(),
                                  [&](const host_work& h) { return h.name == name; });
    if (seen) continue;  // sorted: the first one has the best preference
    host_work host;
    host.name = name;
    host.preference = record.preference;
    host.port = port_;
    hosts_.push_back(std::move(host));
  }
  if (hosts_.empty()) {
    return finish(make_failure(route_kind::bounce, "5.4.4", "no usable MX record for " + domain_));
  }
  shuffle_equal_preferences();
  if (drop_self_by_name()) return;
  if (mx_hosts_max_ != 0 && hosts_.size() > mx_hosts_max_) hosts_.resize(mx_hosts_max_);
  lookup_addresses();
}

// Fisher-Yates within each run of equal preference; a run of one draws nothing, so adding a
// backup MX does not change the random stream seen by the others.
void planner::shuffle_equal_preferences() {
  std::size_t begin = 0;
  while (begin < hosts_.size()) {
    std::size_t end = begin + 1;
    while (end < hosts_.size() && hosts_[end].preference == hosts_[begin].preference) ++end;
    for (std::size_t i = end - begin; i > 1; --i) {
      const auto j = static_cast<std::size_t>(random_.uniform(i));
      std::swap(hosts_[begin + i - 1], hosts_[begin + j]);
    }
    begin = end;
  }
}

// RFC 5321 §5.1: hosts at our own preference or worse are dropped. True when the plan ended.
bool planner::drop_self_by_name() {
  std::optional<std::uint16_t> own;
  for (const auto& host : hosts_) {
    if (std::find(local_names_.begin(), local_names_.end(), host.name) != local_names_.end()) {
      own = std::min(own.value_or(host.preference), host.preference);
    }
  }
  if (!own) return false;
  std::erase_if(hosts_, [&](const host_work& h) { return h.preference >= *own; });
  if (!hosts_.empty()) return false;
  finish(make_failure(route_kind::bounce, "5.4.6",
                      "mail for " + domain_ + " loops back to myself (MX names a local host)"));
  return true;
}

void planner::lookup_addresses() {
  // One extra count while the lookups are issued: a resolver that answers at once must not
  // see the count reach zero before every lookup is out.
  pending_ = 1;
  std::vector<std::pair<std::size_t, bool>> lookups;
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    if (const auto ip = core::parse_ip(hosts_[i].name)) {
      (ip->v6 ? hosts_[i].v6 : hosts_[i].v4).push_back(core::to_string(*ip));
      continue;  // a static route's address needs no lookup
    }
    if (wants_v6()) lookups.emplace_back(i, true);
    if (wants_v4()) lookups.emplace_back(i, false);
  }
  pending_ += lookups.size();
  auto self = shared_from_this();
  for (const auto& [host, v6] : lookups) {
    resolver_.resolve(hosts_[host].name, v6 ? core::rr_type::aaaa : core::rr_type::a,
                      [self, host = host, v6 = v6](const core::dns_answer& answer) {
                        self->on_addresses(host, v6, answer);
                      });
  }
  answered();
}

void planner::on_addresses(std::size_t index, bool v6, const core::dns_answer& answer) {
  host_work& host = hosts_[index];
  if (is_temporary(answer.status)) {
    host.temporary_failure = true;
    notes_.push_back(host.name + ": " + (v6 ? "AAAA" : "A") + " lookup failed (" +
                     status_name(answer.status) + ")");
  } else if (answer.status == core::dns_status::ok) {
    auto& out = v6 ? host.v6 : host.v4;
    for (const auto& text : answer.records) {
      const auto ip = core::parse_ip(text);
      if (!ip || ip->v6 != v6) continue;  // not an address of the asked family
      const std::string canonical = core::to_string(*ip);
      if (std::find(out.begin(), out.end(), canonical) == out.end()) out.push_back(canonical);
    }
  }
  answered();
}

void planner::answered() {
  if (--pending_ == 0) finish_lookups();
}

void planner::finish_lookups() {
  if (!static_) drop_self_by_address();
  finish(assemble());
}

bool planner::is_local_address(const std::string& text) const {
  const auto ip = core::parse_ip(text);
  return ip &&
         std::find(local_addresses_.begin(), local_addresses_.end(), *ip) != local_addresses_.end();
}

void planner::drop_self_by_address() {
  std::optional<std::uint16_t> own;
  for (const auto& host : hosts_) {
    const bool self = std::any_of(host.v6.begin(), host.v6.end(),
                                  [&](const auto& a) { return is_local_address(a); }) ||
                      std::any_of(host.v4.begin(), host.v4.end(),
                                  [&](const auto& a) { return is_local_address(a); });
    if (self) own = std::min(own.value_or(host.preference), host.preference);
  }
  if (!own) return;
  std::erase_if(hosts_, [&](const host_work& h) { return h.preference >= *own; });
  loop_ = hosts_.empty();
}

route_plan planner::assemble() {
  route_plan plan;
  plan.static_route = static_;
  bool temporary = false;
  std::size_t taken = 0;
  for (auto& host : hosts_) {
    temporary = temporary || host.temporary_failure;
    route_host out{host.name, host.preference, host.port, {}};
    const bool v6_first = families_ != address_families::ipv4_first;
    for (auto* family : {v6_first ? &host.v6 : &host.v4, v6_first ? &host.v4 : &host.v6}) {
      const bool wanted = family == &host.v6 ? wants_v6() : wants_v4();
      for (auto& address : *family) {
        if (!wanted || (addresses_max_ != 0 && taken == addresses_max_)) break;
        out.addresses.push_back(std::move(address));
        ++taken;
      }
    }
    if (!out.addresses.empty()) plan.hosts.push_back(std::move(out));
  }
  std::string notes;
  for (const auto& note : notes_) notes += (notes.empty() ? "" : "; ") + note;
  if (!plan.hosts.empty()) {
    plan.kind = route_kind::deliver;
    plan.diagnostic = std::move(notes);
    return plan;
  }
  if (temporary) {
    return make_failure(route_kind::defer, "4.4.3",
                        "temporary DNS failure looking up the mail hosts of " + domain_ +
                            (notes.empty() ? "" : ": " + notes));
  }
  if (loop_) {
    return make_failure(route_kind::bounce, "5.4.6",
                        "mail for " + domain_ + " loops back to myself (MX has a local address)");
  }
  std::string names;
  for (const auto& host : hosts_) names += (names.empty() ? "" : ", ") + host.name;
  return make_failure(route_kind::bounce, "5.4.4",
                      "no address found for the mail hosts of " + domain_ +
                          (names.empty() ? "" : " (" + names + ")"));
}

void planner::finish(route_plan plan) {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(plan));
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Digits 1-65535, or nullopt.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "host", "host:port", "[address]", "[address]:port", or a bare IPv6 address.
std::optional<route_target> parse_target(std::string_view item, std::string& error) {
  route_target out;
  std::optional<std::string_view> port_text;
  if (!item.empty() && item.front() == '[') {
    const auto close = item.find(']');
    if (close == std::string_view::npos) {
      error = quoted(item) + ": missing ']'";
      return std::nullopt;
    }
    std::string_view inside = item.substr(1, close - 1);
    if (inside.size() >= 5 && normalize_name(inside.substr(0, 5)) == "ipv6:") {
      inside.remove_prefix(5);
    }
    if (!core::parse_ip(inside)) {
      error = quoted(item) + ": expected an IP address inside [ ]";
      return std::nullopt;
    }
    out.host = std::string(inside);
    const auto rest = item.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      error = quoted(item) + ": expected ':port' after ']'";
      return std::nullopt;
    }
    if (!rest.empty()) port_text = rest.substr(1);
  } else if (std::count(item.begin(), item.end(), ':') > 1) {
    if (!core::parse_ip(item)) {
      error = quoted(item) + ": an IPv6 address needs brackets before a port, e.g. [::1]:2525";
      return std::nullopt;
    }
    out.host = std::string(item);
  } else {
    const auto colon = item.find(':');
    out.host = std::string(item.substr(0, colon));
    if (colon != std::string_view::npos) port_text = item.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = quoted(item) + ": expected a host name or address";
    return std::nullopt;
  }
  if (port_text) {
    const auto port = parse_port(*port_text);
    if (!port) {
      error = quoted(item) + ": expected a port from 1 to 65535 after ':'";
      return std::nullopt;
    }
    out.port = *port;
  }
  return out;
}

}  // namespace

void plan_route(std::string_view domain, core::resolver& resolver, core::random_source& random,
                const route_options& options, route_callback done) {
  const std::string name = normalize_name(domain);
  auto plan = std::make_shared<planner>(name, resolver, random, options, std::move(done));
  auto route = options.routes.find(name);
  if (route == options.routes.end()) route = options.routes.find("*");
  if (route != options.routes.end() && !route->second.empty()) {
    return plan->start_static(route->second);
  }
  if (name.empty()) {
    return plan->fail(make_failure(route_kind::bounce, "5.1.2", "empty destination domain"));
  }
  if (name.front() == '[') {
    const auto ip = parse_literal(name);
    if (!ip) {
      return plan->fail(make_failure(route_kind::bounce, "5.1.2",
                                     quoted(name) + " is not a valid address literal"));
    }
    return plan->start_literal(*ip);
  }
  plan->start_mx();
}

std::optional<std::vector<route_target>> parse_route_targets(std::string_view text,
                                                             std::string& error) {
  std::vector<route_target> out;
  while (true) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto target = parse_target(item, error);
    if (!target) return std::nullopt;
    out.push_back(std::move(*target));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace mailsim::queue
