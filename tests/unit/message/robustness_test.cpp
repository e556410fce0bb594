// Limits and malformed input: the parser must degrade, never crash, and keep every offset
// inside the input. Every view is exercised on every part of every damaged message.
#include <gtest/gtest.h>

#include <string>

#include "reference-server/message/imap_view.hpp"
#include "reference-server/message/message.hpp"
#include "tests/unit/message/samples.hpp"

namespace mailsim::message {
namespace {

using test::crlf;

// Checks the invariants of a tree and runs every view over it.
void check_tree(const parsed_message& m) {
  ASSERT_FALSE(m.parts.empty());
  for (const part& p : m.parts) {
    ASSERT_LE(p.header_offset + p.header_bytes, m.bytes.size());
    ASSERT_LE(p.body_offset + p.body_bytes, m.bytes.size());
    ASSERT_GE(p.body_offset, p.header_offset + p.header_bytes);
    for (std::size_t c : p.children) ASSERT_LT(c, m.parts.size());
    if (p.kind == part_kind::message) {
      ASSERT_EQ(p.children.size(), 1u);
    }
    if (p.kind == part_kind::multipart) {
      ASSERT_FALSE(p.children.empty());
    }
    (void)body_structure(m, p, true);
    (void)body_structure(m, p, false);
    (void)binary(m, p);
    if (p.message_root) (void)envelope(m, p);
  }
  for (std::uint32_t a = 0; a < 4; ++a) {
    for (std::uint32_t b = 0; b < 4; ++b) {
      for (section_kind k : {section_kind::full, section_kind::header, section_kind::text,
                             section_kind::mime, section_kind::header_fields}) {
        (void)section(m, section_spec{{a, b}, k, {"subject"}});
        (void)section(m, section_spec{{a}, k, {"subject"}});
      }
    }
  }
}

TEST(message_limits, depth_limit_makes_the_rest_an_opaque_leaf) {
  std::string bytes;
  for (int i = 0; i < 6; ++i) bytes += "Content-Type: message/rfc822\r\n\r\n";
  bytes += "Subject: deepest\r\n\r\nbody";
  parse_limits limits;
  limits.depth_max = 3;
  const parsed_message m = parse(bytes, limits);
  ASSERT_EQ(m.parts.size(), 4u);  // the root and three embedded messages
  const part& last = m.parts.back();
  EXPECT_EQ(last.kind, part_kind::leaf);
  EXPECT_TRUE(last.truncated);
  EXPECT_TRUE(last.type.is("application", "octet-stream"));
  EXPECT_EQ(m.body_of(last).substr(0, 13), "Content-Type:");
  check_tree(m);
  EXPECT_EQ(parse(bytes).parts.size(), 7u);  // the default limit leaves it alone
}

TEST(message_limits, parts_limit_stops_recording_parts) {
  std::string bytes = "Content-Type: multipart/mixed; boundary=z\r\n\r\n";
  for (int i = 0; i < 10; ++i) bytes += "--z\r\n\r\npart " + std::to_string(i) + "\r\n";
  bytes += "--z--\r\n";
  parse_limits limits;
  limits.parts_max = 4;
  const parsed_message m = parse(bytes, limits);
  ASSERT_EQ(m.parts.size(), 4u);
  EXPECT_EQ(m.root().children.size(), 3u);
  EXPECT_TRUE(m.root().truncated);
  EXPECT_EQ(m.body_of(m.parts[3]), "part 2");
  check_tree(m);
}

TEST(message_limits, header_field_limit) {
  std::string bytes;
  for (int i = 0; i < 50; ++i) bytes += "X-N: " + std::to_string(i) + "\r\n";
  bytes += "\r\nbody";
  parse_limits limits;
  limits.header_fields_max = 10;
  const parsed_message m = parse(bytes, limits);
  EXPECT_EQ(m.root().fields.size(), 10u);
  EXPECT_EQ(m.body_of(m.root()), "body");
}

TEST(message_malformed, every_truncation_of_the_samples_parses) {
  for (std::string_view sample :
       {test::simple_lf, test::mixed_lf, test::forward_lf, test::digest_lf}) {
    const std::string full = crlf(sample);
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const std::string cut = full.substr(0, n);
      SCOPED_TRACE(cut);
      check_tree(parse(cut));
    }
  }
}

TEST(message_malformed, odd_inputs_degrade) {
  const char* inputs[] = {
      "\r\n",
      "\n\n\n",
      ":\r\n\r\n",
      " continuation first\r\nSubject: x\r\n\r\n",
      "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
      "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a\r\n--a--",
      ("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: "
       "message/rfc822\r\n--a--"),  // one input over two lines
      "Content-Type: message/rfc822\r\n\r\n",
      "Content-Type: message/rfc822",
      "Content-Type: multipart/digest; boundary=a\r\n\r\n--a\r\n\r\n--a--\r\n",
      "Content-Type: text/plain; charset*0*=''%; charset*1*=%Z\r\nContent-Language: ,,(\r\n\r\n",
      "From: <<<@@@>>>, \"unterminated, (comment, ;;;, a@, @b, <a@b\r\n\r\n",
      "To: g1: g2: a@b;; ;\r\nDate: Mon, 99 Foo\r\n\r\n",
      "Content-Transfer-Encoding: base64\r\n\r\n====\r\n",
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=\r",
      "Subject: \x00\xff\x80\r\n\r\n\x00",
      "\r\r\r\n\r",
  };
  for (const char* in : inputs) {
    SCOPED_TRACE(in);
    check_tree(parse(in));
  }
  const std::string with_nul("Subject: a\0b\r\n\r\nx", 17);
  const parsed_message m = parse(with_nul);
  EXPECT_EQ(envelope(m, m.root()).substr(0, 9), "(NIL {3}\r");
}

TEST(message_malformed, same_boundary_nested_and_recursive_delimiters) {
  const std::string bytes = crlf(
      "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
      "Content-Type: multipart/mixed; boundary=a\n\n--a\n\ninner\n--a--\n"
      "--a\n\nouter two\n--a--\n");
  const parsed_message m = parse(bytes);
  check_tree(m);
  ASSERT_EQ(m.root().children.size(), 2u);
  EXPECT_EQ(m.body_of(m.parts[m.root().children[1]]), "outer two");
}

}  // namespace
}  // namespace mailsim::message
