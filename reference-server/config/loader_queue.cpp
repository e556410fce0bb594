// The `queue:` section of the config file: the outbound spool and the delivery engine's
// settings (config/outbound.hpp). Uses the loader's value readers (loader_values.hpp), so
// errors name file:line:column like every other section.
#include <string>
#include <tuple>
#include <utility>

#include "reference-server/config/loader_values.hpp"
#include "reference-server/queue/retry.hpp"
#include "reference-server/queue/routing.hpp"
#include "reference-server/queue/spool.hpp"

namespace mailsim::config::detail {

namespace {

queue::retry_profile read_retry(const value& v) {
  const std::string& text = read_text(v, "a retry profile like postfix or fixed:10m");
  queue::retry_profile_parse p = queue::parse_retry_profile(text);
  if (!p.value) fail(v.where, "bad retry profile for " + quote(v.key) + ": " + p.error);
  return *p.value;
}

std::string read_ip(const value& v) {
  auto ip = normalize_ip(read_text(v, "an IPv4 or IPv6 address"));
  if (!ip) expected(v, "an IPv4 or IPv6 address");
  return *ip;
}

std::string read_domain_or_star(const value& v) {
  const std::string& text = read_text(v, "a domain like example.test, or '*'");
  if (text != "*" && !is_domain(text)) expected(v, "a domain like example.test, or '*'");
  return to_lower(text);
}

void read_tls_policy(const section& s, queue::destination_settings& d) {
  if (auto t = s.get("starttls")) {
    d.starttls = read_choice<smtp::tls_policy>(*t, {{"none", smtp::tls_policy::none},
                                                    {"opportunistic", smtp::tls_policy::opportunistic},
                                                    {"required", smtp::tls_policy::required}});
  }
  if (auto t = s.get("tls_verify")) {
    d.tls_verify = read_choice<core::tls_verify>(*t, {{"none", core::tls_verify::none},
                                                      {"trusted", core::tls_verify::trusted},
                                                      {"hostname", core::tls_verify::hostname}});
  }
}

// One `destinations:` item; its domain "*" sets the defaults of every other destination.
void read_destination(const value& v, outbound_config& out) {
  const section s(v, "queue.destinations",
                  {"domain", "retry", "connections_max", "messages_per_connection",
                   "messages_per_minute", "throttle_pause", "starttls", "tls_verify"});
  const std::string domain = read_domain_or_star(s.require("domain"));
  queue::engine_settings& e = out.engine;
  const bool fallback = domain == "*";
  if (!fallback && e.destinations.count(domain) != 0) {
    fail(v.where, "duplicate destination " + quote(domain));
  }
  queue::destination_settings d = e.default_destination;
  if (auto f = s.get("connections_max")) d.connections_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
  if (auto f = s.get("messages_per_connection")) d.messages_per_connection = fits<std::size_t>(*f, read_count(*f));
  if (auto f = s.get("messages_per_minute")) d.messages_per_minute = fits<std::size_t>(*f, read_count(*f));
  if (auto f = s.get("throttle_pause")) d.throttle_pause = read_duration(*f);
  read_tls_policy(s, d);
  if (auto r = s.get("retry")) {
    if (fallback) e.retry.fallback = read_retry(*r);
    else e.retry.per_domain[domain] = read_retry(*r);
  }
  if (fallback) e.default_destination = d;
  else e.destinations[domain] = d;
}

void read_routes(const value& v, outbound_config& out) {
  if (!v.node.IsMap()) expected(v, "a mapping of domain: host[:port], ...");
  for (const auto& entry : v.node) {
    const value domain = make_value(entry.first, entry.first, "queue.routes");
    const std::string name = read_domain_or_star(domain);
    const value targets = make_value(entry.first, entry.second, "queue.routes." + name);
    std::string error;
    auto parsed = queue::parse_route_targets(read_text(targets, "host[:port], ..."), error);
    if (!parsed) fail(targets.where, "bad route for " + quote(name) + ": " + error);
    if (out.engine.routing.routes.count(name) != 0) fail(domain.where, "duplicate route " + quote(name));
    out.engine.routing.routes[name] = std::move(*parsed);
  }
}

std::string read_message_class(const value& v) {
  constexpr std::string_view what = "a message class name (1-64 of A-Z a-z 0-9 . _ -)";
  const std::string& text = read_text(v, what);
  if (!queue::is_message_class(text)) expected(v, what);
  return text;
}

// Only the first pool for a sender domain or class is ever used (delivery_engine.hpp), so
// a second one is a mistake to name, not to ignore. Both compare ignoring case.
void refuse_duplicate_pool(const std::vector<queue::source_pool>& pools, const queue::source_pool& pool,
                           const value& item) {
  for (const queue::source_pool& p : pools) {
    if (!pool.message_class.empty() && to_lower(p.message_class) == to_lower(pool.message_class)) {
      fail(item.where, "duplicate source pool for class " + quote(pool.message_class));
    }
    if (!pool.sender_domain.empty() && to_lower(p.sender_domain) == to_lower(pool.sender_domain)) {
      fail(item.where, "duplicate source pool for sender domain " + quote(pool.sender_domain));
    }
  }
}

// One pool per item, chosen by exactly one of sender_domain or class (delivery_engine.hpp).
void read_pools(const value& v, outbound_config& out) {
  for (const auto& item : read_list(v, "a list of source pools")) {
    const section s(item, "queue.source_pools", {"sender_domain", "class", "addresses"});
    queue::source_pool pool;
    const auto domain = s.get("sender_domain");
    const auto message_class = s.get("class");
    if (domain && message_class) {
      fail(message_class->key_where, "a source pool takes 'sender_domain' or 'class', not both");
    }
    if (!domain && !message_class) {
      fail(item.where, "a source pool needs 'sender_domain' or 'class'");
    }
    if (domain) pool.sender_domain = read_domain_or_star(*domain);
    if (message_class) pool.message_class = read_message_class(*message_class);
    for (const auto& a : read_list(s.require("addresses"), "a list of local addresses")) {
      pool.addresses.push_back(read_ip(a));
    }
    if (pool.addresses.empty()) fail(item.where, "a source pool needs at least one address");
    refuse_duplicate_pool(out.engine.source_pools, pool, item);
    out.engine.source_pools.push_back(std::move(pool));
  }
}

void read_limits_and_timeouts(const section& s, outbound_config& out) {
  queue::engine_settings& e = out.engine;
  if (auto f = s.get("messages_max")) out.limits.messages_max = fits<std::size_t>(*f, read_count(*f));
  if (auto f = s.get("bytes_max")) out.limits.bytes_max = read_size(*f);
  if (auto f = s.get("connections_total_max")) {
    e.connections_total_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
  }
  if (auto f = s.get("mx_hosts_max")) e.routing.mx_hosts_max = fits<std::size_t>(*f, read_count(*f));
  if (auto f = s.get("addresses_max")) e.routing.addresses_max = fits<std::size_t>(*f, read_count(*f));
  if (auto f = s.get("connect_timeout")) e.connect_timeout = positive(*f, read_duration(*f));
  if (auto f = s.get("tls_handshake_timeout")) e.tls_handshake_timeout = positive(*f, read_duration(*f));
  if (auto f = s.get("idle_keep")) e.idle_keep = read_duration(*f);
  if (auto f = s.get("command_timeout")) {
    const core::duration_ms t = positive(*f, read_duration(*f));
    auto& l = e.client_limits;
    l.greeting_timeout = l.mail_timeout = l.rcpt_timeout = l.data_init_timeout = t;
    l.data_block_timeout = l.data_term_timeout = l.command_timeout = t;
  }
}

void read_dsn(const value& v, outbound_config& out) {
  const section s(v, "queue.dsn", {"return_bytes_max", "delay_reports_without_notify"});
  if (auto f = s.get("return_bytes_max")) out.engine.dsn_content.return_bytes_max = fits<std::size_t>(*f, read_size(*f));
  if (auto f = s.get("delay_reports_without_notify")) out.engine.dsn.delay_reports_without_notify = read_bool(*f);
}

}  // namespace

void read_queue(const value& v, const path_reader& read_path, outbound_config& out) {
  const section s(v, "queue",
                  {"enabled", "directory", "hostname", "port", "retry", "address_families",
                   "routes", "source_pools", "destinations", "messages_max", "bytes_max",
                   "connections_total_max", "mx_hosts_max", "addresses_max", "connect_timeout",
                   "tls_handshake_timeout", "idle_keep", "command_timeout", "ca_file", "dsn",
                   "durability"});
  if (auto f = s.get("enabled")) out.enabled = read_bool(*f);
  if (auto f = s.get("directory")) out.spool_dir = read_path(*f);
  if (auto f = s.get("ca_file")) out.ca_file = read_path(*f);
  if (auto f = s.get("durability")) {
    out.durability = read_choice<durability_mode>(
        *f, {{"syncfs", durability_mode::syncfs}, {"fsync_each", durability_mode::fsync_each}});
  }
  if (auto h = s.get("hostname")) {
    const std::string& name = read_text(*h, "a host name like mail.example.test");
    if (!is_domain(name)) expected(*h, "a host name like mail.example.test");
    out.engine.hostname = to_lower(name);
  }
  if (auto p = s.get("port")) out.engine.routing.port = read_port(*p);
  if (auto r = s.get("retry")) out.engine.retry.fallback = read_retry(*r);
  if (auto f = s.get("address_families")) {
    out.engine.routing.families = read_choice<queue::address_families>(
        *f, {{"ipv6_first", queue::address_families::ipv6_first},
             {"ipv4_first", queue::address_families::ipv4_first},
             {"ipv6_only", queue::address_families::ipv6_only},
             {"ipv4_only", queue::address_families::ipv4_only}});
  }
  read_limits_and_timeouts(s, out);
  if (auto r = s.get_unless_empty("routes")) read_routes(*r, out);
  if (auto p = s.get_unless_empty("source_pools")) read_pools(*p, out);
  if (auto d = s.get_unless_empty("dsn")) read_dsn(*d, out);
  if (auto d = s.get_unless_empty("destinations")) {
    // "*" first, whatever its place in the file: the others start from its settings.
    const std::vector<value> items = read_list(*d, "a list of destinations");
    for (const auto& item : items) {
      if (item.node.IsMap() && item.node["domain"] && item.node["domain"].as<std::string>("") == "*") {
        read_destination(item, out);
      }
    }
    for (const auto& item : items) {
      if (!(item.node.IsMap() && item.node["domain"] && item.node["domain"].as<std::string>("") == "*")) {
        read_destination(item, out);
      }
    }
  }
}

// relaxed/simple: header canonicalization, then body (RFC 6376 §3.5 c=).
std::pair<auth::canon, auth::canon> read_canon(const value& v) {
  constexpr std::string_view what = "header/body canonicalization like relaxed/relaxed";
  const std::string& text = read_text(v, what);
  const auto slash = text.find('/');
  auto one = [&](std::string_view word) {
    if (word == "relaxed") return auth::canon::relaxed;
    if (word == "simple") return auth::canon::simple;
    expected(v, what);
  };
  if (slash == std::string::npos) return {one(text), auth::canon::simple};  // §3.5: body simple
  return {one(std::string_view(text).substr(0, slash)), one(std::string_view(text).substr(slash + 1))};
}

void read_dkim(const value& v, const path_reader& read_path, outbound_config& out) {
  const section top(v, "dkim", {"sign"});
  const auto list = top.get_unless_empty("sign");
  if (!list) return;
  for (const auto& item : read_list(*list, "a list of signing keys")) {
    const section s(item, "dkim.sign", {"domain", "selector", "key_file", "canonicalization", "headers"});
    dkim_signing_key k;
    const value domain = s.require("domain");
    k.domain = to_lower(read_text(domain, "a domain like example.test"));
    if (!is_domain(k.domain)) expected(domain, "a domain like example.test");
    for (const auto& other : out.dkim_keys) {
      if (other.domain == k.domain) fail(domain.where, "two signing keys for " + quote(k.domain));
    }
    const value selector = s.require("selector");
    k.selector = read_text(selector, "a selector like s2026");
    if (!is_domain(k.selector)) expected(selector, "a selector like s2026 (DNS labels)");
    k.key_file = read_path(s.require("key_file"));
    if (auto c = s.get("canonicalization")) std::tie(k.header_canon, k.body_canon) = read_canon(*c);
    if (auto h = s.get_unless_empty("headers")) {
      for (const auto& name : read_list(*h, "a list of header field names")) {
        k.headers.push_back(to_lower(read_text(name, "a header field name")));
      }
    }
    out.dkim_keys.push_back(std::move(k));
  }
}

}  // namespace mailsim::config::detail
