// DMARC policy records (RFC 7489 §6.3, §6.4): the Appendix B examples, every tag, the
// defaults, the §6.6.3 step 6 rule for a record without a valid p=, and typed errors.
#include "reference-server/auth/dmarc_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsim::auth {
namespace {

dmarc_record parsed_ok(std::string_view text) {
  dmarc_record_result r = parse_dmarc_record(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error.message() << " " << r.record.detail;
  return r.record;
}

std::error_code error_of(std::string_view text) {
  return parse_dmarc_record(text).error;
}

// RFC 7489 Appendix B.2.1: monitoring only.
TEST(DmarcRecord, AppendixB21MonitoringRecord) {
  dmarc_record r = parsed_ok("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com");
  EXPECT_EQ(r.policy, dmarc_policy::none);
  ASSERT_EQ(r.aggregate_uris.size(), 1u);
  EXPECT_EQ(r.aggregate_uris[0].uri, "mailto:dmarc-feedback@example.com");
  EXPECT_EQ(r.aggregate_uris[0].size_limit_bytes, 0u);
  EXPECT_FALSE(r.policy_defaulted);
}

// RFC 7489 Appendix B.2.3: quarantine a quarter of the failing mail, two report addresses.
TEST(DmarcRecord, AppendixB23QuarantineWithPct) {
  dmarc_record r = parsed_ok(
      "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
      "mailto:tld-test@thirdparty.example.net; pct=25");
  EXPECT_EQ(r.policy, dmarc_policy::quarantine);
  EXPECT_EQ(r.percent, 25u);
  ASSERT_EQ(r.aggregate_uris.size(), 2u);
  EXPECT_EQ(r.aggregate_uris[1].uri, "mailto:tld-test@thirdparty.example.net");
}

// RFC 7489 §7.1: the third party's verification record is "v=DMARC1" alone. As a policy
// record it has no p= and no rua=, so it asks for no DMARC processing.
TEST(DmarcRecord, BareVersionIsNoPolicy) {
  dmarc_record_result r = parse_dmarc_record("v=DMARC1");
  EXPECT_EQ(r.error, make_error_code(dmarc_errc::no_valid_policy));
  EXPECT_EQ(r.record.detail, "p= is missing");
}

TEST(DmarcRecord, DefaultsWhenTagsAreAbsent) {
  dmarc_record r = parsed_ok("v=DMARC1; p=reject");
  EXPECT_EQ(r.policy, dmarc_policy::reject);
  EXPECT_FALSE(r.subdomain_policy.has_value());
  EXPECT_EQ(r.dkim_alignment, dmarc_alignment::relaxed);
  EXPECT_EQ(r.spf_alignment, dmarc_alignment::relaxed);
  EXPECT_EQ(r.percent, 100u);
  EXPECT_EQ(r.failure_options, std::vector<std::string>{"0"});
  EXPECT_EQ(r.report_formats, std::vector<std::string>{"afrf"});
  EXPECT_EQ(r.report_interval_s, 86400u);
  EXPECT_TRUE(r.aggregate_uris.empty());
  EXPECT_TRUE(r.failure_uris.empty());
}

TEST(DmarcRecord, EveryTag) {
  dmarc_record r = parsed_ok(
      "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s; pct=50; fo=1:d:s; rf=afrf; "
      "ri=3600; rua=mailto:a@example.com!10m, mailto:b@example.com; "
      "ruf=mailto:f@example.com!1k");
  EXPECT_EQ(r.subdomain_policy, dmarc_policy::quarantine);
  EXPECT_EQ(r.dkim_alignment, dmarc_alignment::strict);
  EXPECT_EQ(r.spf_alignment, dmarc_alignment::strict);
  EXPECT_EQ(r.percent, 50u);
  EXPECT_EQ(r.failure_options, (std::vector<std::string>{"1", "d", "s"}));
  EXPECT_EQ(r.report_interval_s, 3600u);
  ASSERT_EQ(r.aggregate_uris.size(), 2u);
  EXPECT_EQ(r.aggregate_uris[0].size_limit_bytes, 10u << 20);
  EXPECT_EQ(r.aggregate_uris[1].uri, "mailto:b@example.com");
  ASSERT_EQ(r.failure_uris.size(), 1u);
  EXPECT_EQ(r.failure_uris[0].size_limit_bytes, 1024u);
}

TEST(DmarcRecord, KeywordsAndTagNamesIgnoreCaseButTheVersionDoesNot) {
  dmarc_record r = parsed_ok("v=DMARC1; P=Reject; ADKIM=S; Fo=D");
  EXPECT_EQ(r.policy, dmarc_policy::reject);
  EXPECT_EQ(r.dkim_alignment, dmarc_alignment::strict);
  EXPECT_EQ(r.failure_options, std::vector<std::string>{"d"});
  EXPECT_EQ(error_of("v=dmarc1; p=none"), make_error_code(dmarc_errc::not_dmarc));
}

TEST(DmarcRecord, WhiteSpaceAroundTagsAndAFinalSemicolon) {
  dmarc_record r = parsed_ok("  v = DMARC1 ;\tp = quarantine ; pct = 5 ; ");
  EXPECT_EQ(r.policy, dmarc_policy::quarantine);
  EXPECT_EQ(r.percent, 5u);
}

TEST(DmarcRecord, MustStartWithTheVersionTag) {
  for (std::string_view text : {"v=spf1 -all", "p=reject; v=DMARC1", "v=DMARC2; p=none",
                                "v=DMARC1p=none", "", "v=", "x=DMARC1; p=none"}) {
    EXPECT_FALSE(is_dmarc_record(text)) << text;
    EXPECT_EQ(error_of(text), make_error_code(dmarc_errc::not_dmarc)) << text;
  }
  EXPECT_TRUE(is_dmarc_record("v=DMARC1"));
  EXPECT_TRUE(is_dmarc_record("V=DMARC1;p=none"));
}

TEST(DmarcRecord, TagListErrors) {
  for (std::string_view text :
       {"v=DMARC1; p=none;; pct=5", "v=DMARC1; p=none; p=reject", "v=DMARC1; p=none; P=reject",
        "v=DMARC1; p=none; 9x=1", "v=DMARC1; p=none; rua"}) {
    EXPECT_EQ(error_of(text), make_error_code(dmarc_errc::tag_syntax)) << text;
  }
}

TEST(DmarcRecord, InvalidPolicyWithoutRuaMeansNoPolicy) {
  for (std::string_view text : {"v=DMARC1; p=block", "v=DMARC1; p=none; sp=bogus",
                                "v=DMARC1; pct=10", "v=DMARC1; p=quarantine1; rua=notauri"}) {
    EXPECT_EQ(error_of(text), make_error_code(dmarc_errc::no_valid_policy)) << text;
  }
}

// RFC 7489 §6.6.3 step 6: with a valid rua, act as if p=none had been published.
TEST(DmarcRecord, InvalidPolicyWithRuaReadsAsPNone) {
  for (std::string_view text :
       {"v=DMARC1; rua=mailto:r@example.com", "v=DMARC1; p=block; rua=mailto:r@example.com",
        "v=DMARC1; p=reject; sp=bogus; rua=mailto:r@example.com"}) {
    dmarc_record r = parsed_ok(text);
    EXPECT_EQ(r.policy, dmarc_policy::none) << text;
    EXPECT_FALSE(r.subdomain_policy.has_value()) << text;
    EXPECT_TRUE(r.policy_defaulted) << text;
  }
}

TEST(DmarcRecord, BadValuesAreTypedErrors) {
  for (std::string_view text :
       {"v=DMARC1; p=none; pct=101", "v=DMARC1; p=none; pct=-1", "v=DMARC1; p=none; pct=abc",
        "v=DMARC1; p=none; pct=", "v=DMARC1; p=none; adkim=x", "v=DMARC1; p=none; aspf=relaxed",
        "v=DMARC1; p=none; fo=2", "v=DMARC1; p=none; fo=", "v=DMARC1; p=none; fo=1::d",
        "v=DMARC1; p=none; rf=a!b", "v=DMARC1; p=none; ri=4294967296"}) {
    dmarc_record_result r = parse_dmarc_record(text);
    EXPECT_EQ(r.error, make_error_code(dmarc_errc::bad_value)) << text;
    EXPECT_NE(r.record.detail.find("is not valid"), std::string::npos) << text;
  }
  EXPECT_EQ(parsed_ok("v=DMARC1; p=none; pct=000").percent, 0u);
  EXPECT_EQ(parsed_ok("v=DMARC1; p=none; ri=4294967295").report_interval_s, 4294967295u);
}

// RFC 7489 §6.3: unknown tags are ignored, np= (DMARCbis) among them.
TEST(DmarcRecord, UnknownTagsAreIgnored) {
  dmarc_record r = parsed_ok("v=DMARC1; p=quarantine; np=reject; psd=y; foo=bar!baz");
  EXPECT_EQ(r.policy, dmarc_policy::quarantine);
}

TEST(DmarcRecord, UrisThatDoNotParseAreLeftOut) {
  dmarc_record r = parsed_ok(
      "v=DMARC1; p=none; rua=notauri, mailto:ok@example.com, http://x.example!12q, "
      "mailto:a b@example.com, 1abc:x, mailto:%zz@example.com, https://r.example/dmarc?x=1");
  ASSERT_EQ(r.aggregate_uris.size(), 2u);
  EXPECT_EQ(r.aggregate_uris[0].uri, "mailto:ok@example.com");
  EXPECT_EQ(r.aggregate_uris[1].uri, "https://r.example/dmarc?x=1");
}

TEST(DmarcRecord, SizeLimitUnitsArePowersOf1024) {
  dmarc_record r = parsed_ok(
      "v=DMARC1; p=none; rua=mailto:a@x.example!10, mailto:b@x.example!2K, "
      "mailto:c@x.example!3g, mailto:d@x.example!1t");
  ASSERT_EQ(r.aggregate_uris.size(), 4u);
  EXPECT_EQ(r.aggregate_uris[0].size_limit_bytes, 10u);
  EXPECT_EQ(r.aggregate_uris[1].size_limit_bytes, 2048u);
  EXPECT_EQ(r.aggregate_uris[2].size_limit_bytes, 3ull << 30);
  EXPECT_EQ(r.aggregate_uris[3].size_limit_bytes, 1ull << 40);
  // The normal form spells sizes in octets: large plain numbers are fine.
  EXPECT_EQ(parsed_ok("v=DMARC1; p=none; rua=mailto:a@x.example!20971520")
                .aggregate_uris.at(0)
                .size_limit_bytes,
            20971520u);
  // A size that would overflow 64 bits is not a valid URI.
  EXPECT_TRUE(parsed_ok("v=DMARC1; p=none; rua=mailto:a@x.example!99999999999999999999t")
                  .aggregate_uris.empty());
}

TEST(DmarcRecord, UriListIsLimited) {
  dmarc_record_limits limits;
  limits.uris_max = 2;
  dmarc_record_result r = parse_dmarc_record(
      "v=DMARC1; p=none; rua=mailto:a@x.example,mailto:b@x.example,mailto:c@x.example", limits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.record.aggregate_uris.size(), 2u);
}

TEST(DmarcRecord, LongRecordIsRefused) {
  dmarc_record_limits limits;
  limits.record_bytes_max = 32;
  std::string text = "v=DMARC1; p=none; rua=mailto:someone@example.com";
  EXPECT_EQ(parse_dmarc_record(text, limits).error, make_error_code(dmarc_errc::too_long));
  EXPECT_TRUE(parse_dmarc_record(text).ok());
}

TEST(DmarcRecord, NormalFormForPeople) {
  dmarc_record r = parsed_ok("v=DMARC1;p=REJECT;sp=none;rua=mailto:a@x.example!1k;pct=20");
  EXPECT_EQ(to_text(r),
            "v=DMARC1; p=reject; sp=none; adkim=r; aspf=r; pct=20; rua=mailto:a@x.example!1024");
  EXPECT_TRUE(parse_dmarc_record(to_text(r)).ok());
}

TEST(DmarcRecord, ErrorCodesHaveMessages) {
  for (dmarc_errc e : {dmarc_errc::not_dmarc, dmarc_errc::tag_syntax, dmarc_errc::no_valid_policy,
                       dmarc_errc::bad_value, dmarc_errc::too_long}) {
    EXPECT_NE(make_error_code(e).message(), "unknown DMARC error");
    EXPECT_STREQ(make_error_code(e).category().name(), "mailsim.dmarc");
  }
}

}  // namespace
}  // namespace mailsim::auth
