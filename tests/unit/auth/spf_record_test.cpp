// RFC 7208 §4.5 record selection and §4.6/§5/§6/§7.1 record syntax: what is accepted, how
// it reads, and which typed error (naming the term) a refused record gets.
#include "reference-server/auth/spf_record.hpp"

#include <gtest/gtest.h>

namespace mailsim::auth {
namespace {

TEST(SpfRecordSelection, VersionThenSpaceOrEnd) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SpF1 -all"));  // §4.5: case-insensitive
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1mx"));  // strings glued without a space (§3.3)
  EXPECT_FALSE(is_spf_record(" v=spf1"));
  EXPECT_FALSE(is_spf_record("spf2.0/pra"));
  EXPECT_FALSE(is_spf_record(""));
}

TEST(SpfRecordParse, ReadsEveryMechanismWithItsQualifierAndArguments) {
  spf_parse_result r = parse_spf_record(
      "v=spf1 +a -mx:mail.example.org/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
      "include:_spf.%{d2} exists:%{ir}.bl.example.net all");
  ASSERT_TRUE(r.ok()) << r.message();
  const auto& m = r.record.mechanisms;
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[0].type, spf_mechanism_type::a);
  EXPECT_EQ(m[0].qualifier, spf_qualifier::pass);
  EXPECT_EQ(m[0].domain_spec, "");  // the current <domain>
  EXPECT_EQ(m[1].type, spf_mechanism_type::mx);
  EXPECT_EQ(m[1].qualifier, spf_qualifier::fail);
  EXPECT_EQ(m[1].domain_spec, "mail.example.org");
  EXPECT_EQ(m[1].prefix4, 24u);
  EXPECT_EQ(m[1].prefix6, 64u);
  EXPECT_EQ(m[1].term, "-mx:mail.example.org/24//64");
  EXPECT_EQ(m[2].qualifier, spf_qualifier::softfail);
  EXPECT_EQ(m[3].qualifier, spf_qualifier::neutral);
  EXPECT_EQ(core::to_string(m[3].network), "192.0.2.0");
  EXPECT_EQ(m[3].prefix4, 24u);
  EXPECT_TRUE(m[4].network.v6);
  EXPECT_EQ(m[4].prefix6, 32u);
  EXPECT_EQ(m[5].domain_spec, "_spf.%{d2}");
  // A domain-spec with a macro is also read into pieces (for its expansions); one without not.
  EXPECT_EQ(m[5].domain_pieces.size(), 2u);  // the literal "_spf." and %{d2}
  EXPECT_TRUE(m[1].domain_pieces.empty());
  EXPECT_EQ(m[6].type, spf_mechanism_type::exists);
  EXPECT_EQ(m[7].type, spf_mechanism_type::all);
  EXPECT_TRUE(r.record.has_all());
}

TEST(SpfRecordParse, DefaultCidrLengthsAreWholeAddresses) {
  spf_parse_result r = parse_spf_record("v=spf1 a//0 mx/0 ip4:192.0.2.1");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.record.mechanisms[0].prefix4, 32u);
  EXPECT_EQ(r.record.mechanisms[0].prefix6, 0u);
  EXPECT_EQ(r.record.mechanisms[1].prefix4, 0u);
  EXPECT_EQ(r.record.mechanisms[1].prefix6, 128u);
  EXPECT_EQ(r.record.mechanisms[2].prefix4, 32u);
}

TEST(SpfRecordParse, NamesAndModifierNamesAreCaseInsensitive) {
  spf_parse_result r = parse_spf_record("v=spf1 A:example.org MX IP4:192.0.2.1 Redirect=x.example");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.record.mechanisms.size(), 3u);
  ASSERT_TRUE(r.record.redirect.has_value());
  EXPECT_EQ(r.record.redirect->value, "x.example");
}

TEST(SpfRecordParse, ModifiersAndUnknownModifiers) {
  spf_parse_result r =
      parse_spf_record("v=spf1 -all exp=explain.%{d} moo.cow-far_out=man:dog/cat default=+ empty=");
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_TRUE(r.record.exp.has_value());
  EXPECT_EQ(r.record.exp->value, "explain.%{d}");
  EXPECT_FALSE(r.record.redirect.has_value());
  ASSERT_EQ(r.record.unknown.size(), 3u);  // §6: kept and ignored
  EXPECT_EQ(r.record.unknown[0].name, "moo.cow-far_out");
  EXPECT_EQ(r.record.unknown[0].value, "man:dog/cat");
}

TEST(SpfRecordParse, SpacesOnlySeparateTerms) {
  EXPECT_TRUE(parse_spf_record("v=spf1   a    -all   ").ok());
  EXPECT_TRUE(parse_spf_record("v=spf1").ok());
  spf_parse_result tab = parse_spf_record("v=spf1 a\t-all");
  EXPECT_FALSE(tab.ok());
  EXPECT_EQ(tab.term, "a\t-all");
}

TEST(SpfRecordParse, DomainSpecEndsInAMacroOrATopLabel) {
  for (const char* good : {"a:example.org", "a:example.org.", "a:%{d}", "a:foo.%{d}",
                           "a:foo.example.xn--zckzah", "a:foo:bar/baz.example.com", "a:x.1-2",
                           "a:%{d}.com", "a:.com", "a:foo%-", "exists:%{i}.x.org"}) {
    EXPECT_TRUE(parse_spf_record(std::string("v=spf1 ") + good).ok()) << good;
  }
  for (const char* bad :
       {"a:foo-bar", "a:museum", "a:museum.", "a:abc.123", "a:111.222.33.44", "a:example.-com",
        "a:example.com:8080", "a:foo.%{d}x", "a:example.com..", "mx:abc.123"}) {
    spf_parse_result r = parse_spf_record(std::string("v=spf1 ") + bad);
    EXPECT_EQ(r.error, spf_record_errc::bad_domain_spec) << bad;
    EXPECT_EQ(r.term, bad);
  }
}

struct refusal {
  const char* record;
  spf_record_errc error;
  const char* term;
};

TEST(SpfRecordParse, RefusalsNameTheTermAndTheReason) {
  const refusal cases[] = {
      {"v=spf1 ip4:1.2.3.4 -all moo", spf_record_errc::unknown_mechanism, "moo"},
      {"v=spf1 1up=foo", spf_record_errc::unknown_mechanism, "1up=foo"},
      {"v=spf1 =all", spf_record_errc::unknown_mechanism, "=all"},
      {"v=spf1 redirect:x.example.com", spf_record_errc::unknown_mechanism,
       "redirect:x.example.com"},
      {"v=spf1 moo.cow/far_out=man:dog/cat", spf_record_errc::unknown_mechanism,
       "moo.cow/far_out=man:dog/cat"},
      {"v=spf1 -all.", spf_record_errc::unknown_mechanism, "-all."},
      {"v=spf1 -all:foobar", spf_record_errc::unexpected_argument, "-all:foobar"},
      {"v=spf1 -all/8", spf_record_errc::unexpected_argument, "-all/8"},
      {"v=spf1 ptr/0", spf_record_errc::unexpected_argument, "ptr/0"},
      {"v=spf1 ptr:", spf_record_errc::missing_domain, "ptr:"},
      {"v=spf1 include", spf_record_errc::missing_domain, "include"},
      {"v=spf1 include:", spf_record_errc::missing_domain, "include:"},
      {"v=spf1 exists", spf_record_errc::missing_domain, "exists"},
      {"v=spf1 exists:mail.example.com/24", spf_record_errc::bad_domain_spec,
       "exists:mail.example.com/24"},
      {"v=spf1 a:", spf_record_errc::missing_domain, "a:"},
      {"v=spf1 a/33", spf_record_errc::bad_cidr, "a/33"},
      {"v=spf1 a//129", spf_record_errc::bad_cidr, "a//129"},
      {"v=spf1 a/24/64", spf_record_errc::bad_cidr, "a/24/64"},
      {"v=spf1 ip4:1.2.3.4/032", spf_record_errc::bad_cidr, "ip4:1.2.3.4/032"},
      {"v=spf1 ip4:1.2.3.4//32", spf_record_errc::bad_cidr, "ip4:1.2.3.4//32"},
      {"v=spf1 ip6:::1.1.1.1//33", spf_record_errc::bad_cidr, "ip6:::1.1.1.1//33"},
      {"v=spf1 ip4", spf_record_errc::bad_network, "ip4"},
      {"v=spf1 ip4:1.2.3", spf_record_errc::bad_network, "ip4:1.2.3"},
      {"v=spf1 ip4:1.2.3.4:8080", spf_record_errc::bad_network, "ip4:1.2.3.4:8080"},
      {"v=spf1 ip4:2001:db8::1", spf_record_errc::bad_network, "ip4:2001:db8::1"},
      {"v=spf1 ip6::CAFE::BABE", spf_record_errc::bad_network, "ip6::CAFE::BABE"},
      {"v=spf1 ip6:192.0.2.1", spf_record_errc::bad_network, "ip6:192.0.2.1"},
      {"v=spf1 -all foo=%abc", spf_record_errc::bad_macro, "foo=%abc"},
      {"v=spf1 a:%{a}.example.com", spf_record_errc::bad_macro, "a:%{a}.example.com"},
      {"v=spf1 -all exp=%{r}.example.com", spf_record_errc::bad_macro, "exp=%{r}.example.com"},
      {"v=spf1 a:ctrl.example.com\rptr -all", spf_record_errc::bad_macro,
       "a:ctrl.example.com\rptr"},
      {"v=spf1 exp= -all", spf_record_errc::missing_domain, "exp="},
      {"v=spf1 exp=-all", spf_record_errc::bad_domain_spec, "exp=-all"},
      {"v=spf1 ?all redirect=", spf_record_errc::missing_domain, "redirect="},
      {"v=spf1 exp=a.example.com exp=b.example.com", spf_record_errc::duplicate_modifier,
       "exp=b.example.com"},
      {"v=spf1 redirect=a.example.com redirect=b.example.com", spf_record_errc::duplicate_modifier,
       "redirect=b.example.com"},
  };
  for (const refusal& c : cases) {
    spf_parse_result r = parse_spf_record(c.record);
    EXPECT_EQ(r.error, c.error) << c.record << " → " << r.message();
    EXPECT_EQ(r.term, c.term) << c.record;
    EXPECT_NE(r.message().find(c.term), std::string::npos) << r.message();
    EXPECT_TRUE(r.record.mechanisms.empty()) << c.record;
  }
}

TEST(SpfRecordParse, RecordLevelRefusals) {
  EXPECT_EQ(parse_spf_record("v=spf10 -all").error, spf_record_errc::not_spf);
  EXPECT_EQ(parse_spf_record("v=spf1 a:\xc3\xafgarbage.example.net -all").error,
            spf_record_errc::non_ascii);
  std::string long_record = "v=spf1";
  while (long_record.size() < 9000) long_record += " a:x.example.org";
  spf_parse_result r = parse_spf_record(long_record);
  EXPECT_EQ(r.error, spf_record_errc::too_long);
  EXPECT_TRUE(parse_spf_record(long_record, {20'000}).ok());
}

TEST(SpfRecordParse, AnErrorAfterAllStillCounts) {
  // §4.6: syntax errors anywhere in the record are errors, even past a decisive "all".
  EXPECT_EQ(parse_spf_record("v=spf1 +all moo").error, spf_record_errc::unknown_mechanism);
}

TEST(SpfRecordParse, RedirectIsIgnoredWithAll) {
  spf_parse_result r = parse_spf_record("v=spf1 redirect=x.example.org ~all");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.record.has_all());
  EXPECT_TRUE(r.record.redirect.has_value());  // kept; evaluation ignores it (§6.1)
}

TEST(SpfDomainSpec, CheckedAlone) {
  std::string detail;
  EXPECT_EQ(check_domain_spec("%{d}.example.org"), spf_record_errc::ok);
  EXPECT_EQ(check_domain_spec(""), spf_record_errc::missing_domain);
  EXPECT_EQ(check_domain_spec("example", &detail), spf_record_errc::bad_domain_spec);
  EXPECT_FALSE(detail.empty());
  EXPECT_EQ(check_domain_spec("%{x}.example.org"), spf_record_errc::bad_macro);
}

}  // namespace
}  // namespace mailsim::auth
