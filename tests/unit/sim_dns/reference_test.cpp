// The reference server's SPF checker and MX routing, run over the simulated DNS.
#include <gtest/gtest.h>

#include "reference-server/auth/spf.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/queue/routing.hpp"
#include "simulator/engine/rng.hpp"
#include "tests/unit/sim_dns/harness.hpp"

namespace mailsim::sim::dns {
namespace {

auth::spf_result spf_for(test::world& w, const char* ip) {
  auth::spf_checker checker(*w.resolver);
  auth::spf_request request;
  request.ip = *core::parse_ip(ip);
  request.mail_from = "user@example.test";
  request.helo = "client.example.test";
  request.now = w.sched.now();
  std::optional<auth::spf_outcome> got;
  auto now = checker.check_mail_from(request, [&](auth::spf_outcome o) { got = std::move(o); });
  if (now) return now->result;
  w.sched.run_until_idle();
  EXPECT_TRUE(got.has_value());
  return got ? got->result : auth::spf_result::none;
}

TEST(ReferenceOverSimDns, SpfPassesListedAddress) {
  test::world w;
  EXPECT_EQ(spf_for(w, "192.0.2.55"), auth::spf_result::pass);
}

TEST(ReferenceOverSimDns, SpfFailsOtherAddress) {
  test::world w;
  EXPECT_EQ(spf_for(w, "198.51.100.1"), auth::spf_result::fail);
}

TEST(ReferenceOverSimDns, SpfTemperrorDuringServfail) {
  test::world w;
  w.resolver->add_fault({"example.test", false, fault_kind::servfail, w.sched.now(),
                         w.sched.now() + core::duration_ms{60'000}});
  EXPECT_EQ(spf_for(w, "192.0.2.55"), auth::spf_result::temperror);
}

queue::route_plan route(test::world& w, const char* domain) {
  prng random(1);
  queue::route_options options;
  options.families = queue::address_families::ipv4_first;
  std::optional<queue::route_plan> got;
  queue::plan_route(domain, *w.resolver, random, options,
                    [&](queue::route_plan p) { got = std::move(p); });
  w.sched.run_until_idle();
  EXPECT_TRUE(got.has_value());
  return got.value_or(queue::route_plan{});
}

TEST(ReferenceOverSimDns, RoutesToMxHostsInPreferenceOrder) {
  test::world w;
  const auto plan = route(w, "example.test");
  ASSERT_EQ(plan.kind, queue::route_kind::deliver) << plan.diagnostic;
  ASSERT_EQ(plan.hosts.size(), 2u);
  EXPECT_EQ(plan.hosts[0].name, "mx1.example.test");
  EXPECT_EQ(plan.hosts[0].addresses.front(), "192.0.2.10");
  EXPECT_EQ(plan.hosts[1].addresses, std::vector<std::string>{"192.0.2.20"});
}

TEST(ReferenceOverSimDns, RouteBouncesNxdomain) {
  test::world w;
  EXPECT_EQ(route(w, "nowhere.example.test").kind, queue::route_kind::bounce);
}

TEST(ReferenceOverSimDns, RouteDefersOnTimeout) {
  test::world w;
  w.resolver->add_fault({"example.test", true, fault_kind::timeout, w.sched.now(),
                         w.sched.now() + core::duration_ms{60'000}});
  EXPECT_EQ(route(w, "example.test").kind, queue::route_kind::defer);
}

}  // namespace
}  // namespace mailsim::sim::dns
