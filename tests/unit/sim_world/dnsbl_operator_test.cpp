// The DNSBL operator (dnsbl_operator.hpp): its listing rules on virtual time, what the
// world's resolver answers for a listed IP, delisting on the scheduler, the recorder's
// listings and the trace.
#include "simulator/world/dnsbl_operator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace mailsim::sim::world {
namespace {

using core::duration_ms;

constexpr duration_ms minute{60'000};
constexpr duration_ms hour{3600'000};
const std::string zone = "bl.test";
const std::string ip = "192.0.2.1";

dnsbl_spec spec_of(std::size_t trap_hits = 3, duration_ms window = 24 * hour) {
  dnsbl_spec s;
  s.zone = zone;
  s.trap_hits = trap_hits;
  s.window = window;
  s.expire_after = 48 * hour;
  return s;
}

// An operator on a scheduler, with a resolver over the world's DNS.
struct lab {
  explicit lab(const dnsbl_spec& spec, bool attach = true) {
    tr.add_sink(lines);
    op = std::make_unique<dnsbl_operator>(spec, sched, &tr, record);
    if (attach) attach_now();
  }
  void attach_now() {
    dns::zone_model model;
    model.add_zone("example.test");
    op->add_to(model);
    std::string error;
    resolver = dns::sim_resolver::create(sched, &tr, std::move(model), {}, error);
    ASSERT_NE(resolver, nullptr) << error;
    op->attach(*resolver);
  }
  // Asks the resolver and runs the loop until the answer is in.
  core::dns_answer ask(const std::string& name, core::rr_type type) {
    std::optional<core::dns_answer> got;
    resolver->resolve(name, type, [&](const core::dns_answer& a) { got = a; });
    while (!got && sched.run_one()) {
    }
    EXPECT_TRUE(got.has_value());
    return got.value_or(core::dns_answer{});
  }
  core::dns_answer ask_a(const std::string& address) {
    return ask(dns::dnsbl_name(address, zone), core::rr_type::a);
  }
  core::time_point later(duration_ms d) {
    sched.run_for(d);
    return sched.now();
  }
  std::size_t records_of(const std::string& address, core::rr_type type) const {
    std::size_t n = 0;
    for (const dns::record& r : resolver->model().records()) {
      if (r.name == dns::dnsbl_name(address, zone) && r.type == type) ++n;
    }
    return n;
  }

  scheduler sched;
  trace tr{sched.clock()};
  memory_sink lines;
  metrics::recorder record{sched.now()};
  std::unique_ptr<dnsbl_operator> op;
  std::unique_ptr<dns::sim_resolver> resolver;
};

TEST(DnsblOperator, ListsAfterNTrapHitsInsideTheWindowOnly) {
  lab l(spec_of(3, 24 * hour));
  const core::time_point t0 = l.sched.now();
  l.op->trap_hit(ip, "sender.sim", t0);
  l.op->trap_hit(ip, "sender.sim", l.later(13 * hour));
  // 25 h: the first hit is out of the window.
  l.op->trap_hit(ip, "sender.sim", l.later(12 * hour));
  EXPECT_FALSE(l.op->listed(ip));
  EXPECT_TRUE(l.record.listings().empty());
  const core::time_point t = l.later(hour);  // 26 h: hits at 13, 25, 26 h
  l.op->trap_hit(ip, "sender.sim", t);
  EXPECT_TRUE(l.op->listed(ip));
  ASSERT_EQ(l.record.listings().size(), 1u);
  const metrics::listing& got = l.record.listings()[0];
  EXPECT_EQ(got.zone, zone);
  EXPECT_EQ(got.subject, ip);
  EXPECT_EQ(got.listed_at, t);
  EXPECT_FALSE(got.delisted_at.has_value());
  EXPECT_EQ(got.reason, "3 trap hits in 24h");
  EXPECT_FALSE(l.op->listed("192.0.2.2"));
}

TEST(DnsblOperator, HitsExactlyAWindowApartAreNotInsideIt) {
  lab l(spec_of(2, 24 * hour));
  l.op->trap_hit(ip, "sender.sim", l.sched.now());
  l.op->trap_hit(ip, "sender.sim", l.later(24 * hour));
  EXPECT_FALSE(l.op->listed(ip));
  l.op->trap_hit(ip, "sender.sim", l.later(duration_ms{1}));
  EXPECT_TRUE(l.op->listed(ip));
}

TEST(DnsblOperator, ComplaintsRule) {
  dnsbl_spec s = spec_of();
  s.complaints = 2;
  s.window = hour;
  lab l(s);
  l.op->complaint(ip, "sender.sim", l.sched.now());
  EXPECT_FALSE(l.op->listed(ip));
  l.op->complaint(ip, "sender.sim", l.later(30 * minute));
  EXPECT_TRUE(l.op->listed(ip));
  ASSERT_EQ(l.record.listings().size(), 1u);
  EXPECT_EQ(l.record.listings()[0].reason, "2 complaints in 1h");

  // With the rule off, complaints are not evidence.
  lab off(spec_of());
  for (int i = 0; i < 100; ++i) off.op->complaint(ip, "sender.sim", off.sched.now());
  EXPECT_FALSE(off.op->listed(ip));
}

TEST(DnsblOperator, TheListingAppearsInTheResolversAnswers) {
  lab l(spec_of(1));
  EXPECT_EQ(l.ask_a(ip).status, core::dns_status::nxdomain);
  // RFC 5782 §5: the zone answers for its test entry.
  const core::dns_answer probe = l.ask_a("127.0.0.2");
  ASSERT_EQ(probe.status, core::dns_status::ok);
  EXPECT_EQ(probe.records, std::vector<std::string>{"127.0.0.2"});

  l.op->trap_hit(ip, "sender.sim", l.sched.now());
  ASSERT_TRUE(l.op->listed(ip));
  // The negative answer lives out its cache TTL (60 s), then the listing shows.
  EXPECT_EQ(l.ask_a(ip).status, core::dns_status::nxdomain);
  l.later(duration_ms{61'000});
  const core::dns_answer a = l.ask_a(ip);
  ASSERT_EQ(a.status, core::dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(a.ttl_s, 60u);
  const core::dns_answer txt = l.ask(dns::dnsbl_name(ip, zone), core::rr_type::txt);
  ASSERT_EQ(txt.status, core::dns_status::ok);
  ASSERT_EQ(txt.records.size(), 1u);
  EXPECT_NE(txt.records[0].find("1 trap hits in 24h"), std::string::npos) << txt.records[0];
  EXPECT_NE(txt.records[0].find("SBL"), std::string::npos) << txt.records[0];
  // Further hits while listed add no records.
  for (int i = 0; i < 5; ++i) l.op->trap_hit(ip, "sender.sim", l.sched.now());
  EXPECT_EQ(l.records_of(ip, core::rr_type::a), 1u);
  EXPECT_EQ(l.records_of(ip, core::rr_type::txt), 1u);
}

TEST(DnsblOperator, GenericStyleTxtNamesTheZone) {
  dnsbl_spec s = spec_of(1);
  s.style = "generic";
  lab l(s);
  l.op->trap_hit(ip, "sender.sim", l.sched.now());
  const core::dns_answer txt = l.ask(dns::dnsbl_name(ip, zone), core::rr_type::txt);
  ASSERT_EQ(txt.records.size(), 1u);
  EXPECT_EQ(txt.records[0], "192.0.2.1 listed in bl.test: 1 trap hits in 24h");
}

TEST(DnsblOperator, DelistsExpireAfterTheLastHitAndANewHitPostponesIt) {
  lab l(spec_of(1));
  const core::time_point t0 = l.sched.now();
  l.op->trap_hit(ip, "sender.sim", t0);
  l.op->trap_hit(ip, "sender.sim", l.later(24 * hour));  // postpones the delisting to 72 h
  l.later(24 * hour + minute);             // 48 h + 1 min: the first deadline has passed
  EXPECT_TRUE(l.op->listed(ip));
  EXPECT_EQ(l.records_of(ip, core::rr_type::a), 1u);
  l.sched.run_until(t0 + 72 * hour - duration_ms{1});
  EXPECT_TRUE(l.op->listed(ip));
  l.sched.run_until(t0 + 72 * hour);
  EXPECT_FALSE(l.op->listed(ip));
  EXPECT_EQ(l.records_of(ip, core::rr_type::a), 0u);
  EXPECT_EQ(l.records_of(ip, core::rr_type::txt), 0u);
  EXPECT_EQ(l.ask_a(ip).status, core::dns_status::nxdomain);
  ASSERT_EQ(l.record.listings().size(), 1u);
  EXPECT_EQ(l.record.listings()[0].delisted_at, t0 + 72 * hour);
  EXPECT_TRUE(l.record.ever_listed(zone, ip));
  EXPECT_EQ(l.sched.pending(), 0u);

  // Listed again by new evidence: a second recorder entry.
  l.op->trap_hit(ip, "sender.sim", l.later(hour));
  EXPECT_TRUE(l.op->listed(ip));
  EXPECT_EQ(l.record.listings().size(), 2u);
  l.later(61 * minute);
  EXPECT_EQ(l.ask_a(ip).status, core::dns_status::ok);
}

TEST(DnsblOperator, StaticListingsFromTheStartNeverExpire) {
  dnsbl_spec s = spec_of();
  s.listed = {"192.0.2.50", "2001:DB8::7"};
  lab l(s);
  const core::time_point t0 = l.sched.now();
  EXPECT_TRUE(l.op->listed("192.0.2.50"));
  EXPECT_TRUE(l.op->listed("2001:db8::7"));
  ASSERT_EQ(l.record.listings().size(), 2u);
  EXPECT_EQ(l.record.listings()[0].listed_at, t0);
  EXPECT_EQ(l.record.listings()[0].reason, "listed from the start");
  EXPECT_EQ(l.record.listings()[1].subject, "2001:db8::7");
  EXPECT_EQ(l.ask_a("192.0.2.50").records, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(l.ask_a("2001:db8::7").records, std::vector<std::string>{"127.0.0.2"});
  l.op->trap_hit("192.0.2.50", "sender.sim", l.sched.now());
  l.later(30 * 24 * hour);
  EXPECT_TRUE(l.op->listed("192.0.2.50"));
  EXPECT_FALSE(l.record.listings()[0].delisted_at.has_value());
}

TEST(DnsblOperator, HitsBeforeAttachReachTheDnsOnAttach) {
  lab l(spec_of(1), false);
  l.op->trap_hit(ip, "sender.sim", l.sched.now());
  EXPECT_TRUE(l.op->listed(ip));
  l.attach_now();
  EXPECT_EQ(l.ask_a(ip).records, std::vector<std::string>{"127.0.0.2"});
}

TEST(DnsblOperator, TraceHasOneLinePerChange) {
  dnsbl_spec s = spec_of(2, hour);
  s.expire_after = 2 * hour;
  s.listed = {"198.51.100.9"};
  lab l(s);
  l.op->trap_hit(ip, "sender.sim", l.sched.now());
  l.op->trap_hit(ip, "sender.sim", l.later(minute));
  l.later(3 * hour);
  std::vector<std::string> mine;
  for (const std::string& line : l.lines.lines()) {
    if (line.find(" dnsbl ") != std::string::npos) mine.push_back(line);
  }
  ASSERT_EQ(mine.size(), 3u) << l.lines.text();
  EXPECT_EQ(mine[0],
            "2023-11-14T22:13:20.000Z dnsbl bl.test listed 198.51.100.9: listed from the start\n");
  EXPECT_EQ(mine[1],
            "2023-11-14T22:14:20.000Z dnsbl bl.test listed 192.0.2.1: 2 trap hits in 1h\n");
  EXPECT_EQ(mine[2], "2023-11-15T00:14:20.000Z dnsbl bl.test delisted 192.0.2.1: no hit for 2h\n");
}

// A domain list (like Spamhaus DBL) counts hits against the MAIL FROM domain, whatever IP
// they came from, and publishes the domain itself under the zone (RFC 5782 §2.3).
TEST(DnsblOperator, ADomainListListsTheSenderDomainUnderTheZone) {
  dnsbl_spec s = spec_of(2);
  s.zone = "dbl.test";
  s.kind = dnsbl_spec::subject_kind::domain;
  s.listed = {"Spammer.TEST."};
  lab l(s);
  EXPECT_TRUE(l.op->listed("spammer.test"));
  l.op->trap_hit("192.0.2.1", "Sender.Sim", l.sched.now());
  l.op->trap_hit("192.0.2.1", "", l.sched.now());  // the null sender: no domain to count
  EXPECT_FALSE(l.op->listed("sender.sim"));
  l.op->trap_hit("198.51.100.7", "sender.sim", l.later(minute));  // another IP, same domain
  EXPECT_TRUE(l.op->listed("sender.sim"));
  EXPECT_FALSE(l.op->listed("192.0.2.1"));
  EXPECT_EQ(l.ask("sender.sim.dbl.test", core::rr_type::a).records,
            std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(l.ask("spammer.test.dbl.test", core::rr_type::a).records,
            std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(l.ask("test.dbl.test", core::rr_type::a).records,
            std::vector<std::string>{"127.0.0.2"});
  EXPECT_TRUE(l.ask("other.sim.dbl.test", core::rr_type::a).records.empty());
  ASSERT_EQ(l.record.listings().size(), 2u);
  EXPECT_EQ(l.record.listings()[1].subject, "sender.sim");
  EXPECT_TRUE(l.record.ever_listed("dbl.test", "sender.sim"));
  l.later(49 * hour);
  EXPECT_FALSE(l.op->listed("sender.sim"));
  EXPECT_TRUE(l.ask("sender.sim.dbl.test", core::rr_type::a).records.empty());
}

}  // namespace
}  // namespace mailsim::sim::world
