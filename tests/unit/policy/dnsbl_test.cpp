// DNSBL/DNSWL: RFC 5782 query names, what each profile's answers mean, error answers never
// counted as listings, TXT reasons, the sans-IO lookup and its resolver driver.
#include "reference-server/policy/dnsbl.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_resolver.hpp"
#include "tests/support/manual_loop.hpp"

namespace mailsim::policy {
namespace {

using core::dns_answer;
using core::dns_status;
using core::rr_type;

core::ip_address ip(const char* text) {
  return *core::parse_ip(text);
}

dnsbl_list profile(const char* name) {
  return *dnsbl_profile(name);
}

dnsbl_list zone_list(const char* zone) {
  dnsbl_list l;
  l.zone = zone;
  return l;
}

dns_answer a_records(std::vector<std::string> records) {
  dns_answer a;
  a.status = dns_status::ok;
  a.records = std::move(records);
  return a;
}

dns_answer status_only(dns_status s) {
  dns_answer a;
  a.status = s;
  return a;
}

// One list, one subject, one A answer: the resulting hit (TXT left unanswered).
dnsbl_hit answer_once(const dnsbl_list& list, const char* subject, const dns_answer& answer) {
  dnsbl_lookup lookup({list}, subject);
  EXPECT_EQ(lookup.queries().size(), 1u);
  lookup.on_answer(lookup.queries().at(0).name, rr_type::a, answer);
  return lookup.outcome().lists.at(0);
}

// ---- query names (RFC 5782 §2.1, §2.4, §3) ----

TEST(DnsblQueryName, Ipv4OctetsAreReversed) {
  EXPECT_EQ(dnsbl_query_name(ip("192.0.2.99"), "zen.spamhaus.org"), "99.2.0.192.zen.spamhaus.org");
}

TEST(DnsblQueryName, Ipv6IsThirtyTwoReversedNibbles) {
  EXPECT_EQ(dnsbl_query_name(ip("2001:db8::1"), "bl.test"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test");
}

TEST(DnsblQueryName, Ipv4MappedIpv6IsAskedAsIpv4) {
  EXPECT_EQ(dnsbl_query_name(ip("::ffff:192.0.2.7"), "bl.test"), "7.2.0.192.bl.test");
}

TEST(DnsblQueryName, DomainIsAskedAsItIsInLowerCase) {
  EXPECT_EQ(dnsbl_query_name("Spam.Example.COM.", "DBL.spamhaus.org"),
            "spam.example.com.dbl.spamhaus.org");
}

TEST(DnsblQueryName, NamesOver253OctetsAreRefused) {
  std::string label(60, 'a');
  std::string domain = label + "." + label + "." + label + "." + label;  // 243 octets
  EXPECT_TRUE(dnsbl_query_name(domain, "dbl.tests").has_value());        // 253
  EXPECT_FALSE(dnsbl_query_name(domain, "dbl.testss").has_value());      // 254
}

TEST(DnsblQueryName, NotADomainIsRefused) {
  EXPECT_FALSE(dnsbl_query_name("bad domain.test", "dbl.test").has_value());
  EXPECT_FALSE(dnsbl_query_name("a..b", "dbl.test").has_value());
  EXPECT_FALSE(dnsbl_query_name(std::string(64, 'x') + ".test", "dbl.test").has_value());
}

TEST(DnsblLookup, OverlongDomainIsAnErrorWithoutAQuery) {
  dnsbl_list dbl = profile("spamhaus-dbl");
  std::string label(60, 'a');
  dnsbl_lookup lookup({dbl}, label + "." + label + "." + label + "." + label);
  EXPECT_TRUE(lookup.complete());
  dnsbl_hit h = lookup.outcome().lists.at(0);
  EXPECT_EQ(h.status, dnsbl_status::error);
  EXPECT_EQ(h.error, "query name over 253 octets");
  EXPECT_TRUE(h.query.empty());
}

// ---- return codes ----

TEST(DnsblCode, TextFormsRoundTrip) {
  for (const char* text : {"127.0.0.2", "127.0.0.4-127.0.0.7", "127.0.*.3", "127.0.0.0&12"}) {
    std::optional<dnsbl_code> c = parse_dnsbl_code(text);
    ASSERT_TRUE(c.has_value()) << text;
    EXPECT_EQ(to_string(*c), text);
  }
}

TEST(DnsblCode, MalformedTextFormsAreRefused) {
  for (const char* text : {"", "127.0.0", "127.0.0.7-127.0.0.4", "127.0.0.0&0", "127.0.0.0&256",
                           "127.0.0.x", "::1", "127.0.0.0&"}) {
    EXPECT_FALSE(parse_dnsbl_code(text).has_value()) << text;
  }
}

TEST(DnsblCode, BitmaskMatchesAnySharedBitInItsSlash24) {
  dnsbl_code grey = *parse_dnsbl_code("127.0.0.0&4");
  EXPECT_TRUE(grey.matches(0x7f00000e));   // 127.0.0.14: black, grey, red
  EXPECT_FALSE(grey.matches(0x7f00000a));  // 127.0.0.10: black, red
  EXPECT_FALSE(grey.matches(0x7f000104));  // 127.0.1.4: another /24
}

TEST(DnsblProfiles, EveryNamedProfileExists) {
  for (const std::string& name : dnsbl_profile_names()) {
    std::optional<dnsbl_list> list = dnsbl_profile(name);
    ASSERT_TRUE(list.has_value()) << name;
    EXPECT_FALSE(list->zone.empty());
  }
  EXPECT_FALSE(dnsbl_profile("no-such-list").has_value());
}

TEST(DnsblProfiles, ZenCodesNameTheirSublists) {
  dnsbl_hit h = answer_once(profile("spamhaus-zen"), "192.0.2.1",
                            a_records({"127.0.0.2", "127.0.0.5", "127.0.0.9"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_EQ(h.meanings, (std::vector<std::string>{"SBL", "XBL", "DROP"}));
  EXPECT_EQ(h.answers.size(), 3u);
  EXPECT_DOUBLE_EQ(h.score, 3.5);
}

TEST(DnsblProfiles, ZenPolicyListingScoresLess) {
  dnsbl_hit h = answer_once(profile("spamhaus-zen"), "192.0.2.1", a_records({"127.0.0.11"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_EQ(h.meanings, (std::vector<std::string>{"PBL (Spamhaus)"}));
  EXPECT_DOUBLE_EQ(h.score, 1.5);
}

TEST(DnsblProfiles, DblIsADomainList) {
  dnsbl_hit h = answer_once(profile("spamhaus-dbl"), "spam.example", a_records({"127.0.1.4"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_EQ(h.query, "spam.example.dbl.spamhaus.org");
  EXPECT_EQ(h.meanings, (std::vector<std::string>{"phishing domain"}));
}

TEST(DnsblProfiles, UriblBitsCombine) {
  dnsbl_hit h = answer_once(profile("uribl"), "spam.example", a_records({"127.0.0.6"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_EQ(h.meanings, (std::vector<std::string>{"black", "grey"}));
  EXPECT_DOUBLE_EQ(h.score, 3.0);  // the strongest matched code
}

TEST(DnsblProfiles, DnswlTrustLevelIsAnAllowListing) {
  dnsbl_hit h = answer_once(profile("dnswl"), "192.0.2.1", a_records({"127.0.15.3"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_TRUE(h.allow_list);
  EXPECT_EQ(h.meanings, (std::vector<std::string>{"trust high"}));
  EXPECT_DOUBLE_EQ(h.score, -5.0);
}

TEST(DnsblProfiles, SpamcopAndBarracudaList127002) {
  for (const char* name : {"spamcop", "barracuda"}) {
    dnsbl_hit h = answer_once(profile(name), "192.0.2.1", a_records({"127.0.0.2"}));
    EXPECT_EQ(h.status, dnsbl_status::listed) << name;
  }
}

TEST(DnsblProfiles, UnknownCodeOfAConfiguredListIsNotAListing) {
  dnsbl_hit h = answer_once(profile("spamhaus-zen"), "192.0.2.1", a_records({"127.0.0.42"}));
  EXPECT_EQ(h.status, dnsbl_status::not_listed);
}

// ---- error answers are never listings ----

TEST(DnsblErrors, SpamhausErrorCodesAreErrors) {
  for (const char* code : {"127.255.255.252", "127.255.255.254", "127.255.255.255"}) {
    for (const char* name : {"spamhaus-zen", "spamhaus-dbl"}) {
      const char* subject = std::string(name) == "spamhaus-zen" ? "192.0.2.1" : "a.example";
      dnsbl_hit h = answer_once(profile(name), subject, a_records({code}));
      EXPECT_EQ(h.status, dnsbl_status::error) << name << " " << code;
      EXPECT_NE(h.error.find(code), std::string::npos) << h.error;
    }
  }
}

TEST(DnsblErrors, DblAnswerForAnAddressIsAnError) {
  dnsbl_hit h = answer_once(profile("spamhaus-dbl"), "a.example", a_records({"127.0.1.255"}));
  EXPECT_EQ(h.status, dnsbl_status::error);
}

TEST(DnsblErrors, RefusalsOfUriblAndDnswlAreErrors) {
  EXPECT_EQ(answer_once(profile("uribl"), "a.example", a_records({"127.0.0.1"})).status,
            dnsbl_status::error);
  EXPECT_EQ(answer_once(profile("dnswl"), "192.0.2.1", a_records({"127.0.0.255"})).status,
            dnsbl_status::error);
}

TEST(DnsblErrors, ListWithoutCodesTreatsTheErrorRangeAsErrors) {
  dnsbl_list plain = zone_list("bl.test");
  EXPECT_EQ(answer_once(plain, "192.0.2.1", a_records({"127.255.255.254"})).status,
            dnsbl_status::error);
  EXPECT_EQ(answer_once(plain, "192.0.2.1", a_records({"127.0.0.77"})).status,
            dnsbl_status::listed);
}

TEST(DnsblErrors, AnswersOutside127Slash8AreErrors) {
  dnsbl_list plain = zone_list("bl.test");
  dnsbl_hit h = answer_once(plain, "192.0.2.1", a_records({"198.51.100.1"}));
  EXPECT_EQ(h.status, dnsbl_status::error);
  EXPECT_NE(h.error.find("outside 127.0.0.0/8"), std::string::npos);
}

TEST(DnsblErrors, ListingBeatsAnErrorCodeInTheSameAnswer) {
  dnsbl_hit h = answer_once(profile("spamhaus-zen"), "192.0.2.1",
                            a_records({"127.255.255.254", "127.0.0.3"}));
  EXPECT_EQ(h.status, dnsbl_status::listed);
}

TEST(DnsblErrors, ServfailAndTimeoutAreErrorsNxdomainAndNodataAreNot) {
  dnsbl_list plain = zone_list("bl.test");
  EXPECT_EQ(answer_once(plain, "192.0.2.1", status_only(dns_status::servfail)).status,
            dnsbl_status::error);
  EXPECT_EQ(answer_once(plain, "192.0.2.1", status_only(dns_status::timeout)).status,
            dnsbl_status::error);
  EXPECT_EQ(answer_once(plain, "192.0.2.1", status_only(dns_status::nxdomain)).status,
            dnsbl_status::not_listed);
  EXPECT_EQ(answer_once(plain, "192.0.2.1", status_only(dns_status::nodata)).status,
            dnsbl_status::not_listed);
}

// ---- the sans-IO lookup ----

TEST(DnsblLookup, ListsOfTheOtherKindAreNotConsulted) {
  std::vector<dnsbl_list> lists{profile("spamhaus-zen"), profile("spamhaus-dbl")};
  dnsbl_lookup by_ip(lists, "192.0.2.1");
  ASSERT_EQ(by_ip.queries().size(), 1u);
  EXPECT_EQ(by_ip.queries()[0].name, "1.2.0.192.zen.spamhaus.org");
  dnsbl_lookup by_domain(lists, "a.example");
  ASSERT_EQ(by_domain.queries().size(), 1u);
  EXPECT_EQ(by_domain.queries()[0].name, "a.example.dbl.spamhaus.org");
}

TEST(DnsblLookup, SameQueryForTwoListsIsAskedOnce) {
  dnsbl_list a = zone_list("bl.test"), b = zone_list("BL.test.");
  dnsbl_lookup lookup({a, b}, "192.0.2.1");
  ASSERT_EQ(lookup.queries().size(), 1u);
  lookup.on_answer("1.2.0.192.BL.TEST.", rr_type::a, a_records({"127.0.0.2"}));
  EXPECT_TRUE(lookup.complete());
  dnsbl_outcome out = lookup.outcome();
  ASSERT_EQ(out.lists.size(), 2u);
  EXPECT_EQ(out.lists[0].status, dnsbl_status::listed);
  EXPECT_EQ(out.lists[1].status, dnsbl_status::listed);
}

TEST(DnsblLookup, UnaskedAnswersAreIgnored) {
  dnsbl_lookup lookup({zone_list("bl.test")}, "192.0.2.1");
  lookup.on_answer("1.2.0.192.other.test", rr_type::a, a_records({"127.0.0.2"}));
  lookup.on_answer("1.2.0.192.bl.test", rr_type::txt, a_records({"x"}));
  EXPECT_FALSE(lookup.complete());
  dnsbl_hit h = lookup.outcome().lists.at(0);
  EXPECT_EQ(h.status, dnsbl_status::error);
  EXPECT_EQ(h.error, "no answer");
}

TEST(DnsblLookup, TakeQueriesHandsEachQueryOutOnce) {
  dnsbl_lookup lookup({zone_list("a.test"), zone_list("b.test")}, "192.0.2.1");
  EXPECT_EQ(lookup.take_queries().size(), 2u);
  EXPECT_TRUE(lookup.take_queries().empty());
  EXPECT_EQ(lookup.queries().size(), 2u);
}

TEST(DnsblLookup, TxtIsAskedOnlyAfterAListingAnswer) {
  dnsbl_list zen = profile("spamhaus-zen");
  dnsbl_lookup listed({zen}, "192.0.2.1");
  EXPECT_EQ(listed.take_queries().size(), 1u);
  listed.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::a, a_records({"127.0.0.2"}));
  std::vector<dnsbl_query> next = listed.take_queries();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0], (dnsbl_query{"1.2.0.192.zen.spamhaus.org", rr_type::txt}));
  EXPECT_FALSE(listed.complete());
  listed.on_answer(next[0].name, rr_type::txt, a_records({"https://example.test/query/1"}));
  EXPECT_TRUE(listed.complete());
  EXPECT_EQ(listed.outcome().lists[0].txt, "https://example.test/query/1");

  dnsbl_lookup clean({zen}, "192.0.2.1");
  clean.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::a, status_only(dns_status::nxdomain));
  EXPECT_TRUE(clean.complete());
}

TEST(DnsblLookup, TxtReasonIsMadePrintableAndBounded) {
  dnsbl_list zen = profile("spamhaus-zen");
  dnsbl_limits limits;
  limits.txt_bytes_max = 20;
  dnsbl_lookup lookup({zen}, "192.0.2.1", limits);
  lookup.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::a, a_records({"127.0.0.2"}));
  lookup.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::txt,
                   a_records({"bad\r\n250 injected line and more"}));
  EXPECT_EQ(lookup.outcome().lists[0].txt, "bad??250 injected li");
}

TEST(DnsblLookup, FailedTxtLeavesTheListingWithoutReason) {
  dnsbl_lookup lookup({profile("spamhaus-zen")}, "192.0.2.1");
  lookup.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::a, a_records({"127.0.0.2"}));
  lookup.on_answer("1.2.0.192.zen.spamhaus.org", rr_type::txt, status_only(dns_status::servfail));
  dnsbl_hit h = lookup.outcome().lists[0];
  EXPECT_EQ(h.status, dnsbl_status::listed);
  EXPECT_TRUE(h.txt.empty());
}

TEST(DnsblLookup, ListsPastTheLimitAreNotConsulted) {
  dnsbl_limits limits;
  limits.lists_max = 2;
  dnsbl_lookup lookup({zone_list("a.test"), zone_list("b.test"), zone_list("c.test")}, "192.0.2.1",
                      limits);
  EXPECT_EQ(lookup.outcome().lists.size(), 2u);
}

// ---- outcome and reply ----

TEST(DnsblOutcome, SummaryPrefersListingsOverErrors) {
  dnsbl_outcome out;
  out.lists.resize(2);
  out.lists[0].status = dnsbl_status::error;
  EXPECT_EQ(out.summary(), dnsbl_status::error);
  out.lists[1].status = dnsbl_status::listed;
  EXPECT_EQ(out.summary(), dnsbl_status::listed);
  EXPECT_TRUE(out.blocked());
  out.lists[1].allow_list = true;
  EXPECT_FALSE(out.blocked());
  EXPECT_TRUE(out.allowed());
}

TEST(DnsblReply, NamesClientAndZoneAndAddsTheReason) {
  dnsbl_hit h;
  h.zone = "zen.spamhaus.org";
  h.subject = "192.0.2.1";
  EXPECT_EQ(dnsbl_reply_text(h),
            "Service unavailable; client [192.0.2.1] blocked using "
            "zen.spamhaus.org");
  h.txt = "see https://example.test/1";
  reply_spec r = dnsbl_reply(h);
  EXPECT_EQ(r.code, 554);
  EXPECT_EQ(r.enhanced, "5.7.1");
  EXPECT_EQ(r.text,
            "Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org; "
            "see https://example.test/1");
}

TEST(DnsblReply, DomainListsSayDomainAndTextIsBounded) {
  dnsbl_hit h;
  h.kind = dnsbl_kind::domain;
  h.zone = "dbl.test";
  h.subject = "a.example";
  h.txt = std::string(900, 'x');
  std::string text = dnsbl_reply_text(h);
  EXPECT_EQ(text.rfind("Service unavailable; domain [a.example] blocked using dbl.test", 0), 0u);
  EXPECT_EQ(text.size(), reply_text_max);
}

// ---- the driver ----

TEST(DnsblChecker, AnswersLaterThroughTheResolverNeverInsideCheck) {
  test::manual_loop loop;
  test::fake_resolver dns(loop);
  dns.add("2.0.0.127.zen.spamhaus.org", rr_type::a, "127.0.0.2");
  dns.add("2.0.0.127.zen.spamhaus.org", rr_type::a, "127.0.0.4");
  dns.add("2.0.0.127.zen.spamhaus.org", rr_type::txt, "listed: see example.test");
  dnsbl_checker checker(dns, {profile("spamhaus-zen"), profile("spamcop")});
  int calls = 0;
  dnsbl_outcome got;
  std::optional<dnsbl_outcome> now = checker.check("127.0.0.2", [&](dnsbl_outcome o) {
    ++calls;
    got = std::move(o);
  });
  EXPECT_FALSE(now.has_value());
  EXPECT_EQ(calls, 0);
  loop.run_until_idle();
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(got.lists.size(), 2u);
  EXPECT_EQ(got.lists[0].status, dnsbl_status::listed);
  EXPECT_EQ(got.lists[0].meanings, (std::vector<std::string>{"SBL", "XBL"}));
  EXPECT_EQ(got.lists[0].txt, "listed: see example.test");
  EXPECT_EQ(got.lists[1].status, dnsbl_status::not_listed);
  EXPECT_EQ(dns.query_count("2.0.0.127.bl.spamcop.net", rr_type::txt), 0u);
  EXPECT_EQ(got.first_blocking(), &got.lists[0]);
}

TEST(DnsblChecker, NothingToAskAnswersAtOnceWithoutCallback) {
  test::manual_loop loop;
  test::fake_resolver dns(loop);
  dnsbl_checker checker(dns, {profile("spamhaus-dbl")});
  bool called = false;
  std::optional<dnsbl_outcome> now =
      checker.check("192.0.2.1", [&](dnsbl_outcome) { called = true; });
  ASSERT_TRUE(now.has_value());
  EXPECT_TRUE(now->lists.empty());
  loop.run_until_idle();
  EXPECT_FALSE(called);
  EXPECT_EQ(dns.query_count(), 0u);
}

TEST(DnsblChecker, CheckerMayGoAwayBeforeTheAnswers) {
  test::manual_loop loop;
  test::fake_resolver dns(loop);
  dns.fail("1.2.0.192.bl.test", dns_status::timeout);
  std::optional<dnsbl_outcome> got;
  {
    dnsbl_checker checker(dns, {zone_list("bl.test")});
    EXPECT_FALSE(checker.check("192.0.2.1", [&](dnsbl_outcome o) { got = std::move(o); }));
  }
  loop.run_until_idle();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->lists.at(0).status, dnsbl_status::error);
  EXPECT_EQ(got->summary(), dnsbl_status::error);
}

}  // namespace
}  // namespace mailsim::policy
