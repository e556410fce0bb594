// The Public Suffix List (publicsuffix.org format) and the organizational domain of RFC 7489
// §3.2: rules, wildcards, exceptions, sections, IDN rules matched in A-label form, limits;
// then the same over Debian's list when it is installed.
#include "reference-server/auth/public_suffix.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mailsim::auth {
namespace {

constexpr const char* debian_list = "/usr/share/publicsuffix/public_suffix_list.dat";

constexpr std::string_view small_list =
    "// A comment line; blank lines follow.\n"
    "\n"
    "// ===BEGIN ICANN DOMAINS===\n"
    "com\n"
    "uk\n"
    "co.uk   trailing words are ignored\n"
    "jp\n"
    "*.kawasaki.jp\n"
    "!city.kawasaki.jp\n"
    "*.ck\n"
    "!www.ck\n"
    "cn\n"
    "\xe5\x85\xac\xe5\x8f\xb8.cn\n"  // 公司.cn
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "blogspot.com\r\n"
    "// ===END PRIVATE DOMAINS===\n";

const public_suffix_list& small() {
  static const public_suffix_list list = public_suffix_list::from_text(small_list);
  return list;
}

std::string org(const public_suffix_list& l, std::string_view d) {
  return l.organizational_domain(d).value_or("<invalid>");
}
std::string suffix(const public_suffix_list& l, std::string_view d) {
  return l.public_suffix(d).value_or("<invalid>");
}

TEST(DmarcPublicSuffix, OrdinaryRules) {
  EXPECT_EQ(suffix(small(), "mail.example.com"), "com");
  EXPECT_EQ(org(small(), "mail.example.com"), "example.com");
  EXPECT_EQ(org(small(), "a.b.c.example.com"), "example.com");
  EXPECT_EQ(org(small(), "example.com"), "example.com");
  EXPECT_EQ(org(small(), "www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(suffix(small(), "www.example.co.uk"), "co.uk");
}

TEST(DmarcPublicSuffix, CaseAndFinalDotDoNotMatter) {
  EXPECT_EQ(org(small(), "Mail.EXAMPLE.Com."), "example.com");
}

TEST(DmarcPublicSuffix, APublicSuffixIsItsOwnOrganizationalDomain) {
  EXPECT_EQ(org(small(), "com"), "com");
  EXPECT_EQ(org(small(), "co.uk"), "co.uk");
}

TEST(DmarcPublicSuffix, UnlistedTopLevelDomainFollowsTheImplicitStarRule) {
  EXPECT_EQ(suffix(small(), "a.b.example"), "example");
  EXPECT_EQ(org(small(), "a.b.example"), "b.example");
  EXPECT_EQ(org(public_suffix_list(), "x.y.example.com"), "example.com");
}

TEST(DmarcPublicSuffix, WildcardAddsOneLabel) {
  EXPECT_EQ(suffix(small(), "a.b.kawasaki.jp"), "b.kawasaki.jp");
  EXPECT_EQ(org(small(), "a.b.kawasaki.jp"), "a.b.kawasaki.jp");
  EXPECT_EQ(org(small(), "x.a.b.kawasaki.jp"), "a.b.kawasaki.jp");
  // The wildcard needs a label of its own: kawasaki.jp falls under "jp".
  EXPECT_EQ(suffix(small(), "kawasaki.jp"), "jp");
  EXPECT_EQ(suffix(small(), "a.ck"), "a.ck");
}

TEST(DmarcPublicSuffix, ExceptionPrevailsOverTheWildcard) {
  EXPECT_EQ(suffix(small(), "city.kawasaki.jp"), "kawasaki.jp");
  EXPECT_EQ(org(small(), "city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(org(small(), "www.city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(org(small(), "a.www.ck"), "www.ck");
  EXPECT_EQ(suffix(small(), "www.ck"), "ck");
}

TEST(DmarcPublicSuffix, PrivateRulesCountByDefaultAndCanBeLeftOut) {
  EXPECT_EQ(org(small(), "x.foo.blogspot.com"), "foo.blogspot.com");
  psl_options icann_only;
  icann_only.include_private = false;
  public_suffix_list l = public_suffix_list::from_text(small_list, icann_only);
  EXPECT_EQ(org(l, "x.foo.blogspot.com"), "blogspot.com");
  EXPECT_EQ(l.stats().private_skipped, 1u);
  EXPECT_EQ(org(l, "www.example.co.uk"), "example.co.uk");
}

TEST(DmarcPublicSuffix, UnicodeRulesMatchALabels) {
  EXPECT_EQ(suffix(small(), "shop.xn--55qx5d.cn"), "xn--55qx5d.cn");
  EXPECT_EQ(org(small(), "a.shop.xn--55qx5d.cn"), "shop.xn--55qx5d.cn");
  // A name in UTF-8 is converted the same way.
  EXPECT_EQ(org(small(), "a.shop.\xe5\x85\xac\xe5\x8f\xb8.cn"), "shop.xn--55qx5d.cn");
  EXPECT_EQ(org(small(),
                "b\xc3\xbc"
                "cher.example.com"),
            "example.com");
  EXPECT_EQ(org(small(),
                "B\xc3\xbc"
                "cher.com"),
            "xn--bcher-kva.com");
}

TEST(DmarcPublicSuffix, NamesThatAreNotDomainsGiveNothing) {
  const std::string long_label = std::string(64, 'a') + ".com";  // outlives the views below
  std::string too_many_octets;
  for (int i = 0; i < 64; ++i) too_many_octets += "abc.";
  too_many_octets += "com";
  for (std::string_view bad :
       {std::string_view(""), std::string_view("."), std::string_view("a..com"),
        std::string_view(".a.com"), std::string_view("a b.com"), std::string_view("a@b.com"),
        std::string_view("\xff.com"), std::string_view("\xc0\xaf.com"),
        std::string_view(long_label), std::string_view(too_many_octets)}) {
    EXPECT_FALSE(small().organizational_domain(bad).has_value()) << bad;
    EXPECT_FALSE(small().public_suffix(bad).has_value()) << bad;
  }
  EXPECT_TRUE(small().organizational_domain(std::string(63, 'a') + ".com").has_value());
  // 59 code points are the most a U-label can have ("xn--" + at least one octet each).
  std::string wide;
  for (int i = 0; i < 60; ++i) wide += "\xc3\xbc";
  EXPECT_FALSE(small().organizational_domain(wide + ".com").has_value());
  EXPECT_FALSE(small().organizational_domain(std::string(100'000, 'a')).has_value());
  EXPECT_TRUE(small().organizational_domain("_dmarc.example.com").has_value());
}

TEST(DmarcPublicSuffix, UnusableRulesAreCountedAndSkipped) {
  public_suffix_list l = public_suffix_list::from_text(
      "com\n*.*.bad\n!single\na..b\nfoo.*.bar\nex ample\n\xff\xfe\n*.ok.jp\n");
  EXPECT_EQ(l.stats().invalid, 5u);
  EXPECT_EQ(l.stats().rules, 3u);  // com, ex, *.ok.jp
  EXPECT_EQ(org(l, "a.b.ok.jp"), "a.b.ok.jp");
}

TEST(DmarcPublicSuffix, RulesBeyondTheLimitAreDropped) {
  psl_options o;
  o.rules_max = 2;
  public_suffix_list l = public_suffix_list::from_text("com\nuk\nco.uk\n*.uk\n", o);
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l.stats().over_limit, 1u);
  // "*.uk" adds a kind to the existing "uk" entry: no new entry, so it is kept.
  EXPECT_EQ(org(l, "a.b.co.uk"), "b.co.uk");
}

TEST(DmarcPublicSuffix, LabelLimitApplies) {
  psl_options o;
  o.labels_max = 3;
  public_suffix_list l = public_suffix_list::from_text("com\n", o);
  EXPECT_TRUE(l.organizational_domain("a.b.com").has_value());
  EXPECT_FALSE(l.organizational_domain("a.b.c.com").has_value());
}

TEST(DmarcPublicSuffix, LoadFileReportsWhatWentWrong) {
  std::string error;
  EXPECT_FALSE(public_suffix_list::load_file("/nonexistent/psl.dat", error).has_value());
  EXPECT_NE(error.find("/nonexistent/psl.dat"), std::string::npos);
  error.clear();
  EXPECT_FALSE(public_suffix_list::load_file("/dev/null", error).has_value());
  EXPECT_NE(error.find("no public suffix rule"), std::string::npos);
}

// RFC 3492 §7.1 sample strings and two well-known names.
TEST(DmarcPublicSuffix, PunycodeMatchesRfc3492Samples) {
  struct sample {
    std::u32string in;
    const char* out;
  };
  const sample samples[] = {
      {U"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631"
       U"\u0628\u064A\u061F",
       "egbpdaj6bu4bxfgehfvwxn"},
      {U"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
      {U"3\u5E74B\u7D44\u91D1\u516B\u5148\u751F", "3B-ww4c5e180e575a65lsy2b"},
      {U"-> $1.00 <-", "-> $1.00 <--"},
      {U"b\u00FCcher", "bcher-kva"},
      {U"m\u00FCnchen", "mnchen-3ya"},
  };
  for (const sample& s : samples) {
    EXPECT_EQ(punycode_encode(s.in).value_or("<overflow>"), s.out) << s.out;
  }
}

// ---- Debian's list ----

class DmarcPublicSuffixDebian : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    list_ = public_suffix_list::load_file(debian_list, error);
  }
  void SetUp() override {
    if (!list_) GTEST_SKIP() << debian_list << " not readable (apt-get install publicsuffix)";
  }
  static inline std::optional<public_suffix_list> list_;
};

TEST_F(DmarcPublicSuffixDebian, LoadsEveryRule) {
  EXPECT_GT(list_->size(), 5000u);
  EXPECT_EQ(list_->stats().invalid, 0u);
  EXPECT_EQ(list_->stats().over_limit, 0u);
}

TEST_F(DmarcPublicSuffixDebian, KnownAnswers) {
  EXPECT_EQ(org(*list_, "mail.example.com"), "example.com");
  EXPECT_EQ(org(*list_, "www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(org(*list_, "a.b.kawasaki.jp"), "a.b.kawasaki.jp");
  EXPECT_EQ(org(*list_, "www.city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(org(*list_, "x.foo.blogspot.com"), "foo.blogspot.com");        // PRIVATE section
  EXPECT_EQ(org(*list_, "a.b.example"), "b.example");                      // unlisted TLD
  EXPECT_EQ(org(*list_, "shop.xn--55qx5d.cn"), "shop.xn--55qx5d.cn");      // 公司.cn
  EXPECT_EQ(org(*list_, "www.example.xn--55qx5d"), "example.xn--55qx5d");  // 公司
}

// The list names many IDN top-level domains in a comment ("// xn--55qx5d : ...") just above
// the U-label rule: our punycode must agree with every one.
TEST_F(DmarcPublicSuffixDebian, ALabelsInCommentsMatchOurEncoding) {
  std::ifstream in(debian_list);
  std::string line, pending;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.rfind("// xn--", 0) == 0) {
      pending = line.substr(3, line.find_first_of(" \t", 3) - 3);
      continue;
    }
    bool unicode_tld = !line.empty() && static_cast<unsigned char>(line[0]) >= 0x80 &&
                       line.find('.') == std::string::npos;
    if (!pending.empty() && unicode_tld) {
      EXPECT_EQ(suffix(*list_, "example." + line), pending) << line;
      ++checked;
    }
    if (!line.empty()) pending.clear();
  }
  EXPECT_GT(checked, 50);
}

}  // namespace
}  // namespace mailsim::auth
