// The reporting side of SPF: result words, the RFC 8601 resinfo and the RFC 7208 §9.1
// Received-SPF field (values as dot-atoms or quoted-strings, comments escaped).
#include <gtest/gtest.h>

#include "reference-server/auth/spf.hpp"

namespace mailsim::auth {
namespace {

spf_outcome outcome(spf_result r, const char* identity = "mailfrom") {
  spf_outcome o;
  o.result = r;
  o.identity = identity;
  o.domain = "example.com";
  o.sender = "myname@example.com";
  return o;
}

spf_request request() {
  spf_request r;
  r.ip = *core::parse_ip("192.0.2.1");
  r.mail_from = "myname@example.com";
  r.helo = "foo.example.com";
  r.receiver = "mybox.example.org";
  return r;
}

TEST(SpfResult, Words) {
  EXPECT_STREQ(to_string(spf_result::none), "none");
  EXPECT_STREQ(to_string(spf_result::neutral), "neutral");
  EXPECT_STREQ(to_string(spf_result::pass), "pass");
  EXPECT_STREQ(to_string(spf_result::fail), "fail");
  EXPECT_STREQ(to_string(spf_result::softfail), "softfail");
  EXPECT_STREQ(to_string(spf_result::temperror), "temperror");
  EXPECT_STREQ(to_string(spf_result::permerror), "permerror");
}

TEST(SpfAuthres, MailFromAndHelo) {
  EXPECT_EQ(authres_text(outcome(spf_result::pass)), "spf=pass smtp.mailfrom=example.com");
  spf_outcome helo = outcome(spf_result::fail, "helo");
  helo.domain = "foo.example.com";
  EXPECT_EQ(authres_text(helo), "spf=fail smtp.helo=foo.example.com");
  spf_outcome literal = outcome(spf_result::none, "helo");
  literal.domain = "[192.0.2.1]";
  EXPECT_EQ(authres_text(literal), "spf=none smtp.helo=\"[192.0.2.1]\"");
}

TEST(SpfReceivedSpf, PassLikeTheRfcExample) {
  spf_outcome o = outcome(spf_result::pass);
  o.mechanism = "ip4:192.0.2.0/24";
  EXPECT_EQ(received_spf(o, request()),
            "Received-SPF: pass (mybox.example.org: domain of myname@example.com designates "
            "192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
            "envelope-from=\"myname@example.com\"; helo=foo.example.com; "
            "receiver=mybox.example.org; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"");
}

TEST(SpfReceivedSpf, ErrorsCarryTheProblemAndNullSenderHasNoEnvelopeFrom) {
  spf_outcome o = outcome(spf_result::permerror, "helo");
  o.problem = "unknown mechanism 'moo' in \"x\"";
  spf_request r = request();
  r.mail_from = "";
  const std::string field = received_spf(o, r);
  EXPECT_EQ(field.find("envelope-from"), std::string::npos) << field;
  EXPECT_NE(field.find("identity=helo"), std::string::npos) << field;
  EXPECT_NE(field.find("problem=\"unknown mechanism 'moo' in \\\"x\\\"\""), std::string::npos)
      << field;
  EXPECT_EQ(field.find('\r'), std::string::npos);
}

TEST(SpfReceivedSpf, CommentAndValuesAreEscaped) {
  spf_outcome o = outcome(spf_result::neutral);
  o.sender = "we(ird)\\@example.com";
  spf_request r = request();
  r.helo = "JUMPIN' JUPITER\r\n";
  r.ip = *core::parse_ip("2001:db8::1");
  const std::string field = received_spf(o, r);
  EXPECT_NE(field.find("we\\(ird\\)\\\\@example.com"), std::string::npos) << field;
  EXPECT_NE(field.find("helo=\"JUMPIN' JUPITER??\""), std::string::npos) << field;
  EXPECT_NE(field.find("client-ip=\"2001:db8::1\""), std::string::npos) << field;
  EXPECT_EQ(field.find("mechanism="), std::string::npos);  // none matched
}

}  // namespace
}  // namespace mailsim::auth
