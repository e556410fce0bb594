// RFC 7208 §7 macros: the syntax check, the expansion examples of §7.4, the exp-only
// letters, URL escaping, truncation of long query names.
#include "reference-server/auth/spf_macro.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace mailsim::auth {
namespace {

// §7.4: <sender> strong-bad@email.example.com, client 192.0.2.3 (or 2001:db8::cb01),
// validated PTR name mx.example.org.
spf_macro_values example_values(const char* ip = "192.0.2.3") {
  spf_macro_values v;
  v.sender = "strong-bad@email.example.com";
  v.local_part = "strong-bad";
  v.sender_domain = "email.example.com";
  v.domain = "email.example.com";
  v.ip = *core::parse_ip(ip);
  v.validated = "mx.example.org";
  v.helo = "mx.example.org";
  v.receiver = "mybox.example.org";
  v.timestamp_s = 1'234'567'890;
  return v;
}

std::string expand(const std::string& text, const char* ip = "192.0.2.3",
                   spf_macro_context context = spf_macro_context::domain) {
  spf_expansion e = expand_spf_macros(text, context, example_values(ip));
  EXPECT_TRUE(e.ok()) << text << ": " << to_string(e.error);
  return e.text;
}

TEST(SpfMacroExpansion, Rfc7208Section7_4Letters) {
  const std::pair<const char*, const char*> table[] = {
      {"%{s}", "strong-bad@email.example.com"},
      {"%{o}", "email.example.com"},
      {"%{d}", "email.example.com"},
      {"%{d4}", "email.example.com"},
      {"%{d3}", "email.example.com"},
      {"%{d2}", "example.com"},
      {"%{d1}", "com"},
      {"%{dr}", "com.example.email"},
      {"%{d2r}", "example.email"},
      {"%{l}", "strong-bad"},
      {"%{l-}", "strong.bad"},
      {"%{lr}", "strong-bad"},
      {"%{lr-}", "bad.strong"},
      {"%{l1r-}", "strong"},
  };
  for (const auto& [macro, expansion] : table) EXPECT_EQ(expand(macro), expansion) << macro;
}

TEST(SpfMacroExpansion, Rfc7208Section7_4Strings) {
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
            "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
}

TEST(SpfMacroExpansion, Ipv6DottedNibblesInUpperCase) {
  // §7.4 prints these nibbles in lower case; the OpenSPF suite (v-macro-ip6) wants upper
  // case in explanations. DNS names compare without case, so queries are the same.
  std::string got = expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01");
  std::string rfc =
      "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf."
      "example.com";
  EXPECT_EQ(got,
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf."
            "example.com");
  std::transform(got.begin(), got.end(), got.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(got, rfc);
  EXPECT_EQ(expand("%{c}", "2001:db8::cb01", spf_macro_context::explanation), "2001:db8::cb01");
}

TEST(SpfMacroExpansion, OtherLettersAndEscapes) {
  EXPECT_EQ(expand("%{p}.%{h}"), "mx.example.org.mx.example.org");
  EXPECT_EQ(expand("%{p2}"), "example.org");
  EXPECT_EQ(expand("%{v}"), "in-addr");
  EXPECT_EQ(expand("%%%_%-"), "% %20");
  EXPECT_EQ(expand("%{c} %{r} %{t}", "192.0.2.3", spf_macro_context::explanation),
            "192.0.2.3 mybox.example.org 1234567890");
}

TEST(SpfMacroExpansion, MultipleDelimitersSplitTogether) {
  spf_macro_values v = example_values();
  v.local_part = "foo-bar+zip+quux";
  EXPECT_EQ(expand_spf_macros("%{l2r+-}", spf_macro_context::domain, v).text, "bar.foo");
  v.local_part = "philip-gladstone-test";
  EXPECT_EQ(expand_spf_macros("%{l2r-}", spf_macro_context::domain, v).text, "gladstone.philip");
}

TEST(SpfMacroExpansion, UpperCaseLettersAreUrlEscaped) {
  spf_macro_values v = example_values();
  v.local_part = "~jack&jill=up-a_b3.c";
  EXPECT_EQ(expand_spf_macros("%{L}", spf_macro_context::explanation, v).text,
            "~jack%26jill%3Dup-a_b3.c");
  v.helo = "JUMPIN' JUPITER";
  EXPECT_EQ(expand_spf_macros("%{H}", spf_macro_context::domain, v).text, "JUMPIN%27%20JUPITER");
}

TEST(SpfMacroExpansion, DigitsBeyondThePartsMeanAllOfThem) {
  EXPECT_EQ(expand("%{d128}"), "email.example.com");
  EXPECT_EQ(expand("%{d99999999999999999999}"), "email.example.com");
}

TEST(SpfMacroExpansion, OutputIsBounded) {
  spf_expansion e =
      expand_spf_macros("%{s}%{s}%{s}", spf_macro_context::domain, example_values(), 40);
  EXPECT_EQ(e.error, spf_macro_error::too_long);
  EXPECT_TRUE(e.text.empty());
}

TEST(SpfMacroExpansion, OutputLongerThanTheTextIsWhole) {
  // Eight senders: far past the room an expansion starts with.
  std::string want;
  for (int i = 0; i < 8; ++i) want += std::string(i ? "." : "") + "strong-bad@email.example.com";
  EXPECT_EQ(expand("%{s}.%{s}.%{s}.%{s}.%{s}.%{s}.%{s}.%{s}"), want);
  EXPECT_EQ(expand("%{S}"), "strong-bad%40email.example.com");
}

TEST(SpfMacroExpansion, ReportsAPThatComesBeforeAnySyntaxError) {
  auto uses_p = [](const char* text, spf_macro_context context = spf_macro_context::domain) {
    return expand_spf_macros(text, context, example_values()).uses_p;
  };
  EXPECT_TRUE(uses_p("%{p}.example.org"));
  EXPECT_TRUE(uses_p("%{P}"));
  EXPECT_FALSE(uses_p("%{d}.example.org"));
  EXPECT_FALSE(uses_p("%%{p}"));                                          // a literal "{p}"
  EXPECT_TRUE(uses_p("%{p} then %{x}", spf_macro_context::explanation));  // as the check says
  EXPECT_FALSE(uses_p("%{x} then %{p}", spf_macro_context::explanation));
  // Past the bound, still said: the value used may be shorter once found.
  EXPECT_TRUE(expand_spf_macros("%{s}%{p}", spf_macro_context::domain, example_values(), 5).uses_p);
}

TEST(SpfMacroCheck, RefusesWhatTheGrammarDoesNot) {
  const std::pair<const char*, spf_macro_error> cases[] = {
      {"%(ir).sbl.example.com", spf_macro_error::bad_percent},
      {"foo%.sbl.example.com", spf_macro_error::bad_percent},
      {"foo%", spf_macro_error::bad_percent},
      {"%{a}.example.com", spf_macro_error::unknown_letter},
      {"%{}", spf_macro_error::unknown_letter},
      {"%{r}.example.com", spf_macro_error::exp_only_letter},
      {"%{C}", spf_macro_error::exp_only_letter},
      {"%{t}", spf_macro_error::exp_only_letter},
      {"%{d0}", spf_macro_error::zero_digits},
      {"%{d", spf_macro_error::bad_macro},
      {"%{", spf_macro_error::bad_macro},
      {"%{d2x}", spf_macro_error::bad_macro},
      {"%{d:}", spf_macro_error::bad_macro},
      {"a b", spf_macro_error::bad_character},
      {"a\x01", spf_macro_error::bad_character},
      {"\xc3\xa9", spf_macro_error::bad_character},
  };
  for (const auto& [text, error] : cases) {
    spf_macro_check c = check_spf_macros(text, spf_macro_context::domain);
    EXPECT_EQ(c.error, error) << text;
    // The expansion refuses the same way.
    EXPECT_EQ(expand_spf_macros(text, spf_macro_context::domain, example_values()).error, error)
        << text;
  }
}

TEST(SpfMacroCheck, ExplanationsAllowSpacesAndCrt) {
  EXPECT_TRUE(
      check_spf_macros("%{c} is not allowed, see %{r} at %{t}", spf_macro_context::explanation)
          .ok());
  EXPECT_FALSE(check_spf_macros("The %{x}-files.", spf_macro_context::explanation).ok());
  EXPECT_FALSE(check_spf_macros("tab\there", spf_macro_context::explanation).ok());
}

TEST(SpfMacroCheck, ReportsPAndTheLiteralTail) {
  spf_macro_check c = check_spf_macros("%{p}.%{d2}.example.org", spf_macro_context::domain);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.uses_p);
  EXPECT_EQ(c.literal_tail, 10u);
  EXPECT_FALSE(c.ends_with_macro);
  c = check_spf_macros("x.%{d}", spf_macro_context::domain);
  EXPECT_TRUE(c.ends_with_macro);
  EXPECT_FALSE(c.uses_p);
  EXPECT_TRUE(check_spf_macros("%{P}", spf_macro_context::domain).uses_p);
}

TEST(SpfNames, KeysAndComparisons) {
  EXPECT_EQ(spf_name_key("Mail.EXAMPLE.org."), "mail.example.org");
  EXPECT_TRUE(spf_is_name_key("mail.example.org"));
  EXPECT_FALSE(spf_is_name_key("Mail.example.org"));
  EXPECT_FALSE(spf_is_name_key("mail.example.org."));
  EXPECT_TRUE(spf_name_equals("Mail.EXAMPLE.org.", "mail.example.org"));
  EXPECT_TRUE(spf_name_equals("mail.example.org", "mail.example.org"));
  EXPECT_FALSE(spf_name_equals("mail.example.org", "mail.example.net"));
  EXPECT_FALSE(spf_name_equals("mail.example.org", "ail.example.org"));
}

TEST(SpfNames, DnsNames) {
  EXPECT_TRUE(spf_is_dns_name("a.example.org"));
  EXPECT_TRUE(spf_is_dns_name(std::string(63, 'a') + ".org"));
  EXPECT_FALSE(spf_is_dns_name(std::string(64, 'a') + ".org"));
  EXPECT_FALSE(spf_is_dns_name("a..example.org"));
  EXPECT_FALSE(spf_is_dns_name(".example.org"));
  EXPECT_FALSE(spf_is_dns_name("example.org."));
  EXPECT_FALSE(spf_is_dns_name(""));
  std::string long_name;
  while (long_name.size() < 251) long_name += "abcdefghi.";
  EXPECT_FALSE(spf_is_dns_name(long_name + "org"));  // 263 octets: over 253
  EXPECT_TRUE(spf_is_dns_name(long_name.substr(10) + "org"));  // 253
}

// Labels that start, end or straddle every place of an eight-octet word (the check reads
// eight at a time): a label of 63 octets passes and one of 64 fails wherever it sits.
TEST(SpfNames, DnsNamesWhereverTheLabelsFall) {
  for (std::size_t lead = 0; lead < 9; ++lead) {
    const std::string head = lead == 0 ? "" : std::string(lead, 'b') + ".";
    EXPECT_TRUE(spf_is_dns_name(head + std::string(63, 'a') + ".org")) << lead;
    EXPECT_FALSE(spf_is_dns_name(head + std::string(64, 'a') + ".org")) << lead;
    EXPECT_TRUE(spf_is_dns_name(head + "org." + std::string(63, 'a'))) << lead;
    EXPECT_FALSE(spf_is_dns_name(head + "org." + std::string(64, 'a'))) << lead;
    EXPECT_FALSE(spf_is_dns_name(head + "a..b.example.org")) << lead;
    EXPECT_FALSE(spf_is_dns_name(head + "example.org.")) << lead;
  }
  EXPECT_TRUE(spf_is_dns_name("a.b.c.d.e.f.g.h.i.j"));
  EXPECT_FALSE(spf_is_dns_name("a.b.c.d.e.f.g.h.i.j."));
  EXPECT_FALSE(spf_is_dns_name("........"));
}

// A macro-string read into pieces expands exactly as the string itself: text, error (the
// bound) and whether %{p} is used, for every kind of piece and both client families.
TEST(SpfMacroPieces, ExpandAsTheStringDoes) {
  const char* const texts[] = {
      "%{s}", "%{o}", "%{d}", "%{d4}", "%{d3}", "%{d2}", "%{d1}", "%{dr}", "%{d2r}", "%{l}",
      "%{l-}", "%{lr}", "%{lr-}", "%{l1r-}", "%{ir}.%{v}._spf.%{d2}", "%{lr-}.lp._spf.%{d2}",
      "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
      "%{d2}.trusted-domains.example.net", "%{i}", "%{I}", "%{ir}", "%{IR}", "%{i2r}",
      "%{i1}", "%{i.}", "%{ir.}", "%{ir-}", "%{i4r}", "%{i9r}", "%{ir}.%{l}._spf.%{d}",
      "%{S}", "%{L}", "%{h}.%{p}", "%{pr}", "a%%b%_c%-d", "%%%{d}%%", "x.%{v}.%{h2}.y",
      "%{d=}", "%{d+,/_=}", "%{s1r+-}", "plain.example.org"};
  for (const char* ip : {"192.0.2.3", "2001:db8::cb01", "10.200.0.255"}) {
    for (const char* text : texts) {
      const spf_macro_values v = example_values(ip);
      const spf_macro_pieces pieces = split_spf_macros(text, spf_macro_context::domain);
      ASSERT_FALSE(pieces.empty()) << text;
      for (std::size_t bound : {std::size_t{8192}, std::size_t{10}, std::size_t{0}}) {
        const spf_expansion want = expand_spf_macros(text, spf_macro_context::domain, v, bound);
        const spf_expansion got = expand_spf_pieces(text, pieces, v, bound);
        EXPECT_EQ(got.text, want.text) << text << " " << ip << " " << bound;
        EXPECT_EQ(got.error, want.error) << text << " " << ip << " " << bound;
        EXPECT_EQ(got.uses_p, want.uses_p) << text << " " << ip << " " << bound;
      }
    }
  }
}

TEST(SpfMacroPieces, NoneForWhatTheGrammarRefuses) {
  EXPECT_TRUE(split_spf_macros("%{x}", spf_macro_context::domain).empty());
  EXPECT_TRUE(split_spf_macros("%{c}", spf_macro_context::domain).empty());
  EXPECT_TRUE(split_spf_macros("%{d0}", spf_macro_context::domain).empty());
  EXPECT_TRUE(split_spf_macros("a b", spf_macro_context::domain).empty());
  EXPECT_TRUE(split_spf_macros("%", spf_macro_context::domain).empty());
  EXPECT_FALSE(split_spf_macros("%{c} a", spf_macro_context::explanation).empty());
}

TEST(SpfNames, ReverseNames) {
  EXPECT_EQ(spf_reverse_name(*core::parse_ip("192.0.2.30")), "30.2.0.192.in-addr.arpa");
  EXPECT_EQ(spf_reverse_name(*core::parse_ip("2001:db8::cb01")),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(spf_dotted_ip(*core::parse_ip("10.0.255.7")), "10.0.255.7");
}

TEST(SpfQueryName, DropsTheFinalDotAndTruncatesWholeLabelsFromTheLeft) {
  EXPECT_EQ(spf_query_name("example.com."), "example.com");
  EXPECT_EQ(spf_query_name("This is a test."), "This is a test");
  std::string long_name;
  for (int i = 0; i < 10; ++i) long_name += "somewhat.long.exp.example.com.";
  long_name += "example.com";
  const std::string name = spf_query_name(long_name);
  EXPECT_LE(name.size(), 253u);
  EXPECT_GT(name.size(), 253u - 30);
  EXPECT_EQ(long_name.substr(long_name.size() - name.size()), name);
  EXPECT_EQ(long_name[long_name.size() - name.size() - 1], '.');  // whole labels went
  EXPECT_EQ(spf_query_name_view(long_name), name);
}

}  // namespace
}  // namespace mailsim::auth
