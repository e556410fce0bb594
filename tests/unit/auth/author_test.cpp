// author_domain(): the RFC5322.From domain that signing keys and DMARC go by.
#include <gtest/gtest.h>

#include "reference-server/auth/author.hpp"

namespace mailsim::auth {
namespace {

TEST(author_domain, reads_the_address_in_every_usual_form) {
  EXPECT_EQ(author_domain("From: a@Example.TEST\r\n\r\nx"), "example.test");
  EXPECT_EQ(author_domain("Subject: s\r\nfrom: Alice <alice@mail.example.test>\r\n\r\n"),
            "mail.example.test");
  EXPECT_EQ(author_domain("From: \"Smith, J <j@evil.test>\" <j@good.test>\r\n\r\n"), "good.test");
  EXPECT_EQ(author_domain("From: (comment a@evil.test) a@good.test\r\n\r\n"), "good.test");
  EXPECT_EQ(author_domain("From: Alice\r\n <alice@folded.test>\r\n\r\n"), "folded.test");
}

TEST(author_domain, refuses_what_has_no_single_author) {
  EXPECT_EQ(author_domain("To: a@b.test\r\n\r\n"), std::nullopt);                    // none
  EXPECT_EQ(author_domain("From: a@x.test\r\nFrom: b@y.test\r\n\r\n"), std::nullopt);  // two fields
  EXPECT_EQ(author_domain("From: a@x.test, b@y.test\r\n\r\n"), std::nullopt);        // two addresses
  EXPECT_EQ(author_domain("From: team: a@x.test;\r\n\r\n"), std::nullopt);           // a group
  EXPECT_EQ(author_domain("From: nobody\r\n\r\n"), std::nullopt);                    // no domain
  EXPECT_EQ(author_domain("From: a@[192.0.2.1]\r\n\r\n"), std::nullopt);             // a literal
  EXPECT_EQ(author_domain("Subject: x\r\n\r\nFrom: a@body.test\r\n"), std::nullopt);  // body
}

}  // namespace
}  // namespace mailsim::auth
