// DMARC evaluation (RFC 7489 §3.1 alignment, §6.6.2 result, §6.6.3 discovery, §6.6.4
// disposition and pct), through dmarc_checker over the fake resolver, and the aggregate
// report counters.
#include "reference-server/auth/dmarc.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "auth_fixtures.hpp"
#include "fake_resolver.hpp"
#include "reference-server/auth/author.hpp"

namespace mailsim::auth {
namespace {

const public_suffix_list& psl() {
  static const public_suffix_list list = public_suffix_list::from_text(
      "com\nnet\norg\nuk\nco.uk\n// ===BEGIN PRIVATE DOMAINS===\n"
      "hosted.example.net\n");
  return list;
}

// A random source that returns one value and counts the draws.
class fixed_random final : public core::random_source {
 public:
  explicit fixed_random(std::uint64_t value) : value_(value) {}
  std::uint64_t next_u64() override {
    ++draws;
    return value_;
  }
  int draws = 0;

 private:
  std::uint64_t value_;
};

dkim_result dkim(std::string domain, dkim_status status = dkim_status::pass, bool testing = false) {
  dkim_result r;
  r.status = status;
  r.domain = std::move(domain);
  r.selector = "sel";
  r.testing = testing;
  return r;
}

dmarc_identifiers ids(std::string from, std::string spf_domain = {}, std::string spf_result = {},
                      std::vector<dkim_result> dkims = {}) {
  return {std::move(from), std::move(spf_domain), std::move(spf_result), std::move(dkims)};
}

class DmarcEval : public ::testing::Test {
 protected:
  dmarc_outcome run(dmarc_identifiers in, dmarc_options options = {}) {
    dmarc_checker checker(dns, psl(), random, options);
    std::optional<dmarc_outcome> done;
    std::optional<dmarc_outcome> immediate = checker.check(std::move(in), [&done](dmarc_outcome o) {
      EXPECT_FALSE(done.has_value()) << "done called twice";
      done = std::move(o);
    });
    if (immediate) {
      EXPECT_EQ(dns.pending(), 0u);
      return *immediate;
    }
    EXPECT_FALSE(done.has_value()) << "done ran inside check()";
    dns.drain();
    EXPECT_TRUE(done.has_value()) << "done never called";
    return done.value_or(dmarc_outcome{});
  }

  test::fake_resolver dns;
  fixed_random random{0};  // uniform(100) gives 0: every pct above 0 enacts the policy
};

// ---- alignment and the result (RFC 7489 §3.1, §6.6.2) ----

// §3.1.2: MAIL FROM child.example.com and From example.com align in relaxed mode only.
TEST_F(DmarcEval, SpfRelaxedAlignmentAcceptsASubdomain) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(ids("example.com", "child.example.com", "pass"));
  EXPECT_EQ(o.status, dmarc_status::pass);
  EXPECT_TRUE(o.spf_aligned);
  EXPECT_TRUE(o.spf_domain_aligned);
  EXPECT_EQ(o.disposition, dmarc_policy::none);
  EXPECT_EQ(o.policy_domain, "example.com");
}

TEST_F(DmarcEval, SpfStrictAlignmentNeedsTheSameName) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; aspf=s"});
  dmarc_outcome o = run(ids("example.com", "child.example.com", "pass"));
  EXPECT_EQ(o.status, dmarc_status::fail);
  EXPECT_FALSE(o.spf_domain_aligned);
  EXPECT_EQ(o.disposition, dmarc_policy::reject);
  EXPECT_EQ(run(ids("example.com", "EXAMPLE.com", "pass")).status, dmarc_status::pass);
}

TEST_F(DmarcEval, SpfMustPassNotJustAlign) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=quarantine"});
  for (const char* result : {"softfail", "neutral", "none", "fail", "temperror", "permerror"}) {
    dmarc_outcome o = run(ids("example.com", "example.com", result));
    EXPECT_EQ(o.status, dmarc_status::fail) << result;
    EXPECT_TRUE(o.spf_domain_aligned) << result;
    EXPECT_FALSE(o.spf_aligned) << result;
  }
  EXPECT_EQ(run(ids("example.com", "example.com", "PASS")).status, dmarc_status::pass);
}

// §3.1.1: d=child.example.com aligns with From example.com in relaxed mode only, and the
// other way round too.
TEST_F(DmarcEval, DkimRelaxedAndStrictAlignment) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dns.add_txt("_dmarc.sub.example.org", {"v=DMARC1; p=reject; adkim=s"});
  dmarc_outcome relaxed = run(ids("example.com", {}, {}, {dkim("child.example.com")}));
  EXPECT_EQ(relaxed.status, dmarc_status::pass);
  EXPECT_TRUE(relaxed.dkim_aligned);
  ASSERT_EQ(relaxed.dkim.size(), 1u);
  EXPECT_TRUE(relaxed.dkim[0].aligned);
  dmarc_outcome strict = run(ids("sub.example.org", {}, {}, {dkim("example.org")}));
  EXPECT_EQ(strict.status, dmarc_status::fail);
  EXPECT_FALSE(strict.dkim[0].aligned);
  EXPECT_EQ(run(ids("sub.example.org", {}, {}, {dkim("Sub.Example.org")})).status,
            dmarc_status::pass);
}

TEST_F(DmarcEval, UnalignedPassesDoNotCount) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o =
      run(ids("example.com", "example.net", "pass", {dkim("example.org"), dkim("com")}));
  EXPECT_EQ(o.status, dmarc_status::fail);
  EXPECT_FALSE(o.spf_aligned);
  EXPECT_FALSE(o.dkim_aligned);
  EXPECT_EQ(o.disposition, dmarc_policy::reject);
  EXPECT_EQ(authres_text(o), "dmarc=fail (p=reject dis=reject) header.from=example.com");
}

TEST_F(DmarcEval, AnyAlignedDkimPassIsEnough) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(
      ids("example.com", {}, {},
          {dkim("example.com", dkim_status::fail), dkim("example.net"), dkim("mail.example.com")}));
  EXPECT_EQ(o.status, dmarc_status::pass);
  ASSERT_EQ(o.dkim.size(), 3u);
  EXPECT_TRUE(o.dkim[0].aligned);  // aligned, but failed
  EXPECT_FALSE(o.dkim[1].aligned);
  EXPECT_TRUE(o.dkim[2].aligned);
}

// RFC 6376 §3.6.1: a t=y key's signature is treated as if there were none.
TEST_F(DmarcEval, DkimPassUnderATestingKeyDoesNotCount) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(ids("example.com", {}, {}, {dkim("example.com", dkim_status::pass, true)}));
  EXPECT_EQ(o.status, dmarc_status::fail);
  EXPECT_TRUE(o.dkim[0].aligned);
  EXPECT_TRUE(o.dkim[0].testing);
  EXPECT_FALSE(o.dkim_aligned);
}

// The organizational domain comes from the list, PRIVATE section included: two customers
// of one host do not align with each other.
TEST_F(DmarcEval, OrganizationalDomainsFollowThePublicSuffixList) {
  dns.add_txt("_dmarc.a.hosted.example.net", {"v=DMARC1; p=reject"});
  EXPECT_EQ(run(ids("a.hosted.example.net", "b.hosted.example.net", "pass")).status,
            dmarc_status::fail);
  EXPECT_EQ(run(ids("a.hosted.example.net", "x.a.hosted.example.net", "pass")).status,
            dmarc_status::pass);
  dns.add_txt("_dmarc.shop.co.uk", {"v=DMARC1; p=reject"});
  EXPECT_EQ(run(ids("shop.co.uk", "other.co.uk", "pass")).status, dmarc_status::fail);
  EXPECT_EQ(run(ids("shop.co.uk", "mail.shop.co.uk", "pass")).status, dmarc_status::pass);
}

TEST_F(DmarcEval, UnicodeFromDomainIsComparedInALabelForm) {
  dns.add_txt("_dmarc.xn--bcher-kva.com", {"v=DMARC1; p=reject; adkim=s"});
  dmarc_outcome o =
      run(ids("b\xc3\xbc"
              "cher.com",
              {}, {}, {dkim("xn--bcher-kva.com")}));
  EXPECT_EQ(o.status, dmarc_status::pass);
  EXPECT_EQ(o.header_from, "xn--bcher-kva.com");
  EXPECT_EQ(dns.asked(), std::vector<std::string>{"_dmarc.xn--bcher-kva.com"});
}

// ---- discovery (§6.6.3) ----

TEST_F(DmarcEval, NoRecordAnywhereIsNone) {
  dmarc_outcome o = run(ids("mail.example.com", "mail.example.com", "pass"));
  EXPECT_EQ(o.status, dmarc_status::none);
  EXPECT_EQ(o.reason, "no DMARC record");
  EXPECT_EQ(o.organizational_domain, "example.com");
  EXPECT_TRUE(o.policy_domain.empty());
  EXPECT_EQ(dns.asked(),
            (std::vector<std::string>{"_dmarc.mail.example.com", "_dmarc.example.com"}));
  EXPECT_EQ(authres_text(o), "dmarc=none header.from=mail.example.com");
  // Alignment is still worked out (relaxed) for people and reports.
  EXPECT_TRUE(o.spf_domain_aligned);
  EXPECT_FALSE(o.spf_aligned);
}

TEST_F(DmarcEval, BrokenRecordStillShowsRelaxedAlignment) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; adkim=x"});
  dmarc_outcome o = run(ids("example.com", {}, {}, {dkim("mail.example.com")}));
  EXPECT_EQ(o.status, dmarc_status::permerror);
  ASSERT_EQ(o.dkim.size(), 1u);
  EXPECT_TRUE(o.dkim[0].aligned);
  EXPECT_FALSE(o.dkim_aligned);
}

TEST_F(DmarcEval, OrganizationalDomainIsNotAskedTwice) {
  dmarc_outcome o = run(ids("example.com"));
  EXPECT_EQ(o.status, dmarc_status::none);
  EXPECT_EQ(dns.asked(), std::vector<std::string>{"_dmarc.example.com"});
}

TEST_F(DmarcEval, SubdomainPolicyAppliesToSubdomainsWithoutARecord) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; sp=quarantine"});
  dmarc_outcome o = run(ids("mail.example.com", "other.example.net", "pass"));
  EXPECT_EQ(o.status, dmarc_status::fail);
  EXPECT_EQ(o.policy_domain, "example.com");
  EXPECT_TRUE(o.subdomain_policy);
  EXPECT_EQ(o.requested, dmarc_policy::quarantine);
  EXPECT_EQ(o.disposition, dmarc_policy::quarantine);
  EXPECT_EQ(authres_text(o),
            "dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=mail.example.com");
  // The organizational domain itself gets p=.
  dmarc_outcome top = run(ids("example.com"));
  EXPECT_FALSE(top.subdomain_policy);
  EXPECT_EQ(top.requested, dmarc_policy::reject);
}

TEST_F(DmarcEval, WithoutSpTheSubdomainGetsP) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=quarantine"});
  dmarc_outcome o = run(ids("a.b.example.com"));
  EXPECT_FALSE(o.subdomain_policy);
  EXPECT_EQ(o.requested, dmarc_policy::quarantine);
}

TEST_F(DmarcEval, RecordAtTheFromDomainWinsAndStopsDiscovery) {
  dns.add_txt("_dmarc.mail.example.com", {"v=DMARC1; p=none; sp=reject"});
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(ids("mail.example.com"));
  EXPECT_EQ(o.status, dmarc_status::fail);
  EXPECT_EQ(o.policy_domain, "mail.example.com");
  EXPECT_FALSE(o.subdomain_policy);  // sp= of its own record does not apply to it
  EXPECT_EQ(o.requested, dmarc_policy::none);
  EXPECT_EQ(o.disposition, dmarc_policy::none);
  EXPECT_EQ(dns.asked(), std::vector<std::string>{"_dmarc.mail.example.com"});
  EXPECT_EQ(o.record_text, "v=DMARC1; p=none; sp=reject");
}

TEST_F(DmarcEval, OtherTxtRecordsAreIgnored) {
  dns.add_txt("_dmarc.example.com", {"v=spf1 -all", "v=DMARC1; p=reject", "hello"});
  EXPECT_EQ(run(ids("example.com")).requested, dmarc_policy::reject);
  dns.add_txt("_dmarc.mail.example.org", {"v=spf1 -all"});
  dns.add_txt("_dmarc.example.org", {"v=DMARC1; p=quarantine"});
  dmarc_outcome o = run(ids("mail.example.org"));
  EXPECT_EQ(o.policy_domain, "example.org");  // nothing at the From domain: fall back
}

TEST_F(DmarcEval, SeveralDmarcRecordsMeanNoneWithoutFallback) {
  dns.add_txt("_dmarc.mail.example.com", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(ids("mail.example.com"));
  EXPECT_EQ(o.status, dmarc_status::none);
  EXPECT_NE(o.reason.find("several DMARC records"), std::string::npos);
  EXPECT_EQ(dns.asked().size(), 1u);
}

TEST_F(DmarcEval, DnsFailureIsTemperrorWithoutFallback) {
  dns.set_status("_dmarc.mail.example.com", core::dns_status::servfail);
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  dmarc_outcome o = run(ids("mail.example.com"));
  EXPECT_EQ(o.status, dmarc_status::temperror);
  EXPECT_EQ(dns.asked().size(), 1u);
  EXPECT_EQ(authres_text(o),
            "dmarc=temperror reason=\"DNS lookup of _dmarc.mail.example.com failed\" "
            "header.from=mail.example.com");
  dns.set_status("_dmarc.example.org", core::dns_status::timeout);
  dmarc_outcome t = run(ids("www.example.org"));
  EXPECT_EQ(t.status, dmarc_status::temperror);
  EXPECT_EQ(t.reason, "DNS lookup of _dmarc.example.org timed out");
}

TEST_F(DmarcEval, NodataFallsBackLikeNxdomain) {
  dns.set_status("_dmarc.mail.example.com", core::dns_status::nodata);
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  EXPECT_EQ(run(ids("mail.example.com")).policy_domain, "example.com");
}

// RFC 7489 §11.2: a syntactically incorrect record is a permanent error.
TEST_F(DmarcEval, BrokenRecordIsPermerrorWithoutFallback) {
  dns.add_txt("_dmarc.mail.example.com", {"v=DMARC1; p=reject; pct=150"});
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=none"});
  dmarc_outcome o = run(ids("mail.example.com", "mail.example.com", "pass"));
  EXPECT_EQ(o.status, dmarc_status::permerror);
  EXPECT_EQ(o.policy_domain, "mail.example.com");
  EXPECT_NE(o.reason.find("pct=150 is not valid"), std::string::npos);
  EXPECT_EQ(o.disposition, dmarc_policy::none);
  EXPECT_EQ(dns.asked().size(), 1u);
}

// §6.6.3 step 6.
TEST_F(DmarcEval, RecordWithoutValidPolicy) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=bogus"});
  dmarc_outcome none = run(ids("example.com"));
  EXPECT_EQ(none.status, dmarc_status::none);
  dns.add_txt("_dmarc.example.org", {"v=DMARC1; p=bogus; rua=mailto:r@example.org"});
  dmarc_outcome monitored = run(ids("example.org"));
  EXPECT_EQ(monitored.status, dmarc_status::fail);
  EXPECT_EQ(monitored.requested, dmarc_policy::none);
  EXPECT_EQ(monitored.disposition, dmarc_policy::none);
  EXPECT_TRUE(monitored.record->policy_defaulted);
}

TEST_F(DmarcEval, NoSingleFromDomainIsPermerrorWithoutLookup) {
  dmarc_outcome o = run(ids(""));
  EXPECT_EQ(o.status, dmarc_status::permerror);
  EXPECT_TRUE(dns.asked().empty());
  EXPECT_EQ(authres_text(o),
            "dmarc=permerror reason=\"no single RFC5322.From domain (RFC 7489 6.6.1)\"");
  dmarc_outcome bad = run(ids("exa mple.com"));
  EXPECT_EQ(bad.status, dmarc_status::permerror);
  EXPECT_EQ(authres_text(bad),
            "dmarc=permerror reason=\"the RFC5322.From domain is not a domain name\" "
            "header.from=\"exa mple.com\"");
}

// ---- pct and the disposition (§6.6.4) ----

TEST_F(DmarcEval, PctZeroLeavesEveryMessageOutAndWeakensThePolicy) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; pct=0"});
  dns.add_txt("_dmarc.example.org", {"v=DMARC1; p=quarantine; pct=0"});
  dmarc_outcome reject = run(ids("example.com"));
  EXPECT_TRUE(reject.sampled_out);
  EXPECT_EQ(reject.requested, dmarc_policy::reject);
  EXPECT_EQ(reject.disposition, dmarc_policy::quarantine);
  EXPECT_EQ(authres_text(reject),
            "dmarc=fail (p=reject pct=0 dis=quarantine) header.from=example.com");
  dmarc_outcome quarantine = run(ids("example.org"));
  EXPECT_EQ(quarantine.disposition, dmarc_policy::none);
  EXPECT_EQ(random.draws, 0);  // 0 and 100 need no randomness
}

TEST_F(DmarcEval, PctDrawsOncePerFailingMessage) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; pct=50"});
  fixed_random high(99);  // uniform(100) gives 99: not below 50
  dmarc_checker checker(dns, psl(), high);
  std::optional<dmarc_outcome> out;
  EXPECT_FALSE(checker.check(ids("example.com"), [&out](dmarc_outcome o) { out = o; }));
  dns.drain();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->sampled_out);
  EXPECT_EQ(out->disposition, dmarc_policy::quarantine);
  EXPECT_EQ(high.draws, 1);
  dmarc_outcome enacted = run(ids("example.com"));  // `random` gives 0: below 50
  EXPECT_FALSE(enacted.sampled_out);
  EXPECT_EQ(enacted.disposition, dmarc_policy::reject);
  EXPECT_EQ(random.draws, 1);
}

TEST_F(DmarcEval, PassingAndPolicyNoneMessagesDrawNothing) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; pct=50"});
  dns.add_txt("_dmarc.example.org", {"v=DMARC1; p=none; pct=50"});
  EXPECT_EQ(run(ids("example.com", "example.com", "pass")).status, dmarc_status::pass);
  dmarc_outcome none = run(ids("example.org"));
  EXPECT_EQ(none.status, dmarc_status::fail);
  EXPECT_FALSE(none.sampled_out);
  EXPECT_EQ(random.draws, 0);
}

TEST_F(DmarcEval, PctSamplesAboutThatShareWithASeededSource) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; pct=25"});
  core::splitmix_random seeded(7);
  dmarc_checker checker(dns, psl(), seeded);
  int enacted = 0;
  for (int i = 0; i < 2000; ++i) {
    (void)checker.check(ids("example.com"), [&enacted](dmarc_outcome o) {
      enacted += o.disposition == dmarc_policy::reject ? 1 : 0;
    });
    dns.drain();
  }
  EXPECT_GT(enacted, 400);  // 500 expected; the seed makes this exact run reproducible
  EXPECT_LT(enacted, 600);
}

// ---- the evaluation object itself ----

TEST(DmarcEvaluation, IgnoresAnswersItDidNotAskFor) {
  fixed_random random(0);
  dmarc_evaluation e(ids("Mail.Example.com"), psl(), random);
  ASSERT_EQ(e.queries(), std::vector<std::string>{"_dmarc.mail.example.com"});
  core::dns_answer answer;
  answer.status = core::dns_status::ok;
  answer.records = {"v=DMARC1; p=reject"};
  e.on_answer("_dmarc.example.com", answer);
  EXPECT_FALSE(e.complete());
  e.on_answer("_DMARC.mail.example.COM.", answer);  // case and final dot do not matter
  EXPECT_TRUE(e.complete());
  EXPECT_EQ(e.outcome().status, dmarc_status::fail);
  e.on_answer("_dmarc.mail.example.com", core::dns_answer{});  // late: ignored
  EXPECT_EQ(e.outcome().status, dmarc_status::fail);
}

TEST(DmarcEvaluation, LimitsTheTxtRecordsLookedAt) {
  fixed_random random(0);
  dmarc_options options;
  options.txt_records_max = 2;
  dmarc_evaluation e(ids("example.com"), psl(), random, options);
  core::dns_answer answer;
  answer.status = core::dns_status::ok;
  answer.records = {"a", "b", "v=DMARC1; p=reject"};
  e.on_answer("_dmarc.example.com", answer);
  EXPECT_EQ(e.outcome().status, dmarc_status::none);
}

TEST_F(DmarcEval, CheckerMayGoAwayBeforeTheAnswers) {
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
  std::optional<dmarc_outcome> out;
  {
    dmarc_checker checker(dns, psl(), random);
    EXPECT_FALSE(checker.check(ids("mail.example.com"), [&out](dmarc_outcome o) { out = o; }));
  }
  dns.drain();  // the second query is issued from the first answer's callback
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->policy_domain, "example.com");
}

// A whole message: signed with DKIM, verified, its author domain found, DMARC evaluated.
TEST_F(DmarcEval, SignedMessageEndToEnd) {
  const std::string message =
      test::signed_copy(test::ed25519_key(), test::options_for("football.example.com", "brisbane"),
                        test::sample_message());
  dns.add_txt("brisbane._domainkey.football.example.com", {test::ed25519_key().dns_record()});
  dns.add_txt("_dmarc.example.com", {"v=DMARC1; p=reject; adkim=r"});
  std::vector<dkim_result> dkims = test::verify_all(message, dns);
  ASSERT_EQ(dkims.size(), 1u);
  ASSERT_EQ(dkims[0].status, dkim_status::pass);
  std::optional<std::string> from = author_domain(message);
  ASSERT_TRUE(from.has_value());
  dmarc_outcome o = run(ids(*from, "bounce.example.net", "pass", dkims));
  EXPECT_EQ(o.status, dmarc_status::pass);
  EXPECT_TRUE(o.dkim_aligned);
  EXPECT_FALSE(o.spf_aligned);
  EXPECT_EQ(o.policy_domain, "example.com");
}

// ---- aggregate report counters (§7.2) ----

dmarc_outcome evaluated(std::string policy_domain, std::string from, dmarc_status status,
                        dmarc_policy disposition) {
  dmarc_outcome o;
  o.status = status;
  o.policy_domain = std::move(policy_domain);
  o.header_from = std::move(from);
  o.record.emplace();
  o.disposition = disposition;
  o.dkim_aligned = status == dmarc_status::pass;
  return o;
}

TEST(DmarcReport, CountsPerSourceAndResult) {
  dmarc_report_counters c;
  dmarc_outcome pass =
      evaluated("example.com", "example.com", dmarc_status::pass, dmarc_policy::none);
  dmarc_outcome fail =
      evaluated("example.com", "example.com", dmarc_status::fail, dmarc_policy::reject);
  EXPECT_TRUE(c.record("192.0.2.1", pass));
  EXPECT_TRUE(c.record("192.0.2.1", pass));
  EXPECT_TRUE(c.record("192.0.2.1", fail));
  EXPECT_TRUE(c.record("192.0.2.2", pass));
  EXPECT_TRUE(c.record("192.0.2.2", evaluated("example.org", "a.example.org", dmarc_status::pass,
                                              dmarc_policy::none)));
  std::vector<dmarc_report_row> rows = c.rows_for("example.com");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].source_ip, "192.0.2.1");
  EXPECT_EQ(rows[0].count, 2u);
  EXPECT_TRUE(rows[0].dkim_aligned);
  EXPECT_EQ(rows[1].disposition, dmarc_policy::reject);
  EXPECT_EQ(rows[1].count, 1u);
  EXPECT_EQ(c.size(), 4u);
}

TEST(DmarcReport, OutcomesWithoutARecordAreNotCounted) {
  dmarc_report_counters c;
  dmarc_outcome none;
  dmarc_outcome temp =
      evaluated("example.com", "example.com", dmarc_status::temperror, dmarc_policy::none);
  EXPECT_FALSE(c.record("192.0.2.1", none));
  EXPECT_FALSE(c.record("192.0.2.1", temp));
  EXPECT_EQ(c.size(), 0u);
}

TEST(DmarcReport, OldestRowIsDroppedAndCounted) {
  dmarc_report_counters c(2);
  dmarc_outcome o =
      evaluated("example.com", "example.com", dmarc_status::fail, dmarc_policy::reject);
  c.record("192.0.2.1", o);
  c.record("192.0.2.1", o);
  c.record("192.0.2.2", o);
  c.record("192.0.2.1", o);  // .1 is now the most recently counted
  c.record("192.0.2.3", o);  // drops .2
  std::vector<dmarc_report_row> rows = c.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].source_ip, "192.0.2.1");
  EXPECT_EQ(rows[0].count, 3u);
  EXPECT_EQ(rows[1].source_ip, "192.0.2.3");
  EXPECT_EQ(c.dropped_rows(), 1u);
  EXPECT_EQ(c.dropped_messages(), 1u);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.dropped_rows(), 0u);
}

}  // namespace
}  // namespace mailsim::auth
