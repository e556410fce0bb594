#include "reference-server/queue/routing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <utility>

namespace mailsim::queue {
namespace {

using core::dns_answer;
using core::dns_status;
using core::rr_type;

// A resolver over a table of answers. Like the real one it answers later: callbacks wait in
// a queue until run() (in the order asked, or reversed, to show that the plan does not
// depend on the order answers come in). A name/type not in the table is NXDOMAIN.
class table_resolver final : public core::resolver {
 public:
  void add(const std::string& name, rr_type type, dns_answer answer) {
    table_[{name, type}] = std::move(answer);
  }
  void mx(const std::string& name, std::vector<core::mx_record> records) {
    dns_answer answer{dns_status::ok, {}, std::move(records), 300};
    add(name, rr_type::mx, answer);
  }
  void a(const std::string& name, std::vector<std::string> addresses) {
    add(name, rr_type::a, {dns_status::ok, std::move(addresses), {}, 300});
  }
  void aaaa(const std::string& name, std::vector<std::string> addresses) {
    add(name, rr_type::aaaa, {dns_status::ok, std::move(addresses), {}, 300});
  }
  void status(const std::string& name, rr_type type, dns_status s) {
    add(name, type, {s, {}, {}, 0});
  }

  void resolve(const std::string& name, rr_type type,
               std::function<void(const dns_answer&)> on_answer) override {
    asked_.emplace_back(name, type);
    waiting_.emplace_back(name, type, std::move(on_answer));
  }

  // Answers everything asked so far and whatever those answers make the planner ask.
  void run(bool reversed = false) {
    while (!waiting_.empty()) {
      auto batch = std::move(waiting_);
      waiting_.clear();
      if (reversed) std::reverse(batch.begin(), batch.end());
      for (auto& [name, type, callback] : batch) {
        const auto found = table_.find({name, type});
        callback(found != table_.end() ? found->second
                                       : dns_answer{dns_status::nxdomain, {}, {}, 0});
      }
    }
  }

  const std::vector<std::pair<std::string, rr_type>>& asked() const { return asked_; }
  void forget_asked() { asked_.clear(); }
  bool was_asked(const std::string& name, rr_type type) const {
    return std::find(asked_.begin(), asked_.end(), std::make_pair(name, type)) != asked_.end();
  }

 private:
  std::map<std::pair<std::string, rr_type>, dns_answer> table_;
  std::deque<std::tuple<std::string, rr_type, std::function<void(const dns_answer&)>>> waiting_;
  std::vector<std::pair<std::string, rr_type>> asked_;
};

class routing_fixture : public ::testing::Test {
 protected:
  // Plans a route, lets the resolver answer, and returns the one plan the callback got.
  route_plan plan(const std::string& domain, bool reversed = false) {
    int calls = 0;
    route_plan out;
    plan_route(domain, dns_, random_, options_, [&](route_plan p) {
      ++calls;
      out = std::move(p);
    });
    dns_.run(reversed);
    EXPECT_EQ(calls, 1) << domain;
    return out;
  }

  static std::vector<std::string> names(const route_plan& p) {
    std::vector<std::string> out;
    for (const auto& host : p.hosts) out.push_back(host.name);
    return out;
  }

  table_resolver dns_;
  core::splitmix_random random_{42};
  route_options options_;
};

TEST_F(routing_fixture, orders_exchanges_by_preference_with_both_families) {
  dns_.mx("example.org", {{20, "mx2.example.org"}, {10, "mx1.example.org"}});
  dns_.a("mx1.example.org", {"192.0.2.1"});
  dns_.aaaa("mx1.example.org", {"2001:DB8:0:0::1"});
  dns_.a("mx2.example.org", {"192.0.2.2", "192.0.2.3"});
  dns_.status("mx2.example.org", rr_type::aaaa, dns_status::nodata);
  for (const bool reversed : {false, true}) {
    const auto p = plan("Example.ORG.", reversed);
    ASSERT_EQ(p.kind, route_kind::deliver) << p.diagnostic;
    EXPECT_TRUE(p.status.empty());
    EXPECT_FALSE(p.static_route);
    ASSERT_EQ(p.hosts.size(), 2u);
    EXPECT_EQ(p.hosts[0].name, "mx1.example.org");
    EXPECT_EQ(p.hosts[0].preference, 10);
    EXPECT_EQ(p.hosts[0].port, 25);
    // IPv6 first by default; addresses in canonical text.
    EXPECT_EQ(p.hosts[0].addresses, (std::vector<std::string>{"2001:db8::1", "192.0.2.1"}));
    EXPECT_EQ(p.hosts[1].name, "mx2.example.org");
    EXPECT_EQ(p.hosts[1].addresses, (std::vector<std::string>{"192.0.2.2", "192.0.2.3"}));
  }
}

TEST_F(routing_fixture, family_options_order_or_limit_the_addresses) {
  dns_.mx("example.org", {{10, "mx.example.org"}});
  dns_.a("mx.example.org", {"192.0.2.1"});
  dns_.aaaa("mx.example.org", {"2001:db8::1"});
  const std::pair<address_families, std::vector<std::string>> cases[] = {
      {address_families::ipv6_first, {"2001:db8::1", "192.0.2.1"}},
      {address_families::ipv4_first, {"192.0.2.1", "2001:db8::1"}},
      {address_families::ipv4_only, {"192.0.2.1"}},
      {address_families::ipv6_only, {"2001:db8::1"}},
  };
  for (const auto& [families, expected] : cases) {
    options_.families = families;
    const auto p = plan("example.org");
    ASSERT_EQ(p.kind, route_kind::deliver);
    EXPECT_EQ(p.hosts.at(0).addresses, expected);
  }
  options_.families = address_families::ipv4_only;
  dns_.forget_asked();
  plan("example.org");
  EXPECT_FALSE(dns_.was_asked("mx.example.org", rr_type::aaaa)) << "no lookup of an unused family";
}

TEST_F(routing_fixture, equal_preferences_come_in_seeded_random_order) {
  dns_.mx("example.org", {{10, "a.example.org"},
                          {10, "b.example.org"},
                          {10, "c.example.org"},
                          {5, "first.example.org"},
                          {20, "last.example.org"}});
  for (const char* host : {"a", "b", "c", "first", "last"}) {
    dns_.a(std::string(host) + ".example.org", {"192.0.2.9"});
  }
  options_.addresses_max = 0;
  std::set<std::vector<std::string>> orders;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    random_ = core::splitmix_random(seed);
    const auto p = plan("example.org");
    ASSERT_EQ(p.hosts.size(), 5u);
    EXPECT_EQ(p.hosts.front().name, "first.example.org");
    EXPECT_EQ(p.hosts.back().name, "last.example.org");
    orders.insert(names(p));
    // The same seed gives the same order.
    random_ = core::splitmix_random(seed);
    EXPECT_EQ(names(plan("example.org")), names(p));
  }
  EXPECT_EQ(orders.size(), 6u) << "every order of the three equal hosts appears";
}

TEST_F(routing_fixture, no_mx_means_the_domain_itself) {
  dns_.status("example.org", rr_type::mx, dns_status::nodata);
  dns_.a("example.org", {"192.0.2.7"});
  const auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver) << p.diagnostic;
  ASSERT_EQ(p.hosts.size(), 1u);
  EXPECT_EQ(p.hosts[0].name, "example.org");
  EXPECT_EQ(p.hosts[0].preference, 0);
  EXPECT_EQ(p.hosts[0].addresses, (std::vector<std::string>{"192.0.2.7"}));
}

TEST_F(routing_fixture, implicit_mx_without_address_bounces_unable_to_route) {
  dns_.status("example.org", rr_type::mx, dns_status::nodata);
  dns_.status("example.org", rr_type::a, dns_status::nodata);
  dns_.status("example.org", rr_type::aaaa, dns_status::nodata);
  const auto p = plan("example.org");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.4");
  EXPECT_TRUE(p.hosts.empty());
}

TEST_F(routing_fixture, null_mx_bounces_with_5_1_10) {
  for (const char* exchange : {"", "."}) {
    dns_.mx("nomail.example", {{0, exchange}});
    const auto p = plan("nomail.example");
    EXPECT_EQ(p.kind, route_kind::bounce);
    EXPECT_EQ(p.status, "5.1.10");
    EXPECT_NE(p.diagnostic.find("null MX"), std::string::npos) << p.diagnostic;
    EXPECT_FALSE(dns_.was_asked("nomail.example", rr_type::a)) << "no implicit MX";
  }
}

TEST_F(routing_fixture, null_mx_beside_other_records_is_skipped) {
  // RFC 7505 §3: a domain with a null MX MUST NOT have other MX records; when it does, the
  // set is no null MX and the usable exchanges are used.
  dns_.mx("mixed.example", {{0, ""}, {10, "mx.mixed.example"}});
  dns_.a("mx.mixed.example", {"192.0.2.5"});
  const auto p = plan("mixed.example");
  ASSERT_EQ(p.kind, route_kind::deliver) << p.diagnostic;
  EXPECT_EQ(names(p), (std::vector<std::string>{"mx.mixed.example"}));
  EXPECT_NE(p.diagnostic.find("skipped"), std::string::npos);
}

TEST_F(routing_fixture, only_unusable_mx_records_bounce_unable_to_route) {
  dns_.mx("odd.example", {{10, "."}});  // not a null MX (preference 10), and no host
  const auto p = plan("odd.example");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.4");
}

TEST_F(routing_fixture, nxdomain_bounces_with_5_1_2) {
  const auto p = plan("nowhere.example");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.1.2");
  EXPECT_NE(p.diagnostic.find("does not exist"), std::string::npos);
}

TEST_F(routing_fixture, mx_servfail_or_timeout_defers_with_4_4_3) {
  for (const auto status : {dns_status::servfail, dns_status::timeout}) {
    dns_.status("example.org", rr_type::mx, status);
    const auto p = plan("example.org");
    EXPECT_EQ(p.kind, route_kind::defer);
    EXPECT_EQ(p.status, "4.4.3");
  }
}

TEST_F(routing_fixture, exchanges_without_addresses_are_skipped) {
  dns_.mx("example.org",
          {{10, "gone.example.org"}, {20, "empty.example.org"}, {30, "mx.example.org"}});
  dns_.status("empty.example.org", rr_type::a, dns_status::nodata);
  dns_.status("empty.example.org", rr_type::aaaa, dns_status::nodata);
  dns_.a("mx.example.org", {"192.0.2.30"});
  const auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(names(p), (std::vector<std::string>{"mx.example.org"}));
}

TEST_F(routing_fixture, no_address_anywhere_defers_if_a_lookup_failed_temporarily) {
  dns_.mx("example.org", {{10, "mx1.example.org"}, {20, "mx2.example.org"}});
  dns_.status("mx1.example.org", rr_type::a, dns_status::servfail);
  dns_.status("mx1.example.org", rr_type::aaaa, dns_status::nodata);
  const auto deferred = plan("example.org");  // mx2 is NXDOMAIN
  EXPECT_EQ(deferred.kind, route_kind::defer);
  EXPECT_EQ(deferred.status, "4.4.3");
  EXPECT_NE(deferred.diagnostic.find("mx1.example.org: A lookup failed (SERVFAIL)"),
            std::string::npos)
      << deferred.diagnostic;

  dns_.status("mx1.example.org", rr_type::a, dns_status::nxdomain);
  const auto bounced = plan("example.org");
  EXPECT_EQ(bounced.kind, route_kind::bounce);
  EXPECT_EQ(bounced.status, "5.4.4");
  EXPECT_NE(bounced.diagnostic.find("mx1.example.org, mx2.example.org"), std::string::npos)
      << bounced.diagnostic;
}

TEST_F(routing_fixture, a_backup_is_used_when_the_primary_lookup_fails_temporarily) {
  dns_.mx("example.org", {{10, "mx1.example.org"}, {20, "mx2.example.org"}});
  dns_.status("mx1.example.org", rr_type::a, dns_status::timeout);
  dns_.status("mx1.example.org", rr_type::aaaa, dns_status::timeout);
  dns_.a("mx2.example.org", {"192.0.2.2"});
  const auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(names(p), (std::vector<std::string>{"mx2.example.org"}));
  EXPECT_NE(p.diagnostic.find("timeout"), std::string::npos);
}

TEST_F(routing_fixture, a_cname_exchange_is_followed_through_its_address_lookup) {
  // The resolver follows the CNAME: the A answer of the alias carries the target's address.
  dns_.mx("example.org", {{10, "alias.example.org"}});
  dns_.a("alias.example.org", {"192.0.2.44"});
  const auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(p.hosts[0].name, "alias.example.org");
  EXPECT_EQ(p.hosts[0].addresses, (std::vector<std::string>{"192.0.2.44"}));
}

TEST_F(routing_fixture, address_literals_skip_dns) {
  const auto v4 = plan("[192.0.2.1]");
  ASSERT_EQ(v4.kind, route_kind::deliver);
  EXPECT_EQ(v4.hosts.at(0).addresses, (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(v4.hosts.at(0).name, "[192.0.2.1]");
  const auto v6 = plan("[IPv6:2001:DB8::0:1]");
  ASSERT_EQ(v6.kind, route_kind::deliver);
  EXPECT_EQ(v6.hosts.at(0).addresses, (std::vector<std::string>{"2001:db8::1"}));
  EXPECT_TRUE(dns_.asked().empty());
  for (const char* bad : {"[300.1.1.1]", "[2001:db8::1]", "[IPv6:192.0.2.1]", "[]"}) {
    const auto p = plan(bad);
    EXPECT_EQ(p.kind, route_kind::bounce) << bad;
    EXPECT_EQ(p.status, "5.1.2") << bad;
  }
}

TEST_F(routing_fixture, a_literal_callback_may_run_before_plan_route_returns) {
  bool called = false;
  plan_route("[192.0.2.1]", dns_, random_, options_, [&](route_plan) { called = true; });
  EXPECT_TRUE(called);
}

TEST_F(routing_fixture, host_and_address_limits) {
  std::vector<core::mx_record> records;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "mx" + std::to_string(i) + ".example.org";
    records.push_back({static_cast<std::uint16_t>(10 * (i + 1)), name});
    dns_.a(name, {"192.0.2." + std::to_string(10 + i), "192.0.2." + std::to_string(100 + i)});
  }
  dns_.mx("example.org", records);
  options_.mx_hosts_max = 5;
  options_.addresses_max = 0;
  auto p = plan("example.org");
  EXPECT_EQ(p.hosts.size(), 5u);
  EXPECT_FALSE(dns_.was_asked("mx5.example.org", rr_type::a))
      << "hosts past the limit are not looked up";

  options_.addresses_max = 5;  // Postfix smtp_mx_address_limit: mx0 ×2, mx1 ×2, mx2 ×1
  p = plan("example.org");
  ASSERT_EQ(p.hosts.size(), 3u);
  EXPECT_EQ(p.hosts[2].addresses, (std::vector<std::string>{"192.0.2.12"}));
}

TEST_F(routing_fixture, duplicate_exchange_is_kept_once_at_its_best_preference) {
  dns_.mx("example.org", {{30, "mx.example.org"}, {10, "mx.example.org"}});
  dns_.a("mx.example.org", {"192.0.2.1"});
  const auto p = plan("example.org");
  ASSERT_EQ(p.hosts.size(), 1u);
  EXPECT_EQ(p.hosts[0].preference, 10);
}

TEST_F(routing_fixture, loop_by_name_drops_our_preference_and_worse) {
  // RFC 5321 §5.1: we are the backup (20): only the better host (10) remains.
  dns_.mx("example.org", {{10, "primary.example.org"},
                          {20, "me.example.net"},
                          {20, "peer.example.org"},
                          {30, "tertiary.example.org"}});
  for (const char* host : {"primary", "peer", "tertiary"}) {
    dns_.a(std::string(host) + ".example.org", {"192.0.2.1"});
  }
  options_.local_names = {"ME.example.net."};
  auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(names(p), (std::vector<std::string>{"primary.example.org"}));
  EXPECT_FALSE(dns_.was_asked("me.example.net", rr_type::a));

  // The better host has no address: unable to route, not a loop.
  dns_.status("primary.example.org", rr_type::a, dns_status::nxdomain);
  p = plan("example.org");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.4");
  dns_.a("primary.example.org", {"192.0.2.1"});

  // We are the best MX: nowhere to go.
  dns_.mx("example.org", {{5, "me.example.net"}, {10, "primary.example.org"}});
  p = plan("example.org");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.6");
}

TEST_F(routing_fixture, loop_by_address) {
  dns_.mx("example.org", {{10, "mx1.example.org"}, {20, "mx2.example.org"}});
  dns_.a("mx1.example.org", {"192.0.2.1"});
  dns_.a("mx2.example.org", {"192.0.2.2"});
  options_.local_addresses = {"192.0.2.2"};
  auto p = plan("example.org");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(names(p), (std::vector<std::string>{"mx1.example.org"}));

  options_.local_addresses = {"192.0.2.1"};
  p = plan("example.org");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.6");

  options_.local_addresses = {"2001:db8::1"};
  const auto literal = plan("[IPv6:2001:db8:0::1]");
  EXPECT_EQ(literal.status, "5.4.6");
}

TEST_F(routing_fixture, static_routes_replace_mx_and_carry_ports) {
  options_.routes["example.test"] = {{"127.0.0.2", 2525}, {"relay.example.net", 0}, {"::1", 2526}};
  dns_.a("relay.example.net", {"192.0.2.50"});
  const auto p = plan("Example.Test");
  ASSERT_EQ(p.kind, route_kind::deliver) << p.diagnostic;
  EXPECT_TRUE(p.static_route);
  ASSERT_EQ(p.hosts.size(), 3u);
  EXPECT_EQ(p.hosts[0].addresses, (std::vector<std::string>{"127.0.0.2"}));
  EXPECT_EQ(p.hosts[0].port, 2525);
  EXPECT_EQ(p.hosts[0].preference, 0);
  EXPECT_EQ(p.hosts[1].name, "relay.example.net");
  EXPECT_EQ(p.hosts[1].port, 25);
  EXPECT_EQ(p.hosts[1].preference, 1);
  EXPECT_EQ(p.hosts[2].addresses, (std::vector<std::string>{"::1"}));
  EXPECT_FALSE(dns_.was_asked("example.test", rr_type::mx));
}

TEST_F(routing_fixture, star_route_relays_every_other_domain_and_port_option_applies) {
  options_.routes["*"] = {{"127.0.0.9", 0}};
  options_.port = 10025;
  const auto p = plan("anything.example");
  ASSERT_EQ(p.kind, route_kind::deliver);
  EXPECT_EQ(p.hosts.at(0).port, 10025);
  EXPECT_TRUE(dns_.asked().empty());
  // The default port also applies to MX hosts.
  options_.routes.clear();
  dns_.mx("example.org", {{10, "mx.example.org"}});
  dns_.a("mx.example.org", {"192.0.2.1"});
  EXPECT_EQ(plan("example.org").hosts.at(0).port, 10025);
}

TEST_F(routing_fixture, a_static_route_to_an_unknown_name_bounces_unable_to_route) {
  options_.routes["example.test"] = {{"missing.example.net", 2525}};
  const auto p = plan("example.test");
  EXPECT_EQ(p.kind, route_kind::bounce);
  EXPECT_EQ(p.status, "5.4.4");
}

TEST_F(routing_fixture, the_plan_outlives_a_caller_that_forgets_it) {
  // The caller keeps nothing: the lookups own the plan until the last answer.
  dns_.mx("example.org", {{10, "mx.example.org"}});
  dns_.a("mx.example.org", {"192.0.2.1"});
  std::optional<route_plan> got;
  {
    route_options scoped = options_;
    plan_route("example.org", dns_, random_, scoped, [&](route_plan p) { got = std::move(p); });
  }
  EXPECT_FALSE(got);
  dns_.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->kind, route_kind::deliver);
}

// A resolver that answers inside resolve(): the plan must still answer once, complete.
class eager_resolver final : public core::resolver {
 public:
  void resolve(const std::string& name, rr_type type,
               std::function<void(const dns_answer&)> on_answer) override {
    if (type == rr_type::mx) {
      on_answer({dns_status::ok, {}, {{10, "a." + name}, {20, "b." + name}}, 60});
    } else if (type == rr_type::a) {
      on_answer({dns_status::ok, {"192.0.2.1"}, {}, 60});
    } else {
      on_answer({dns_status::nodata, {}, {}, 0});
    }
  }
};

TEST(routing, a_resolver_answering_at_once_still_gives_one_complete_plan) {
  eager_resolver dns;
  core::splitmix_random random(1);
  int calls = 0;
  route_plan got;
  plan_route("example.org", dns, random, {}, [&](route_plan p) {
    ++calls;
    got = std::move(p);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.kind, route_kind::deliver);
  EXPECT_EQ(got.hosts.size(), 2u);
}

TEST(route_targets, parses_hosts_addresses_and_ports) {
  std::string error;
  const auto parsed = parse_route_targets(
      "127.0.0.2:2525, mx.example.net, [::1]:2526, [IPv6:2001:db8::5], 2001:db8::6, [192.0.2.1]",
      error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(*parsed, (std::vector<route_target>{{"127.0.0.2", 2525},
                                                {"mx.example.net", 0},
                                                {"::1", 2526},
                                                {"2001:db8::5", 0},
                                                {"2001:db8::6", 0},
                                                {"192.0.2.1", 0}}));
}

TEST(route_targets, errors_name_the_item) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "expected a host name or address"},
      {"a.example,", "expected a host name or address"},
      {"a.example:0", "expected a port from 1 to 65535"},
      {"a.example:65536", "expected a port from 1 to 65535"},
      {"a.example:", "expected a port"},
      {"a.example:25x", "expected a port"},
      {"[::1", "missing ']'"},
      {"[mx.example]", "expected an IP address inside [ ]"},
      {"[::1]2525", "expected ':port' after ']'"},
      {"2001:db8::1:2525x", "needs brackets"},
  };
  for (const auto& [text, expected] : cases) {
    std::string error;
    EXPECT_FALSE(parse_route_targets(text, error)) << text;
    EXPECT_NE(error.find(expected), std::string::npos) << text << " → " << error;
  }
}

}  // namespace
}  // namespace mailsim::queue
