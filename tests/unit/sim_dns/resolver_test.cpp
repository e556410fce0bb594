// sim_resolver: answers from libunbound in process, latency, cache, faults, updates.
#include <gtest/gtest.h>

#include "simulator/engine/rng.hpp"
#include "tests/unit/sim_dns/harness.hpp"

namespace mailsim::sim::dns {
namespace {

using core::dns_status;
using core::rr_type;
using test::world;

TEST(SimResolver, AnswersA) {
  world w;
  const auto a = w.ask("mx1.example.test", rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(a.ttl_s, 300u);
}

TEST(SimResolver, AnswersAaaa) {
  world w;
  const auto a = w.ask("MX1.example.test.", rr_type::aaaa);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"2001:db8::10"});
}

TEST(SimResolver, AnswersMxInModelOrder) {
  world w;
  const auto a = w.ask("example.test", rr_type::mx);
  ASSERT_EQ(a.status, dns_status::ok);
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_EQ(a.mx[0].preference, 10);
  EXPECT_EQ(a.mx[0].exchange, "mx1.example.test");
  EXPECT_EQ(a.mx[1].exchange, "mx2.example.test");
}

TEST(SimResolver, AnswersTxtJoiningCharacterStrings) {
  auto model = test::small_world();
  model.add_txt("k._domainkey.example.test", std::string(300, 'k'));
  world w(std::move(model));
  const auto a = w.ask("k._domainkey.example.test", rr_type::txt);
  ASSERT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{std::string(300, 'k')});
}

TEST(SimResolver, AnswersPtrInDocumentationReverseZone) {
  world w;
  const auto a = w.ask(dnsbl_name("192.0.2.10", "in-addr.arpa"), rr_type::ptr);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"mx1.example.test"});
}

TEST(SimResolver, AnswersCnameQuery) {
  world w;
  const auto a = w.ask("www.example.test", rr_type::cname);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"mx1.example.test"});
}

TEST(SimResolver, FollowsCnameForOtherTypes) {
  world w;
  const auto a = w.ask("www.example.test", rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(a.ttl_s, 60u);  // the chain's smallest TTL
}

TEST(SimResolver, UnknownNameIsNxdomain) {
  world w;
  EXPECT_EQ(w.ask("nothing.example.test", rr_type::a).status, dns_status::nxdomain);
  EXPECT_EQ(w.ask("elsewhere.invalid", rr_type::a).status, dns_status::nxdomain);
}

TEST(SimResolver, OtherTypeOnlyIsNodata) {
  world w;
  const auto a = w.ask("mx2.example.test", rr_type::aaaa);
  EXPECT_EQ(a.status, dns_status::nodata);
  EXPECT_EQ(a.ttl_s, 60u);  // resolver_options::negative_ttl_s
}

TEST(SimResolver, AnswersAfterLatencyNeverInsideResolve) {
  world w;
  bool answered = false;
  w.resolver->resolve("mx1.example.test", rr_type::a, [&](const auto&) { answered = true; });
  EXPECT_FALSE(answered);
  w.sched.run_for(core::duration_ms{19});
  EXPECT_FALSE(answered);
  w.sched.run_for(core::duration_ms{1});
  EXPECT_TRUE(answered);
}

TEST(SimResolver, CacheHitsWithinTtl) {
  world w;
  w.ask("mx1.example.test", rr_type::a);
  w.sched.run_for(core::duration_ms{100'000});
  const auto a = w.ask("mx1.example.test", rr_type::a);
  EXPECT_EQ(a.records, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(w.resolver->stats().cache_hits, 1u);
  EXPECT_EQ(w.resolver->stats().cache_misses, 1u);
  EXPECT_LT(a.ttl_s, 300u);  // what is left of it
}

TEST(SimResolver, CacheExpiresInVirtualTime) {
  world w;
  w.ask("mx1.example.test", rr_type::a);
  w.sched.run_for(core::duration_ms{300'000});
  w.ask("mx1.example.test", rr_type::a);
  EXPECT_EQ(w.resolver->stats().cache_hits, 0u);
  EXPECT_EQ(w.resolver->stats().cache_misses, 2u);
}

TEST(SimResolver, CacheIsBounded) {
  resolver_options options;
  options.cache_entries_max = 2;
  world w(test::small_world(), options);
  w.ask("mx1.example.test", rr_type::a);
  w.ask("mx2.example.test", rr_type::a);
  w.ask("example.test", rr_type::mx);
  EXPECT_EQ(w.resolver->cache_size(), 2u);
  EXPECT_EQ(w.resolver->stats().evictions, 1u);
}

TEST(SimResolver, ListingAppearsAfterNegativeTtl) {
  world w;
  const std::string name = dnsbl_name("198.51.100.7", "bl.test");
  EXPECT_EQ(w.ask(name, rr_type::a).status, dns_status::nxdomain);
  w.resolver->schedule_update(w.sched.now() + core::duration_ms{1000}, [&](zone_model& m) {
    m.add_a(name, "127.0.0.2", 300);
  });
  w.sched.run_for(core::duration_ms{2000});
  EXPECT_EQ(w.ask(name, rr_type::a).status, dns_status::nxdomain);  // cached, TTL 60 s
  w.sched.run_for(core::duration_ms{60'000});
  const auto a = w.ask(name, rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(w.resolver->stats().context_builds, 2u);
}

TEST(SimResolver, RejectsBadUpdateAndKeepsModel) {
  world w;
  std::string error;
  EXPECT_FALSE(w.resolver->update_model(
      [](zone_model& m) { m.add_a("x.nowhere.test", "192.0.2.1"); }, error));
  EXPECT_NE(error.find("outside every declared zone"), std::string::npos);
  EXPECT_EQ(w.ask("mx1.example.test", rr_type::a).status, dns_status::ok);
}

TEST(SimResolver, CreateRejectsBadModel) {
  scheduler sched;
  zone_model m;
  m.add_a("a.example.test", "192.0.2.1");
  std::string error;
  EXPECT_EQ(sim_resolver::create(sched, nullptr, m, {}, error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(SimResolver, ServfailFaultOnlyInsideWindow) {
  world w;
  const auto t0 = w.sched.now();
  w.resolver->add_fault({"example.test", false, fault_kind::servfail,
                         t0 + core::duration_ms{1000}, t0 + core::duration_ms{2000}});
  EXPECT_EQ(w.ask("example.test", rr_type::mx).status, dns_status::ok);
  w.sched.run_until(t0 + core::duration_ms{1000});
  EXPECT_EQ(w.ask("example.test", rr_type::mx).status, dns_status::servfail);
  w.sched.run_until(t0 + core::duration_ms{2000});
  EXPECT_EQ(w.ask("example.test", rr_type::mx).status, dns_status::ok);
}

TEST(SimResolver, TimeoutFaultAnswersAfterTimeout) {
  world w;
  const auto t0 = w.sched.now();
  w.resolver->add_fault({"example.test", true, fault_kind::timeout, t0,
                         t0 + core::duration_ms{60'000}});
  const auto a = w.ask("mx1.example.test", rr_type::a);  // in the subtree
  EXPECT_EQ(a.status, dns_status::timeout);
  EXPECT_EQ(w.sched.now() - t0, core::duration_ms{10'000});
}

TEST(SimResolver, NxdomainFaultSparesOtherNames) {
  world w;
  const auto t0 = w.sched.now();
  w.resolver->add_fault({"mx2.example.test", false, fault_kind::nxdomain, t0,
                         t0 + core::duration_ms{60'000}});
  EXPECT_EQ(w.ask("mx2.example.test", rr_type::a).status, dns_status::nxdomain);
  EXPECT_EQ(w.ask("mx1.example.test", rr_type::a).status, dns_status::ok);
  EXPECT_EQ(w.ask("example.test", rr_type::mx).status, dns_status::ok);  // not a subtree fault
}

TEST(SimResolver, TracesQueryAndAnswer) {
  world w;
  w.ask("example.test", rr_type::mx);
  ASSERT_EQ(w.lines.lines().size(), 2u);
  EXPECT_EQ(w.lines.lines()[0], "2023-11-14T22:13:20.000Z dns q1 query example.test MX\n");
  EXPECT_EQ(w.lines.lines()[1],
            "2023-11-14T22:13:20.020Z dns q1 answer ok ttl=300 10 mx1.example.test,"
            "20 mx2.example.test (unbound)\n");
}

std::string run_world(std::uint64_t seed) {
  world w;
  digest_sink digest;
  w.tr.add_sink(digest);
  random_streams streams(seed);
  prng& r = streams.stream("dns-test");
  const char* names[] = {"example.test", "mx1.example.test", "www.example.test", "no.example.test"};
  for (int i = 0; i < 200; ++i) {
    const auto at = w.sched.now() + core::duration_ms{static_cast<long>(r.next_u64() % 1'000'000)};
    const char* name = names[r.next_u64() % 4];
    const auto type = r.chance(0.5) ? rr_type::a : rr_type::mx;
    w.sched.schedule(at, [&w, name, type] { w.resolver->resolve(name, type, nullptr); });
  }
  w.sched.run_until_idle();
  w.tr.remove_sink(digest);
  return digest.hex();
}

TEST(SimResolver, SameSeedSameTrace) {
  EXPECT_EQ(run_world(7), run_world(7));
  EXPECT_NE(run_world(7), run_world(8));
}

}  // namespace
}  // namespace mailsim::sim::dns
