// ARC sealing (RFC 8617 §5.1) through the public API: instance numbers and cv= values, what
// the ARC-Seal covers, the formats of the three fields, the refusals, and the arc= result
// text (RFC 8617 §10.1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth_fixtures.hpp"
#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

arc_seal_options options() {
  arc_seal_options o;
  o.domain = "lists.example";
  o.selector = "rsa";
  o.authserv_id = "mx.lists.example";
  return o;
}

arc_outcome with_status(arc_status s) {
  arc_outcome o;
  o.status = s;
  return o;
}

arc_seal_result seal(const std::string& message, const arc_outcome& chain,
                     const arc_seal_options& o = options(),
                     std::string_view payload = "spf=pass smtp.mailfrom=example.com",
                     const private_key& key = test::rsa2048_key()) {
  return arc_seal(message, key, o, chain, payload, test::test_now());
}

// The message sealed once more, with `cv` as the verdict.
std::string sealed(const std::string& message, arc_status cv) {
  arc_seal_result r = seal(message, with_status(cv));
  EXPECT_TRUE(r.ok()) << r.error.message();
  return r.fields + message;
}

// The three new fields, top first.
std::vector<std::string> fields_of(const arc_seal_result& r) {
  std::string copy = r.fields + "\r\n";
  std::vector<std::string> out;
  for (const header_field& f : split_message(copy).fields) out.emplace_back(f.raw);
  return out;
}

// name=value of every tag, in order, values without white space.
std::vector<std::string> tags_of(const std::string& raw) {
  std::string_view value(raw);
  value = value.substr(value.find(':') + 1);
  value.remove_suffix(2);
  tag_list tags = parse_tag_list(value);
  EXPECT_TRUE(tags.ok()) << raw;
  std::vector<std::string> out;
  for (const tag& t : tags.tags) out.push_back(std::string(t.name) + "=" + remove_fws(t.value));
  return out;
}

// Does the ARC-Seal of `r` verify over exactly `covered` (raw fields in order)?
bool seal_covers(const arc_seal_result& r, std::vector<std::string_view> covered) {
  std::vector<std::string> f = fields_of(r);
  covered.push_back(f[2]);  // the new AAR
  covered.push_back(f[1]);  // the new AMS
  arc_seal_tags t = parse_arc_seal(f[0]);
  EXPECT_TRUE(t.ok()) << t.error;
  const private_key& key = test::rsa2048_key();
  return verify_digest(key.type(), key.public_key_data(), arc_seal_digest(covered, t.without_b),
                       t.signature) == verify_outcome::good;
}

std::vector<std::string_view> sets_of(const std::string& message) {
  static std::vector<std::string> keep;  // the views below point into these copies
  keep.clear();
  message_parts parts = split_message(message);
  arc_chain c = parse_arc_chain(parts);
  EXPECT_TRUE(c.well_formed()) << c.error;
  for (const arc_set_fields& s : c.sets) {
    keep.emplace_back(s.aar->raw);
    keep.emplace_back(s.ams->raw);
    keep.emplace_back(s.seal->raw);
  }
  return {keep.begin(), keep.end()};
}

// ---- instance numbers and cv= ----

TEST(ArcSeal, FirstSetIsInstanceOneWithCvNone) {
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.instance, 1u);
  EXPECT_EQ(r.cv, arc_status::none);
  std::vector<std::string> f = fields_of(r);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_TRUE(f[0].starts_with("ARC-Seal: i=1; "));
  EXPECT_TRUE(f[1].starts_with("ARC-Message-Signature: i=1; "));
  EXPECT_TRUE(f[2].starts_with("ARC-Authentication-Results: i=1; "));
}

TEST(ArcSeal, NextSetsCountUpWithCvPass) {
  std::string m = sealed(test::sample_message(), arc_status::none);
  for (unsigned i = 2; i <= 4; ++i) {
    arc_seal_result r = seal(m, with_status(arc_status::pass));
    ASSERT_TRUE(r.ok()) << r.error.message();
    EXPECT_EQ(r.instance, i);
    EXPECT_EQ(tags_of(fields_of(r)[0])[3], "cv=pass");
    m = r.fields + m;
  }
}

TEST(ArcSeal, FailedChainGetsCvFail) {
  std::string m = sealed(test::sample_message(), arc_status::none);
  arc_seal_result r = seal(m, with_status(arc_status::fail));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cv, arc_status::fail);
  EXPECT_EQ(tags_of(fields_of(r)[0])[3], "cv=fail");
}

// ---- what the ARC-Seal covers (§5.1.1, §5.1.2) ----

TEST(ArcSeal, SealCoversEverySetInOrderThenItsOwn) {
  std::string m = sealed(sealed(test::sample_message(), arc_status::none), arc_status::pass);
  arc_seal_result r = seal(m, with_status(arc_status::pass));
  std::vector<std::string_view> all = sets_of(m);
  EXPECT_TRUE(seal_covers(r, all));
  std::vector<std::string_view> swapped = all;
  std::swap(swapped[0], swapped[3]);  // set 2's AAR before set 1's
  EXPECT_FALSE(seal_covers(r, swapped));
  EXPECT_FALSE(seal_covers(r, {}));
}

TEST(ArcSeal, SealOfAFailedChainCoversOnlyItsOwnSet) {
  std::string m = sealed(test::sample_message(), arc_status::none);
  arc_seal_result r = seal(m, with_status(arc_status::fail));
  EXPECT_TRUE(seal_covers(r, {}));
  EXPECT_FALSE(seal_covers(r, sets_of(m)));
}

// ---- formats ----

TEST(ArcSeal, AuthenticationResultsFormat) {
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none));
  EXPECT_EQ(fields_of(r)[2],
            "ARC-Authentication-Results: i=1; mx.lists.example;\r\n"
            "\tspf=pass smtp.mailfrom=example.com;\r\n"
            "\tarc=none\r\n");
}

TEST(ArcSeal, MessageSignatureFormat) {
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none));
  std::vector<std::string> t = tags_of(fields_of(r)[1]);
  std::string bh = core::base64_encode(*body_digest(
      canonicalize_body(canon::relaxed, split_message(test::sample_message()).body), std::nullopt));
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(std::vector<std::string>(t.begin(), t.end() - 1),
            (std::vector<std::string>{"i=1", "a=rsa-sha256", "c=relaxed/relaxed", "d=lists.example",
                                      "s=rsa", "t=1700000000",
                                      "h=from:subject:date:message-id:to:from", "bh=" + bh}));
  EXPECT_TRUE(t[8].starts_with("b="));
}

TEST(ArcSeal, MessageSignatureCoversDkimSignatures) {
  std::string m = test::signed_copy(test::rsa2048_key(), test::options_for("example.com", "s"),
                                    test::sample_message());
  arc_seal_result r = seal(m, with_status(arc_status::none));
  EXPECT_EQ(tags_of(fields_of(r)[1])[6], "h=from:subject:date:message-id:to:dkim-signature:from");
}

TEST(ArcSeal, SealFormat) {
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none));
  std::vector<std::string> t = tags_of(fields_of(r)[0]);
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(std::vector<std::string>(t.begin(), t.end() - 1),
            (std::vector<std::string>{"i=1", "a=rsa-sha256", "t=1700000000", "cv=none",
                                      "d=lists.example", "s=rsa"}));
  std::string b = t[6].substr(2);
  EXPECT_EQ(core::base64_decode(b)->size(), 256u);  // RSA-2048
}

TEST(ArcSeal, Ed25519KeyMakesEd25519Signatures) {
  arc_seal_options o = options();
  o.selector = "ed";
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none), o,
                           "spf=pass smtp.mailfrom=example.com", test::ed25519_key());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(tags_of(fields_of(r)[0])[1], "a=ed25519-sha256");
  EXPECT_EQ(tags_of(fields_of(r)[1])[1], "a=ed25519-sha256");
}

TEST(ArcSeal, LinesAreFoldedWithinSeventyEightColumns) {
  std::string m = sealed(sealed(test::sample_message(), arc_status::none), arc_status::pass);
  arc_seal_result r = seal(m, with_status(arc_status::pass));
  std::string_view text = r.fields;
  std::size_t lines = 0;
  while (!text.empty()) {
    std::size_t eol = text.find("\r\n");
    ASSERT_NE(eol, std::string_view::npos);
    EXPECT_LE(eol, 78u) << text.substr(0, eol);
    EXPECT_EQ(text.substr(0, eol).find_first_of("\r\n"), std::string_view::npos);
    text.remove_prefix(eol + 2);
    ++lines;
  }
  EXPECT_GT(lines, 6u);
}

TEST(ArcSeal, WithoutTimestampThereIsNoT) {
  arc_seal_options o = options();
  o.timestamp = false;
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none), o);
  for (int k : {0, 1}) {
    for (const std::string& t : tags_of(fields_of(r)[k])) EXPECT_FALSE(t.starts_with("t="));
  }
}

TEST(ArcSeal, SameInputSameFields) {
  arc_seal_result a = seal(test::sample_message(), with_status(arc_status::none));
  arc_seal_result b = seal(test::sample_message(), with_status(arc_status::none));
  EXPECT_EQ(a.fields, b.fields);
}

// ---- the AAR's results ----

TEST(ArcSealResults, ArcResultIsNotAddedTwice) {
  arc_seal_result r =
      seal(sealed(test::sample_message(), arc_status::none), with_status(arc_status::pass),
           options(), "dkim=pass header.d=example.com; ARC = pass");
  EXPECT_EQ(fields_of(r)[2],
            "ARC-Authentication-Results: i=2; mx.lists.example;\r\n"
            "\tdkim=pass header.d=example.com;\r\n"
            "\tARC = pass\r\n");
}

TEST(ArcSealResults, RemoteIpGoesIntoTheArcResult) {
  arc_seal_options o = options();
  o.remote_ip = "2001:db8::25";
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none), o, "");
  EXPECT_EQ(fields_of(r)[2],
            "ARC-Authentication-Results: i=1; mx.lists.example;\r\n"
            "\tarc=none smtp.remote-ip=\"2001:db8::25\"\r\n");
}

TEST(ArcSealResults, NothingToRecordIsNone) {
  arc_seal_options o = options();
  o.record_arc_result = false;
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none), o, "  ");
  EXPECT_EQ(fields_of(r)[2], "ARC-Authentication-Results: i=1; mx.lists.example; none\r\n");
}

TEST(ArcSealResults, SemicolonsInQuotesAndCommentsDoNotSplit) {
  arc_seal_options o = options();
  o.record_arc_result = false;
  arc_seal_result r = seal(test::sample_message(), with_status(arc_status::none), o,
                           "dkim=fail reason=\"a; b\" (c; d);\r\n spf=pass");
  EXPECT_EQ(fields_of(r)[2],
            "ARC-Authentication-Results: i=1; mx.lists.example;\r\n"
            "\tdkim=fail reason=\"a; b\" (c; d);\r\n"
            "\tspf=pass\r\n");
}

TEST(ArcSealResults, LineBreaksThatAreNotFoldsAreRefused) {
  for (std::string_view payload : {"spf=pass\r\nX-Injected: yes", "spf=pass\n", "spf=\x01pass"}) {
    arc_seal_result r =
        seal(test::sample_message(), with_status(arc_status::none), options(), payload);
    EXPECT_EQ(r.error, arc_errc::bad_authres) << payload;
  }
  arc_seal_options o = options();
  o.authserv_id = "mx\r\n.example";
  EXPECT_EQ(seal(test::sample_message(), with_status(arc_status::none), o).error,
            arc_errc::bad_authres);
}

// ---- refusals ----

TEST(ArcSealRefuses, ToContinueAClosedChain) {
  std::string m = sealed(sealed(test::sample_message(), arc_status::none), arc_status::fail);
  for (arc_status s : {arc_status::pass, arc_status::fail}) {
    EXPECT_EQ(seal(m, with_status(s)).error, arc_errc::chain_closed);
  }
}

TEST(ArcSealRefuses, AFiftyFirstSet) {
  arc_seal_options o = options();
  o.selector = "ed";
  std::string m = test::sample_message();
  for (int k = 1; k <= 50; ++k) {
    arc_seal_result r = seal(m, with_status(k == 1 ? arc_status::none : arc_status::pass), o, "",
                             test::ed25519_key());
    ASSERT_TRUE(r.ok()) << k;
    m = r.fields + m;
  }
  EXPECT_EQ(seal(m, with_status(arc_status::pass)).error, arc_errc::chain_too_long);
  EXPECT_EQ(seal(m, with_status(arc_status::fail)).error, arc_errc::chain_too_long);
}

TEST(ArcSealRefuses, AnOutcomeThatDoesNotFitTheMessage) {
  std::string bare = test::sample_message();
  std::string one = sealed(bare, arc_status::none);
  EXPECT_EQ(seal(bare, with_status(arc_status::pass)).error, arc_errc::chain_mismatch);
  EXPECT_EQ(seal(bare, with_status(arc_status::fail)).error, arc_errc::chain_mismatch);
  EXPECT_EQ(seal(one, with_status(arc_status::none)).error, arc_errc::chain_mismatch);
  // pass over a malformed chain: the seal could not cover its sets.
  std::string broken = one;
  broken.erase(0, broken.find("ARC-Message-Signature"));  // drop the ARC-Seal
  EXPECT_EQ(seal(broken, with_status(arc_status::pass)).error, arc_errc::chain_mismatch);
  EXPECT_TRUE(seal(broken, with_status(arc_status::fail)).ok());
}

TEST(ArcSealRefuses, BadOptionsAndMessagesWithoutFrom) {
  arc_seal_options bad_domain = options();
  bad_domain.domain = "lists..example";
  EXPECT_EQ(seal(test::sample_message(), {}, bad_domain).error, errc::invalid_option);
  arc_seal_options arc_header = options();
  arc_header.headers.push_back("ARC-Seal");
  EXPECT_EQ(seal(test::sample_message(), {}, arc_header).error, errc::invalid_option);
  std::string no_from = "To: a@example.com\r\n\r\nbody\r\n";
  EXPECT_EQ(seal(no_from, {}).error, errc::no_from_field);
}

// ---- the arc= result text ----

TEST(ArcAuthresText, EachStatus) {
  arc_outcome o;
  EXPECT_EQ(authres_text(o), "arc=none");
  o.status = arc_status::pass;
  EXPECT_EQ(authres_text(o, "192.0.2.1"), "arc=pass smtp.remote-ip=192.0.2.1");
  o.oldest_pass = 3;
  EXPECT_EQ(authres_text(o), "arc=pass header.oldest-pass=3");
  o.status = arc_status::fail;
  o.reason = "i=1: \"quoted\"";
  EXPECT_EQ(authres_text(o, "2001:db8::1"),
            "arc=fail reason=\"i=1: \\\"quoted\\\"\" smtp.remote-ip=\"2001:db8::1\"");
}

TEST(ArcStatus, Words) {
  EXPECT_STREQ(to_string(arc_status::none), "none");
  EXPECT_STREQ(to_string(arc_status::pass), "pass");
  EXPECT_STREQ(to_string(arc_status::fail), "fail");
  EXPECT_EQ(make_error_code(arc_errc::chain_closed).category().name(),
            std::string("mailsim.auth.arc"));
}

}  // namespace
}  // namespace mailsim::auth
