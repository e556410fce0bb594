#include "reference-server/message/message.hpp"

#include <gtest/gtest.h>

#include <string>

#include "reference-server/message/mime_value.hpp"
#include "tests/unit/message/samples.hpp"

namespace mailsim::message {
namespace {

using test::crlf;

TEST(message_parse, simple_text_has_one_leaf_with_defaults) {
  const std::string bytes = crlf(test::simple_lf);
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.parts.size(), 1u);
  const part& root = m.root();
  EXPECT_EQ(root.kind, part_kind::leaf);
  EXPECT_TRUE(root.message_root);
  EXPECT_TRUE(root.type.defaulted);
  EXPECT_TRUE(root.type.is("text", "plain"));
  EXPECT_EQ(m.body_of(root), "Hi.\r\n");
  EXPECT_EQ(root.body_lines, 1u);
  EXPECT_EQ(root.body_crlf_bytes, 5u);
  EXPECT_EQ(root.header_offset, 0u);
  EXPECT_EQ(root.body_offset, root.header_bytes);
  ASSERT_EQ(root.fields.size(), 6u);
  EXPECT_EQ(root.fields[0].name, "From");
  EXPECT_EQ(root.fields[4].value, "Hello");
  EXPECT_EQ(root.fields[4].raw_value, " Hello");
}

TEST(message_parse, folded_fields_are_unfolded_but_raw_kept) {
  const std::string bytes = "Subject: one\r\n\ttwo\r\n  three\r\nX-Empty:\r\nbad line\r\n\r\nbody";
  const parsed_message m = parse(bytes);
  const part& root = m.root();
  ASSERT_EQ(root.fields.size(), 2u);
  EXPECT_EQ(root.fields[0].raw_value, " one\r\n\ttwo\r\n  three");
  EXPECT_EQ(root.fields[0].value, "one\ttwo  three");
  EXPECT_EQ(root.fields[0].bytes, std::string("Subject: one\r\n\ttwo\r\n  three\r\n").size());
  EXPECT_EQ(root.fields[1].name, "X-Empty");
  EXPECT_EQ(root.fields[1].value, "");
  EXPECT_EQ(m.body_of(root), "body");
  EXPECT_EQ(root.body_lines, 0u);
}

TEST(message_parse, multipart_mixed_with_nested_alternative) {
  const std::string bytes = crlf(test::mixed_lf);
  const parsed_message m = parse(bytes);
  const part& root = m.root();
  ASSERT_EQ(root.kind, part_kind::multipart);
  ASSERT_EQ(root.children.size(), 2u);
  const part& alt = m.parts[root.children[0]];
  ASSERT_EQ(alt.kind, part_kind::multipart);
  EXPECT_TRUE(alt.type.is("multipart", "alternative"));
  ASSERT_EQ(alt.children.size(), 2u);
  const part& plain = m.parts[alt.children[0]];
  const part& html = m.parts[alt.children[1]];
  EXPECT_EQ(m.body_of(plain), "plain text");  // the CRLF before a delimiter is not body
  EXPECT_EQ(plain.type.params.at(0).value, "UTF-8");
  EXPECT_EQ(m.body_of(html), "<p>hi=3D</p>");
  EXPECT_EQ(html.transfer_encoding, "quoted-printable");
  const part& pdf = m.parts[root.children[1]];
  EXPECT_TRUE(pdf.type.is("application", "pdf"));
  EXPECT_EQ(m.body_of(pdf), "JVBERi0=");
  ASSERT_TRUE(pdf.disposition_value);
  EXPECT_EQ(pdf.disposition_value->value, "attachment");
  EXPECT_EQ(pdf.disposition_value->params.at(0).value, "a.pdf");
  // The alternative part's body runs to the CRLF before the next outer delimiter.
  EXPECT_EQ(m.body_of(alt).substr(0, 7), "--inner");
  EXPECT_EQ(m.body_of(alt).substr(m.body_of(alt).size() - 9), "--inner--");
  // The root body is everything after the header, preamble and epilogue included.
  EXPECT_EQ(m.body_of(root).substr(0, 8), "preamble");
  EXPECT_EQ(m.body_of(root).size(), bytes.size() - root.header_bytes);
}

TEST(message_parse, lf_only_message_has_the_same_tree_and_crlf_sizes) {
  const std::string with_crlf = crlf(test::mixed_lf);
  const parsed_message a = parse(with_crlf);
  const parsed_message b = parse(test::mixed_lf);
  ASSERT_EQ(a.parts.size(), b.parts.size());
  for (std::size_t i = 0; i < a.parts.size(); ++i) {
    EXPECT_EQ(a.parts[i].kind, b.parts[i].kind) << i;
    EXPECT_EQ(a.parts[i].body_crlf_bytes, b.parts[i].body_crlf_bytes) << i;
    EXPECT_EQ(a.parts[i].body_lines, b.parts[i].body_lines) << i;
    EXPECT_EQ(a.parts[i].type.subtype, b.parts[i].type.subtype) << i;
  }
  EXPECT_EQ(b.body_of(b.parts[b.parts[b.root().children[0]].children[0]]), "plain text");
}

TEST(message_parse, message_rfc822_is_parsed_as_an_embedded_message) {
  const std::string bytes = crlf(test::forward_lf);
  const parsed_message m = parse(bytes);
  const part& fwd = m.parts[m.root().children.at(1)];
  ASSERT_EQ(fwd.kind, part_kind::message);
  ASSERT_EQ(fwd.children.size(), 1u);
  const part& inner = m.parts[fwd.children[0]];
  EXPECT_TRUE(inner.message_root);
  EXPECT_EQ(inner.field("subject")->value, "inner");
  EXPECT_EQ(m.body_of(inner), "inner body");
  EXPECT_EQ(inner.header_offset, fwd.body_offset);
  EXPECT_EQ(fwd.body_lines, 4u);
}

TEST(message_parse, digest_children_default_to_message_rfc822) {
  const std::string bytes = crlf(test::digest_lf);
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.root().children.size(), 2u);
  const part& first = m.parts[m.root().children[0]];
  EXPECT_EQ(first.kind, part_kind::message);
  EXPECT_TRUE(first.type.is("message", "rfc822"));
  EXPECT_EQ(m.parts[first.children[0]].field("Subject")->value, "one");
  const part& second = m.parts[m.root().children[1]];
  EXPECT_EQ(second.kind, part_kind::leaf);
  EXPECT_TRUE(second.type.is("text", "plain"));
}

TEST(message_parse, missing_close_delimiter_ends_at_the_end) {
  const std::string bytes =
      "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\none\r\n--x\r\n\r\ntwo\r\nmore";
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.root().children.size(), 2u);
  EXPECT_EQ(m.body_of(m.parts[m.root().children[1]]), "two\r\nmore");
}

TEST(message_parse, outer_delimiter_closes_an_unclosed_inner_multipart) {
  const std::string bytes = crlf(
      "Content-Type: multipart/mixed; boundary=out\n\n--out\n"
      "Content-Type: multipart/alternative; boundary=out-in\n\n--out-in\n\ninner\n"
      "--out\n\nsecond\n--out--\n");
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.root().children.size(), 2u);
  const part& alt = m.parts[m.root().children[0]];
  ASSERT_EQ(alt.children.size(), 1u);  // "--out-in" matched the longer boundary
  EXPECT_EQ(m.body_of(m.parts[alt.children[0]]), "inner");
  EXPECT_EQ(m.body_of(m.parts[m.root().children[1]]), "second");
}

TEST(message_parse, multipart_without_boundary_is_text_plain) {
  for (const char* bytes : {"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody\r\n",
                            "Content-Type: multipart/mixed; boundary=x\r\n\r\nno delimiters\r\n",
                            "Content-Type: garbage\r\n\r\nbody\r\n"}) {
    const parsed_message m = parse(bytes);
    ASSERT_EQ(m.parts.size(), 1u) << bytes;
    EXPECT_EQ(m.root().kind, part_kind::leaf) << bytes;
    EXPECT_TRUE(m.root().type.is("text", "plain")) << bytes;
    EXPECT_TRUE(m.root().type.defaulted) << bytes;
  }
}

TEST(message_parse, header_without_body_and_empty_input) {
  const parsed_message empty = parse("");
  ASSERT_EQ(empty.parts.size(), 1u);
  EXPECT_EQ(empty.root().header_bytes, 0u);
  EXPECT_EQ(empty.root().body_bytes, 0u);
  const parsed_message only_header = parse("Subject: x\r\n");
  EXPECT_EQ(only_header.root().header_bytes, 12u);
  EXPECT_EQ(only_header.root().body_bytes, 0u);
  EXPECT_EQ(only_header.root().field("Subject")->value, "x");
}

TEST(message_parse, mime_fields_are_recorded) {
  const std::string bytes = crlf(
      "Content-Type: text/plain; charset=\"iso-8859-1\" (comment); format=flowed\n"
      "Content-ID: <id1@x.test>\n"
      "Content-Description: a =?utf-8?q?note?=\n"
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
      "Content-Language: en, de (German)\n"
      "Content-Location: http://x.test/a\n b\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "x");
  const parsed_message m = parse(bytes);
  const part& p = m.root();
  ASSERT_EQ(p.type.params.size(), 2u);
  EXPECT_EQ(p.type.params[0].value, "iso-8859-1");
  EXPECT_EQ(p.type.params[1].name, "format");
  EXPECT_EQ(p.id, "<id1@x.test>");
  EXPECT_EQ(p.description, "a =?utf-8?q?note?=");
  EXPECT_EQ(p.md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
  EXPECT_EQ(p.languages, (std::vector<std::string>{"en", "de"}));
  EXPECT_EQ(p.location, "http://x.test/ab");
  EXPECT_EQ(p.transfer_encoding, "8bit");
}

TEST(message_parse, delimiter_inside_a_header_ends_the_part) {
  const std::string bytes =
      "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: text/html\r\n"
      "--a\r\n\r\nnext\r\n--a--\r\n";
  const parsed_message m = parse(bytes);
  ASSERT_EQ(m.root().children.size(), 2u);
  const part& first = m.parts[m.root().children[0]];
  EXPECT_EQ(m.header_of(first), "Content-Type: text/html");  // the CRLF is the delimiter's
  EXPECT_EQ(first.body_bytes, 0u);
  EXPECT_TRUE(first.type.is("text", "html"));
  EXPECT_EQ(m.body_of(m.parts[m.root().children[1]]), "next");
}

TEST(message_mime_value, rfc2231_continuations_and_charsets) {
  const auto d = parse_disposition(
      "attachment; filename*1=\"rate.txt\"; filename*0*=utf-8''%E2%82%AC%20; "
      "title*=iso-8859-1'en'caf%E9; size=12");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->params.size(), 3u);
  EXPECT_EQ(d->params[0].name, "filename");
  EXPECT_EQ(d->params[0].value, "\xE2\x82\xAC rate.txt");
  EXPECT_EQ(d->params[0].charset, "utf-8");
  EXPECT_EQ(d->params[1].value, "caf\xC3\xA9");
  EXPECT_EQ(d->params[1].language, "en");
  EXPECT_EQ(d->params[2].value, "12");
}

TEST(message_mime_value, rfc2231_gap_ends_the_value_and_unknown_charset_stays_octets) {
  const auto ct =
      parse_content_type("text/plain; name*0=a; name*2=c; name*1=b; name*4=e; x*=koi8-r''%C1");
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->params.at(0).value, "abc");
  EXPECT_EQ(ct->params.at(1).value, "\xC1");
  EXPECT_EQ(ct->params.at(1).charset, "koi8-r");
}

TEST(message_mime_value, lenient_values_and_broken_params) {
  const auto ct = parse_content_type("Multipart/Mixed ; boundary=a/b=c ; ; junk ; =x ; q=\"\\\"\"");
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->type, "Multipart");
  EXPECT_TRUE(ct->is("multipart", "mixed"));
  ASSERT_EQ(ct->params.size(), 2u);
  EXPECT_EQ(ct->params[0].value, "a/b=c");
  EXPECT_EQ(ct->params[1].value, "\"");
  EXPECT_FALSE(parse_content_type("text"));
  EXPECT_FALSE(parse_content_type("/plain"));
  EXPECT_FALSE(parse_content_type(""));
}

}  // namespace
}  // namespace mailsim::message
