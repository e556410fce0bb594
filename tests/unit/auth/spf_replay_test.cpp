// The replay of spf_evaluation where it resumes rather than starts over (spf_engine.hpp):
// through include and redirect levels (deeper than the resume points kept), with the lookup
// and void counts of the levels before, and with targets whose macros an earlier pass
// expanded. Each test runs the same policy with the answers of every batch given in order
// and in reverse, and checks the outcome and the questions asked.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/auth/spf.hpp"

namespace mailsim::auth {
namespace {

// Names → records, answered sans-IO; a name without records is NXDOMAIN.
class zone {
 public:
  void add(const std::string& name, core::rr_type type, std::string record) {
    core::dns_answer& a = data_[{name, type}];
    a.status = core::dns_status::ok;
    a.records.push_back(std::move(record));
  }
  void mx(const std::string& name, std::uint16_t preference, const std::string& host) {
    core::dns_answer& a = data_[{name, core::rr_type::mx}];
    a.status = core::dns_status::ok;
    a.mx.push_back({preference, host});
  }

  // Runs an evaluation to its end; `rounds` counts the batches, `asked` the questions.
  spf_outcome run(const spf_request& request, bool reversed, spf_options options = {}) {
    spf_evaluation e(request, false, std::move(options));
    rounds = 0;
    asked.clear();
    while (!e.complete() && rounds < 100) {
      std::vector<spf_evaluation::query> batch = e.queries();
      if (reversed) std::reverse(batch.begin(), batch.end());
      ++rounds;
      for (const auto& q : batch) {
        asked.push_back(q.name);
        e.on_answer(q.name, q.type, answer(q.name, q.type));
      }
    }
    return e.outcome();
  }

  int rounds = 0;
  std::vector<std::string> asked;

 private:
  core::dns_answer answer(const std::string& name, core::rr_type type) const {
    if (auto it = data_.find({name, type}); it != data_.end()) return it->second;
    core::dns_answer none;
    none.status = core::dns_status::nxdomain;
    return none;
  }

  std::map<std::pair<std::string, core::rr_type>, core::dns_answer> data_;
};

spf_request request(const char* ip) {
  spf_request r;
  r.ip = *core::parse_ip(ip);
  r.mail_from = "news@example.org";
  r.helo = "mail.example.org";
  return r;
}

// Both answer orders give `want`; returns the outcome of the forward run.
spf_outcome check(zone& z, spf_result want, const char* ip = "192.0.2.10") {
  const spf_outcome backward = z.run(request(ip), true);
  spf_outcome forward = z.run(request(ip), false);
  EXPECT_EQ(forward.result, want) << forward.problem;
  EXPECT_EQ(backward.result, forward.result);
  EXPECT_EQ(backward.mechanism, forward.mechanism);
  EXPECT_EQ(backward.problem, forward.problem);
  EXPECT_EQ(backward.dns_lookups, forward.dns_lookups);
  EXPECT_EQ(backward.void_lookups, forward.void_lookups);
  return forward;
}

// example.org includes l1.example.org, which includes l2… down to l<levels>, whose record
// ends the chain with `last`. Every target is a macro, expanded at its own level.
void include_chain(zone& z, int levels, const std::string& last) {
  z.add("example.org", core::rr_type::txt, "v=spf1 include:l1.%{o} -all");
  for (int i = 1; i < levels; ++i) {
    z.add("l" + std::to_string(i) + ".example.org", core::rr_type::txt,
          "v=spf1 include:l" + std::to_string(i + 1) + ".%{o} -all");
  }
  z.add("l" + std::to_string(levels) + ".example.org", core::rr_type::txt, "v=spf1 " + last);
}

TEST(SpfReplay, AnIncludeChainDeeperThanTheResumePointsStillPasses) {
  zone z;
  include_chain(z, 9, "a:host.%{o} -all");  // 9 includes and an a: the 10 terms allowed
  z.add("host.example.org", core::rr_type::a, "192.0.2.10");
  const spf_outcome o = check(z, spf_result::pass);
  EXPECT_EQ(o.mechanism, "include:l1.%{o}");
  EXPECT_EQ(o.dns_lookups, 10u);
  EXPECT_EQ(z.rounds, 11);  // one question a batch: 10 TXT, then the A
  EXPECT_EQ(z.asked.back(), "host.example.org");
}

TEST(SpfReplay, TheEleventhTermDeepInAChainIsPermerror) {
  zone z;
  include_chain(z, 10, "a:host.%{o} -all");
  z.add("host.example.org", core::rr_type::a, "192.0.2.10");
  const spf_outcome o = check(z, spf_result::permerror);
  EXPECT_NE(o.problem.find("more than 10 DNS-querying terms"), std::string::npos) << o.problem;
  EXPECT_NE(o.problem.find("a:host.%{o}"), std::string::npos) << o.problem;
}

TEST(SpfReplay, VoidLookupsBeforeAResumePointStillCount) {
  zone z;
  z.add("example.org", core::rr_type::txt, "v=spf1 a:v1.%{o} include:i.%{o} -all");
  z.add("i.example.org", core::rr_type::txt, "v=spf1 a:v2.%{o} a:v3.%{o} ?all");
  const spf_outcome o = check(z, spf_result::permerror);
  EXPECT_EQ(o.void_lookups, 3u);
  EXPECT_NE(o.problem.find("the last of v3.example.org"), std::string::npos) << o.problem;
  EXPECT_EQ(z.rounds, 5);
}

TEST(SpfReplay, AnMxTargetExpandedOnceAsksWhatAFreshExpansionWould) {
  zone z;
  z.add("example.org", core::rr_type::txt, "v=spf1 mx:%{d}/24 -all");
  z.mx("example.org", 10, "mx1.example.org");
  z.mx("example.org", 20, "mx2.example.org");
  z.add("mx1.example.org", core::rr_type::a, "198.51.100.1");
  z.add("mx2.example.org", core::rr_type::a, "192.0.2.1");
  const spf_outcome o = check(z, spf_result::pass);
  EXPECT_EQ(o.mechanism, "mx:%{d}/24");
  EXPECT_EQ(z.rounds, 3);  // TXT, MX, then both hosts: the target was carried twice
  EXPECT_EQ(z.asked, (std::vector<std::string>{"example.org", "example.org", "mx1.example.org",
                                               "mx2.example.org"}));
}

TEST(SpfReplay, AResumedRedirectTakesTheTargetsResult) {
  zone z;
  z.add("example.org", core::rr_type::txt, "v=spf1 a:x.%{o} redirect=r.%{o}");
  z.add("x.example.org", core::rr_type::a, "198.51.100.7");
  z.add("r.example.org", core::rr_type::txt, "v=spf1 exists:%{ir}.in.%{o} -all");
  z.add("10.2.0.192.in.example.org", core::rr_type::a, "127.0.0.2");
  const spf_outcome o = check(z, spf_result::pass);
  EXPECT_EQ(o.mechanism, "exists:%{ir}.in.%{o}");
  EXPECT_EQ(o.dns_lookups, 3u);
  EXPECT_EQ(z.rounds, 4);
}

TEST(SpfReplay, AFailFoundOnAResumedPassGetsItsExplanation) {
  zone z;
  z.add("example.org", core::rr_type::txt, "v=spf1 a:x.%{o} include:y.%{o} -all exp=e.%{o}");
  z.add("x.example.org", core::rr_type::a, "198.51.100.7");
  z.add("y.example.org", core::rr_type::txt, "v=spf1 ip4:198.51.100.0/24 -all");
  z.add("e.example.org", core::rr_type::txt, "%{i} is not one of %{d}'s");
  const spf_outcome o = check(z, spf_result::fail);
  EXPECT_EQ(o.mechanism, "-all");
  EXPECT_EQ(o.explanation, "192.0.2.10 is not one of example.org's");
  EXPECT_EQ(o.dns_lookups, 2u);
  EXPECT_EQ(z.rounds, 4);
}

}  // namespace
}  // namespace mailsim::auth
