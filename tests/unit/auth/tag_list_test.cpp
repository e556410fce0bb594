// RFC 6376 §3.2 tag lists, §3.5 signature fields and §3.6.1 key records: what is accepted,
// what is refused and why.
#include "reference-server/auth/tag_list.hpp"

#include <gtest/gtest.h>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/auth/error.hpp"

namespace mailsim::auth {
namespace {

TEST(TagList, ParsesValuesWithFoldingWhiteSpace) {
  std::string_view text = " v=1;\r\n a = rsa-sha256 ;\tb=abc\r\n def ; x_1=;";
  tag_list t = parse_tag_list(text);
  ASSERT_TRUE(t.ok()) << t.error.message();
  ASSERT_EQ(t.tags.size(), 4u);
  EXPECT_EQ(t.find("v")->value, "1");
  EXPECT_EQ(t.find("a")->value, "rsa-sha256");
  EXPECT_EQ(t.find("b")->value, "abc\r\n def");  // inner FWS kept for the caller
  EXPECT_EQ(t.find("x_1")->value, "");
  EXPECT_EQ(t.find("B"), nullptr);  // tag names are case-sensitive
  const tag* b = t.find("b");
  EXPECT_EQ(text.substr(b->region_begin, b->region_end - b->region_begin), "abc\r\n def ");
}

TEST(TagList, ToleratesTrailingSemicolonAndWhiteSpace) {
  EXPECT_TRUE(parse_tag_list("v=DKIM1; p=abc; ").ok());
  EXPECT_TRUE(parse_tag_list("").ok());
}

TEST(TagList, RefusesWhatTheGrammarDoesNot) {
  struct bad {
    const char* text;
    errc expected;
  };
  const bad cases[] = {
      {"a=1; a=2", errc::duplicate_tag}, {"a=1;;b=2", errc::tag_syntax},  // empty tag-spec
      {"1a=1", errc::tag_syntax},        // name must start with ALPHA
      {"a-b=1", errc::tag_syntax},       // "-" is not ALNUMPUNC
      {"a", errc::tag_syntax},           // no "="
      {"a=1; =2", errc::tag_syntax},     // no name
      {"a=1\r\nb=2", errc::tag_syntax},  // CRLF not followed by WSP
      {"a=x\x01y", errc::tag_syntax},    // control character in a value
  };
  for (const bad& c : cases) {
    tag_list t = parse_tag_list(c.text);
    EXPECT_EQ(t.error, make_error_code(c.expected)) << c.text;
    EXPECT_TRUE(t.tags.empty()) << c.text;
  }
}

TEST(TagList, InnerWhiteSpaceBetweenValueCharsIsAllowed) {
  // "a=b c=d" is one tag a with value "b c=d" ("=" is a VALCHAR): the grammar allows it.
  tag_list t = parse_tag_list("a=b c=d");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.find("a")->value, "b c=d");
}

TEST(TagList, SplitListAndRemoveFws) {
  auto items = split_list(" from : To\r\n :subject", ':');
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], "from");
  EXPECT_EQ(items[1], "To");
  EXPECT_EQ(items[2], "subject");
  EXPECT_EQ(remove_fws("ab c\r\n\td"), "abcd");
}

// A syntactically complete signature field; tests replace parts of it.
std::string field(std::string_view tags) {
  return "DKIM-Signature: " + std::string(tags) + "\r\n";
}

constexpr std::string_view good_tags =
    "v=1; a=rsa-sha256; d=Example.COM; s=sel; h=From:To; "
    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA";

TEST(SignatureParse, ReadsEveryTag) {
  signature_parse_result r = parse_signature(
      field(std::string(good_tags) + "; c=relaxed; i=joe@mail.example.com; l=10; t=5; x=9;"
                                     " q=dns/txt"));
  ASSERT_TRUE(r.ok()) << r.error;
  const dkim_signature& s = r.signature;
  EXPECT_EQ(s.algorithm, dkim_algorithm::rsa_sha256);
  EXPECT_EQ(s.header_canon, canon::relaxed);
  EXPECT_EQ(s.body_canon, canon::simple);  // "relaxed" alone is relaxed/simple (§3.5)
  EXPECT_EQ(s.domain, "example.com");
  EXPECT_EQ(s.identity, "joe@mail.example.com");
  EXPECT_EQ(s.headers, (std::vector<std::string>{"from", "to"}));
  EXPECT_EQ(*s.body_length, 10u);
  EXPECT_EQ(*s.timestamp, 5);
  EXPECT_EQ(*s.expiration, 9);
}

TEST(SignatureParse, IdentityDefaultsToAtDomain) {
  signature_parse_result r = parse_signature(field(good_tags));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.signature.identity, "@example.com");
}

TEST(SignatureParse, RefusalsCarryTheReason) {
  struct bad {
    std::string tags;
    const char* reason;
  };
  std::string g(good_tags);
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = g;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const bad cases[] = {
      {g + "; v=1", "signature syntax error"},  // duplicate tag
      {replace("v=1; ", ""), "missing tag v="},
      {replace("s=sel; ", ""), "missing tag s="},
      {replace("v=1", "v=2"), "unsupported version"},
      {replace("rsa-sha256", "rsa-sha1"), "rsa-sha1 not accepted (RFC 8301)"},
      {replace("rsa-sha256", "rsa-md5"), "unsupported algorithm"},
      {g + "; c=relaxed/fancy", "unsupported canonicalization"},
      {replace("h=From:To", "h=To:Subject"), "From not signed"},
      {g + "; i=joe@example.org", "i= not within d="},
      {g + "; i=joe@badexample.com", "i= not within d="},
      {g + "; l=-1", "bad l= value"},
      {g + "; t=20; x=10", "x= before t="},
      {g + "; q=http/wellknown", "unsupported query method"},
      {replace("47DEQ", "47D!Q"), "bad bh= value"},
      {replace("b=AAAA", "b="), "bad b= value"},
  };
  for (const bad& c : cases) {
    EXPECT_EQ(parse_signature(field(c.tags)).error, c.reason) << c.tags;
  }
}

TEST(SignatureParse, RefusedSignatureStillNamesItself) {
  signature_parse_result r = parse_signature(field("v=1; a=rsa-sha1; d=example.com; s=x"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.signature.domain, "example.com");
  EXPECT_EQ(r.signature.selector, "x");
  EXPECT_EQ(r.signature.algorithm_text, "rsa-sha1");
}

TEST(SignatureParse, BValueRegionIsWhatGetsRemoved) {
  std::string f =
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from;\r\n"
      " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b= AB\r\n CD ;\r\n";
  signature_parse_result r = parse_signature(f);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.signature.signature_text, "ABCD");
  EXPECT_EQ(without_b_value(f, r.signature),
            "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from;\r\n"
            " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=;\r\n");
}

TEST(KeyRecord, ParsesTags) {
  key_record_result r = parse_key_record(
      "v=DKIM1; k=ed25519; h=sha256:sha1; s=email; t=y:s; "
      "n=notes; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.record.type, key_type::ed25519);
  EXPECT_EQ(r.record.hashes, (std::vector<std::string>{"sha256", "sha1"}));
  EXPECT_EQ(r.record.services, (std::vector<std::string>{"email"}));
  EXPECT_TRUE(r.record.testing);
  EXPECT_TRUE(r.record.strict_identity);
  EXPECT_EQ(r.record.public_key.size(), 32u);
}

TEST(KeyRecord, DefaultsAndRevocation) {
  key_record_result r = parse_key_record("p=");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.record.type, key_type::rsa);
  EXPECT_TRUE(r.record.public_key.empty());  // revoked (§3.6.1 p=)
  EXPECT_TRUE(r.record.hashes.empty());
}

TEST(KeyRecord, Refusals) {
  EXPECT_EQ(parse_key_record("v=DKIM2; p=AAAA").error, "bad key record");
  EXPECT_EQ(parse_key_record("k=rsa; v=DKIM1; p=AAAA").error, "bad key record");  // v= not first
  EXPECT_EQ(parse_key_record("v=DKIM1; k=rsa").error, "bad key record");          // no p=
  EXPECT_EQ(parse_key_record("v=DKIM1; p=A!AA").error, "bad key record");
  EXPECT_EQ(parse_key_record("v=DKIM1; p=AA; p=AA").error, "bad key record");  // duplicate
  EXPECT_EQ(parse_key_record("v=DKIM1; k=dsa; p=AAAA").error, "unknown key type");
  // Base64 in p= may be folded (RFC 6376 §3.6.1 allows FWS in base64string).
  EXPECT_TRUE(parse_key_record("v=DKIM1; p=AA AA").ok());
}

}  // namespace
}  // namespace mailsim::auth
