#include "reference-server/message/imap_view.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/message/samples.hpp"

namespace mailsim::message {
namespace {

using test::crlf;

std::optional<std::string> fetch(const parsed_message& m, std::vector<std::uint32_t> number,
                                 section_kind kind = section_kind::full,
                                 std::vector<std::string> fields = {}) {
  return section(m, section_spec{std::move(number), kind, std::move(fields)});
}

TEST(message_imap_string, quotes_safe_text_and_uses_literals_otherwise) {
  EXPECT_EQ(imap_string("abc"), "\"abc\"");
  EXPECT_EQ(imap_string(""), "\"\"");
  EXPECT_EQ(imap_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(imap_string("caf\xC3\xA9"), "{5}\r\ncaf\xC3\xA9");
  EXPECT_EQ(imap_string("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(imap_nstring(std::nullopt), "NIL");
  EXPECT_EQ(imap_nstring(std::string("NIL")), "\"NIL\"");
}

TEST(message_envelope, simple_message) {
  const std::string bytes = crlf(test::simple_lf);
  const parsed_message m = parse(bytes);
  const std::string from = "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))";
  EXPECT_EQ(envelope(m, m.root()),
            "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"Hello\" " + from + " " + from + " " + from +
                " ((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")"
                "(\"Who?\" NIL \"one\" \"y.test\")) ((NIL NIL \"boss\" \"nil.test\")"
                "(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" \"example.net\")) NIL NIL "
                "\"<5678.21-Nov-1997@example.com>\")");
}

TEST(message_envelope, groups_sender_reply_to_and_raw_encoded_words) {
  const std::string bytes = crlf(
      "From: =?utf-8?q?J=C3=B6rg?= <joerg@x.test>\n"
      "Sender: secretary@x.test (The Secretary)\n"
      "Reply-To: list@x.test\n"
      "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, Mary <mary@x.test>\n"
      "Cc: undisclosed-recipients:;\n"
      "Bcc: \"quoted local\"@x.test, <@route1,@route2:r@x.test>, nodomain\n"
      "Subject:\n"
      "In-Reply-To: <a@b>\n"
      "\n");
  const parsed_message m = parse(bytes);
  EXPECT_EQ(envelope(m, m.root()),
            "(NIL \"\" ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"joerg\" \"x.test\")) "
            "((\"The Secretary\" NIL \"secretary\" \"x.test\")) ((NIL NIL \"list\" \"x.test\")) "
            "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
            "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)"
            "(\"Mary\" NIL \"mary\" \"x.test\")) "
            "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
            "((NIL NIL \"quoted local\" \"x.test\")(NIL \"@route1,@route2\" \"r\" \"x.test\")"
            "(NIL NIL \"nodomain\" \"MISSING_DOMAIN\")) \"<a@b>\" NIL)");
}

TEST(message_envelope, no_header_is_all_nil) {
  const parsed_message m = parse("\r\nbody");
  EXPECT_EQ(envelope(m, m.root()), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(message_body_structure, simple_text) {
  const std::string bytes = crlf(test::simple_lf);
  const parsed_message m = parse(bytes);
  EXPECT_EQ(body_structure(m, m.root(), true),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL)");
  EXPECT_EQ(body_structure(m, m.root(), false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1)");
}

constexpr std::string_view mixed_structure =
    "(((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
    "(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 12 0 NIL NIL NIL NIL)"
    " \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"
    "(\"application\" \"pdf\" (\"name\" \"a.pdf\") NIL NIL \"base64\" 8 NIL"
    " (\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL)"
    " \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)";

TEST(message_body_structure, multipart_mixed_with_alternative_and_attachment) {
  const std::string bytes = crlf(test::mixed_lf);
  const parsed_message m = parse(bytes);
  EXPECT_EQ(body_structure(m, m.root(), true), mixed_structure);
  EXPECT_EQ(body_structure(m, m.root(), false),
            "(((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 10 0)"
            "(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 12 0)"
            " \"alternative\")(\"application\" \"pdf\" (\"name\" \"a.pdf\") NIL NIL \"base64\" 8)"
            " \"mixed\")");
}

TEST(message_body_structure, lf_only_file_gives_the_same_answer) {
  const parsed_message m = parse(test::mixed_lf);
  EXPECT_EQ(body_structure(m, m.root(), true), mixed_structure);
}

TEST(message_body_structure, message_rfc822_part_carries_envelope_body_and_lines) {
  const std::string bytes = crlf(test::forward_lf);
  const parsed_message m = parse(bytes);
  const std::string inner_from = "((NIL NIL \"inner\" \"y.test\"))";
  EXPECT_EQ(body_structure(m, m.root(), true),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 0 NIL NIL NIL NIL)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 86 (\"Mon, 2 Jan 2006 15:04:05 -0700\" "
            "\"inner\" " +
                inner_from + " " + inner_from + " " + inner_from +
                " NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
                "\"7bit\" 10 0"
                " NIL NIL NIL NIL) 4 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)");
}

TEST(message_body_structure, extension_data_and_rfc2231_literal) {
  const std::string bytes = crlf(
      "Content-Type: image/png; name*=utf-8''%E2%82%AC.png\n"
      "Content-ID: <i@x>\n"
      "Content-Description: logo\n"
      "Content-Transfer-Encoding: BASE64\n"
      "Content-MD5: abc=\n"
      "Content-Disposition: inline\n"
      "Content-Language: en-GB\n"
      "Content-Location: logo.png\n"
      "\n"
      "iVBO\n");
  const parsed_message m = parse(bytes);
  EXPECT_EQ(body_structure(m, m.root(), true),
            "(\"image\" \"png\" (\"name\" {7}\r\n\xE2\x82\xAC.png) \"<i@x>\" \"logo\" \"BASE64\" 6"
            " \"abc=\" (\"inline\" NIL) (\"en-GB\") \"logo.png\")");
}

TEST(message_body_structure, digest_defaults_to_message_rfc822) {
  const std::string bytes = crlf(test::digest_lf);
  const parsed_message m = parse(bytes);
  const std::string s = body_structure(m, m.root(), false);
  EXPECT_EQ(s.substr(0, 39), "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\"");
  EXPECT_NE(s.find("\"one\""), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 10), " \"digest\")");
}

TEST(message_section, whole_header_text_and_parts) {
  const std::string bytes = crlf(test::mixed_lf);
  const parsed_message m = parse(bytes);
  EXPECT_EQ(fetch(m, {}), bytes);
  EXPECT_EQ(fetch(m, {}, section_kind::header), bytes.substr(0, m.root().header_bytes));
  EXPECT_EQ(fetch(m, {}, section_kind::text), bytes.substr(m.root().header_bytes));
  EXPECT_EQ(fetch(m, {1, 1}), "plain text");
  EXPECT_EQ(fetch(m, {1, 2}), "<p>hi=3D</p>");
  EXPECT_EQ(fetch(m, {2}), "JVBERi0=");
  EXPECT_EQ(fetch(m, {1}, section_kind::mime),
            "Content-Type: multipart/alternative; boundary=inner\r\n\r\n");
  EXPECT_EQ(fetch(m, {1, 2}, section_kind::mime),
            "Content-Type: text/html; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
  EXPECT_EQ(fetch(m, {}, section_kind::header_fields, {"SUBJECT", "from", "X-None"}),
            "From: a@b.test\r\nSubject: multi\r\n\r\n");
  EXPECT_EQ(fetch(m, {}, section_kind::header_fields_not, {"Content-Type", "MIME-Version"}),
            "From: a@b.test\r\nSubject: multi\r\n\r\n");
}

TEST(message_section, missing_and_inapplicable_sections_are_nullopt) {
  const std::string bytes = crlf(test::mixed_lf);
  const parsed_message m = parse(bytes);
  EXPECT_FALSE(fetch(m, {3}));
  EXPECT_FALSE(fetch(m, {0}));
  EXPECT_FALSE(fetch(m, {1, 1, 1}));
  EXPECT_FALSE(fetch(m, {1, 3}));
  EXPECT_FALSE(fetch(m, {2}, section_kind::header));
  EXPECT_FALSE(fetch(m, {2}, section_kind::text));
  EXPECT_FALSE(fetch(m, {}, section_kind::mime));
}

TEST(message_section, single_part_message_and_embedded_message) {
  const std::string simple = crlf(test::simple_lf);
  const parsed_message s = parse(simple);
  EXPECT_EQ(fetch(s, {1}), "Hi.\r\n");
  EXPECT_FALSE(fetch(s, {2}));
  EXPECT_FALSE(fetch(s, {1, 1}));

  const std::string bytes = crlf(test::forward_lf);
  const parsed_message m = parse(bytes);
  EXPECT_EQ(fetch(m, {2}, section_kind::mime), "Content-Type: message/rfc822\r\n\r\n");
  EXPECT_EQ(fetch(m, {2}, section_kind::header),
            "From: inner@y.test\r\nSubject: inner\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\n\r\n");
  EXPECT_EQ(fetch(m, {2}, section_kind::text), "inner body");
  EXPECT_EQ(fetch(m, {2, 1}), "inner body");
  EXPECT_EQ(fetch(m, {2}, section_kind::header_fields, {"subject"}), "Subject: inner\r\n\r\n");
  EXPECT_EQ(fetch(m, {2})->substr(0, 18), "From: inner@y.test");
  EXPECT_FALSE(fetch(m, {2, 2}));
}

TEST(message_section, lf_only_bytes_are_sent_with_crlf) {
  const parsed_message m = parse(test::forward_lf);
  EXPECT_EQ(fetch(m, {2}, section_kind::header),
            "From: inner@y.test\r\nSubject: inner\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\n\r\n");
  EXPECT_EQ(fetch(m, {}), crlf(test::forward_lf));
}

TEST(message_section, top_level_message_rfc822_numbers_into_the_embedded_message) {
  const std::string bytes = crlf(
      "Content-Type: message/rfc822\n\n"
      "Subject: inside\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\none\n--q--\n");
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.root().kind, part_kind::message);
  EXPECT_EQ(fetch(m, {1})->substr(0, 15), "Subject: inside");
  EXPECT_EQ(fetch(m, {1}, section_kind::header_fields, {"subject"}), "Subject: inside\r\n\r\n");
  EXPECT_EQ(fetch(m, {1, 1}), "one");
  EXPECT_FALSE(fetch(m, {1, 2}));
  EXPECT_EQ(fetch(m, {}, section_kind::header), "Content-Type: message/rfc822\r\n\r\n");
}

TEST(message_section, header_fields_of_a_header_without_line_end) {
  const parsed_message m = parse("X-A: 1\nSubject: x");
  EXPECT_EQ(fetch(m, {}, section_kind::header_fields, {"subject"}), "Subject: x\r\n\r\n");
  EXPECT_EQ(fetch(m, {}, section_kind::header_fields_not, {"subject"}), "X-A: 1\r\n\r\n");
  EXPECT_EQ(fetch(m, {}, section_kind::header), "X-A: 1\r\nSubject: x");
  EXPECT_EQ(fetch(m, {}, section_kind::text), "");
}

TEST(message_section, every_sample_reads_the_same_from_lf_and_crlf_files) {
  for (std::string_view sample :
       {test::simple_lf, test::mixed_lf, test::forward_lf, test::digest_lf}) {
    const std::string with_crlf = crlf(sample);
    const parsed_message a = parse(with_crlf);
    const parsed_message b = parse(sample);
    EXPECT_EQ(body_structure(a, a.root(), true), body_structure(b, b.root(), true));
    EXPECT_EQ(envelope(a, a.root()), envelope(b, b.root()));
    for (std::uint32_t n = 1; n <= 3; ++n) {
      for (section_kind k : {section_kind::full, section_kind::mime, section_kind::header}) {
        EXPECT_EQ(fetch(a, {n}, k), fetch(b, {n}, k)) << sample << n;
      }
    }
  }
}

TEST(message_section, partial_origin_and_count) {
  EXPECT_EQ(apply_partial("0123456789", 0, std::nullopt), "0123456789");
  EXPECT_EQ(apply_partial("0123456789", 2, 3), "234");
  EXPECT_EQ(apply_partial("0123456789", 8, 100), "89");
  EXPECT_EQ(apply_partial("0123456789", 10, 1), "");
  EXPECT_EQ(apply_partial("0123456789", 1000, std::nullopt), "");
}

TEST(message_binary, decodes_transfer_encodings) {
  const std::string bytes = crlf(test::mixed_lf);
  const parsed_message m = parse(bytes);
  const part& html = m.parts[m.parts[m.root().children[0]].children[1]];
  EXPECT_EQ(binary(m, html).content, "<p>hi=</p>");
  const part& pdf = m.parts[m.root().children[1]];
  EXPECT_EQ(binary(m, pdf).content, "%PDF-");
  EXPECT_EQ(binary(m, m.parts[m.parts[m.root().children[0]].children[0]]).content, "plain text");

  const parsed_message odd = parse("Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin");
  const binary_result r = binary(odd, odd.root());
  EXPECT_TRUE(r.unknown_encoding);
  EXPECT_EQ(r.content, "");
}

TEST(message_header_search, values_and_decoded_values) {
  const parsed_message m = parse(
      "Subject: =?ISO-8859-1?Q?caf=E9?= =?utf-8?B?w6k=?=\r\n"
      "X-Tag: a\r\nx-tag:  b \r\n\r\n");
  EXPECT_EQ(header_values(m.root(), "X-TAG"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(header_values_decoded(m.root(), "subject"),
            (std::vector<std::string>{"caf\xC3\xA9\xC3\xA9"}));
  EXPECT_TRUE(header_values(m.root(), "Missing").empty());
}

}  // namespace
}  // namespace mailsim::message
