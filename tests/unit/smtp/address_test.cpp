#include "reference-server/smtp/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsim::smtp {
namespace {

address_options mail_options() {
  address_options o;
  o.allow_null = true;
  return o;
}

address_options rcpt_options() {
  address_options o;
  o.allow_postmaster_bare = true;
  return o;
}

address_options strict_options() {
  address_options o;
  o.allow_missing_brackets = false;
  return o;
}

address_options ascii_options() {
  address_options o;
  o.allow_utf8 = false;
  return o;
}

struct accepted_case {
  std::string input;
  address_options options;
  std::string local_part;
  std::string domain;
  std::string wire;      // path::to_string()
  std::size_t consumed;  // `all`: the whole input
  bool quoted = false;
  bool utf8 = false;
  bool source_route = false;
  bool null = false;
};

constexpr std::size_t all = std::string::npos;
// A domain of exactly 255 octets: four labels of 63 and three dots.
std::string domain_255() {
  const std::string label(63, 'd');
  return label + "." + label + "." + label + "." + label;
}

std::vector<accepted_case> accepted_cases() {
  const address_options dflt;
  const std::string local_64(64, 'a');
  return {
      {"<user@example.com>", dflt, "user", "example.com", "<user@example.com>", 18},
      {"<User.Name+tag@Example.COM>", dflt, "User.Name+tag", "example.com",
       "<User.Name+tag@example.com>", 27},
      {"  <a@b.c>", dflt, "a", "b.c", "<a@b.c>", 9},
      {"<a@b.c> SIZE=10", dflt, "a", "b.c", "<a@b.c>", 7},
      {"<a@b-c.d>", dflt, "a", "b-c.d", "<a@b-c.d>", 9},
      {"<a@localhost>", dflt, "a", "localhost", "<a@localhost>", 13},
      {"<a@1.2.3.4>", dflt, "a", "1.2.3.4", "<a@1.2.3.4>", 11},
      // Quoted local parts are unquoted; to_string quotes again only when needed.
      {R"(<"a b"@x.org>)", dflt, "a b", "x.org", R"(<"a b"@x.org>)", 13, true},
      {R"(<"a\"b"@x.org>)", dflt, "a\"b", "x.org", R"(<"a\"b"@x.org>)", 14, true},
      {R"(<"a\\b"@x.org>)", dflt, "a\\b", "x.org", R"(<"a\\b"@x.org>)", 14, true},
      {R"(<"ab"@x.org>)", dflt, "ab", "x.org", "<ab@x.org>", 12, true},
      {R"(<""@x.org>)", dflt, "", "x.org", R"(<""@x.org>)", 10, true},
      // Relay tricks parse; the local part shows them so that the session can refuse them.
      {R"(<"a@b"@local.test>)", dflt, "a@b", "local.test", R"(<"a@b"@local.test>)", 18, true},
      {"<user%other@local.test>", dflt, "user%other", "local.test", "<user%other@local.test>", 23},
      {"<a!b@local.test>", dflt, "a!b", "local.test", "<a!b@local.test>", 16},
      // RFC 5321 §4.1.2 source routes are accepted and dropped.
      {"<@a.test,@b.test:user@c.test>", dflt, "user", "c.test", "<user@c.test>", 29, false, false,
       true},
      {"<@a.test:user@c.test>", dflt, "user", "c.test", "<user@c.test>", 21, false, false, true},
      {"<>", mail_options(), "", "", "<>", 2, false, false, false, true},
      {"<> SIZE=1", mail_options(), "", "", "<>", 2, false, false, false, true},
      {"<Postmaster>", rcpt_options(), "Postmaster", "", "<Postmaster>", 12},
      {"<postMASTER>", rcpt_options(), "postMASTER", "", "<postMASTER>", 12},
      {"<postmaster@example.com>", rcpt_options(), "postmaster", "example.com",
       "<postmaster@example.com>", 24},
      {"postmaster", rcpt_options(), "postmaster", "", "<postmaster>", 10},
      // Missing brackets: a common client bug, tolerated by default.
      {"user@example.com", dflt, "user", "example.com", "<user@example.com>", 16},
      {"user@example.com SIZE=1", dflt, "user", "example.com", "<user@example.com>", 16},
      // Address literals, RFC 5321 §4.1.3.
      {"<a@[192.0.2.1]>", dflt, "a", "[192.0.2.1]", "<a@[192.0.2.1]>", 15},
      {"<a@[IPv6:2001:DB8::1]>", dflt, "a", "[IPv6:2001:db8::1]", "<a@[IPv6:2001:db8::1]>", 22},
      {"<a@[ipv6:::1]>", dflt, "a", "[IPv6:::1]", "<a@[IPv6:::1]>", 14},
      {"<a@[IPv6:1:2:3:4:5:6:7:8]>", dflt, "a", "[IPv6:1:2:3:4:5:6:7:8]",
       "<a@[IPv6:1:2:3:4:5:6:7:8]>", 26},
      {"<a@[IPv6:1:2:3::4:5:6]>", dflt, "a", "[IPv6:1:2:3::4:5:6]", "<a@[IPv6:1:2:3::4:5:6]>", 23},
      {"<a@[IPv6:::ffff:192.0.2.1]>", dflt, "a", "[IPv6:::ffff:192.0.2.1]",
       "<a@[IPv6:::ffff:192.0.2.1]>", 27},
      {"<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", dflt, "a", "[IPv6:1:2:3:4:5:6:192.0.2.1]",
       "<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", 32},
      {"a@[192.0.2.1] BODY=8BITMIME", dflt, "a", "[192.0.2.1]", "<a@[192.0.2.1]>", 13},
      // RFC 6531 UTF-8 addresses.
      {"<用户@例子.广告>", dflt, "用户", "例子.广告", "<用户@例子.广告>", all, false, true},
      {"<ü@example.com>", dflt, "ü", "example.com", "<ü@example.com>", 16, false, true},
      {"<user@Bücher.example>", dflt, "user", "bücher.example", "<user@bücher.example>", 22, false,
       true},
      {R"(<"ü x"@example.com>)", dflt, "ü x", "example.com", R"(<"ü x"@example.com>)", 20, true,
       true},
      // The size limits of RFC 5321 §4.5.3.1 are inclusive.
      {"<" + local_64 + "@x.org>", dflt, local_64, "x.org", "<" + local_64 + "@x.org>", 72},
      {"<a@" + domain_255() + ">", dflt, "a", domain_255(), "<a@" + domain_255() + ">", 259},
  };
}

TEST(address, accepted_paths_parse_to_their_parts) {
  for (const accepted_case& c : accepted_cases()) {
    SCOPED_TRACE(c.input);
    const path_parse got = parse_path(c.input, c.options);
    ASSERT_TRUE(got.value.has_value()) << got.error;
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.consumed, c.consumed == all ? c.input.size() : c.consumed);
    EXPECT_EQ(got.value->null, c.null);
    EXPECT_EQ(got.value->had_source_route, c.source_route);
    EXPECT_EQ(got.value->box.local_part, c.local_part);
    EXPECT_EQ(got.value->box.domain, c.domain);
    EXPECT_EQ(got.value->box.local_part_quoted, c.quoted);
    EXPECT_EQ(got.value->box.utf8, c.utf8);
    EXPECT_EQ(got.value->to_string(), c.wire);
  }
}

TEST(address, to_string_parses_back_to_the_same_mailbox) {
  for (const accepted_case& c : accepted_cases()) {
    SCOPED_TRACE(c.input);
    const path_parse first = parse_path(c.input, c.options);
    ASSERT_TRUE(first.value.has_value());
    const std::string wire = first.value->to_string();
    const path_parse again = parse_path(wire, c.options);
    ASSERT_TRUE(again.value.has_value()) << again.error;
    EXPECT_EQ(again.consumed, wire.size());
    EXPECT_EQ(again.value->box.local_part, first.value->box.local_part);
    EXPECT_EQ(again.value->box.domain, first.value->box.domain);
    EXPECT_EQ(again.value->to_string(), wire);
  }
}

struct rejected_case {
  std::string input;
  address_options options;
  std::string error;  // expected substring of path_parse::error
};

std::vector<rejected_case> rejected_cases() {
  const address_options dflt;
  return {
      {"", dflt, "missing local part"},
      {"   ", dflt, "missing local part"},
      {"<>", dflt, "null address"},
      {"<>", rcpt_options(), "null address"},
      {"<Postmaster>", mail_options(), "expected local-part@domain"},
      {"<Postmasters>", rcpt_options(), "expected local-part@domain"},
      {"user@example.com", strict_options(), "expected <address>"},
      {"<user@example.com", dflt, "expected '>'"},
      {"<user@example.com >", dflt, "expected '>'"},
      {"user@example.com>", dflt, "invalid domain"},
      {"<user>", dflt, "expected local-part@domain"},
      {"<user@>", dflt, "missing domain"},
      {"<@example.com>", dflt, "invalid source route"},
      {"<@a.test,user@c.test>", dflt, "invalid source route"},
      {"<@a_b.test:user@c.test>", dflt, "invalid domain"},
      {"<@:user@c.test>", dflt, "invalid source route"},
      {"<.user@x.org>", dflt, "missing local part"},
      {"<us..er@x.org>", dflt, "invalid local part"},
      {"<user.@x.org>", dflt, "invalid local part"},
      {"<a b@x.org>", dflt, "expected local-part@domain"},
      {"<a(b)@x.org>", dflt, "expected local-part@domain"},
      {R"(<"a b@x.org>)", dflt, "quoted local part"},
      {"<\"a\tb\"@x.org>", dflt, "quoted local part"},
      {"<user@-x.com>", dflt, "invalid domain"},
      {"<user@x-.com>", dflt, "invalid domain"},
      {"<user@x..com>", dflt, "invalid domain"},
      {"<user@.x.com>", dflt, "invalid domain"},
      {"<user@x.com.>", dflt, "invalid domain"},
      {"<user@x_y.com>", dflt, "invalid domain"},
      {"<user@x.com:25>", dflt, "invalid domain"},
      {"<user@" + std::string(64, 'd') + ".com>", dflt, "invalid domain"},
      {"<user@[300.1.1.1]>", dflt, "invalid address literal"},
      {"<user@[1.2.3]>", dflt, "invalid address literal"},
      {"<user@[1.2.3.4.5]>", dflt, "invalid address literal"},
      {"<user@[1.2.3.0004]>", dflt, "invalid address literal"},
      {"<user@[]>", dflt, "invalid address literal"},
      {"<user@[1.2.3.4>", dflt, "invalid address literal"},
      {"<user@[IPv6:1:2:3:4:5:6:7]>", dflt, "invalid address literal"},
      {"<user@[IPv6:1:2:3:4:5:6:7:8:9]>", dflt, "invalid address literal"},
      {"<user@[IPv6:1::2::3]>", dflt, "invalid address literal"},
      {"<user@[IPv6:1:2:3:4:5:6:7::]>", dflt, "invalid address literal"},
      {"<user@[IPv6:1:2:3:4:5::1.2.3.4]>", dflt, "invalid address literal"},
      {"<user@[IPv6:12345::1]>", dflt, "invalid address literal"},
      {"<user@[IPv6:g::1]>", dflt, "invalid address literal"},
      {"<user@[IPv6:1.2.3.4::1]>", dflt, "invalid address literal"},
      {"<user@[x-tag:stuff]>", dflt, "invalid address literal"},
      {"<user@[IPv6:]>", dflt, "invalid address literal"},
      // RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain.
      {"<" + std::string(65, 'a') + "@x.org>", dflt, "longer than 64"},
      {"<\"" + std::string(63, 'a') + "\"@x.org>", dflt, "longer than 64"},
      {"<a@" + domain_255() + "d>", dflt, "longer than 255"},
      // UTF-8 only when allowed, and only when well-formed (RFC 3629 §4).
      {"<ü@example.com>", ascii_options(), "needs SMTPUTF8"},
      {"<user@bücher.example>", ascii_options(), "needs SMTPUTF8"},
      {R"(<"ü"@example.com>)", ascii_options(), "needs SMTPUTF8"},
      {"<\xc3(@example.com>", dflt, "invalid UTF-8"},
      {"<\xc0\xaf@example.com>", dflt, "invalid UTF-8"},
      {"<\xed\xa0\x80@example.com>", dflt, "invalid UTF-8"},
      {"<\xf4\x90\x80\x80@example.com>", dflt, "invalid UTF-8"},
      {"<\xe4\xb8@example.com>", dflt, "invalid UTF-8"},
      {"<\x80@example.com>", dflt, "invalid UTF-8"},
      {"<\xff@example.com>", dflt, "invalid UTF-8"},
      {"<user@b\xfc"
       "cher.example>",
       dflt, "invalid UTF-8"},
      {"<\"\xc3\"@example.com>", dflt, "invalid UTF-8"},
  };
}

TEST(address, invalid_paths_are_refused_with_a_reason) {
  for (const rejected_case& c : rejected_cases()) {
    SCOPED_TRACE(c.input);
    const path_parse got = parse_path(c.input, c.options);
    EXPECT_FALSE(got.value.has_value()) << got.value->to_string();
    EXPECT_NE(got.error.find(c.error), std::string::npos) << "error: " << got.error;
  }
}

TEST(address, relay_characters_are_visible_in_the_local_part) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"<user%other.example@local.example>", true},
      {"<other.example!user@local.example>", true},
      {R"(<"user@other.example"@local.example>)", true},
      {"<@relay.example:user@local.example>", false},  // the route is dropped, not kept
      {"<user.name+tag@local.example>", false},
  };
  for (const auto& [input, relay] : cases) {
    const path_parse got = parse_path(input, {});
    ASSERT_TRUE(got.value.has_value()) << input;
    EXPECT_EQ(got.value->box.has_relay_chars(), relay) << input;
  }
}

TEST(address, is_valid_domain_checks_domains_and_literals) {
  const std::vector<std::pair<std::string, bool>> ascii = {
      {"example.com", true},
      {"EXAMPLE.com", true},
      {"a", true},
      {"xn--bcher-kva.example", true},
      {"[192.0.2.1]", true},
      {"[IPv6:::1]", true},
      {"", false},
      {".", false},
      {"a.", false},
      {"-a.com", false},
      {"a_b.com", false},
      {"[192.0.2.256]", false},
      {"[IPv6:::1:]", false},
      {"192.0.2.1]", false},
      {"bücher.example", false},
      {"a b.com", false},
      {domain_255(), true},
      {domain_255() + "x", false},
  };
  for (const auto& [domain, valid] : ascii) {
    EXPECT_EQ(is_valid_domain(domain, false), valid) << domain;
  }
  EXPECT_TRUE(is_valid_domain("bücher.example", true));
  EXPECT_TRUE(is_valid_domain("例子.广告", true));
  EXPECT_FALSE(
      is_valid_domain("b\xfc"
                      "cher.example",
                      true));
}

TEST(address, is_valid_utf8_follows_rfc_3629) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"", true},
      {"plain ascii", true},
      {"ü", true},
      {"例子", true},
      {"\xf0\x9f\x93\xa7", true},   // U+1F4E7, four bytes
      {"\xf4\x8f\xbf\xbf", true},   // U+10FFFF, the last code point
      {"\xc3", false},              // truncated
      {"\xc1\xbf", false},          // overlong two-byte form
      {"\xe0\x80\xaf", false},      // overlong three-byte form
      {"\xf0\x80\x80\xaf", false},  // overlong four-byte form
      {"\xed\xbf\xbf", false},      // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", false},  // above U+10FFFF
      {"\xf5\x80\x80\x80", false},  // lead byte never used
      {"\xbf", false},              // a lone continuation byte
      {"\xe4\xb8\x41", false},      // continuation replaced by ASCII
  };
  for (const auto& [text, valid] : cases) {
    EXPECT_EQ(is_valid_utf8(text), valid) << text;
  }
}

TEST(address, mailbox_to_string_quotes_only_what_needs_it) {
  struct to_string_case {
    std::string local_part;
    std::string domain;
    std::string expected;
  };
  const std::vector<to_string_case> cases = {
      {"user", "x.org", "user@x.org"},
      {"first.last", "x.org", "first.last@x.org"},
      {"a!#$%&'*+-/=?^_`{|}~z", "x.org", "a!#$%&'*+-/=?^_`{|}~z@x.org"},
      {"a b", "x.org", R"("a b"@x.org)"},
      {"a\"b", "x.org", R"("a\"b"@x.org)"},
      {"a\\b", "x.org", R"("a\\b"@x.org)"},
      {"a@b", "x.org", R"("a@b"@x.org)"},
      {".a", "x.org", R"(".a"@x.org)"},
      {"a.", "x.org", R"("a."@x.org)"},
      {"a..b", "x.org", R"("a..b"@x.org)"},
      {"", "x.org", R"(""@x.org)"},
      {"ü", "bücher.example", "ü@bücher.example"},
      {"Postmaster", "", "Postmaster"},
  };
  for (const to_string_case& c : cases) {
    mailbox box;
    box.local_part = c.local_part;
    box.domain = c.domain;
    EXPECT_EQ(box.to_string(), c.expected);
  }
  path null_path;
  null_path.null = true;
  EXPECT_EQ(null_path.to_string(), "<>");
}

}  // namespace
}  // namespace mailsim::smtp
