// Whole worlds: providers (the receivers), senders, workloads, DNS, DNSBLs and faults built
// from a world_spec and run on the scheduler, judged by the recorder and the transcript.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "simulator/metrics/expect.hpp"
#include "simulator/world/world.hpp"

namespace mailsim::sim::world {
namespace {

using core::duration_ms;
constexpr std::int64_t hour = 3600'000;

world_spec small_world(std::size_t messages) {
  world_spec spec;
  provider_spec p;
  p.name = "corp";
  p.profile = "postfix-default";
  p.domains = {"corp.sim"};
  p.mailboxes.valid = 20;
  spec.providers.push_back(p);
  sender_spec s;
  s.name = "acme";
  s.domain = "sender.sim";
  s.ips = {"192.0.2.10"};
  spec.senders.push_back(s);
  workload_spec w;
  w.from = "news@sender.sim";
  w.volume.total = messages;
  w.volume.over = duration_ms{hour};
  w.where = {"w.yaml", 4, 3};
  spec.workload.push_back(w);
  return spec;
}

struct outcome {
  metrics::recorder record;
  std::string transcript;
  world_stats stats;
};

outcome run(const world_spec& spec, std::uint64_t seed = 1, duration_ms length = duration_ms{3 * hour}) {
  scheduler sched;
  random_streams streams(seed);
  trace tr(sched.clock());
  memory_sink sink(1'000'000);
  tr.add_sink(sink);
  outcome out{metrics::recorder(sched.now()), {}, {}};
  world w(spec, sched, streams, &tr, out.record);
  w.start();
  sched.run_until(sched.now() + length);
  w.finish();
  sched.run_until(sched.now() + duration_ms{60'000});
  out.stats = w.stats();
  out.transcript = sink.text();
  return out;
}

std::size_t count(const metrics::recorder& r, metrics::fate f) {
  std::size_t n = 0;
  for (const metrics::message_record& m : r.records()) n += m.outcome == f ? 1 : 0;
  return n;
}

TEST(World, ASmallWorldDeliversEverything) {
  const outcome o = run(small_world(20));
  ASSERT_EQ(o.record.records().size(), 20u);
  EXPECT_EQ(o.stats.enqueued, 20u);
  EXPECT_GT(o.stats.connections, 0u);
  EXPECT_GT(o.stats.dns_queries, 0u);
  for (const metrics::message_record& r : o.record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered) << r.recipient << " " << r.status;
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.provider, "corp");
    EXPECT_EQ(r.kind, "valid");
    EXPECT_EQ(r.ip, "192.0.2.10");
    EXPECT_EQ(r.placed, metrics::placement::inbox) << r.recipient;
  }
  EXPECT_NE(o.transcript.find("Message-ID: <m20@sender.sim>"), std::string::npos);
}

TEST(World, UnknownRecipientsBounceWith511) {
  world_spec spec = small_world(40);
  spec.providers[0].mailboxes.valid = 10;
  spec.providers[0].mailboxes.unknown.count = 10;
  const outcome o = run(spec);
  std::size_t unknown = 0;
  for (const metrics::message_record& r : o.record.records()) {
    if (r.kind == "unknown") {
      ++unknown;
      EXPECT_EQ(r.outcome, metrics::fate::bounced);
      EXPECT_EQ(r.code, 550);
      EXPECT_EQ(r.status, "5.1.1");
    } else {
      EXPECT_EQ(r.outcome, metrics::fate::delivered);
    }
  }
  EXPECT_EQ(unknown, 20u);
}

TEST(World, RoleRecipientsAreDeliveredToTheProvidersRoleMailboxes) {
  world_spec spec = small_world(40);
  spec.providers[0].mailboxes.roles = {"postmaster", "info"};
  spec.workload[0].recipients.role = 0.5;
  const outcome o = run(spec);
  std::size_t roles = 0;
  for (const metrics::message_record& r : o.record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered) << r.recipient << " " << r.status;
    if (r.kind != "role") continue;
    ++roles;
    EXPECT_TRUE(r.recipient == "postmaster@corp.sim" || r.recipient == "info@corp.sim")
        << r.recipient;
    EXPECT_EQ(r.placed, metrics::placement::inbox);
  }
  EXPECT_GT(roles, 10u);  // about half of 40
  EXPECT_LT(roles, 30u);
}

TEST(World, AnMxHostDownSendsMailToTheBackup) {
  world_spec spec = small_world(10);
  spec.providers[0].mx = {mx_spec{"", 10, ""}, mx_spec{"", 20, ""}};
  fault_spec f;
  f.what = fault_spec::kind::host_down;
  f.target = "mx1.corp.sim";
  f.length = duration_ms{4 * hour};
  spec.faults.push_back(f);
  const outcome o = run(spec);
  EXPECT_EQ(count(o.record, metrics::fate::delivered), 10u);
  EXPECT_NE(o.transcript.find("-> 10.1.0.2:25"), std::string::npos);
  EXPECT_NE(o.transcript.find("refused (fault f1-10.1.0.1)"), std::string::npos);
}

TEST(World, ADnsOutageDelaysThenDelivers) {
  world_spec spec = small_world(5);
  spec.workload[0].volume.over = duration_ms{60'000};
  spec.senders[0].retry.profile = "fixed";
  spec.senders[0].retry.interval = duration_ms{10 * 60'000};
  fault_spec f;
  f.what = fault_spec::kind::dns;
  f.name = "corp.sim";
  f.length = duration_ms{30 * 60'000};
  spec.faults.push_back(f);
  const outcome o = run(spec);
  for (const metrics::message_record& r : o.record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered);
    EXPECT_GE(r.deferrals, 3u);
    EXPECT_GE(*r.final_at - r.queued_at, duration_ms{29 * 60'000});
  }
  EXPECT_NE(o.transcript.find("answer servfail"), std::string::npos);
}

TEST(World, TypoDomainsBounceOnNxdomain) {
  world_spec spec = small_world(30);
  spec.workload[0].recipients.typo_domains = 0.5;
  const outcome o = run(spec);
  std::size_t typos = 0;
  for (const metrics::message_record& r : o.record.records()) {
    if (r.kind != "typo") continue;
    ++typos;
    EXPECT_EQ(r.domain, "crop.sim");
    EXPECT_EQ(r.outcome, metrics::fate::bounced);
    EXPECT_EQ(r.status, "5.1.2");
  }
  EXPECT_GT(typos, 5u);
}

TEST(World, PerDayVolumeRunsUntilTheWorldFinishes) {
  world_spec spec = small_world(0);
  spec.workload[0].volume.per_day = 24;
  const outcome o = run(spec, 1, duration_ms{48 * hour});
  // One an hour, the one at 48 h included: run_until() runs what is due at its limit.
  EXPECT_EQ(o.record.records().size(), 49u);
  EXPECT_EQ(count(o.record, metrics::fate::delivered), 48u);
}

TEST(World, TrapHitsReachTheDnsblOperators) {
  world_spec spec = small_world(30);
  spec.providers[0].mailboxes.valid = 5;
  spec.providers[0].mailboxes.pristine_traps = 5;
  dnsbl_spec bl;
  bl.zone = "bl.sim";
  bl.trap_hits = 2;
  spec.dnsbls.push_back(bl);
  const outcome o = run(spec);
  std::size_t traps = 0;
  for (const metrics::message_record& r : o.record.records()) {
    if (r.kind != "pristine_trap") continue;
    ++traps;
    EXPECT_EQ(r.outcome, metrics::fate::delivered);
  }
  EXPECT_EQ(traps, 15u);
  EXPECT_TRUE(o.record.ever_listed("bl.sim", "192.0.2.10"));
}

// A provider that owns the typo domain crop.sim (typo_of(corp.sim)) runs it as a trap: the
// workload's typo recipients are accepted silently as traps, and the IP gets listed.
TEST(World, TypoDomainTrapsCatchTypoRecipients) {
  world_spec spec = small_world(100);
  spec.workload[0].recipients.from_world = {"corp"};
  spec.workload[0].recipients.typo_domains = 0.1;
  provider_spec trap;
  trap.name = "typo-trap";
  trap.domains = {"crop.sim"};
  trap.mailboxes.trap_domain = true;
  spec.providers.push_back(trap);
  dnsbl_spec bl;
  bl.zone = "bl.sim";
  bl.trap_hits = 2;
  spec.dnsbls.push_back(bl);
  const outcome o = run(spec);
  std::size_t typos = 0;
  for (const metrics::message_record& r : o.record.records()) {
    if (r.domain != "crop.sim") continue;
    ++typos;
    EXPECT_EQ(r.kind, "pristine_trap");
    EXPECT_EQ(r.provider, "typo-trap");
    if (r.outcome != metrics::fate::delivered) continue;  // refused once the IP is listed
    EXPECT_EQ(r.placed, metrics::placement::trap);
    EXPECT_TRUE(r.trap_hit);
  }
  EXPECT_GE(typos, 4u);
  EXPECT_TRUE(o.record.ever_listed("bl.sim", "192.0.2.10"));
  EXPECT_NE(o.transcript.find("250 pristine_trap"), std::string::npos);
}

// A domain DNSBL (kind domain, like Spamhaus DBL) lists the MAIL FROM domain after its trap
// hits; receivers that consult it refuse that domain at MAIL with their DNSBL reply.
TEST(World, ADomainDnsblListsTheSenderDomainAndReceiversRefuseItAtMail) {
  world_spec spec = small_world(60);
  spec.workload[0].volume.over = duration_ms{2 * hour};
  spec.providers[0].mailboxes.valid = 5;
  spec.providers[0].mailboxes.pristine_traps = 5;
  spec.providers[0].dnsbls = {"dbl.sim"};
  dnsbl_spec bl;
  bl.zone = "dbl.sim";
  bl.kind = dnsbl_spec::subject_kind::domain;
  bl.trap_hits = 2;
  bl.style = "generic";
  spec.dnsbls.push_back(bl);
  const outcome o = run(spec);
  EXPECT_TRUE(o.record.ever_listed("dbl.sim", "sender.sim"));
  EXPECT_FALSE(o.record.ever_listed("dbl.sim", "192.0.2.10"));
  std::size_t refused = 0;
  for (const metrics::message_record& r : o.record.records()) {
    if (r.outcome != metrics::fate::bounced) continue;
    ++refused;
    EXPECT_EQ(r.code, 554) << r.status;
    EXPECT_EQ(r.status, "5.7.1");
  }
  EXPECT_GT(refused, 20u);
  EXPECT_NE(o.transcript.find("blocked using dbl.sim"), std::string::npos);
  EXPECT_NE(o.transcript.find("domain sender.sim listed in dbl.sim"), std::string::npos);
  EXPECT_TRUE(metrics::evaluate_expectation("listed(sender.sim, dbl.sim)", o.record).passed);
  EXPECT_FALSE(
      metrics::evaluate_expectation("never listed(sender.sim, dbl.sim)", o.record).passed);
}

TEST(World, DkimSignedMailPassesAReceiverThatRequiresIt) {
  world_spec spec = small_world(10);
  spec.providers[0].require = auth_requirements{false, true, false, false};
  spec.senders[0].dkim = dkim_spec{};
  sender_spec unsigned_sender;
  unsigned_sender.name = "plain";
  unsigned_sender.domain = "plain.sim";
  spec.senders.push_back(unsigned_sender);
  workload_spec w = spec.workload[0];
  w.from = "news@plain.sim";
  spec.workload.push_back(w);
  const outcome o = run(spec);
  ASSERT_EQ(o.record.records().size(), 20u);
  for (const metrics::message_record& r : o.record.records()) {
    if (r.sender == "acme") {
      EXPECT_EQ(r.outcome, metrics::fate::delivered) << r.status;
    } else {
      EXPECT_EQ(r.outcome, metrics::fate::bounced);
      EXPECT_EQ(r.status.rfind("5.7.", 0), 0u) << r.status;
    }
  }
}

TEST(World, InconsistentSpecsAreRefusedWithTheirPlace) {
  scheduler sched;
  random_streams streams(1);
  metrics::recorder record(sched.now());
  auto message_of = [&](const world_spec& spec) {
    try {
      world w(spec, sched, streams, nullptr, record);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  world_spec no_sender = small_world(1);
  no_sender.workload[0].from = "news@other.sim";
  EXPECT_EQ(message_of(no_sender).rfind("w.yaml:4: ", 0), 0u) << message_of(no_sender);
  world_spec unknown = small_world(1);
  unknown.workload[0].recipients.from_world = {"yahoo"};
  EXPECT_EQ(message_of(unknown).rfind("w.yaml:4: ", 0), 0u);
  world_spec twice = small_world(1);
  twice.providers.push_back(twice.providers[0]);
  twice.providers[1].name = "corp2";
  EXPECT_NE(message_of(twice).find("belongs to two providers"), std::string::npos);
  world_spec clash = small_world(1);
  clash.senders[0].ips = {"10.1.0.1", "10.1.0.1"};
  EXPECT_NE(message_of(clash).find("used twice"), std::string::npos);
}

TEST(World, SameSeedSameTranscriptOtherSeedAnother) {
  world_spec spec = small_world(15);
  spec.providers[0].mailboxes.valid = 5;
  spec.providers[0].mailboxes.unknown.count = 5;
  spec.providers[0].mx = {mx_spec{"", 10, ""}, mx_spec{"", 10, ""}};
  const outcome a = run(spec, 5);
  const outcome b = run(spec, 5);
  const outcome c = run(spec, 6);
  EXPECT_EQ(a.transcript, b.transcript);
  EXPECT_NE(a.transcript, c.transcript);
}

}  // namespace
}  // namespace mailsim::sim::world
