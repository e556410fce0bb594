#include "reference-server/store/trace.hpp"

#include <gtest/gtest.h>

namespace mailsim::store {
namespace {

trace_info sample() {
  trace_info info;
  info.reverse_path = "sender@example.net";
  info.helo = "mail.example.net";
  info.peer_ip = "192.0.2.25";
  info.peer_name = "mail.example.net";
  info.hostname = "mx.example.com";
  info.protocol = "ESMTPS";
  info.id = "4SVq1x2kz9";
  info.recipient = "alice@example.com";
  info.time = core::from_epoch_ms(1'700'000'000'000);
  return info;
}

TEST(trace, single_recipient_exact_form) {
  EXPECT_EQ(trace_headers(sample()),
            "Return-Path: <sender@example.net>\r\n"
            "Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n"
            "\tby mx.example.com (mailsim) with ESMTPS id 4SVq1x2kz9\r\n"
            "\tfor <alice@example.com>; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(trace, several_recipients_null_sender_unknown_peer_ipv6) {
  trace_info info = sample();
  info.reverse_path = "";
  info.helo = "[IPv6:2001:db8::1]";
  info.peer_ip = "2001:db8::1";
  info.peer_name.reset();
  info.protocol = "SMTP";
  info.recipient.reset();
  EXPECT_EQ(trace_headers(info),
            "Return-Path: <>\r\n"
            "Received: from [IPv6:2001:db8::1] (unknown [IPv6:2001:db8::1])\r\n"
            "\tby mx.example.com (mailsim) with SMTP id 4SVq1x2kz9;\r\n"
            "\tTue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(trace, hostile_inputs_cannot_add_lines) {
  trace_info info = sample();
  info.helo = "evil\r\nX-Injected: yes";
  info.peer_name = "a) (b";
  info.reverse_path = "<\"a b\"@example.net>";
  info.recipient = "x\r\n@example.com";
  info.id = "";
  EXPECT_EQ(trace_headers(info),
            "Return-Path: <\"a b\"@example.net>\r\n"
            "Received: from evil??X-Injected:?yes (a???b [192.0.2.25])\r\n"
            "\tby mx.example.com (mailsim) with ESMTPS\r\n"
            "\tfor <x??@example.com>; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(trace, utf8_kept_only_with_smtputf8) {
  trace_info info = sample();
  info.reverse_path = "j\xC3\xB6rg@example.net";
  info.recipient.reset();
  EXPECT_NE(trace_headers(info).find("<j??rg@example.net>"), std::string::npos);
  info.protocol = "UTF8SMTPS";
  EXPECT_NE(trace_headers(info).find("<j\xC3\xB6rg@example.net>"), std::string::npos);
}

TEST(trace, protocol_words) {
  struct word_case {
    protocol_flags flags;
    std::string word;
  };
  const std::vector<word_case> cases = {
      {{false, false, false, false}, "SMTP"},
      {{true, false, false, false}, "ESMTP"},
      {{true, true, false, false}, "ESMTPS"},
      {{true, false, true, false}, "ESMTPA"},
      {{true, true, true, false}, "ESMTPSA"},
      {{true, false, false, true}, "UTF8SMTP"},
      {{true, true, false, true}, "UTF8SMTPS"},
      {{true, false, true, true}, "UTF8SMTPA"},
      {{true, true, true, true}, "UTF8SMTPSA"},
      {{false, true, true, false}, "SMTP"},  // TLS and AUTH need EHLO: cannot happen
  };
  for (const auto& c : cases) EXPECT_EQ(protocol_word(c.flags), c.word) << c.word;
}

TEST(trace, flags_from_envelope) {
  smtp::envelope envelope;
  envelope.esmtp = true;
  envelope.tls = true;
  envelope.auth_user = "alice";
  EXPECT_EQ(protocol_word(protocol_flags_of(envelope)), "ESMTPSA");
  envelope.smtputf8 = true;
  envelope.auth_user.reset();
  EXPECT_EQ(protocol_word(protocol_flags_of(envelope)), "UTF8SMTPS");
}

TEST(trace, dates) {
  EXPECT_EQ(format_date_time(core::from_epoch_ms(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_date_time(core::from_epoch_ms(1'709'208'000'999)),
            "Thu, 29 Feb 2024 12:00:00 +0000");
  EXPECT_EQ(format_date_time(core::from_epoch_ms(1'709'251'199'000)),
            "Thu, 29 Feb 2024 23:59:59 +0000");
  EXPECT_EQ(format_date_time(core::from_epoch_ms(-1'000)), "Wed, 31 Dec 1969 23:59:59 +0000");
}

}  // namespace
}  // namespace mailsim::store
