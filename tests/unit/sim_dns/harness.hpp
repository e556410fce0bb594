// Shared helpers for the simulator/dns tests: a small world and a synchronous-looking ask().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "simulator/dns/sim_resolver.hpp"

namespace mailsim::sim::dns::test {

inline zone_model small_world() {
  zone_model m;
  m.add_zone("example.test");
  m.add_zone("2.0.192.in-addr.arpa");
  m.add_zone("bl.test");
  m.add_mx("example.test", 10, "mx1.example.test", 300);
  m.add_mx("example.test", 20, "mx2.example.test", 300);
  m.add_a("mx1.example.test", "192.0.2.10", 300);
  m.add_a("mx1.example.test", "2001:db8::10", 300);
  m.add_a("mx2.example.test", "192.0.2.20", 300);
  m.add_txt("example.test", "v=spf1 ip4:192.0.2.0/24 -all", 300);
  m.add({"www.example.test", core::rr_type::cname, 60, "mx1.example.test", 0});
  m.add({"10.2.0.192.in-addr.arpa", core::rr_type::ptr, 300, "mx1.example.test", 0});
  return m;
}

struct world {
  explicit world(zone_model model = small_world(), resolver_options options = {}) {
    std::string error;
    resolver = sim_resolver::create(sched, &tr, std::move(model), options, error);
    EXPECT_NE(resolver, nullptr) << error;
    tr.add_sink(lines);
  }
  // Asks and runs the loop until the answer is in.
  core::dns_answer ask(const std::string& name, core::rr_type type) {
    std::optional<core::dns_answer> got;
    resolver->resolve(name, type, [&](const core::dns_answer& a) { got = a; });
    EXPECT_FALSE(got.has_value()) << "answered inside resolve()";
    while (!got && sched.run_one()) {
    }
    EXPECT_TRUE(got.has_value());
    return got.value_or(core::dns_answer{});
  }

  scheduler sched;
  trace tr{sched.clock()};
  memory_sink lines;
  std::unique_ptr<sim_resolver> resolver;
};

}  // namespace mailsim::sim::dns::test
