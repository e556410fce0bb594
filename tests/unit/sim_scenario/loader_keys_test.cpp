// The scenario loader (simulator/scenario/scenario.hpp), what it reads: the illustrations
// of SCENARIOS.md, every key of world/spec.hpp from YAML, and the shorthands and defaults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/sim_scenario/loader_test_support.hpp"

namespace mailsim::sim::scenario {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using test::days;
using test::load_ok;
using world::fault_spec;
using world::greylist_spec;

// The first illustration of SCENARIOS.md, verbatim.
const char* const warmup_yaml = R"(name: warm-up of a fresh IP
seed: 42
duration: 30d

world:
  providers:
    - profile: gmail-like            # receiver template: limits, texts, greylisting, auth rules
      domains: [gmail.sim, googlemail.sim]
      mailboxes: { valid: 20000, unknown: 2%, full: 0.1%, traps: { pristine: 5, recycled: 20 } }
    - profile: outlook-like
      domains: [outlook.sim, hotmail.sim]
      mailboxes: { valid: 15000, unknown: 3% }
    - profile: strict-greylist
      domains: [smallisp.sim]
      mailboxes: { valid: 2000, catch_all: true }
  dnsbls:
    - zone: zen.dnsbl.sim
      style: spamhaus               # return codes 127.0.0.2-11
      list_when: { trap_hits: ">= 3 in 24h" }
      expire_after: 48h

senders:
  - name: shop
    domain: shop.example
    ips: [198.51.100.10]            # a fresh IP: no history
    dkim: { selector: s1, algorithm: ed25519-sha256 }
    spf: "v=spf1 ip4:198.51.100.0/24 -all"
    dmarc: "v=DMARC1; p=reject; rua=mailto:dmarc@shop.example"
    retry: postfix
    warmup: { start_per_day: 500, growth_per_day: 1.4 }

workload:
  - from: newsletter@shop.example
    volume: { per_day: 40000, shape: business-hours }
    recipients: { from_world: all, invalid: 1%, typo_domains: 0.2% }
    message: templates/newsletter.eml.j2

faults:
  - at: 10d
    dns: { name: shop.example, answer: servfail, for: 2h }

expect:
  - delivered_ratio >= 0.97
  - inbox_ratio{provider=gmail-like} >= 0.90
  - never listed(198.51.100.10, zen.dnsbl.sim)
  - bounces{status=5.1.1} / sent <= 0.012
  - p95(delivery_delay) <= 30m
)";

TEST(ScenarioLoader, LoadsTheWarmUpIllustration) {
  load_options options;
  options.rendered_templates["templates/newsletter.eml.j2"] = "Subject: hi\r\n\r\nbody\r\n";
  const scenario s = load_ok(warmup_yaml, options);
  EXPECT_EQ(s.name, "warm-up of a fresh IP");
  EXPECT_EQ(s.file, "s.yaml");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration, days(30));
  ASSERT_EQ(s.world.providers.size(), 3u);
  const auto& gmail = s.world.providers[0];
  EXPECT_EQ(gmail.profile, "gmail-like");
  EXPECT_EQ(gmail.domains, (std::vector<std::string>{"gmail.sim", "googlemail.sim"}));
  EXPECT_EQ(gmail.mailboxes.valid, 20000u);
  ASSERT_TRUE(gmail.mailboxes.unknown.fraction);
  EXPECT_DOUBLE_EQ(*gmail.mailboxes.unknown.fraction, 0.02);
  EXPECT_DOUBLE_EQ(*gmail.mailboxes.full.fraction, 0.001);
  EXPECT_EQ(gmail.mailboxes.pristine_traps, 5u);
  EXPECT_EQ(gmail.mailboxes.recycled_traps, 20u);
  EXPECT_EQ(gmail.where.line, 7u);
  EXPECT_EQ(gmail.where.column, 7u);
  EXPECT_EQ(gmail.where.file, "s.yaml");
  EXPECT_TRUE(s.world.providers[2].mailboxes.catch_all);
  ASSERT_EQ(s.world.dnsbls.size(), 1u);
  const auto& zen = s.world.dnsbls[0];
  EXPECT_EQ(zen.zone, "zen.dnsbl.sim");
  EXPECT_EQ(zen.style, "spamhaus");
  EXPECT_EQ(zen.trap_hits, 3u);
  EXPECT_EQ(zen.window, hours(24));
  EXPECT_EQ(zen.expire_after, hours(48));
  EXPECT_EQ(zen.where.line, 17u);
  ASSERT_EQ(s.world.senders.size(), 1u);
  const auto& shop = s.world.senders[0];
  EXPECT_EQ(shop.name, "shop");
  EXPECT_EQ(shop.domain, "shop.example");
  EXPECT_EQ(shop.ips, (std::vector<std::string>{"198.51.100.10"}));
  ASSERT_TRUE(shop.dkim);
  EXPECT_EQ(shop.dkim->selector, "s1");
  EXPECT_EQ(shop.dkim->algorithm, "ed25519-sha256");
  EXPECT_EQ(shop.spf, "v=spf1 ip4:198.51.100.0/24 -all");
  EXPECT_EQ(shop.dmarc, "v=DMARC1; p=reject; rua=mailto:dmarc@shop.example");
  EXPECT_EQ(shop.retry.profile, "postfix");
  ASSERT_TRUE(shop.warmup);
  EXPECT_EQ(shop.warmup->start_per_day, 500u);
  EXPECT_DOUBLE_EQ(shop.warmup->growth_per_day, 1.4);
  ASSERT_EQ(s.world.workload.size(), 1u);
  const auto& w = s.world.workload[0];
  EXPECT_EQ(w.from, "newsletter@shop.example");
  EXPECT_EQ(w.volume.per_day, 40000u);
  EXPECT_EQ(w.volume.shape, "business-hours");
  EXPECT_TRUE(w.recipients.from_world.empty());  // all
  EXPECT_DOUBLE_EQ(w.recipients.invalid, 0.01);
  EXPECT_DOUBLE_EQ(w.recipients.typo_domains, 0.002);
  EXPECT_EQ(w.message.template_path, "templates/newsletter.eml.j2");
  EXPECT_EQ(w.message.text, "Subject: hi\r\n\r\nbody\r\n");
  ASSERT_EQ(s.world.faults.size(), 1u);
  const auto& f = s.world.faults[0];
  EXPECT_EQ(f.what, fault_spec::kind::dns);
  EXPECT_EQ(f.at, days(10));
  EXPECT_EQ(f.name, "shop.example");
  EXPECT_EQ(f.answer, "servfail");
  EXPECT_EQ(f.length, hours(2));
  ASSERT_EQ(s.expect.size(), 5u);
  EXPECT_EQ(s.expect[2].text, "never listed(198.51.100.10, zen.dnsbl.sim)");
  EXPECT_EQ(s.expect[0].where.line, 43u);
  EXPECT_EQ(s.expect[0].where.column, 5u);
  // Each item's source_ref is the item itself.
  EXPECT_EQ(shop.where.line, 23u);
  EXPECT_EQ(shop.where.column, 5u);
  EXPECT_EQ(w.where.line, 33u);
  EXPECT_EQ(f.where.line, 39u);
  EXPECT_EQ(f.where.file, "s.yaml");
}

// The second illustration, as Jinja2 renders it with delay=300 and retry=exim.
TEST(ScenarioLoader, LoadsTheRenderedGreylistSweep) {
  const scenario s = load_ok(R"(
name: greylisting, delay 300s vs exim retries
seed: 1
duration: 5d
world:
  providers:
    - profile: strict-greylist
      domains: [grey.sim]
      greylist: { delay: 300s, key: ip/24 }
      mailboxes: { valid: 100 }
senders:
  - { name: s, domain: sender.example, ips: [203.0.113.5], retry: exim }
workload:
  - { from: a@sender.example, volume: { total: 100, over: 1h }, recipients: { from_world: all } }
expect:
  - delivered_ratio == 1
)");
  const auto& p = s.world.providers.at(0);
  ASSERT_TRUE(p.greylist);
  EXPECT_TRUE(p.greylist->enabled);
  EXPECT_EQ(p.greylist->delay, seconds(300));
  EXPECT_EQ(p.greylist->key, greylist_spec::key_kind::net24);
  EXPECT_EQ(s.world.senders.at(0).retry.profile, "exim");
  EXPECT_EQ(s.world.workload.at(0).volume.total, 100u);
  EXPECT_EQ(s.world.workload.at(0).volume.over, hours(1));
}

// Every field of world/spec.hpp, each set away from its default.
TEST(ScenarioLoader, ReachesEveryKeyOfTheModel) {
  const scenario s = load_ok(R"(
name: all keys
seed: 9
duration: 1w
steps_max: 5000
world:
  latency: 35ms
  providers:
    - name: big
      profile: yahoo-like
      domains: big.sim
      mx:
        - mx9.big.sim
        - { name: mx2.big.sim, preference: 20, address: 10.9.0.2 }
      mailboxes:
        valid: 300
        unknown: 7
        disabled: 1%
        full: 2
        full_permanent: true
        bounce_later: 3
        catch_all: true
        traps: { pristine: 4, recycled: 6, cooling: 3d }
      greylist: { enabled: true, delay: 1m, retry_window: 2h, pass_lifetime: 10d, key: ip }
      throttle:
        per_ip: 100/10m
        per_net24: { max: 500, window: 2h }
        per_domain: 1000
        per_recipient: 5/1d
        deferrals_before_reject: 4
        defer_reply: "421 4.7.28 slow down"
        reject_reply: "550 5.7.1 go away"
      messages_per_connection: 50
      silent_close: true
      connections_per_ip: 3
      recipients_per_message: 25
      tarpit: 2s
      errors_max: 7
      require: [spf, dkim, dmarc, ptr]
      dnsbls: [zen.dnsbl.sim, bl.example.sim]
      junk_threshold: 5.5
      reject_threshold: 9
      complaint_rate: 0.3%
  dnsbls:
    - zone: bl.example.sim
      style: generic
      list_when: { trap_hits: 2, complaints: ">= 10 in 12h" }
      expire_after: 1w
      listed: [192.0.2.1, "2001:db8::7"]
senders:
  - domain: out.example
    ips: [198.51.100.1, 198.51.100.2]
    helo: smtp.out.example
    dkim: { selector: k2, algorithm: rsa-sha256 }
    ptr: false
    retry: { list: [1m, 5m, 30m], lifetime: 2d }
    warmup: { start_per_day: 100 }
    connections_max: 4
    messages_per_connection: 10
workload:
  - from: a@out.example
    volume: { per_day: 1000, shape: flat, start: 6h }
    recipients:
      from_world: [big, other.sim]
      invalid: 0.05
      typo_domains: 1%
      include_traps: false
      per_message: 3
    message: { size: 2KiB, spam_score: 4.5 }
  - from: b@out.example
    volume: { total: 10 }
    message: { text: "Subject: x\n\nhello\n" }
faults:
  - at: 2h
    mx_down: { target: mx9.big.sim, for: 30m }
  - at: 3h
    mx_down: mx2.big.sim
  - at: 1d
    network: { target: big.sim, loss: 5%, for: 1h }
  - at: 2d
    network: { target: 10.9.0.2, effect: stall }
  - at: 3d
    dns: { name: big.sim, answer: nxdomain }
)");
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.duration, days(7));
  EXPECT_EQ(s.steps_max, 5000u);
  EXPECT_EQ(s.world.latency, milliseconds(35));
  const auto& p = s.world.providers.at(0);
  EXPECT_EQ(p.name, "big");
  EXPECT_EQ(p.profile, "yahoo-like");
  EXPECT_EQ(p.domains, (std::vector<std::string>{"big.sim"}));
  ASSERT_EQ(p.mx.size(), 2u);
  EXPECT_EQ(p.mx[0].name, "mx9.big.sim");
  EXPECT_EQ(p.mx[0].preference, 10);
  EXPECT_EQ(p.mx[1].name, "mx2.big.sim");
  EXPECT_EQ(p.mx[1].preference, 20);
  EXPECT_EQ(p.mx[1].address, "10.9.0.2");
  const auto& m = p.mailboxes;
  EXPECT_EQ(m.valid, 300u);
  EXPECT_EQ(m.unknown.count, 7u);
  EXPECT_FALSE(m.unknown.fraction);
  EXPECT_DOUBLE_EQ(m.disabled.fraction.value_or(-1), 0.01);
  EXPECT_EQ(m.full.count, 2u);
  EXPECT_TRUE(m.full_permanent);
  EXPECT_EQ(m.bounce_later.count, 3u);
  EXPECT_TRUE(m.catch_all);
  EXPECT_EQ(m.pristine_traps, 4u);
  EXPECT_EQ(m.recycled_traps, 6u);
  EXPECT_EQ(m.recycled_cooling, days(3));
  ASSERT_TRUE(p.greylist);
  EXPECT_EQ(p.greylist->delay, minutes(1));
  EXPECT_EQ(p.greylist->retry_window, hours(2));
  EXPECT_EQ(p.greylist->pass_lifetime, days(10));
  EXPECT_EQ(p.greylist->key, greylist_spec::key_kind::ip);
  ASSERT_TRUE(p.throttle);
  EXPECT_EQ(p.throttle->per_ip.max, 100u);
  EXPECT_EQ(p.throttle->per_ip.window, minutes(10));
  EXPECT_EQ(p.throttle->per_net24.max, 500u);
  EXPECT_EQ(p.throttle->per_net24.window, hours(2));
  EXPECT_EQ(p.throttle->per_domain.max, 1000u);
  EXPECT_EQ(p.throttle->per_domain.window, hours(1));
  EXPECT_EQ(p.throttle->per_recipient.window, days(1));
  EXPECT_EQ(p.throttle->deferrals_before_reject, 4u);
  EXPECT_EQ(p.throttle->defer_reply, "421 4.7.28 slow down");
  EXPECT_EQ(p.throttle->reject_reply, "550 5.7.1 go away");
  EXPECT_EQ(p.messages_per_connection, 50u);
  EXPECT_EQ(p.silent_close, true);
  EXPECT_EQ(p.connections_per_ip, 3u);
  EXPECT_EQ(p.recipients_per_message, 25u);
  EXPECT_EQ(p.tarpit, seconds(2));
  EXPECT_EQ(p.errors_max, 7u);
  ASSERT_TRUE(p.require);
  EXPECT_TRUE(p.require->spf_pass && p.require->dkim_pass && p.require->dmarc_enforce &&
              p.require->ptr_required);
  EXPECT_EQ(p.dnsbls, (std::vector<std::string>{"zen.dnsbl.sim", "bl.example.sim"}));
  EXPECT_DOUBLE_EQ(p.junk_threshold.value_or(0), 5.5);
  EXPECT_DOUBLE_EQ(p.reject_threshold.value_or(0), 9.0);
  EXPECT_DOUBLE_EQ(p.complaint_rate.value_or(0), 0.003);
  const auto& d = s.world.dnsbls.at(0);
  EXPECT_EQ(d.style, "generic");
  EXPECT_EQ(d.trap_hits, 2u);
  EXPECT_EQ(d.complaints, 10u);
  EXPECT_EQ(d.window, hours(12));
  EXPECT_EQ(d.expire_after, days(7));
  EXPECT_EQ(d.listed, (std::vector<std::string>{"192.0.2.1", "2001:db8::7"}));
  const auto& snd = s.world.senders.at(0);
  EXPECT_EQ(snd.name, "out.example");  // defaults to the domain
  EXPECT_EQ(snd.ips.size(), 2u);
  EXPECT_EQ(snd.helo, "smtp.out.example");
  EXPECT_EQ(snd.dkim->selector, "k2");
  EXPECT_EQ(snd.dkim->algorithm, "rsa-sha256");
  EXPECT_FALSE(snd.spf);
  EXPECT_FALSE(snd.dmarc);
  EXPECT_FALSE(snd.ptr);
  EXPECT_EQ(snd.retry.profile, "list");
  EXPECT_EQ(snd.retry.offsets, (std::vector<milliseconds>{minutes(1), minutes(5), minutes(30)}));
  EXPECT_EQ(snd.retry.lifetime, days(2));
  EXPECT_EQ(snd.warmup->start_per_day, 100u);
  EXPECT_DOUBLE_EQ(snd.warmup->growth_per_day, 1.0);
  EXPECT_EQ(snd.connections_max, 4u);
  EXPECT_EQ(snd.messages_per_connection, 10u);
  const auto& w = s.world.workload.at(0);
  EXPECT_EQ(w.volume.start, hours(6));
  EXPECT_EQ(w.recipients.from_world, (std::vector<std::string>{"big", "other.sim"}));
  EXPECT_DOUBLE_EQ(w.recipients.invalid, 0.05);
  EXPECT_DOUBLE_EQ(w.recipients.typo_domains, 0.01);
  EXPECT_FALSE(w.recipients.include_traps);
  EXPECT_EQ(w.recipients.per_message, 3u);
  EXPECT_EQ(w.message.size_bytes, 2048u);
  EXPECT_DOUBLE_EQ(w.message.spam_score, 4.5);
  EXPECT_EQ(s.world.workload.at(1).message.text, "Subject: x\n\nhello\n");
  EXPECT_EQ(s.world.workload.at(1).volume.over, hours(1));  // the default
  ASSERT_EQ(s.world.faults.size(), 5u);
  EXPECT_EQ(s.world.faults[0].what, fault_spec::kind::host_down);
  EXPECT_EQ(s.world.faults[0].target, "mx9.big.sim");
  EXPECT_EQ(s.world.faults[0].length, minutes(30));
  EXPECT_EQ(s.world.faults[0].effect, "refuse");
  EXPECT_EQ(s.world.faults[1].target, "mx2.big.sim");
  EXPECT_EQ(s.world.faults[1].length, hours(1));  // the default
  EXPECT_EQ(s.world.faults[2].what, fault_spec::kind::network);
  EXPECT_EQ(s.world.faults[2].effect, "loss");
  EXPECT_DOUBLE_EQ(s.world.faults[2].loss, 0.05);
  EXPECT_EQ(s.world.faults[3].effect, "stall");
  EXPECT_EQ(s.world.faults[4].answer, "nxdomain");
  EXPECT_EQ(s.world.faults[4].at, days(3));
}

// Typo-domain traps and domain DNSBLs: `mailboxes.trap_domain`, `dnsbls[].kind` (default
// ip) and a domain list's `listed` domains, whatever order the keys come in.
TEST(ScenarioLoader, TrapDomainsAndDomainDnsbls) {
  const scenario s = load_ok(R"(name: x
world:
  providers:
    - { name: typo, domains: [gmial.sim], mailboxes: { trap_domain: true } }
    - { name: real, domains: [gmail.sim], dnsbls: [dbl.sim, zen.sim] }
  dnsbls:
    - { zone: dbl.sim, listed: [spam.sim, Bad.Sim], kind: domain }
    - { zone: zen.sim, listed: [192.0.2.1] }
)");
  ASSERT_EQ(s.world.providers.size(), 2u);
  EXPECT_TRUE(s.world.providers[0].mailboxes.trap_domain);
  EXPECT_FALSE(s.world.providers[1].mailboxes.trap_domain);
  ASSERT_EQ(s.world.dnsbls.size(), 2u);
  EXPECT_EQ(s.world.dnsbls[0].kind, world::dnsbl_spec::subject_kind::domain);
  EXPECT_EQ(s.world.dnsbls[0].listed, (std::vector<std::string>{"spam.sim", "Bad.Sim"}));
  EXPECT_EQ(s.world.dnsbls[1].kind, world::dnsbl_spec::subject_kind::ip);
}

TEST(ScenarioLoader, RoleMailboxesAndTheRoleShare) {
  const scenario s = load_ok(R"(name: x
world:
  providers:
    - { name: corp, domains: [corp.sim], mailboxes: { valid: 5, roles: [postmaster, info, sales-team] } }
    - { name: none, domains: [none.sim], mailboxes: { roles: [] } }
    - { name: plain, domains: [plain.sim] }
workload:
  - { from: a@b.example, volume: { total: 1 }, recipients: { role: 2%, invalid: 1% } }
)");
  ASSERT_EQ(s.world.providers.size(), 3u);
  EXPECT_EQ(s.world.providers[0].mailboxes.roles,
            (std::vector<std::string>{"postmaster", "info", "sales-team"}));
  EXPECT_TRUE(s.world.providers[1].mailboxes.roles.empty());
  EXPECT_EQ(s.world.providers[2].mailboxes.roles,
            (std::vector<std::string>{"postmaster", "abuse"}));  // RFC 5321, RFC 2142
  ASSERT_EQ(s.world.workload.size(), 1u);
  EXPECT_DOUBLE_EQ(s.world.workload[0].recipients.role, 0.02);
}

TEST(ScenarioLoader, ShorthandsAndDefaults) {
  const scenario s = load_ok(R"(
name: shorthands
world:
  providers:
    - { domains: [a.sim], mailboxes: 50, greylist: false, require: { spf: true, ptr: false } }
    - { domains: [b.sim], greylist: true, mx: mx.b.sim }
senders:
  - { domain: x.example, ips: 192.0.2.9, retry: { fixed: 15m }, dkim: true }
  - { domain: y.example, ips: [192.0.2.10], retry: fixed, dkim: false }
  - { domain: z.example, ips: [192.0.2.11], retry: { profile: exim, lifetime: 5d } }
workload:
  - { from: a@x.example, volume: { total: 5 }, message: { template: t.eml, size: 10KB } }
)",
                             [] {
                               load_options o;
                               o.rendered_templates["t.eml"] = "plain";
                               return o;
                             }());
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration, hours(24));
  const auto& a = s.world.providers.at(0);
  EXPECT_EQ(a.profile, "postfix-default");
  EXPECT_EQ(a.mailboxes.valid, 50u);
  ASSERT_TRUE(a.greylist);
  EXPECT_FALSE(a.greylist->enabled);
  EXPECT_TRUE(a.require->spf_pass);
  EXPECT_FALSE(a.require->ptr_required);
  EXPECT_FALSE(a.throttle);
  EXPECT_FALSE(a.tarpit);
  const auto& b = s.world.providers.at(1);
  EXPECT_TRUE(b.greylist->enabled);
  EXPECT_EQ(b.greylist->delay, minutes(5));
  EXPECT_EQ(b.mx.at(0).name, "mx.b.sim");
  EXPECT_EQ(b.mailboxes.valid, 100u);
  const auto& x = s.world.senders.at(0);
  EXPECT_EQ(x.ips, (std::vector<std::string>{"192.0.2.9"}));
  EXPECT_EQ(x.retry.profile, "fixed");
  EXPECT_EQ(x.retry.interval, minutes(15));
  EXPECT_FALSE(x.retry.lifetime);
  EXPECT_EQ(x.dkim->selector, "s1");
  EXPECT_EQ(s.world.senders.at(1).retry.profile, "fixed");
  EXPECT_FALSE(s.world.senders.at(1).dkim);
  EXPECT_EQ(s.world.senders.at(2).retry.profile, "exim");
  EXPECT_EQ(s.world.senders.at(2).retry.lifetime, days(5));
  const auto& w = s.world.workload.at(0);
  EXPECT_EQ(w.message.template_path, "t.eml");
  EXPECT_EQ(w.message.text, "plain");
  EXPECT_EQ(w.message.size_bytes, 10'000u);
  EXPECT_TRUE(w.recipients.include_traps);
  EXPECT_EQ(w.recipients.per_message, 1u);
}

}  // namespace
}  // namespace mailsim::sim::scenario
