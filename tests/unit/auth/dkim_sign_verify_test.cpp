// Signing and verifying through the public API, as a sending MTA and a receiving one would:
// round trips for every algorithm and canonicalization, then each way a signature must fail
// or be refused, with the reason the result carries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth_fixtures.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/auth/tag_list.hpp"

namespace mailsim::auth {
namespace {

using test::fake_resolver;
using test::key_name;
using test::verify_all;

constexpr const char* domain = "football.example.com";

struct world {
  fake_resolver dns;
  world() {
    dns.add_txt(key_name("rsa", domain), {test::rsa2048_key().dns_record()});
    dns.add_txt(key_name("ed", domain), {test::ed25519_key().dns_record()});
  }
};

std::string sign(const private_key& key, const sign_options& o,
                 const std::string& message = test::sample_message()) {
  return test::signed_copy(key, o, message);
}

sign_options rsa_options() {
  return test::options_for(domain, "rsa");
}
sign_options ed_options() {
  return test::options_for(domain, "ed");
}

dkim_result only(const std::vector<dkim_result>& results) {
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? dkim_result{} : results.front();
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The value of tag `name` in the first DKIM-Signature field of `message`.
std::string tag_value(const std::string& message, std::string_view name) {
  message_parts parts = split_message(message);
  std::string_view raw = parts.fields.front().raw;
  raw.remove_suffix(2);  // the final CRLF
  tag_list tags = parse_tag_list(raw.substr(raw.find(':') + 1));
  const tag* t = tags.find(name);
  return t ? remove_fws(t->value) : std::string();
}

TEST(DkimRoundTrip, EveryAlgorithmAndCanonicalizationPasses) {
  world w;
  for (bool ed : {false, true}) {
    for (canon hc : {canon::simple, canon::relaxed}) {
      for (canon bc : {canon::simple, canon::relaxed}) {
        sign_options o = ed ? ed_options() : rsa_options();
        o.header_canon = hc;
        o.body_canon = bc;
        dkim_result r =
            only(verify_all(sign(ed ? test::ed25519_key() : test::rsa2048_key(), o), w.dns));
        std::string where = std::string(ed ? "ed25519 " : "rsa ") +
                            (hc == canon::simple ? "simple/" : "relaxed/") +
                            (bc == canon::simple ? "simple" : "relaxed");
        EXPECT_EQ(r.status, dkim_status::pass) << where << ": " << r.reason;
        EXPECT_EQ(authres_text(r), std::string("dkim=pass header.d=football.example.com") +
                                       (ed ? " header.s=ed header.a=ed25519-sha256"
                                           : " header.s=rsa header.a=rsa-sha256"))
            << where;
      }
    }
  }
}

TEST(DkimRoundTrip, Rsa1024And4096KeysWork) {
  for (unsigned bits : {1024u, 4096u}) {
    private_key key =
        bits == 1024 ? test::rsa1024_key() : test::make_key(key_type::rsa, bits, 4096);
    fake_resolver dns;
    dns.add_txt(key_name("k", domain), {key.dns_record()});
    dkim_result r = only(verify_all(sign(key, test::options_for(domain, "k")), dns));
    EXPECT_EQ(r.status, dkim_status::pass) << bits << ": " << r.reason;
  }
}

TEST(DkimSigner, FieldIsFoldedAt78ColumnsAndListsHeadersAsPresent) {
  sign_options o = rsa_options();
  o.identity = "joe@football.example.com";
  o.expire_after = std::chrono::hours(24);
  sign_result r =
      dkim_signer(test::rsa2048_key(), o).sign(test::sample_message(), test::test_now());
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_TRUE(r.field.ends_with("\r\n"));
  std::size_t pos = 0;
  int lines = 0;
  while (pos < r.field.size()) {
    std::size_t eol = r.field.find("\r\n", pos);
    EXPECT_LE(eol - pos, 78u) << r.field.substr(pos, eol - pos);
    if (lines > 0) {
      EXPECT_EQ(r.field[pos], ' ');
    }
    pos = eol + 2;
    ++lines;
  }
  EXPECT_GT(lines, 4);  // a 2048-bit b= alone needs five lines
  std::string message = r.field + test::sample_message();
  // Default list: every present name once, From once more (RFC 6376 §8.15).
  EXPECT_EQ(tag_value(message, "h"), "from:subject:date:message-id:to:from");
  EXPECT_EQ(tag_value(message, "t"), "1700000000");
  EXPECT_EQ(tag_value(message, "x"), "1700086400");
  EXPECT_EQ(tag_value(message, "i"), "joe@football.example.com");
  EXPECT_EQ(tag_value(message, "c"), "relaxed/relaxed");
  world w;
  EXPECT_EQ(only(verify_all(message, w.dns)).status, dkim_status::pass);
}

TEST(DkimSigner, FromIsAlwaysSignedAndOversigned) {
  sign_options o = rsa_options();
  o.headers = {"subject", "to", "to"};
  o.oversign = {"subject"};
  std::string message = sign(test::rsa2048_key(), o);
  EXPECT_EQ(tag_value(message, "h"), "from:subject:to:from:subject");
}

TEST(DkimSigner, RefusesBadOptionsAndMessagesWithoutFrom) {
  const std::string msg = test::sample_message();
  auto error_of = [&](sign_options o, const std::string& m) {
    return dkim_signer(test::ed25519_key(), std::move(o)).sign(m, test::test_now()).error;
  };
  sign_options bad_domain = ed_options();
  bad_domain.domain = "exa mple.com";
  EXPECT_EQ(error_of(bad_domain, msg), make_error_code(errc::invalid_option));
  sign_options bad_identity = ed_options();
  bad_identity.identity = "joe@example.org";
  EXPECT_EQ(error_of(bad_identity, msg), make_error_code(errc::invalid_option));
  sign_options bad_header = ed_options();
  bad_header.headers = {"from", "x:y"};
  EXPECT_EQ(error_of(bad_header, msg), make_error_code(errc::invalid_option));
  EXPECT_EQ(error_of(ed_options(), replace(msg, "From:", "Sender:")),
            make_error_code(errc::no_from_field));
}

TEST(DkimVerify, ChangedSignedHeaderFails) {
  world w;
  for (canon c : {canon::simple, canon::relaxed}) {
    sign_options o = rsa_options();
    o.header_canon = c;
    std::string changed = replace(sign(test::rsa2048_key(), o), "dinner", "lunch");
    dkim_result r = only(verify_all(changed, w.dns));
    EXPECT_EQ(r.status, dkim_status::fail);
    EXPECT_EQ(r.reason, "signature did not verify");
    EXPECT_EQ(authres_text(r),
              "dkim=fail reason=\"signature did not verify\" header.d=football.example.com "
              "header.s=rsa header.a=rsa-sha256");
  }
}

TEST(DkimVerify, WhiteSpaceChangesPassOnlyRelaxed) {
  world w;
  for (canon c : {canon::simple, canon::relaxed}) {
    sign_options o = ed_options();
    o.header_canon = c;
    o.body_canon = c;
    std::string message = sign(test::ed25519_key(), o);
    message = replace(message, "Subject: Is dinner", "Subject:  Is \t dinner");
    message = replace(message, "hungry yet?\r\n", "hungry  yet? \t\r\n");
    message += " \r\n\r\n";
    dkim_result r = only(verify_all(message, w.dns));
    EXPECT_EQ(r.status, c == canon::relaxed ? dkim_status::pass : dkim_status::fail) << r.reason;
  }
}

TEST(DkimVerify, ChangedBodyFailsOnTheBodyHash) {
  world w;
  for (bool ed : {false, true}) {
    std::string changed = replace(
        sign(ed ? test::ed25519_key() : test::rsa2048_key(), ed ? ed_options() : rsa_options()),
        "We lost", "We won");
    dkim_result r = only(verify_all(changed, w.dns));
    EXPECT_EQ(r.status, dkim_status::fail);
    EXPECT_EQ(r.reason, "body hash did not verify");
  }
}

TEST(DkimVerify, AddedHeaderInstances) {
  world w;
  std::string message = sign(test::rsa2048_key(), rsa_options());
  // An unsigned field, or another instance of a field signed only as present (To), does not
  // break the signature: the verifier selects instances bottom up, so a new one at the top
  // is not selected...
  EXPECT_EQ(only(verify_all("X-Spam: no\r\n" + message, w.dns)).status, dkim_status::pass);
  EXPECT_EQ(only(verify_all("To: eve@example.net\r\n" + message, w.dns)).status, dkim_status::pass);
  // ...but a second From is selected by the over-signed entry and breaks it.
  EXPECT_EQ(only(verify_all("From: eve@example.net\r\n" + message, w.dns)).status,
            dkim_status::fail);
  // Appended at the bottom, an added To is what the verifier selects: fail.
  std::string bottom = replace(message, "\r\n\r\nHi.", "\r\nTo: eve@example.net\r\n\r\nHi.");
  EXPECT_EQ(only(verify_all(bottom, w.dns)).status, dkim_status::fail);
}

TEST(DkimVerify, BodyLengthCoversOnlyWhatWasSigned) {
  world w;
  sign_options o = rsa_options();
  o.body_length = true;
  std::string message = sign(test::rsa2048_key(), o);
  EXPECT_EQ(tag_value(message, "l"), "54");  // the relaxed canonical body of the sample
  std::string appended = message + "P.S. appended by a mailing list\r\n";
  EXPECT_EQ(only(verify_all(appended, w.dns)).status, dkim_status::pass);
  verify_options strict;
  strict.accept_body_length = false;
  dkim_result refused = only(verify_all(appended, w.dns, test::test_now(), strict));
  EXPECT_EQ(refused.status, dkim_status::policy);
  EXPECT_EQ(refused.reason, "l= not accepted");
  // Without l= the same appendix breaks the body hash.
  std::string whole = sign(test::rsa2048_key(), rsa_options()) + "P.S.\r\n";
  EXPECT_EQ(only(verify_all(whole, w.dns)).reason, "body hash did not verify");
  // A body shorter than l= cannot have been what was signed.
  std::string shorter = replace(message, "Joe.\r\n", "");
  dkim_result cut = only(verify_all(shorter, w.dns));
  EXPECT_EQ(cut.status, dkim_status::permerror);
  EXPECT_EQ(cut.reason, "l= exceeds body length");
}

TEST(DkimVerify, ExpiryUsesTheInjectedClockWithSkew) {
  world w;
  sign_options o = ed_options();
  o.expire_after = std::chrono::hours(1);
  std::string message = sign(test::ed25519_key(), o);
  using std::chrono::minutes;
  EXPECT_EQ(only(verify_all(message, w.dns, test::test_now() + minutes(59))).status,
            dkim_status::pass);
  // Within the default 300 s skew after x=: still accepted.
  EXPECT_EQ(only(verify_all(message, w.dns, test::test_now() + minutes(64))).status,
            dkim_status::pass);
  dkim_result late = only(verify_all(message, w.dns, test::test_now() + minutes(66)));
  EXPECT_EQ(late.status, dkim_status::permerror);
  EXPECT_EQ(late.reason, "signature expired");
  EXPECT_TRUE(w.dns.asked().size() == 2u) << "no key lookup for an expired signature";
  dkim_result early = only(verify_all(message, w.dns, test::test_now() - minutes(10)));
  EXPECT_EQ(early.reason, "signature in the future");
}

TEST(DkimVerify, KeyRecordConditions) {
  std::string rsa_signed = sign(test::rsa2048_key(), rsa_options());
  std::string p = test::rsa2048_key().dns_record();
  p = p.substr(p.find("p="));
  struct record_case {
    std::string record;
    dkim_status status;
    const char* reason;
  };
  const record_case cases[] = {
      {"v=DKIM1; k=rsa; p=", dkim_status::permerror, "key revoked"},
      {"v=DKIM1; k=rsa; h=sha1; " + p, dkim_status::permerror, "key does not allow sha256"},
      {"v=DKIM1; k=rsa; h=sha1:sha256; " + p, dkim_status::pass, ""},
      {"v=DKIM1; k=ed25519; " + p, dkim_status::permerror, "key type does not match a="},
      {"v=DKIM1; s=other; " + p, dkim_status::permerror, "key not for email"},
      {"v=DKIM1; s=email:other; " + p, dkim_status::pass, ""},
      {"v=DKIM1; s=*; " + p, dkim_status::pass, ""},
      {"v=DKIM1; k=rsa; p=AAAA", dkim_status::permerror, "bad key record"},
      {"v=DKIM1; p=AA; p=AA", dkim_status::permerror, "bad key record"},
      {"v=DKIM1; k=foo; " + p, dkim_status::permerror, "unknown key type"},
      {p, dkim_status::pass, ""},  // v= and k= are optional
  };
  for (const record_case& c : cases) {
    fake_resolver dns;
    dns.add_txt(key_name("rsa", domain), {c.record});
    dkim_result r = only(verify_all(rsa_signed, dns));
    EXPECT_EQ(r.status, c.status) << c.record;
    EXPECT_EQ(r.reason, c.reason) << c.record;
  }
}

TEST(DkimVerify, TestingFlagIsReported) {
  fake_resolver dns;
  dns.add_txt(key_name("ed", domain), {test::ed25519_key().dns_record() + "; t=y"});
  dkim_result r = only(verify_all(sign(test::ed25519_key(), ed_options()), dns));
  EXPECT_EQ(r.status, dkim_status::pass);
  EXPECT_TRUE(r.testing);
}

TEST(DkimVerify, StrictKeyNeedsIdentityInTheDomainItself) {
  fake_resolver dns;
  dns.add_txt(key_name("ed", domain), {test::ed25519_key().dns_record() + "; t=s"});
  sign_options sub = ed_options();
  sub.identity = "joe@mail.football.example.com";
  dkim_result r = only(verify_all(sign(test::ed25519_key(), sub), dns));
  EXPECT_EQ(r.status, dkim_status::permerror);
  EXPECT_EQ(r.reason, "i= must equal d= (t=s)");
  sign_options same = ed_options();
  same.identity = "joe@Football.Example.com";
  EXPECT_EQ(only(verify_all(sign(test::ed25519_key(), same), dns)).status, dkim_status::pass);
}

// Made with dkimpy 1.1.4 (which still signs rsa-sha1): a valid rsa-sha1 signature.
constexpr std::string_view rsa_sha1_signed =
    "DKIM-Signature: v=1; a=rsa-sha1; c=relaxed/relaxed; d=example.com;\r\n"
    " i=@example.com; q=dns/txt; s=sha1; t=1795700466; h=from : to :\r\n"
    " subject; bh=2+689OSH6dJ8r+u45EO4VHIBWe8=;\r\n"
    " b=k39vzbNTSLDMOq8THtaZ1z8WnvHmk80qK+Sdxl0rKeVblzLSi9h/y7qNx+8DW690c+7b3\r\n"
    " 35NJuqtbiswnvxfHfm82iqzcsF1s2aw39qIOS9HErwE5+r/9LmkyzJSxskqSUbGRWN+unN/\r\n"
    " SvemuvwBj5UxAs2qJ0IQvxmH7gL7F2Y=\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: vectors\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "Hello.\r\n";

// Made with dkimpy 1.1.4 with a 512-bit RSA key (it signs with those when told minkey=256).
constexpr std::string_view short_key_signed =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n"
    " i=@example.com; q=dns/txt; s=short; t=1795700466; h=from : to :\r\n"
    " subject; bh=yZQq1c8wjBl0fZ4Wc/oraMCAG1mZJv5v/hlvyFy+t6A=;\r\n"
    " b=renHluBXwCEfMRUlDIOswSOI23e04sv+dAVwVIcCSKs4wknz+p8JWOBJ9KFrmCb8xh7J6\r\n"
    " JKFjGOaPdNRgHt+zw==\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: vectors\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "Hello.\r\n";
constexpr const char* short_key_record =
    "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALmjxx6ewY8m4Kr4n3LkvHyot+vMj22zXVTA/GRD"
    "4vXfngCL+5SEe2MaHJPxdkKTVfrwbg/MIU/+FqEFmyfNvhsCAwEAAQ==";
const core::time_point vectors_now = core::from_epoch_ms(1'795'700'500'000);

TEST(DkimVerify, RsaSha1IsRefusedWithoutAKeyLookup) {
  fake_resolver dns;
  dkim_result r = only(verify_all(std::string(rsa_sha1_signed), dns, vectors_now));
  EXPECT_EQ(r.status, dkim_status::permerror);
  EXPECT_EQ(r.reason, "rsa-sha1 not accepted (RFC 8301)");
  EXPECT_EQ(authres_text(r),
            "dkim=permerror reason=\"rsa-sha1 not accepted (RFC 8301)\" header.d=example.com "
            "header.s=sha1 header.a=rsa-sha1");
  EXPECT_TRUE(dns.asked().empty());
}

TEST(DkimVerify, ShortRsaKeyIsPermerror) {
  fake_resolver dns;
  dns.add_txt(key_name("short", "example.com"), {short_key_record});
  std::string message(short_key_signed);
  dkim_result r = only(verify_all(message, dns, vectors_now));
  EXPECT_EQ(r.status, dkim_status::permerror);
  EXPECT_EQ(r.reason, "key too short");
  // The signature itself is good: with the floor lowered, it passes.
  verify_options lax;
  lax.rsa_bits_floor = 512;
  EXPECT_EQ(only(verify_all(message, dns, vectors_now, lax)).status, dkim_status::pass);
}

TEST(DkimVerify, DnsOutcomes) {
  std::string message = sign(test::ed25519_key(), ed_options());
  struct dns_case {
    core::dns_status status;
    dkim_status result;
    const char* reason;
  };
  const dns_case cases[] = {
      {core::dns_status::servfail, dkim_status::temperror, "key lookup failed"},
      {core::dns_status::timeout, dkim_status::temperror, "key lookup timed out"},
      {core::dns_status::nxdomain, dkim_status::permerror, "no key"},
      {core::dns_status::nodata, dkim_status::permerror, "no key"},
  };
  for (const dns_case& c : cases) {
    fake_resolver dns;
    dns.set_status(key_name("ed", domain), c.status);
    dkim_result r = only(verify_all(message, dns));
    EXPECT_EQ(r.status, c.result) << c.reason;
    EXPECT_EQ(r.reason, c.reason);
    EXPECT_EQ(dns.asked(), std::vector<std::string>{key_name("ed", domain)});
  }
}

TEST(DkimVerify, SeveralKeyRecordsAreTriedInTurn) {
  std::string message = sign(test::ed25519_key(), ed_options());
  fake_resolver dns;
  dns.add_txt(key_name("ed", domain),
              {"v=spf1 -all", test::make_key(key_type::ed25519, 0, 99).dns_record(),
               test::ed25519_key().dns_record()});
  EXPECT_EQ(only(verify_all(message, dns)).status, dkim_status::pass);
  verify_options one;
  one.key_records_max = 1;
  dkim_result r = only(verify_all(message, dns, test::test_now(), one));
  EXPECT_EQ(r.status, dkim_status::permerror);  // the first record's result stands
  EXPECT_EQ(r.reason, "bad key record");
}

TEST(DkimVerify, SeveralSignaturesOneGoodOneBad) {
  world w;
  w.dns.add_txt(key_name("stale", domain), {test::make_key(key_type::ed25519, 0, 5).dns_record()});
  std::string message = sign(test::rsa2048_key(), rsa_options());
  message = test::signed_copy(test::ed25519_key(), test::options_for(domain, "stale"), message);
  message = test::signed_copy(test::ed25519_key(), test::options_for(domain, "missing"), message);
  std::vector<dkim_result> results = verify_all(message, w.dns);
  ASSERT_EQ(results.size(), 3u);  // top first: the last one added
  EXPECT_EQ(results[0].status, dkim_status::permerror);
  EXPECT_EQ(results[0].reason, "no key");
  EXPECT_EQ(results[1].status, dkim_status::fail);
  EXPECT_EQ(results[1].reason, "signature did not verify");
  EXPECT_EQ(results[2].status, dkim_status::pass);
  EXPECT_EQ(results[2].selector, "rsa");
}

TEST(DkimVerify, OneLookupPerKeyName) {
  world w;
  sign_options relaxed = ed_options();
  sign_options simple = ed_options();
  simple.header_canon = simple.body_canon = canon::simple;
  std::string message =
      test::signed_copy(test::ed25519_key(), simple, sign(test::ed25519_key(), relaxed));
  std::vector<dkim_result> results = verify_all(message, w.dns);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, dkim_status::pass);
  EXPECT_EQ(results[1].status, dkim_status::pass);
  EXPECT_EQ(w.dns.asked().size(), 1u);
}

TEST(DkimVerify, SignatureLimit) {
  world w;
  std::string message = test::sample_message();
  for (int i = 0; i < 3; ++i) message = sign(test::ed25519_key(), ed_options(), message);
  verify_options two;
  two.signatures_max = 2;
  std::vector<dkim_result> results = verify_all(message, w.dns, test::test_now(), two);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].status, dkim_status::pass);
  EXPECT_EQ(results[2].status, dkim_status::policy);
  EXPECT_EQ(results[2].reason, "too many signatures");
}

TEST(DkimVerify, ASignatureMaySignAnEarlierOne) {
  // The second signer signs the first DKIM-Signature, over-signed; the field being verified
  // must not count as one of the instances (it did not exist when it was made).
  world w;
  std::string message = sign(test::rsa2048_key(), rsa_options());
  sign_options o = ed_options();
  o.headers = {"from", "dkim-signature"};
  o.oversign = {"from", "dkim-signature"};
  message = test::signed_copy(test::ed25519_key(), o, message);
  EXPECT_EQ(tag_value(message, "h"), "from:dkim-signature:from:dkim-signature");
  std::vector<dkim_result> results = verify_all(message, w.dns);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, dkim_status::pass) << results[0].reason;
  EXPECT_EQ(results[1].status, dkim_status::pass) << results[1].reason;
}

TEST(DkimVerify, UnsignedMessageAnswersAtOnce) {
  fake_resolver dns;
  EXPECT_TRUE(verify_all(test::sample_message(), dns).empty());
  EXPECT_TRUE(dns.asked().empty());
}

TEST(DkimVerify, SansIoVerificationTakesAnswersByName) {
  std::string message = sign(test::ed25519_key(), ed_options());
  dkim_verification v(message, test::test_now());
  ASSERT_EQ(v.key_queries(), std::vector<std::string>{key_name("ed", domain)});
  EXPECT_FALSE(v.complete());
  core::dns_answer answer;
  answer.status = core::dns_status::ok;
  answer.records = {test::ed25519_key().dns_record()};
  v.on_key_answer("other.example", answer);  // not asked: ignored
  EXPECT_FALSE(v.complete());
  v.on_key_answer("ED._domainkey.Football.Example.com.", answer);
  EXPECT_TRUE(v.complete());
  EXPECT_EQ(v.results().at(0).status, dkim_status::pass);
}

TEST(DkimSignField, CompletesACallerWrittenField) {
  // A field laid out by hand (as published examples are): b= is computed over it as is.
  std::string message = test::sample_message();
  std::string body_hash = tag_value(sign(test::ed25519_key(), ed_options()), "bh");
  std::string field =
      "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
      "  d=football.example.com; s=ed; h=From : Subject;\r\n"
      "  bh=" +
      body_hash + "; b=";
  sign_result r = sign_field(test::ed25519_key(), message, field);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.field.rfind(field, 0), 0u);
  world w;
  EXPECT_EQ(only(verify_all(r.field + message, w.dns)).status, dkim_status::pass);
  // The wrong algorithm for the key, or b= not last: refused.
  EXPECT_FALSE(sign_field(test::rsa2048_key(), message, field).ok());
  EXPECT_FALSE(sign_field(test::ed25519_key(), message, field + "AAAA").ok());
}

}  // namespace
}  // namespace mailsim::auth
