// The client's wire formats, as pure functions: the keywords of an EHLO reply and the DATA
// form of a message (dot-stuffing, line ends, the terminator). The session tests drive them
// through a server; these pin them down case by case.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reference-server/smtp/client_session.hpp"
#include "tests/support/byte_split.hpp"

namespace mailsim::smtp {
namespace {

using mailsim::test::printable;

TEST(client_session, ehlo_keywords_are_parsed) {
  reply r;
  r.code = 250;
  r.lines = {"mx.test greets you",
             "pipelining",
             "SIZE 52428800",
             "8BITMIME",
             "SMTPUTF8",
             "CHUNKING",
             "BINARYMIME",
             "DSN",
             "STARTTLS",
             "ENHANCEDSTATUSCODES",
             "AUTH scram-sha-256 PLAIN LOGIN",
             "AUTH=PLAIN XOAUTH2",
             "X-UNKNOWN 1"};
  server_capabilities c = parse_ehlo_reply(r);
  EXPECT_TRUE(c.esmtp && c.pipelining && c.size && c.eight_bit_mime && c.smtputf8 && c.chunking &&
              c.binary_mime && c.dsn && c.starttls && c.enhanced_status_codes);
  EXPECT_EQ(c.size_max, 52428800u);
  EXPECT_EQ(c.auth_mechanisms,
            (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN", "LOGIN", "XOAUTH2"}));
  r.lines = {"mx", "SIZE", "SIZE12"};
  c = parse_ehlo_reply(r);
  EXPECT_TRUE(c.size);
  EXPECT_EQ(c.size_max, 0u);
  EXPECT_FALSE(c.pipelining);
}

TEST(client_session, data_encoding_stuffs_and_terminates) {
  struct enc_case {
    std::string in, wire;
    std::uint64_t bytes;
  };
  const std::vector<enc_case> cases = {
      {"", ".\r\n", 0},
      {"a", "a\r\n.\r\n", 3},
      {"a\r\n", "a\r\n.\r\n", 3},
      {".", "..\r\n.\r\n", 3},
      {"a\r\n.b\r\n", "a\r\n..b\r\n.\r\n", 7},
      {"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n", 9},
      {"a\r.\r\n", "a\r\n..\r\n.\r\n", 6},
      {"x.y\r\n", "x.y\r\n.\r\n", 5},
      {"\r", "\r\n.\r\n", 2},
      {"\r\n\r\n..", "\r\n\r\n...\r\n.\r\n", 8},
      {"ab\n\ncd", "ab\r\n\r\ncd\r\n.\r\n", 10},
      {"a\rb\nc\r\nd", "a\r\nb\r\nc\r\nd\r\n.\r\n", 12},
      {"\n\r", "\r\n\r\n.\r\n", 4},
      {".a\r\r\n.\n\n.", "..a\r\n\r\n..\r\n\r\n..\r\n.\r\n", 14},
  };
  for (const auto& c : cases) {
    data_encoding e = encode_data(c.in);
    EXPECT_EQ(printable(e.wire), printable(c.wire)) << printable(c.in);
    EXPECT_EQ(e.message_bytes, c.bytes) << printable(c.in);
  }
}

}  // namespace
}  // namespace mailsim::smtp
