// RFC 7208 check_host() behaviour of spf_evaluation beyond the OpenSPF suite: identities,
// limits and how they are counted, the mx/ptr specifics, %{p}, explanations, the replay
// (questions in batches, answer order irrelevant) and the query cap.
#include "reference-server/auth/spf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mailsim::auth {
namespace {

// A small DNS (names → records) that answers an spf_evaluation's questions directly,
// sans-IO, and counts the rounds it took.

class spf_world {
 public:
  void txt(const std::string& name, std::string text) { add(name, core::rr_type::txt, text); }
  void a(const std::string& name, std::string ip) { add(name, core::rr_type::a, ip); }
  void aaaa(const std::string& name, std::string ip) { add(name, core::rr_type::aaaa, ip); }
  void ptr(const std::string& name, std::string target) { add(name, core::rr_type::ptr, target); }
  void mx(const std::string& name, std::uint16_t preference, const std::string& host) {
    core::dns_answer& ans = data_[{key(name), core::rr_type::mx}];
    ans.status = core::dns_status::ok;
    ans.mx.push_back({preference, key(host)});
  }
  // Every question about `name` gets `status` (servfail or timeout).
  void fail(const std::string& name, core::dns_status status) { failing_[key(name)] = status; }

  core::dns_answer answer(const std::string& name, core::rr_type type) const {
    core::dns_answer ans;
    const std::string k = key(name);
    if (auto f = failing_.find(k); f != failing_.end()) {
      ans.status = f->second;
      return ans;
    }
    if (auto it = data_.find({k, type}); it != data_.end()) return it->second;
    const bool exists =
        std::any_of(data_.begin(), data_.end(), [&](const auto& e) { return e.first.first == k; });
    ans.status = exists ? core::dns_status::nodata : core::dns_status::nxdomain;
    return ans;
  }

  // Runs the evaluation to completion; `rounds` counts the batches of questions. With
  // `reversed`, each batch is answered last question first.
  spf_outcome run(spf_evaluation& e, bool reversed = false) {
    rounds = 0;
    asked.clear();
    while (!e.complete() && rounds < 1000) {
      std::vector<spf_evaluation::query> batch = e.queries();
      if (reversed) std::reverse(batch.begin(), batch.end());
      ++rounds;
      for (const auto& q : batch) {
        asked.push_back(q);
        e.on_answer(q.name, q.type, answer(q.name, q.type));
      }
    }
    return e.outcome();
  }

  spf_outcome check(const spf_request& request, spf_options options = {}, bool helo = false,
                    bool reversed = false) {
    spf_evaluation e(request, helo, std::move(options));
    return run(e, reversed);
  }

  int rounds = 0;
  std::vector<spf_evaluation::query> asked;

 private:
  static std::string key(std::string name) {
    if (!name.empty() && name.back() == '.') name.pop_back();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  void add(const std::string& name, core::rr_type type, std::string record) {
    core::dns_answer& ans = data_[{key(name), type}];
    ans.status = core::dns_status::ok;
    ans.records.push_back(std::move(record));
  }

  std::map<std::pair<std::string, core::rr_type>, core::dns_answer> data_;
  std::map<std::string, core::dns_status> failing_;
};

spf_request request_from(const char* ip, std::string mail_from,
                         std::string helo = "mail.example.org") {
  spf_request r;
  r.ip = *core::parse_ip(ip);
  r.mail_from = std::move(mail_from);
  r.helo = std::move(helo);
  r.receiver = "mx.receiver.example";
  r.now = core::from_epoch_ms(1'700'000'000'000);
  return r;
}

// ---- identities ----

TEST(SpfEvaluation, MailFromPassNamesTheMatchingTerm) {
  spf_world w;
  w.txt("example.org", "v=spf1 -ip4:192.0.2.9 ip4:192.0.2.0/24 -all");
  spf_outcome o = w.check(request_from("192.0.2.10", "alice@example.org"));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.identity, "mailfrom");
  EXPECT_EQ(o.domain, "example.org");
  EXPECT_EQ(o.sender, "alice@example.org");
  EXPECT_EQ(o.mechanism, "ip4:192.0.2.0/24");
  EXPECT_TRUE(o.explanation.empty());
  EXPECT_TRUE(o.problem.empty());
}

TEST(SpfEvaluation, NoMatchIsNeutralWithoutMechanism) {
  spf_world w;
  w.txt("example.org", "v=spf1 ip4:198.51.100.0/24");
  spf_outcome o = w.check(request_from("192.0.2.10", "alice@example.org"));
  EXPECT_EQ(o.result, spf_result::neutral);
  EXPECT_EQ(o.mechanism, "");
}

TEST(SpfEvaluation, NullSenderChecksPostmasterAtHelo) {
  spf_world w;
  w.txt("mail.example.org", "v=spf1 exists:%{l}.%{o}.check.example.org -all");
  w.a("postmaster.mail.example.org.check.example.org", "127.0.0.2");
  spf_outcome o = w.check(request_from("192.0.2.10", ""));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.identity, "helo");
  EXPECT_EQ(o.domain, "mail.example.org");
  EXPECT_EQ(o.sender, "postmaster@mail.example.org");
}

TEST(SpfEvaluation, HeloIdentityIgnoresTheMailFrom) {
  spf_world w;
  w.txt("mail.example.org", "v=spf1 a -all");
  w.a("mail.example.org", "192.0.2.10");
  w.txt("example.net", "v=spf1 -all");
  spf_outcome o = w.check(request_from("192.0.2.10", "bob@example.net"), {}, true);
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.identity, "helo");
  EXPECT_EQ(o.sender, "postmaster@mail.example.org");
}

TEST(SpfEvaluation, EmptyLocalPartIsPostmaster) {
  spf_world w;
  w.txt("example.org", "v=spf1 exists:%{l}.x.example.org");
  w.a("postmaster.x.example.org", "127.0.0.2");
  spf_outcome o = w.check(request_from("192.0.2.10", "@example.org"));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.sender, "postmaster@example.org");
}

TEST(SpfEvaluation, UncheckableDomainIsNoneWithoutAnyQuery) {
  for (const char* helo :
       {"localhost", "[192.0.2.1]", "a..example.org", "bad name.example.org", ""}) {
    spf_evaluation e(request_from("192.0.2.1", "", helo), false);
    ASSERT_TRUE(e.complete()) << helo;
    EXPECT_TRUE(e.queries().empty());
    EXPECT_EQ(e.outcome().result, spf_result::none) << helo;
    EXPECT_FALSE(e.outcome().problem.empty());
  }
}

TEST(SpfEvaluation, Ipv4MappedClientIsIpv4) {
  spf_world w;
  w.txt("example.org", "v=spf1 ip6:::ffff:0:0/96 ip4:192.0.2.10 -all");
  spf_outcome o = w.check(request_from("::ffff:192.0.2.10", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.mechanism, "ip4:192.0.2.10");
}

// ---- record selection and DNS errors ----

TEST(SpfEvaluation, RecordLookupErrorsAndSelection) {
  spf_world w;
  w.fail("down.example.org", core::dns_status::servfail);
  w.txt("two.example.org", "v=spf1 -all");
  w.txt("two.example.org", "v=spf1 +all");
  w.txt("other.example.org", "google-site-verification=abc");
  w.txt("bad.example.org", "v=spf1 a:example.com:8080 -all");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@down.example.org")).result, spf_result::temperror);
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@two.example.org")).result, spf_result::permerror);
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@other.example.org")).result, spf_result::none);
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@nxdomain.example.org")).result, spf_result::none);
  spf_outcome bad = w.check(request_from("192.0.2.1", "a@bad.example.org"));
  EXPECT_EQ(bad.result, spf_result::permerror);
  EXPECT_NE(bad.problem.find("a:example.com:8080"), std::string::npos) << bad.problem;
}

TEST(SpfEvaluation, MechanismDnsErrorIsTemperrorNamingTermAndName) {
  spf_world w;
  w.txt("example.org", "v=spf1 a:flaky.example.org -all");
  w.fail("flaky.example.org", core::dns_status::timeout);
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::temperror);
  EXPECT_NE(o.problem.find("a:flaky.example.org"), std::string::npos) << o.problem;
  EXPECT_NE(o.problem.find("timeout"), std::string::npos) << o.problem;
}

// ---- include and redirect ----

TEST(SpfEvaluation, IncludeMatchesOnlyOnPass) {
  spf_world w;
  w.txt("example.org", "v=spf1 include:fails.example.org include:passes.example.org -all");
  w.txt("fails.example.org", "v=spf1 -all");
  w.txt("passes.example.org", "v=spf1 ip4:192.0.2.0/24 -all");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.mechanism, "include:passes.example.org");  // the top-level term
  EXPECT_EQ(o.dns_lookups, 2u);
}

TEST(SpfEvaluation, IncludeOfNoRecordIsPermerror) {
  spf_world w;
  w.txt("example.org", "v=spf1 include:empty.example.org -all");
  w.a("empty.example.org", "192.0.2.1");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::permerror);
  EXPECT_NE(o.problem.find("include:empty.example.org"), std::string::npos) << o.problem;
}

TEST(SpfEvaluation, RedirectTakesTheTargetResultAndItsExplanation) {
  spf_world w;
  w.txt("example.org", "v=spf1 exp=own.example.org redirect=_spf.example.net");
  w.txt("_spf.example.net", "v=spf1 -all exp=why.%{d}");
  w.txt("why._spf.example.net", "%{d} says no to %{i}");
  w.txt("own.example.org", "never used");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::fail);
  EXPECT_EQ(o.mechanism, "-all");
  EXPECT_EQ(o.explanation, "_spf.example.net says no to 192.0.2.1");
  EXPECT_EQ(o.dns_lookups, 1u);
}

TEST(SpfEvaluation, RedirectIsIgnoredWhenTheRecordHasAll) {
  spf_world w;
  w.txt("example.org", "v=spf1 ip4:198.51.100.1 ?all redirect=_spf.example.net");
  w.txt("_spf.example.net", "v=spf1 +all");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::neutral);
  EXPECT_EQ(o.dns_lookups, 0u);
}

// ---- limits ----

std::string terms(const char* term, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += std::string(" ") + term;
  return out;
}

TEST(SpfEvaluation, TenDnsTermsAreAllowedTheEleventhIsPermerror) {
  spf_world w;
  w.a("example.org", "198.51.100.1");
  w.txt("ten.example.org", "v=spf1" + terms("a:example.org", 10) + " ip4:192.0.2.1 -all");
  w.txt("eleven.example.org", "v=spf1" + terms("a:example.org", 11) + " ip4:192.0.2.1 -all");
  spf_outcome ten = w.check(request_from("192.0.2.1", "a@ten.example.org"));
  EXPECT_EQ(ten.result, spf_result::pass);
  EXPECT_EQ(ten.dns_lookups, 10u);
  spf_outcome eleven = w.check(request_from("192.0.2.1", "a@eleven.example.org"));
  EXPECT_EQ(eleven.result, spf_result::permerror);
  EXPECT_NE(eleven.problem.find("a:example.org"), std::string::npos);
  spf_options raised;
  raised.dns_mechanisms_max = 11;
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@eleven.example.org"), raised).result,
            spf_result::pass);
}

TEST(SpfEvaluation, LookupsCountAcrossIncludesAndRedirects) {
  spf_world w;
  w.txt("example.org", "v=spf1 include:i.example.org redirect=r.example.org");
  w.txt("i.example.org", "v=spf1" + terms("exists:nx.example.org", 1) + " a a a a");
  w.a("i.example.org", "198.51.100.1");
  w.txt("r.example.org", "v=spf1 a a a a ptr");
  w.a("r.example.org", "198.51.100.1");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  // include(1) + exists, a×4 (6) + redirect (7) + a×4 (11): the 11th is refused.
  EXPECT_EQ(o.result, spf_result::permerror);
  EXPECT_EQ(o.dns_lookups, 11u);
}

TEST(SpfEvaluation, VoidLookupsOverTwoArePermerror) {
  spf_world w;
  w.txt("two.example.org", "v=spf1 a:nx1.example.org mx:nx2.example.org ?all");
  w.txt("three.example.org",
        "v=spf1 a:nx1.example.org mx:nx2.example.org exists:nx3.example.org ?all");
  spf_outcome two = w.check(request_from("192.0.2.1", "a@two.example.org"));
  EXPECT_EQ(two.result, spf_result::neutral);
  EXPECT_EQ(two.void_lookups, 2u);
  spf_outcome three = w.check(request_from("192.0.2.1", "a@three.example.org"));
  EXPECT_EQ(three.result, spf_result::permerror);
  EXPECT_NE(three.problem.find("exists:nx3.example.org"), std::string::npos);
}

TEST(SpfEvaluation, MxHostsWithoutAddressesAreNotVoidLookups) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx -all");
  for (const char* host : {"mx1.example.org", "mx2.example.org", "mx3.example.org"}) {
    w.mx("example.org", 10, host);
    w.a(host, "198.51.100.1");  // no AAAA: an IPv6 client finds none
  }
  spf_outcome o = w.check(request_from("2001:db8::1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::fail);
  EXPECT_EQ(o.void_lookups, 0u);
}

TEST(SpfEvaluation, MoreThanTenMxRecordsIsPermerror) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx -all");
  for (int i = 0; i < 11; ++i) w.mx("example.org", static_cast<std::uint16_t>(i), "mx.example.org");
  w.a("mx.example.org", "192.0.2.1");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).result, spf_result::permerror);
}

TEST(SpfEvaluation, MxHostAddressesAreAskedInOneBatch) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx -all");
  for (const char* host : {"a.example.org", "b.example.org", "c.example.org"}) {
    w.mx("example.org", 10, host);
    w.a(host, "198.51.100.1");
  }
  w.mx("example.org", 0, "");  // a null MX among them has no address to ask for
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::fail);
  EXPECT_EQ(w.rounds, 3);  // TXT, MX, then the three A lookups together
  EXPECT_EQ(w.asked.size(), 5u);
}

TEST(SpfEvaluation, MxMatchesByHostAddressUnderTheCidr) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx/24 -all");
  w.mx("example.org", 10, "mx.example.org");
  w.a("mx.example.org", "192.0.2.200");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).result, spf_result::pass);
  EXPECT_EQ(w.check(request_from("192.0.3.1", "a@example.org")).result, spf_result::fail);
}

// ---- ptr and %{p} ----

TEST(SpfEvaluation, PtrMatchesAValidatedNameUnderTheTarget) {
  spf_world w;
  w.txt("example.org", "v=spf1 ptr -all");
  w.ptr("1.2.0.192.in-addr.arpa", "fake.example.org");  // does not validate
  w.ptr("1.2.0.192.in-addr.arpa", "mail.example.net");  // validates, wrong domain
  w.a("fake.example.org", "198.51.100.1");
  w.a("mail.example.net", "192.0.2.1");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).result, spf_result::fail);
  w.ptr("1.2.0.192.in-addr.arpa", "Host.Example.Org.");
  w.a("host.example.org", "192.0.2.1");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::pass);
  EXPECT_EQ(o.mechanism, "ptr");
}

TEST(SpfEvaluation, PtrDnsErrorsMeanNoMatchNotTemperror) {
  spf_world w;
  w.txt("example.org", "v=spf1 ptr ?all");
  w.fail("1.2.0.192.in-addr.arpa", core::dns_status::servfail);
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).result, spf_result::neutral);
  w.txt("example.net", "v=spf1 ptr ?all");
  w.ptr("2.2.0.192.in-addr.arpa", "broken.example.net");
  w.ptr("2.2.0.192.in-addr.arpa", "good.example.net");
  w.fail("broken.example.net", core::dns_status::timeout);  // §5.5: skipped
  w.a("good.example.net", "192.0.2.2");
  EXPECT_EQ(w.check(request_from("192.0.2.2", "a@example.net")).result, spf_result::pass);
}

TEST(SpfEvaluation, PtrValidatesAtMostTenNames) {
  spf_world w;
  w.txt("example.org", "v=spf1 ptr -all");
  for (int i = 0; i < 10; ++i) {
    const std::string name = "h" + std::to_string(i) + ".example.net";
    w.ptr("1.2.0.192.in-addr.arpa", name);
    w.a(name, "192.0.2.1");
  }
  w.ptr("1.2.0.192.in-addr.arpa", "mail.example.org");  // the 11th: never looked at
  w.a("mail.example.org", "192.0.2.1");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).result, spf_result::fail);
  spf_options more;
  more.ptr_names_max = 11;
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org"), more).result, spf_result::pass);
}

TEST(SpfEvaluation, PMacroPrefersTheDomainThenASubdomain) {
  spf_world w;
  w.txt("example.org", "v=spf1 -all exp=why.example.org");
  w.txt("why.example.org", "client %{p} (%{i})");
  w.ptr("1.2.0.192.in-addr.arpa", "other.example.net");
  w.ptr("1.2.0.192.in-addr.arpa", "mx.example.org");
  w.a("other.example.net", "192.0.2.1");
  w.a("mx.example.org", "192.0.2.1");
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org")).explanation,
            "client mx.example.org (192.0.2.1)");
  EXPECT_EQ(w.check(request_from("192.0.2.9", "a@example.org")).explanation,
            "client unknown (192.0.2.9)");
}

// ---- explanations ----

TEST(SpfEvaluation, ExplanationOnlyOnFail) {
  spf_world w;
  w.txt("example.org", "v=spf1 ~ip4:192.0.2.2 -all exp=why.example.org");
  w.txt("why.example.org", "Not from %{c}, sorry (%{r})");
  spf_outcome fail = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(fail.result, spf_result::fail);
  EXPECT_EQ(fail.explanation, "Not from 192.0.2.1, sorry (mx.receiver.example)");
  spf_outcome soft = w.check(request_from("192.0.2.2", "a@example.org"));
  EXPECT_EQ(soft.result, spf_result::softfail);
  EXPECT_EQ(soft.explanation, "");
}

TEST(SpfEvaluation, ExplanationFallsBackToTheDefault) {
  spf_world w;
  w.txt("example.org", "v=spf1 -all exp=missing.example.org");
  w.txt("example.net", "v=spf1 -all");
  spf_options options;
  options.default_explanation = "%{d} refuses %{c}";
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org"), options).explanation,
            "example.org refuses 192.0.2.1");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.net"));
  EXPECT_EQ(o.explanation, "example.net does not designate 192.0.2.1 as a permitted sender");
  EXPECT_EQ(o.void_lookups, 0u);
}

TEST(SpfEvaluation, ExplanationLookupsAreNotCounted) {
  spf_world w;
  w.txt("example.org", "v=spf1 a:nx1.example.org a:nx2.example.org -all exp=nx3.example.org");
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"));
  EXPECT_EQ(o.result, spf_result::fail);
  EXPECT_EQ(o.void_lookups, 2u);
  EXPECT_EQ(o.dns_lookups, 2u);
}

// ---- replay ----

TEST(SpfEvaluation, AnswerOrderDoesNotMatter) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx include:_spf.example.org -all");
  w.mx("example.org", 10, "mx1.example.org");
  w.mx("example.org", 20, "mx2.example.org");
  w.fail("mx2.example.org", core::dns_status::servfail);
  w.a("mx1.example.org", "198.51.100.1");
  w.txt("_spf.example.org", "v=spf1 ip4:192.0.2.0/24");
  const spf_request r = request_from("192.0.2.1", "a@example.org");
  spf_outcome forward = w.check(r);
  spf_outcome backward = w.check(r, {}, false, true);
  EXPECT_EQ(forward.result, spf_result::temperror);
  EXPECT_EQ(backward.result, forward.result);
  EXPECT_EQ(backward.problem, forward.problem);
}

TEST(SpfEvaluation, AnswersNotAskedForAreIgnored) {
  spf_evaluation e(request_from("192.0.2.1", "a@example.org"), false);
  ASSERT_EQ(e.queries().size(), 1u);
  core::dns_answer bogus;
  bogus.status = core::dns_status::ok;
  bogus.records = {"v=spf1 +all"};
  e.on_answer("evil.example.net", core::rr_type::txt, bogus);
  e.on_answer("example.org", core::rr_type::a, bogus);
  EXPECT_FALSE(e.complete());
  e.on_answer("EXAMPLE.org.", core::rr_type::txt, bogus);  // names compare without case
  ASSERT_TRUE(e.complete());
  EXPECT_EQ(e.outcome().result, spf_result::pass);
}

TEST(SpfEvaluation, QueryCapStopsWithPermerror) {
  spf_world w;
  w.txt("example.org", "v=spf1 mx mx:b.example.org -all");
  for (int i = 0; i < 10; ++i) {
    w.mx("example.org", 10, "h" + std::to_string(i) + ".example.org");
    w.mx("b.example.org", 10, "g" + std::to_string(i) + ".example.org");
  }
  spf_options options;
  options.queries_max = 15;
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"), options);
  EXPECT_EQ(o.result, spf_result::permerror);
  EXPECT_NE(o.problem.find("15 DNS queries"), std::string::npos) << o.problem;
  EXPECT_LE(w.asked.size(), 15u);
}

TEST(SpfEvaluation, AtTheQueryCapTheExplanationIsTheDefault) {
  spf_world w;
  w.txt("example.org", "v=spf1 -all exp=why.example.org");
  w.txt("why.example.org", "custom text");
  spf_options options;
  options.queries_max = 1;  // the record lookup only
  spf_outcome o = w.check(request_from("192.0.2.1", "a@example.org"), options);
  EXPECT_EQ(o.result, spf_result::fail);
  EXPECT_EQ(o.explanation, "example.org does not designate 192.0.2.1 as a permitted sender");
  options.queries_max = 2;
  EXPECT_EQ(w.check(request_from("192.0.2.1", "a@example.org"), options).explanation,
            "custom text");
}

}  // namespace
}  // namespace mailsim::auth
