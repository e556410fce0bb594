// mailsim::queue delivery-status notifications — RFC 3464 reports for RFC 3461 requests.
//
// Contract: pure functions, no I/O, no clock, no randomness of their own (`now` and a token
// are passed in). Three jobs:
//
//  - dsn_due() decides whether a report is owed for one recipient and one event (RFC 3461
//    §4.1 and §5.2, RFC 5321 §4.5.5 and §6.1): never to a null reverse path (no bounce for
//    a bounce), never with NOTIFY=NEVER; with NOTIFY absent, failures only (delay reports
//    when dsn_policy says so), no success reports. due_recipients() keeps the recipients of
//    one message that are due a report at the same moment: they go into ONE report.
//  - build_dsn() writes the report: an RFC 5322 message with CRLF line ends, every line at
//    most 998 octets (78 where a field can be folded), to be queued with MAIL FROM:<>.
//    multipart/report (RFC 6522) of a text/plain explanation, a message/delivery-status
//    part (RFC 3464 §2) and the original message or its header section (RFC 3461 §4.3
//    RET; see dsn_options). Values from the network are cleaned so that they cannot start
//    a field or a line of their own.
//  - parse_dsn() reads such a report back (ours or another MTA's): the per-message and
//    per-recipient fields, the explanation and the returned content. Bounded by
//    dsn_parse_limits, never throws, errors are dsn_errc codes with a detail string.
//
// Decisions (RFC 3464 leaves them open or the brief asked to pick):
//  - Original-Envelope-Id carries the ENVID decoded from xtext: RFC 3464 §2.2.1 defines it
//    as text, and Postfix and sendmail write the decoded form. Original-Recipient carries
//    the ORCPT's addr-type and its decoded address likewise. When the decoded value holds
//    a control character, or non-ASCII in a 7-bit report, the xtext form as received is
//    written instead: it is printable ASCII and loses nothing.
//  - RFC 6533 (message/global-delivery-status, report-type=global-delivery-status,
//    message/global or message/global-headers, "utf-8" address type, text/plain in UTF-8)
//    is used when the original transaction used SMTPUTF8 or an address is not ASCII. A
//    message that is only 8-bit (8BITMIME body, ASCII header) is returned as message/rfc822
//    with Content-Transfer-Encoding 8bit, which RFC 2046 §5.2.1 allows; the report then
//    needs BODY=8BITMIME (dsn_message::body says so).
//  - The returned content: for a report with a "failed" recipient, the whole message unless
//    RET=HDRS or the message is larger than return_bytes_max (Postfix's bounce_size_limit,
//    50,000 bytes); otherwise the header section only (RET speaks of failure reports, RFC
//    3461 §4.3). Line ends are normalized to CRLF. A message that cannot
//    travel in an 8bit part (a NUL, a line over 998 octets: BINARYMIME) is returned as
//    headers only; a header section that cannot travel, or is empty, is not returned.
//  - Diagnostic-Code: "smtp; " and the remote reply's wire lines joined by spaces (as
//    Postfix does), or "X-mailsim; " and a local reason when no server answered.
//  - A mixed report (failed and delayed recipients due at the same moment) takes the
//    subject of its gravest action: failed, delayed, delivered/expanded, relayed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/smtp/address.hpp"
#include "reference-server/smtp/envelope.hpp"
#include "reference-server/smtp/reply.hpp"

namespace mailsim::queue {

enum class dsn_errc {
  invalid_request = 1,  // build_dsn: a caller bug (null sender, no recipient, bad status...)
  not_a_report,         // parse_dsn: not a multipart/report of delivery status
  malformed,            // parse_dsn: syntax the parser cannot follow
  missing_field,        // parse_dsn: a required field is absent
  too_large,            // parse_dsn: over a dsn_parse_limits bound
};

const std::error_category& dsn_category() noexcept;

inline std::error_code make_error_code(dsn_errc e) noexcept {
  return {static_cast<int>(e), dsn_category()};
}

// RFC 3464 §2.3.3 action-value. Also the event a report is about.
enum class dsn_action { failed, delayed, delivered, relayed, expanded };

std::string_view action_name(dsn_action action);                // "failed", ...
std::optional<dsn_action> parse_action(std::string_view text);  // case-insensitive

// ---- When a report is due ----

struct dsn_policy {
  // RFC 3461 §4.1: without NOTIFY the server acts as if FAILURE or FAILURE,DELAY was given.
  // Off by default, as Postfix (delay_warning_time = 0): a sender who asked for nothing gets
  // a report only when the message has failed. When delay reports are sent is the retry
  // schedule's decision, not this one's.
  bool delay_reports_without_notify = false;
};

// Whether a report about `event` is owed for a recipient with `notify`, in a message whose
// MAIL FROM was `reverse_path`. "relayed" means handed to a server without the DSN
// extension (RFC 3461 §5.2.2); a server with it takes over, and no report is due.
bool dsn_due(const smtp::path& reverse_path, const smtp::dsn_notify& notify, dsn_action event,
             const dsn_policy& policy = {});

// ---- Building a report ----

struct dsn_recipient {
  std::string final_recipient;       // the RCPT TO address, without angle brackets
  std::optional<std::string> orcpt;  // RFC 3461 §4.2 "addr-type;xtext", as received
  dsn_action action = dsn_action::failed;
  // RFC 3463 code. Its class follows the action (RFC 3464 §2.3.4): 5 or 4 for failed (4.4.7
  // when the queue gives up on a transient error), 4 for delayed, 2 for the others.
  std::string status;
  std::string remote_mta;                   // DNS name of the server that answered, or ""
  std::optional<smtp::reply> remote_reply;  // what it answered
  std::string diagnostic;  // a local reason when no server answered ("Host not found")
  std::optional<core::time_point> last_attempt;
  std::optional<core::time_point> will_retry_until;  // written for "delayed" only
};

// A recipient and what its RCPT TO asked for.
struct dsn_candidate {
  dsn_recipient report;
  smtp::dsn_notify notify;
};

// The reports among `candidates` that dsn_due() says are owed, in order: one report each
// time this is not empty.
std::vector<dsn_recipient> due_recipients(const smtp::path& reverse_path,
                                          std::span<const dsn_candidate> candidates,
                                          const dsn_policy& policy = {});

// What the report needs to know about the message it is about.
struct dsn_original {
  smtp::path reverse_path;           // the original MAIL FROM: the report's recipient
  std::optional<std::string> envid;  // RFC 3461 §4.4 ENVID, xtext as received
  smtp::dsn_ret ret = smtp::dsn_ret::unspecified;
  bool smtputf8 = false;
  core::time_point arrival;  // when this server accepted the message
  std::string_view message;  // the message; must stay alive during build_dsn()
};

dsn_original original_of(const smtp::envelope& envelope, core::time_point arrival,
                         std::string_view message);

struct dsn_options {
  // Above this size a failure report returns the header section only (Postfix
  // bounce_size_limit); the header section itself is cut after the last whole field that
  // fits.
  std::size_t return_bytes_max = 50'000;
  // Delay and success reports return the header section; true returns the whole message
  // there too when RET=FULL was given.
  bool return_full_for_non_failures = false;
};

struct dsn_request {
  std::string reporting_mta;  // this server's DNS name (Reporting-MTA, From, Message-ID)
  core::time_point now;       // Date of the report
  // Unique per report: 1 to 40 of [A-Za-z0-9._-]. Names the Message-ID and the boundary;
  // make_dsn_token() draws one.
  std::string token;
  dsn_original original;
  std::vector<dsn_recipient> recipients;  // all due at the same moment
  dsn_options options;
};

enum class dsn_returned { nothing, headers, full };

struct dsn_message {
  std::string bytes;        // the report, CRLF line ends
  smtp::mailbox recipient;  // RCPT TO of the report; its MAIL FROM is always <>
  std::string message_id;   // "<...>"
  // What MAIL FROM must declare: BODY=8BITMIME when any octet is 8-bit, SMTPUTF8 when the
  // recipient or a top-level header field is UTF-8 (RFC 6531).
  smtp::body_type body = smtp::body_type::seven_bit;
  bool smtputf8 = false;
  bool global = false;  // RFC 6533 content types were used
  dsn_returned returned = dsn_returned::nothing;
};

struct dsn_build_result {
  std::optional<dsn_message> value;
  std::error_code error;  // dsn_errc::invalid_request when value is empty
  std::string detail;
};

dsn_build_result build_dsn(const dsn_request& request);

// 16 lower-case hex digits drawn from `random`.
std::string make_dsn_token(core::random_source& random);

// The status of a reply: its enhanced code when it has a valid one whose class matches
// the reply code (RFC 3463 §2), else "<class>.0.0".
std::string status_from_reply(const smtp::reply& reply);

// ---- Reading a report ----

// A "type; value" field (RFC 3464 §2.1.2): "rfc822; a@b", "dns; mx.example", "smtp; 550 ...".
struct typed_value {
  std::string type;   // as written ("rfc822", "utf-8", "dns", "smtp", "X-mailsim")
  std::string value;  // unfolded; a "utf-8" address has its \x{HEX} escapes decoded
};

using field_list = std::vector<std::pair<std::string, std::string>>;  // name, unfolded value

struct reported_recipient {
  std::optional<typed_value> original_recipient;
  typed_value final_recipient;
  dsn_action action = dsn_action::failed;
  std::string status;  // "5.1.1", a trailing comment dropped
  std::optional<typed_value> remote_mta;
  std::optional<typed_value> diagnostic;
  std::optional<core::time_point> last_attempt;
  std::optional<core::time_point> will_retry_until;
  field_list other_fields;  // extension fields (X-..., Final-Log-ID, ...)
};

struct reported_dsn {
  // Top-level header fields, unfolded; empty when absent.
  std::string from, to, subject, message_id, auto_submitted;
  bool global = false;  // message/global-delivery-status
  typed_value reporting_mta;
  std::optional<std::string> original_envelope_id;
  std::optional<core::time_point> arrival;
  field_list other_fields;  // per-message extension fields
  std::vector<reported_recipient> recipients;
  std::string explanation;  // the human-readable part, transfer encoding removed
  dsn_returned returned = dsn_returned::nothing;
  std::string returned_content;  // the message or header section sent back
};

struct dsn_parse_limits {
  std::size_t message_bytes_max = 64u << 20;
  std::size_t parts_max = 32;
  std::size_t recipients_max = 1000;
  std::size_t fields_max = 1000;            // header fields per header section or group
  std::size_t field_bytes_max = 64u << 10;  // one unfolded field
};

struct dsn_parse_result {
  std::optional<reported_dsn> value;
  std::error_code error;  // a dsn_errc when value is empty
  std::string detail;     // what was wrong, for logs and test failures
};

// Reads a report: CRLF or bare LF line ends, folded fields, field names in any case,
// base64 or quoted-printable parts.
dsn_parse_result parse_dsn(std::string_view message, const dsn_parse_limits& limits = {});

}  // namespace mailsim::queue

template <>
struct std::is_error_code_enum<mailsim::queue::dsn_errc> : std::true_type {};
