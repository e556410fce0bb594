// The scenario loader's errors (simulator/scenario/scenario.hpp): each bad value is
// reported at file:line:column with a message that names what was expected, and an
// expectation's syntax error points into its text.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>

#include "simulator/metrics/expect.hpp"
#include "tests/unit/sim_scenario/loader_test_support.hpp"

namespace mailsim::sim::scenario {
namespace {

using test::load_bad;

// `anchor` is the text the error must point at (its first occurrence on `line`); empty:
// column 1; "@skip": yaml-cpp's own column, not checked.
struct bad_case {
  const char* yaml;
  std::size_t line;
  const char* anchor;
  const char* fragment;
};

std::size_t column_of(const bad_case& c) {
  std::istringstream in(c.yaml);
  std::string text;
  for (std::size_t n = 0; n < c.line; ++n) std::getline(in, text);
  const std::size_t at = text.find(c.anchor);
  EXPECT_NE(at, std::string::npos) << c.anchor;
  return at + 1;
}

// A minimal valid scenario around each bad value, so that exactly one thing is wrong.
const bad_case bad_cases[] = {
    {"name: x\nduration: ten\n", 2, "ten",
     "expected a duration such as 30s, 5m, 2h or 3d, got 'ten'"},
    {"name: x\nduration: -5m\n", 2, "-5m", "must not be negative"},
    {"name: x\nduration: 0\n", 2, "0", "longer than 0"},
    {"name: x\nseed: -1\n", 2, "-1", "must not be negative"},
    {"name: x\nseed: 1.5\n", 2, "1.5", "expected a whole number"},
    {"name: x\nsteps_max: 0\n", 2, "0", "at least 1"},
    {"name: x\ncolour: red\n", 2, "colour",
     "unknown key 'colour' at the top level; expected one of: name, seed, duration"},
    {"seed: 3\n", 1, "seed", "missing key 'name' at the top level"},
    {"", 1, "", "the scenario is empty"},
    {"- a\n- b\n", 1, "- a", "expected a mapping with keys name, seed"},
    {"name: x\nname: y\n", 2, "name", "duplicate key 'name'"},
    {"name: [x\n", 2, "@skip", ""},  // a YAML syntax error at yaml-cpp's position
    {"name: x\nworld: { providers: [ { domains: [a.sim], mailboxes: { valid: 5, unknown: 150% } } "
     "] }\n",
     2, "150%", "at most 100%"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      mailboxes: { unknown: -2% }\n",
     5, "-2%", "must not be negative"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      mailboxes: { valid: lots }\n", 5,
     "lots", "expected a whole number such as 0, 5 or 20000, got 'lots'"},
    {"name: x\nworld:\n  providers:\n    - profile: gmail-like\n", 4, "profile",
     "missing key 'domains' in 'world.providers.0'"},
    {"name: x\nworld:\n  providers:\n    - domains: []\n", 4, "[]", "at least one domain"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      greylist: { delay: 5m, key: "
     "ip/16 }\n",
     5, "ip/16", "expected one of ip, ip/24, got 'ip/16'"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      grylist: true\n", 5, "grylist",
     "unknown key 'grylist' in 'world.providers.0'; expected one of: name, profile, domains"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      silent_close: yes\n", 5, "yes",
     "expected true or false, got 'yes'"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      throttle: { per_ip: 10/x }\n", 5,
     "10/x", "expected a rate such as 100, 100/1h"},
    {"name: x\nworld:\n  providers:\n    - domains: [a..sim]\n", 4, "a..sim",
     "expected a domain name"},
    {"name: x\nworld:\n  providers: { domains: [a.sim] }\n", 3, "{ domains",
     "expected a list of providers"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, list_when: { trap_hits: \">= three in 24h\" "
     "} }\n",
     4, "\">= three", "expected a count such as 3 or a rule such as '>= 3 in 24h'"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, list_when: { trap_hits: \">= 3 in 1h\", "
     "complaints: \">= 3 in 2h\" } }\n",
     4, "\">= 3 in 2h\"", "one window"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, listed: [300.1.1.1] }\n", 4, "300.1.1.1",
     "expected an IP address"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, style: spamhouse }\n", 4, "spamhouse",
     "expected one of spamhaus, generic"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, kind: url }\n", 4, "url",
     "expected one of ip, domain"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, kind: domain, listed: [a..sim] }\n", 4,
     "a..sim", "expected a domain name"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, listed: [spam.sim], kind: ip }\n", 4,
     "spam.sim", "expected an IP address"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      mailboxes: { trap_domain: 1 }\n",
     5, "1", "expected true or false"},
    {"name: x\nsenders:\n  - { domain: s.example }\n", 3, "{ domain",
     "missing key 'ips' in 'senders.0'"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], retry: sendmail }\n", 3,
     "sendmail", "expected one of postfix, exim, fixed, got 'sendmail'"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], retry: { list: [5m, 1m] } }\n", 3,
     "1m]", "must increase"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], retry: { fixed: 5m, list: [1m] } "
     "}\n",
     3, "{ fixed", "one of profile, fixed or list"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], warmup: { start_per_day: 5, "
     "growth_per_day: 0.5 } }\n",
     3, "0.5", "at least 1"},
    {"name: x\nworkload:\n  - { from: nobody, volume: { total: 1 } }\n", 3, "nobody",
     "expected a mail address"},
    {"name: x\nworkload:\n  - { from: a@b.example }\n", 3, "{ from", "missing key 'volume'"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1, per_day: 2 } }\n", 3,
     "{ total: 1, per", "exactly one of 'total'"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { per_day: 2, shape: weekly } }\n", 3,
     "weekly", "expected one of flat, business-hours"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1 }, recipients: { invalid: "
     "60%, "
     "typo_domains: 50% } }\n",
     3, "{ invalid", "must not exceed 100%"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1 }, recipients: { role: "
     "60%, typo_domains: 30%, invalid: 20% } }\n",
     3, "{ role", "invalid + typo_domains + role must not exceed 100%"},
    {"name: x\nworld:\n  providers:\n    - { domains: [a.sim], mailboxes: { roles: [info, "
     "\"a b\"] } }\n",
     4, "\"a b\"", "expected a role mailbox's local part"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1 }, message: { size: 1 KiBi } "
     "}\n",
     3, "1 KiBi", "expected a size such as 512B"},
    {"name: x\nfaults:\n  - { at: 1h }\n", 3, "{ at", "exactly one of dns, mx_down or network"},
    {"name: x\nfaults:\n  - { dns: { name: a.sim } }\n", 3, "{ dns",
     "missing key 'at' in 'faults.0'"},
    {"name: x\nfaults:\n  - { at: 1h, dns: { name: a.sim, answer: refused } }\n", 3, "refused",
     "expected one of servfail, timeout, nxdomain"},
    {"name: x\nfaults:\n  - { at: 1h, network: { target: a.sim, effect: loss } }\n", 3, "loss }",
     "needs 'loss: <ratio>'"},
    {"name: x\nfaults:\n  - { at: 1h, mx_down: { target: mx.a.sim, for: 0s } }\n", 3, "0s",
     "longer than 0"},
    {"name: x\nexpect:\n  - [delivered_ratio]\n", 3, "[delivered", "expected an expectation"},
    {"name: x\n? [a]\n: 1\n", 2, "[a]", "expected a key name"},
    {"name: \"\"\n", 1, "\"\"", "expected a scenario name (not empty)"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "junk_threshold: high\n",
     5, "high", "expected a number such as 1, 0.5 or 7.5"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "complaint_rate: 101%\n",
     5, "101%", "at most 100%"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "complaint_rate: often\n",
     5, "often", "expected a ratio such as 2% or 0.02"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "mailboxes: { unknown: many }\n",
     5, "many", "expected a number of mailboxes"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "mx: [{ name: mx.a.sim, preference: 70000 }]\n",
     5, "70000", "from 0 to 65535"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "throttle: { per_ip: [1] }\n",
     5, "[1]", "expected a rate"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "require: spf\n",
     5, "spf", "expected a list such as [spf, dkim]"},
    {"name: x\nworld:\n  providers:\n    - domains: [a.sim]\n      "
     "require: [spf, tls]\n",
     5, "tls", "expected one of spf, dkim, dmarc, ptr"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, "
     "list_when: { trap_hits: 0 } }\n",
     4, "0 }", "expected a count such as 3"},
    {"name: x\nworld:\n  dnsbls:\n    - { zone: z.sim, "
     "list_when: { trap_hits: \">= 2 in 1h\", window: 2h } }\n",
     4, "2h }", "window disagrees"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], "
     "retry: { list: [] } }\n",
     3, "[]", "at least one retry time"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [1.2.3.4], "
     "warmup: { growth_per_day: 2 } }\n",
     3, "{ growth", "missing key 'start_per_day'"},
    {"name: x\nsenders:\n  - { domain: s.example, ips: [] }\n", 3, "[]", "at least one IP address"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { per_day: 5, over: 1h } }\n", 3, "1h",
     "'over' goes with 'total'"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1 }, "
     "message: { template: a.eml, text: hi } }\n",
     3, "{ template", "'template' or 'text', not both"},
    {"name: x\nworkload:\n  - { from: a@b.example, volume: { total: 1 }, "
     "message: { spam_score: -1 } }\n",
     3, "-1", "a number of at least 0"},
    {"name: x\nfaults:\n  - { at: 1h, network: { target: a.sim, effect: reset, loss: 1% } }\n", 3,
     "reset", "'loss' goes with effect 'loss'"},
    {"name: x\nfaults:\n  - { at: 1h, mx_down: { target: a.sim, effect: stall } }\n", 3, "stall",
     "expected one of refuse, blackhole"},
};

TEST(ScenarioLoader, ErrorsNameTheirPlace) {
  for (const bad_case& c : bad_cases) {
    SCOPED_TRACE(c.yaml);
    const load_error e = load_bad(c.yaml);
    EXPECT_EQ(e.file, "s.yaml");
    EXPECT_EQ(e.line, c.line);
    if (std::string_view(c.anchor) != "@skip") {
      EXPECT_EQ(e.column, column_of(c));
    }
    EXPECT_NE(e.message.find(c.fragment), std::string::npos) << e.message;
    EXPECT_EQ(e.to_string().rfind("s.yaml:" + std::to_string(c.line) + ":", 0), 0u)
        << e.to_string();
  }
}

TEST(ScenarioLoader, ExpectationSyntaxErrorsPointIntoTheText) {
  const std::string bad = "delivered_ratio >= >= 1";
  const auto syntax = metrics::check_expectation(bad);
  ASSERT_TRUE(syntax);
  // Plain: the text starts at column 5; quoted: one later, after the quote.
  const load_error plain = load_bad("name: x\nexpect:\n  - " + bad + "\n");
  EXPECT_EQ(plain.line, 3u);
  EXPECT_EQ(plain.column, 5 + syntax->column - 1);
  EXPECT_NE(plain.message.find(syntax->message), std::string::npos) << plain.message;
  const load_error quoted = load_bad("name: x\nexpect:\n  - \"" + bad + "\"\n");
  EXPECT_EQ(quoted.column, 6 + syntax->column - 1);
  const load_error unknown = load_bad("name: x\nexpect: [ no_such_metric >= 1 ]\n");
  EXPECT_EQ(unknown.line, 2u);
  EXPECT_GE(unknown.column, 11u);
}

}  // namespace
}  // namespace mailsim::sim::scenario
