#include "reference-server/queue/dsn.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "reference-server/core/base64.hpp"
#include "tests/support/byte_split.hpp"

namespace mailsim::queue {
namespace {

const core::time_point t0 = core::from_epoch_ms(1'700'000'000'000);  // Tue, 14 Nov 2023 22:13:20
constexpr std::string_view t0_text = "Tue, 14 Nov 2023 22:13:20 +0000";

const std::string original_message =
    "From: Alice <alice@example.net>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Lunch\r\n"
    "Message-ID: <m1.lunch@example.net>\r\n"
    "Date: Tue, 14 Nov 2023 21:00:00 +0000\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n";

const std::string original_header =
    "From: Alice <alice@example.net>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Lunch\r\n"
    "Message-ID: <m1.lunch@example.net>\r\n"
    "Date: Tue, 14 Nov 2023 21:00:00 +0000\r\n";

smtp::path sender_path(std::string local, std::string domain) {
  smtp::path p;
  p.box.local_part = std::move(local);
  p.box.domain = std::move(domain);
  return p;
}

smtp::reply multi_line_reply() {
  smtp::reply r;
  r.code = 550;
  r.enhanced = "5.1.1";
  r.lines = {"<bob@example.org>: Recipient address rejected:", "User unknown in local table"};
  return r;
}

dsn_recipient failed_bob() {
  dsn_recipient r;
  r.final_recipient = "bob@example.org";
  r.orcpt = "rfc822;bob+2Bwork@example.org";
  r.action = dsn_action::failed;
  r.status = "5.1.1";
  r.remote_mta = "mx.example.org";
  r.remote_reply = multi_line_reply();
  r.last_attempt = t0 - std::chrono::minutes(1);
  return r;
}

dsn_request sample_request() {
  dsn_request request;
  request.reporting_mta = "mail.example.net";
  request.now = t0;
  request.token = "4f2a9c1e7b3d5a60";
  request.original.reverse_path = sender_path("alice", "example.net");
  request.original.envid = "QQ+2B123";
  request.original.arrival = t0 - std::chrono::hours(1);
  request.original.message = original_message;
  request.recipients = {failed_bob()};
  return request;
}

dsn_message build_ok(const dsn_request& request) {
  dsn_build_result built = build_dsn(request);
  EXPECT_FALSE(built.error) << built.detail;
  return built.value.value_or(dsn_message{});
}

reported_dsn parse_ok(std::string_view bytes) {
  dsn_parse_result parsed = parse_dsn(bytes);
  EXPECT_FALSE(parsed.error) << parsed.error.message() << ": " << parsed.detail;
  return parsed.value.value_or(reported_dsn{});
}

// RFC 5322 §2.1 and §2.1.1 over the whole report: CRLF only, no line over 998 octets.
void expect_wire_form(std::string_view bytes) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r') {
      ASSERT_TRUE(i + 1 < bytes.size() && bytes[i + 1] == '\n') << "bare CR at " << i;
    } else if (bytes[i] == '\n') {
      ASSERT_TRUE(i > 0 && bytes[i - 1] == '\r') << "bare LF at " << i;
      ASSERT_LE(i - 1 - start, 998u) << "line at " << start;
      start = i + 1;
    }
  }
  ASSERT_EQ(start, bytes.size()) << "the report does not end with CRLF";
}

bool has_line_starting(std::string_view bytes, std::string_view prefix) {
  std::size_t pos = 0;
  while (pos <= bytes.size()) {
    const std::size_t end = bytes.find("\r\n", pos);
    if (bytes.substr(pos, end - pos).starts_with(prefix)) return true;
    if (end == std::string_view::npos) return false;
    pos = end + 2;
  }
  return false;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// ---- Round trips ----

TEST(dsn_build, failure_report_round_trips) {
  const dsn_message built = build_ok(sample_request());
  expect_wire_form(built.bytes);
  EXPECT_EQ(built.recipient.to_string(), "alice@example.net");
  EXPECT_EQ(built.message_id, "<dsn.4f2a9c1e7b3d5a60@mail.example.net>");
  EXPECT_EQ(built.body, smtp::body_type::seven_bit);
  EXPECT_FALSE(built.smtputf8);
  EXPECT_FALSE(built.global);
  EXPECT_EQ(built.returned, dsn_returned::full);

  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.from, "\"Mail Delivery System\" <MAILER-DAEMON@mail.example.net>");
  EXPECT_EQ(report.to, "<alice@example.net>");
  EXPECT_EQ(report.subject, "Undelivered Mail Returned to Sender");
  EXPECT_EQ(report.message_id, built.message_id);
  EXPECT_EQ(report.auto_submitted, "auto-replied");
  EXPECT_FALSE(report.global);
  EXPECT_EQ(report.reporting_mta.type, "dns");
  EXPECT_EQ(report.reporting_mta.value, "mail.example.net");
  EXPECT_EQ(report.original_envelope_id, "QQ+123");  // RFC 3464 §2.2.1: decoded from xtext
  EXPECT_EQ(report.arrival, t0 - std::chrono::hours(1));
  ASSERT_EQ(report.recipients.size(), 1u);
  const reported_recipient& bob = report.recipients[0];
  ASSERT_TRUE(bob.original_recipient);
  EXPECT_EQ(bob.original_recipient->type, "rfc822");
  EXPECT_EQ(bob.original_recipient->value, "bob+work@example.org");
  EXPECT_EQ(bob.final_recipient.type, "rfc822");
  EXPECT_EQ(bob.final_recipient.value, "bob@example.org");
  EXPECT_EQ(bob.action, dsn_action::failed);
  EXPECT_EQ(bob.status, "5.1.1");
  ASSERT_TRUE(bob.remote_mta);
  EXPECT_EQ(bob.remote_mta->value, "mx.example.org");
  ASSERT_TRUE(bob.diagnostic);
  EXPECT_EQ(bob.diagnostic->type, "smtp");
  EXPECT_EQ(bob.diagnostic->value,
            "550-5.1.1 <bob@example.org>: Recipient address rejected: "
            "550 5.1.1 User unknown in local table");
  EXPECT_EQ(bob.last_attempt, t0 - std::chrono::minutes(1));
  EXPECT_FALSE(bob.will_retry_until);
  EXPECT_EQ(report.returned, dsn_returned::full);
  EXPECT_EQ(report.returned_content, original_message);
  EXPECT_TRUE(contains(report.explanation, "<bob@example.org>: failed, 5.1.1"));
  EXPECT_TRUE(contains(report.explanation, "mx.example.org said: 550-5.1.1"));
  EXPECT_TRUE(contains(built.bytes, "\r\nReferences: <m1.lunch@example.net>\r\n"));
}

TEST(dsn_build, delay_report_round_trips_with_header_only) {
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::full;  // delay reports still return the header only
  dsn_recipient& r = request.recipients[0];
  r.action = dsn_action::delayed;
  r.status = "4.4.1";
  r.remote_reply.reset();
  r.remote_mta.clear();
  r.diagnostic = "connect to mx.example.org[192.0.2.7]:25: Connection timed out";
  r.will_retry_until = t0 + std::chrono::hours(96);
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_EQ(built.returned, dsn_returned::headers);

  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.subject, "Delayed Mail (still being retried)");
  ASSERT_EQ(report.recipients.size(), 1u);
  const reported_recipient& bob = report.recipients[0];
  EXPECT_EQ(bob.action, dsn_action::delayed);
  EXPECT_EQ(bob.status, "4.4.1");
  EXPECT_FALSE(bob.remote_mta);
  ASSERT_TRUE(bob.diagnostic);
  EXPECT_EQ(bob.diagnostic->type, "X-mailsim");
  EXPECT_EQ(bob.diagnostic->value, r.diagnostic);
  EXPECT_EQ(bob.will_retry_until, t0 + std::chrono::hours(96));
  EXPECT_EQ(report.returned, dsn_returned::headers);
  EXPECT_EQ(report.returned_content, original_header);
  EXPECT_TRUE(contains(built.bytes, "Content-Type: text/rfc822-headers\r\n"));
  EXPECT_TRUE(contains(report.explanation, "keep trying until Sat, 18 Nov 2023 22:13:20"));
}

TEST(dsn_build, success_and_relay_reports_round_trip) {
  struct success_case {
    dsn_action action;
    std::string subject;
  };
  for (const success_case& c :
       {success_case{dsn_action::delivered, "Successful Mail Delivery Report"},
        success_case{dsn_action::expanded, "Successful Mail Delivery Report"},
        success_case{dsn_action::relayed, "Relayed mail"}}) {
    SCOPED_TRACE(std::string(action_name(c.action)));
    dsn_request request = sample_request();
    dsn_recipient& r = request.recipients[0];
    r.action = c.action;
    r.status = "2.0.0";
    r.remote_reply = smtp::make_reply(250, "2.0.0", "Ok: queued as 4SVq1x2kz9");
    r.will_retry_until = t0;  // ignored: only a delayed recipient has one
    const dsn_message built = build_ok(request);
    expect_wire_form(built.bytes);
    EXPECT_EQ(built.returned, dsn_returned::headers);
    EXPECT_FALSE(contains(built.bytes, "Will-Retry-Until"));
    const reported_dsn report = parse_ok(built.bytes);
    EXPECT_EQ(report.subject, c.subject);
    ASSERT_EQ(report.recipients.size(), 1u);
    EXPECT_EQ(report.recipients[0].action, c.action);
    EXPECT_EQ(report.recipients[0].status, "2.0.0");
    EXPECT_EQ(report.recipients[0].diagnostic->value, "250 2.0.0 Ok: queued as 4SVq1x2kz9");
  }
}

TEST(dsn_build, recipients_due_together_share_one_report) {
  const smtp::path sender = sender_path("alice", "example.net");
  dsn_candidate failed{failed_bob(), {}};
  dsn_candidate delivered{failed_bob(), {}};
  delivered.report.final_recipient = "carol@example.org";
  delivered.report.orcpt.reset();
  delivered.report.action = dsn_action::delivered;
  delivered.report.status = "2.0.0";
  delivered.report.remote_reply = smtp::make_reply(250, "2.0.0", "Ok");
  dsn_candidate delayed{failed_bob(), {true, false, false, false, true}};  // NOTIFY=DELAY
  delayed.report.final_recipient = "dave@example.org";
  delayed.report.orcpt.reset();
  delayed.report.action = dsn_action::delayed;
  delayed.report.status = "4.2.2";
  delayed.report.remote_reply = smtp::make_reply(452, "4.2.2", "Mailbox full");
  const std::vector<dsn_candidate> candidates = {failed, delivered, delayed};

  dsn_request request = sample_request();
  request.recipients = due_recipients(sender, candidates);
  ASSERT_EQ(request.recipients.size(), 2u);  // NOTIFY absent: no success report for carol
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.subject, "Undelivered Mail Returned to Sender");  // the gravest action
  ASSERT_EQ(report.recipients.size(), 2u);
  EXPECT_EQ(report.recipients[0].final_recipient.value, "bob@example.org");
  EXPECT_EQ(report.recipients[0].action, dsn_action::failed);
  EXPECT_EQ(report.recipients[1].final_recipient.value, "dave@example.org");
  EXPECT_EQ(report.recipients[1].action, dsn_action::delayed);
  EXPECT_EQ(report.recipients[1].status, "4.2.2");
  EXPECT_FALSE(report.recipients[1].original_recipient);
  EXPECT_TRUE(contains(report.explanation, "marked \"failed\""));
  EXPECT_TRUE(contains(report.explanation, "marked \"delayed\""));
  EXPECT_EQ(report.returned, dsn_returned::full);  // a failure is in it
}

TEST(dsn_build, orcpt_and_envid_absent_leave_no_field) {
  dsn_request request = sample_request();
  request.original.envid.reset();
  request.recipients[0].orcpt.reset();
  const dsn_message built = build_ok(request);
  EXPECT_FALSE(contains(built.bytes, "Original-Envelope-Id"));
  EXPECT_FALSE(contains(built.bytes, "Original-Recipient"));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_FALSE(report.original_envelope_id);
  EXPECT_FALSE(report.recipients[0].original_recipient);
}

TEST(dsn_build, xtext_that_decodes_to_controls_is_written_as_received) {
  dsn_request request = sample_request();
  request.original.envid = "id+0D+0AX-Injected:+20yes";
  request.recipients[0].orcpt = "rfc822;b+0D+0AX-Injected:+20yes@example.org";
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_FALSE(has_line_starting(built.bytes, "X-Injected"));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.original_envelope_id, "id+0D+0AX-Injected:+20yes");
  EXPECT_EQ(report.recipients[0].original_recipient->value, "b+0D+0AX-Injected:+20yes@example.org");
}

TEST(dsn_build, network_values_cannot_start_lines) {
  dsn_request request = sample_request();
  dsn_recipient& r = request.recipients[0];
  r.final_recipient = "bob\r\nX-Injected: yes\r\n@example.org";
  r.remote_mta = "mx.example.org\r\nX-Injected: yes";
  r.remote_reply->lines.push_back("text\r\nX-Injected: yes");
  dsn_recipient local = r;
  local.remote_reply.reset();
  local.diagnostic = "no route\r\n\r\n--=_dsn_4f2a9c1e7b3d5a60_00000000--\r\nX-Injected: yes";
  request.recipients.push_back(local);
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_FALSE(has_line_starting(built.bytes, "X-Injected"));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.recipients.size(), 2u);
}

// ---- What comes back of the original ----

TEST(dsn_build, ret_hdrs_returns_the_header_section) {
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::headers;
  const dsn_message built = build_ok(request);
  EXPECT_EQ(built.returned, dsn_returned::headers);
  EXPECT_TRUE(contains(built.bytes, "Content-Type: text/rfc822-headers\r\n"));
  EXPECT_FALSE(contains(built.bytes, "Shall we meet"));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.returned, dsn_returned::headers);
  EXPECT_EQ(report.returned_content, original_header);
  EXPECT_TRUE(contains(report.explanation, "The header of your message is attached."));
}

TEST(dsn_build, ret_full_returns_the_message) {
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::full;
  const dsn_message built = build_ok(request);
  EXPECT_TRUE(contains(built.bytes, "Content-Type: message/rfc822\r\n"));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.returned, dsn_returned::full);
  EXPECT_EQ(report.returned_content, original_message);
  EXPECT_TRUE(contains(report.explanation, "Your message is attached."));
}

TEST(dsn_build, full_return_for_success_only_when_asked) {
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::full;
  request.recipients[0].action = dsn_action::delivered;
  request.recipients[0].status = "2.0.0";
  EXPECT_EQ(build_ok(request).returned, dsn_returned::headers);
  request.options.return_full_for_non_failures = true;
  EXPECT_EQ(build_ok(request).returned, dsn_returned::full);
  request.original.ret = smtp::dsn_ret::unspecified;
  EXPECT_EQ(build_ok(request).returned, dsn_returned::headers);
}

TEST(dsn_build, size_cap_falls_back_to_headers) {
  std::string big = original_header + "\r\n";
  while (big.size() <= 50'000) big += std::string(70, 'x') + "\r\n";
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::full;
  request.original.message = big;
  dsn_message built = build_ok(request);
  EXPECT_EQ(built.returned, dsn_returned::headers);  // above Postfix's 50,000 default
  EXPECT_EQ(parse_ok(built.bytes).returned_content, original_header);

  request.options.return_bytes_max = 100'000;
  built = build_ok(request);
  EXPECT_EQ(built.returned, dsn_returned::full);
  EXPECT_EQ(parse_ok(built.bytes).returned_content, big);
}

TEST(dsn_build, header_section_over_the_cap_is_cut_after_a_whole_field) {
  const std::string folded =
      "Subject: a subject\r\n"
      " folded over two lines\r\n"
      "From: alice@example.net\r\n"
      "\r\nbody\r\n";
  dsn_request request = sample_request();
  request.original.message = folded;
  request.options.return_bytes_max = 30;  // inside the folded Subject, after its first line
  dsn_message built = build_ok(request);
  EXPECT_EQ(built.returned, dsn_returned::nothing);  // no whole field fits

  request.options.return_bytes_max = 50;
  built = build_ok(request);
  EXPECT_EQ(built.returned, dsn_returned::headers);
  EXPECT_EQ(parse_ok(built.bytes).returned_content,
            "Subject: a subject\r\n folded over two lines\r\n");
}

TEST(dsn_build, content_that_cannot_travel_8bit_is_returned_as_headers) {
  const std::string binary = original_header + "\r\nbin" + std::string(1, '\0') + "ary\r\n";
  const std::string long_line = original_header + "\r\n" + std::string(2000, 'y') + "\r\n";
  for (const std::string& message : {binary, long_line}) {
    dsn_request request = sample_request();
    request.original.message = message;
    const dsn_message built = build_ok(request);
    expect_wire_form(built.bytes);
    EXPECT_EQ(built.returned, dsn_returned::headers);
  }
}

TEST(dsn_build, bare_line_ends_of_the_original_become_crlf) {
  dsn_request request = sample_request();
  const std::string lf_message = "Subject: x\n\nline one\nline two\rthree\n";
  request.original.message = lf_message;
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_EQ(parse_ok(built.bytes).returned_content,
            "Subject: x\r\n\r\nline one\r\nline two\r\nthree\r\n");
}

TEST(dsn_build, boundary_never_occurs_in_the_content) {
  dsn_request request = sample_request();
  // The first two candidates for this token are in the message, the second one as the
  // close delimiter that would end the report early.
  const std::string hostile = original_header +
                              "\r\n--=_dsn_4f2a9c1e7b3d5a60_00000000\r\n"
                              "--=_dsn_4f2a9c1e7b3d5a60_00000001--\r\n";
  request.original.message = hostile;
  const dsn_message built = build_ok(request);
  EXPECT_TRUE(contains(built.bytes, "boundary=\"=_dsn_4f2a9c1e7b3d5a60_00000002\""));
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.returned_content, hostile);
}

TEST(dsn_build, every_line_stays_within_998_octets) {
  dsn_request request = sample_request();
  dsn_recipient& r = request.recipients[0];
  r.final_recipient = std::string(64, 'l') + "@" + std::string(200, 'd') + ".example";
  r.remote_reply->lines.assign(40, std::string(3000, 'w'));  // words no fold can split
  r.remote_reply->lines.push_back("short words " + std::string(500, ' ') + " and spaces");
  r.diagnostic = std::string(5000, 'z');
  request.original.envid = std::string(1200, 'e');
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_EQ(report.recipients[0].final_recipient.value, r.final_recipient);
  EXPECT_TRUE(report.recipients[0].diagnostic->value.starts_with("550-5.1.1 www"));
}

TEST(dsn_build, fields_fold_at_78_when_words_allow) {
  dsn_request request = sample_request();
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) lines.push_back("the quick brown fox jumps over the lazy dog");
  request.recipients[0].remote_reply->lines = lines;
  const dsn_message built = build_ok(request);
  const std::size_t at = built.bytes.find("Diagnostic-Code:");
  ASSERT_NE(at, std::string::npos);
  const std::size_t end = built.bytes.find("\r\nLast-Attempt-Date:", at);
  const std::string field = built.bytes.substr(at, end - at);
  std::size_t start = 0;
  for (std::size_t crlf = field.find("\r\n"); crlf != std::string::npos;
       start = crlf + 2, crlf = field.find("\r\n", start)) {
    EXPECT_LE(crlf - start, 78u);
    EXPECT_EQ(field[crlf + 2], ' ');  // a continuation line
  }
  EXPECT_LE(field.size() - start, 78u);
}

// ---- RFC 6533 ----

TEST(dsn_build, smtputf8_original_gets_global_types) {
  dsn_request request = sample_request();
  request.original.smtputf8 = true;
  request.original.reverse_path = sender_path("j\xC3\xB6rg", "example.net");
  request.recipients[0].final_recipient = "b\xC3\xBCro@example.org";
  request.recipients[0].orcpt = "utf-8;b\\x{FC}ro@example.org";
  const std::string utf8_message =
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e\r\n\r\nHallo\r\n";
  request.original.message = utf8_message;
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_TRUE(built.global);
  EXPECT_TRUE(built.smtputf8);  // To: carries a UTF-8 address
  EXPECT_EQ(built.body, smtp::body_type::eight_bit_mime);
  EXPECT_TRUE(contains(built.bytes, "report-type=global-delivery-status"));
  EXPECT_TRUE(contains(built.bytes, "Content-Type: message/global-delivery-status\r\n"));
  EXPECT_TRUE(contains(built.bytes, "Content-Type: message/global\r\n"));
  EXPECT_TRUE(contains(built.bytes, "Content-Type: text/plain; charset=utf-8\r\n"));
  EXPECT_TRUE(contains(built.bytes, "Final-Recipient: utf-8; b\xC3\xBCro@example.org\r\n"));

  const reported_dsn report = parse_ok(built.bytes);
  EXPECT_TRUE(report.global);
  EXPECT_EQ(report.to, "<j\xC3\xB6rg@example.net>");
  EXPECT_EQ(report.recipients[0].final_recipient.type, "utf-8");
  EXPECT_EQ(report.recipients[0].final_recipient.value, "b\xC3\xBCro@example.org");
  // RFC 6533 §3: the \x{HEX} form of the ORCPT is read back as UTF-8.
  EXPECT_EQ(report.recipients[0].original_recipient->value, "b\xC3\xBCro@example.org");
  EXPECT_EQ(report.returned_content, utf8_message);

  request.original.ret = smtp::dsn_ret::headers;
  EXPECT_TRUE(contains(build_ok(request).bytes, "Content-Type: message/global-headers\r\n"));
}

TEST(dsn_build, ascii_smtputf8_sender_needs_no_smtputf8_for_the_report) {
  dsn_request request = sample_request();
  request.original.smtputf8 = true;
  const dsn_message built = build_ok(request);
  EXPECT_TRUE(built.global);
  EXPECT_FALSE(built.smtputf8);
  EXPECT_EQ(built.body, smtp::body_type::seven_bit);
}

TEST(dsn_build, eight_bit_body_stays_message_rfc822) {
  dsn_request request = sample_request();
  const std::string latin1 = original_header + "\r\nCaf\xE9 at noon?\r\n";
  request.original.message = latin1;
  const dsn_message built = build_ok(request);
  expect_wire_form(built.bytes);
  EXPECT_FALSE(built.global);
  EXPECT_FALSE(built.smtputf8);
  EXPECT_EQ(built.body, smtp::body_type::eight_bit_mime);
  EXPECT_TRUE(
      contains(built.bytes, "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n"));
  EXPECT_EQ(parse_ok(built.bytes).returned_content, latin1);
}

// ---- Requests that are refused ----

TEST(dsn_build, refuses_invalid_requests) {
  struct bad_case {
    std::string name;
    void (*change)(dsn_request&);
  };
  const std::vector<bad_case> cases = {
      {"null sender",
       [](dsn_request& r) {
         r.original.reverse_path = smtp::path{true, {}, false};
       }},
      {"no recipient", [](dsn_request& r) { r.recipients.clear(); }},
      {"empty token", [](dsn_request& r) { r.token.clear(); }},
      {"token with a space", [](dsn_request& r) { r.token = "a b"; }},
      {"long token", [](dsn_request& r) { r.token = std::string(41, 'a'); }},
      {"bad reporting MTA", [](dsn_request& r) { r.reporting_mta = "mail example"; }},
      {"no final recipient", [](dsn_request& r) { r.recipients[0].final_recipient.clear(); }},
      {"success status on failure", [](dsn_request& r) { r.recipients[0].status = "2.0.0"; }},
      {"status not RFC 3463", [](dsn_request& r) { r.recipients[0].status = "550"; }},
      {"permanent status on delay",
       [](dsn_request& r) { r.recipients[0].action = dsn_action::delayed; }},
      {"failure status on success",
       [](dsn_request& r) { r.recipients[0].action = dsn_action::delivered; }},
  };
  for (const bad_case& c : cases) {
    SCOPED_TRACE(c.name);
    dsn_request request = sample_request();
    c.change(request);
    const dsn_build_result built = build_dsn(request);
    EXPECT_FALSE(built.value);
    EXPECT_EQ(built.error, dsn_errc::invalid_request);
    EXPECT_FALSE(built.detail.empty());
  }
}

TEST(dsn_build, expired_transient_failure_is_a_failure) {
  dsn_request request = sample_request();
  request.recipients[0].status = "4.4.7";  // RFC 3463: delivery time expired
  const reported_dsn report = parse_ok(build_ok(request).bytes);
  EXPECT_EQ(report.recipients[0].action, dsn_action::failed);
  EXPECT_EQ(report.recipients[0].status, "4.4.7");
}

// ---- Golden output ----

// The expected files are reviewed by hand. MAILSIM_UPDATE_GOLDEN=1 rewrites them.
void expect_golden(const std::string& bytes, const std::string& name) {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "golden" / name;
  if (std::getenv("MAILSIM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing " << path;
  const std::string expected{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(bytes, expected) << test::printable(bytes);
}

TEST(dsn_golden, failure_report) {
  dsn_request request = sample_request();
  dsn_recipient other = failed_bob();
  other.final_recipient = "carol@example.org";
  other.orcpt.reset();
  other.status = "5.2.2";
  other.remote_reply = smtp::make_reply(552, "5.2.2", "Mailbox full");
  request.recipients.push_back(other);
  expect_golden(build_ok(request).bytes, "dsn_failed.eml");
}

TEST(dsn_golden, global_delay_report) {
  dsn_request request = sample_request();
  request.original.smtputf8 = true;
  request.original.envid.reset();
  request.original.reverse_path = sender_path("j\xC3\xB6rg", "example.net");
  const std::string utf8_message =
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e\r\nMessage-ID: <g1@example.net>\r\n\r\nHallo\r\n";
  request.original.message = utf8_message;
  dsn_recipient& r = request.recipients[0];
  r.final_recipient = "b\xC3\xBCro@example.org";
  r.orcpt.reset();
  r.action = dsn_action::delayed;
  r.status = "4.2.2";
  r.remote_reply = smtp::make_reply(452, "4.2.2", "Mailbox full, try later");
  r.will_retry_until = t0 + std::chrono::hours(72);
  expect_golden(build_ok(request).bytes, "dsn_global_delayed.eml");
}

// ---- When a report is due ----

smtp::dsn_notify notify_absent() {
  return {};
}
smtp::dsn_notify notify_never() {
  return {true, true, false, false, false};
}
smtp::dsn_notify notify(bool success, bool failure, bool delay) {
  return {true, false, success, failure, delay};
}

TEST(dsn_due, notify_matrix) {
  struct due_case {
    std::string name;
    smtp::dsn_notify notify;
    dsn_action event;
    bool due;
  };
  using enum dsn_action;
  const std::vector<due_case> cases = {
      {"absent, failed", notify_absent(), failed, true},
      {"absent, delayed", notify_absent(), delayed, false},
      {"absent, delivered", notify_absent(), delivered, false},
      {"absent, relayed", notify_absent(), relayed, false},
      {"absent, expanded", notify_absent(), expanded, false},
      {"NEVER, failed", notify_never(), failed, false},
      {"NEVER, delayed", notify_never(), delayed, false},
      {"NEVER, delivered", notify_never(), delivered, false},
      {"SUCCESS, failed", notify(true, false, false), failed, false},
      {"SUCCESS, delivered", notify(true, false, false), delivered, true},
      {"SUCCESS, relayed", notify(true, false, false), relayed, true},
      {"SUCCESS, expanded", notify(true, false, false), expanded, true},
      {"SUCCESS, delayed", notify(true, false, false), delayed, false},
      {"FAILURE, failed", notify(false, true, false), failed, true},
      {"FAILURE, delayed", notify(false, true, false), delayed, false},
      {"FAILURE, delivered", notify(false, true, false), delivered, false},
      {"DELAY, delayed", notify(false, false, true), delayed, true},
      {"DELAY, failed", notify(false, false, true), failed, false},
      {"all three, failed", notify(true, true, true), failed, true},
      {"all three, delayed", notify(true, true, true), delayed, true},
      {"all three, delivered", notify(true, true, true), delivered, true},
  };
  const smtp::path sender = sender_path("alice", "example.net");
  for (const due_case& c : cases) {
    EXPECT_EQ(dsn_due(sender, c.notify, c.event), c.due) << c.name;
  }
}

TEST(dsn_due, null_sender_never_gets_a_report) {
  smtp::path null_path;
  null_path.null = true;
  for (const smtp::dsn_notify& n : {notify_absent(), notify(true, true, true)}) {
    for (const dsn_action event : {dsn_action::failed, dsn_action::delayed, dsn_action::delivered,
                                   dsn_action::relayed, dsn_action::expanded}) {
      EXPECT_FALSE(dsn_due(null_path, n, event, {.delay_reports_without_notify = true}));
    }
  }
  const std::vector<dsn_candidate> candidates = {{failed_bob(), {}}};
  EXPECT_TRUE(due_recipients(null_path, candidates).empty());
}

TEST(dsn_due, delay_reports_without_notify_follow_the_policy) {
  const smtp::path sender = sender_path("alice", "example.net");
  const dsn_policy eager{.delay_reports_without_notify = true};
  EXPECT_TRUE(dsn_due(sender, notify_absent(), dsn_action::delayed, eager));
  EXPECT_FALSE(dsn_due(sender, notify_absent(), dsn_action::delivered, eager));
  EXPECT_FALSE(dsn_due(sender, notify(false, true, false), dsn_action::delayed, eager));
}

// ---- Small helpers ----

TEST(dsn_helpers, status_from_reply) {
  EXPECT_EQ(status_from_reply(multi_line_reply()), "5.1.1");
  EXPECT_EQ(status_from_reply(smtp::make_reply(550, "", "no")), "5.0.0");
  EXPECT_EQ(status_from_reply(smtp::make_reply(451, "", "later")), "4.0.0");
  EXPECT_EQ(status_from_reply(smtp::make_reply(451, "5.1.1", "class disagrees")), "4.0.0");
  EXPECT_EQ(status_from_reply(smtp::make_reply(250, "2.6.0", "ok")), "2.6.0");
}

TEST(dsn_helpers, tokens_are_hex_and_follow_the_random_source) {
  core::splitmix_random random(7);
  const std::string first = make_dsn_token(random);
  const std::string second = make_dsn_token(random);
  EXPECT_EQ(first.size(), 16u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first, second);
  core::splitmix_random again(7);
  EXPECT_EQ(make_dsn_token(again), first);
}

TEST(dsn_helpers, original_of_copies_the_envelope) {
  smtp::envelope envelope;
  envelope.reverse_path = sender_path("alice", "example.net");
  envelope.envid = "E1";
  envelope.ret = smtp::dsn_ret::headers;
  envelope.smtputf8 = true;
  const dsn_original original = original_of(envelope, t0, original_message);
  EXPECT_EQ(original.reverse_path.to_string(), "<alice@example.net>");
  EXPECT_EQ(original.envid, "E1");
  EXPECT_EQ(original.ret, smtp::dsn_ret::headers);
  EXPECT_TRUE(original.smtputf8);
  EXPECT_EQ(original.arrival, t0);
  EXPECT_EQ(original.message, original_message);
}

TEST(dsn_helpers, action_names) {
  for (const dsn_action action : {dsn_action::failed, dsn_action::delayed, dsn_action::delivered,
                                  dsn_action::relayed, dsn_action::expanded}) {
    EXPECT_EQ(parse_action(action_name(action)), action);
  }
  EXPECT_EQ(parse_action("FAILED"), dsn_action::failed);
  EXPECT_FALSE(parse_action("exploded"));
}

// ---- Parsing reports from elsewhere ----

std::string report_with_status(std::string_view status_body) {
  return "From: MAILER-DAEMON@mx.example.org\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n"
         "\r\n"
         "--b\r\n"
         "Content-Type: message/delivery-status\r\n"
         "\r\n" +
         std::string(status_body) + "\r\n--b--\r\n";
}

std::string status_with_arrival(std::string_view date) {
  return "Reporting-MTA: dns; mx.example.org\r\nArrival-Date: " + std::string(date) +
         "\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\n";
}

TEST(dsn_parse, reads_a_foreign_report_with_lf_line_ends) {
  const std::string foreign =
      "Return-Path: <>\n"
      "From MAILER-DAEMON  Tue Nov 14 22:13:20 2023\n"
      "from: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
      "SUBJECT: Undelivered Mail Returned to Sender\n"
      "MIME-Version: 1.0\n"
      "content-type: Multipart/Report; Report-Type=delivery-status;\n"
      "\tboundary=XYZ123\n"
      "\n"
      "This is a MIME message.\n"
      "\n"
      "--XYZ123\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Mail to bob failed=2E Sorry=\n"
      " really.\n"
      "\n"
      "--XYZ123\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "reporting-mta: dns; mx.example.org\n"
      "x-postfix-queue-id: 4ABC\n"
      "arrival-date: 14 Nov 2023 23:13 +0100 (CET)\n"
      "\n"
      "Final-Recipient: RFC822; bob@example.org\n"
      "ORIGINAL-RECIPIENT: rfc822;bob@example.org\n"
      "Action: failed (permanent)\n"
      "Status: 5.1.1 (user unknown)\n"
      "Remote-MTA: dns; mx2.example.org\n"
      "Diagnostic-Code: smtp; 550-5.1.1 first line\n"
      "    550 5.1.1 second line\n"
      "\n"
      "--XYZ123\n"
      "Content-Type: text/rfc822-headers\n"
      "\n"
      "Subject: Lunch\n"
      "\n"
      "--XYZ123--\n"
      "epilogue\n";
  const reported_dsn report = parse_ok(foreign);
  EXPECT_EQ(report.subject, "Undelivered Mail Returned to Sender");
  EXPECT_EQ(report.explanation, "Mail to bob failed. Sorry really.\n");
  EXPECT_EQ(report.reporting_mta.value, "mx.example.org");
  EXPECT_EQ(report.arrival, t0 - std::chrono::seconds(20));
  ASSERT_EQ(report.other_fields.size(), 1u);
  EXPECT_EQ(report.other_fields[0].first, "x-postfix-queue-id");
  EXPECT_EQ(report.other_fields[0].second, "4ABC");
  ASSERT_EQ(report.recipients.size(), 1u);
  const reported_recipient& bob = report.recipients[0];
  EXPECT_EQ(bob.final_recipient.type, "RFC822");
  EXPECT_EQ(bob.action, dsn_action::failed);
  EXPECT_EQ(bob.status, "5.1.1");
  EXPECT_EQ(bob.remote_mta->value, "mx2.example.org");
  EXPECT_EQ(bob.diagnostic->value, "550-5.1.1 first line    550 5.1.1 second line");
  EXPECT_EQ(report.returned, dsn_returned::headers);
  EXPECT_EQ(report.returned_content, "Subject: Lunch\n");
}

TEST(dsn_parse, reads_a_base64_status_part) {
  const std::string status =
      "Reporting-MTA: dns; a.example\r\n\r\n"
      "Final-Recipient: utf-8; b\\x{FC}ro@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
  std::string encoded = core::base64_encode(status);
  encoded.insert(40, "\r\n");
  const std::string message =
      "Content-Type: multipart/report; report-type=global-delivery-status; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: message/global-delivery-status\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n" +
      encoded + "\r\n--b--\r\n";
  const reported_dsn report = parse_ok(message);
  EXPECT_TRUE(report.global);
  ASSERT_EQ(report.recipients.size(), 1u);
  EXPECT_EQ(report.recipients[0].final_recipient.value, "b\xC3\xBCro@example.org");
  EXPECT_EQ(report.recipients[0].action, dsn_action::delayed);
}

TEST(dsn_parse, dates_in_their_many_forms) {
  struct date_case {
    std::string text;
    core::time_point expected;
  };
  const std::vector<date_case> cases = {
      {std::string(t0_text), t0},
      {"14 Nov 2023 23:13:20 +0100", t0},
      {"Tue, 14 Nov 23 22:13:20 GMT", t0},
      {"Tue, 14 Nov 2023 17:13:20 EST", t0},
      {"  tue ,  14   nov 2023 22:13:20 -0000 (no zone known)", t0},
      {"Tue, 14 Nov 2023 22:13 UT", t0 - std::chrono::seconds(20)},
      {"Wed, 15 Nov 2023 00:13:20 +0200", t0},
      {"Fri, 1 Mar 2024 00:00:00 +0000", core::from_epoch_ms(1'709'251'200'000)},
  };
  for (const date_case& c : cases) {
    const reported_dsn report = parse_ok(report_with_status(status_with_arrival(c.text)));
    EXPECT_EQ(report.arrival, c.expected) << c.text;
  }
  for (const std::string bad : {"31 Feb 2023 10:00:00 +0000", "14 Nov 2023 25:00:00 +0000",
                                "yesterday", "14 Nov 2023 10:00:00 +2", "14 Nov 2023 10:00:00"}) {
    const dsn_parse_result parsed = parse_dsn(report_with_status(status_with_arrival(bad)));
    EXPECT_EQ(parsed.error, dsn_errc::malformed) << bad;
  }
}

TEST(dsn_parse, errors_name_what_is_wrong) {
  const std::string good_status =
      "Reporting-MTA: dns; mx.example.org\r\n\r\n"
      "Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n";
  ASSERT_FALSE(parse_dsn(report_with_status(good_status)).error);
  struct error_case {
    std::string name;
    std::string message;
    dsn_errc expected;
  };
  std::string no_close = report_with_status(good_status);
  no_close.erase(no_close.rfind("--b--"));
  const std::string only_text =
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n";
  const std::vector<error_case> cases = {
      {"plain message", "Subject: hi\r\n\r\nhello\r\n", dsn_errc::not_a_report},
      {"multipart/mixed", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--b--\r\n",
       dsn_errc::not_a_report},
      {"disposition report",
       "Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n",
       dsn_errc::not_a_report},
      {"no status part", only_text, dsn_errc::not_a_report},
      {"no boundary", "Content-Type: multipart/report; report-type=delivery-status\r\n\r\n",
       dsn_errc::malformed},
      {"no close delimiter", no_close, dsn_errc::malformed},
      {"no Reporting-MTA",
       report_with_status(
           "Arrival-Date: " + std::string(t0_text) +
           "\r\n\r\n"
           "Final-Recipient: rfc822; b@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\n"),
       dsn_errc::missing_field},
      {"no recipient", report_with_status("Reporting-MTA: dns; mx.example.org\r\n"),
       dsn_errc::missing_field},
      {"no Status",
       report_with_status("Reporting-MTA: dns; m.example\r\n\r\n"
                          "Final-Recipient: rfc822; b@example.org\r\nAction: failed\r\n"),
       dsn_errc::missing_field},
      {"no Final-Recipient",
       report_with_status(
           "Reporting-MTA: dns; m.example\r\n\r\nAction: failed\r\nStatus: 5.0.0\r\n"),
       dsn_errc::missing_field},
      {"unknown action",
       report_with_status(
           "Reporting-MTA: dns; m.example\r\n\r\n"
           "Final-Recipient: rfc822; b@example.org\r\nAction: exploded\r\nStatus: 5.0.0\r\n"),
       dsn_errc::malformed},
      {"bad status",
       report_with_status(
           "Reporting-MTA: dns; m.example\r\n\r\n"
           "Final-Recipient: rfc822; b@example.org\r\nAction: failed\r\nStatus: 550\r\n"),
       dsn_errc::malformed},
      {"untyped recipient",
       report_with_status("Reporting-MTA: dns; m.example\r\n\r\n"
                          "Final-Recipient: b@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\n"),
       dsn_errc::malformed},
      {"line that is no field",
       report_with_status(
           "Reporting-MTA: dns; m.example\r\nnot a field\r\n\r\n"
           "Final-Recipient: rfc822; b@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\n"),
       dsn_errc::malformed},
      {"bad base64 status part",
       "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
       "--b\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       "!!!!\r\n--b--\r\n",
       dsn_errc::malformed},
  };
  for (const error_case& c : cases) {
    const dsn_parse_result parsed = parse_dsn(c.message);
    EXPECT_FALSE(parsed.value) << c.name;
    EXPECT_EQ(parsed.error, c.expected) << c.name << ": " << parsed.detail;
    EXPECT_FALSE(parsed.detail.empty()) << c.name;
  }
}

TEST(dsn_parse, limits_bound_the_work) {
  dsn_request request = sample_request();
  request.recipients.push_back(failed_bob());
  const std::string bytes = build_ok(request).bytes;
  ASSERT_FALSE(parse_dsn(bytes).error);

  dsn_parse_limits limits;
  limits.message_bytes_max = bytes.size() - 1;
  EXPECT_EQ(parse_dsn(bytes, limits).error, dsn_errc::too_large);
  limits = {};
  limits.recipients_max = 1;
  EXPECT_EQ(parse_dsn(bytes, limits).error, dsn_errc::too_large);
  limits = {};
  limits.parts_max = 2;
  EXPECT_EQ(parse_dsn(bytes, limits).error, dsn_errc::too_large);
  limits = {};
  limits.fields_max = 3;
  EXPECT_EQ(parse_dsn(bytes, limits).error, dsn_errc::too_large);
  limits = {};
  limits.field_bytes_max = 40;
  EXPECT_EQ(parse_dsn(bytes, limits).error, dsn_errc::too_large);
}

// Every prefix of a report, and reports with bytes changed at random: the parser answers
// (a report or an error) and never crashes. Run under the asan-ubsan preset for memory.
TEST(dsn_parse, damaged_reports_never_crash) {
  dsn_request request = sample_request();
  request.original.ret = smtp::dsn_ret::headers;
  const std::string bytes = build_ok(request).bytes;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const dsn_parse_result parsed = parse_dsn(std::string_view(bytes).substr(0, n));
    EXPECT_NE(parsed.value.has_value(), static_cast<bool>(parsed.error)) << n;
  }
  core::splitmix_random random(2023);
  static constexpr char alphabet[] = "\r\n:;=-\\\"(){}x+ \t\x80\xFF";
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = bytes;
    for (int k = 0; k < 4; ++k) {
      const std::size_t at = random.uniform(damaged.size());
      damaged[at] = alphabet[random.uniform(sizeof alphabet - 1)];
    }
    const dsn_parse_result parsed = parse_dsn(damaged);
    EXPECT_NE(parsed.value.has_value(), static_cast<bool>(parsed.error)) << round;
  }
}

}  // namespace
}  // namespace mailsim::queue
