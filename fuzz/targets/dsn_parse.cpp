// Fuzz target: the delivery-status report reader (reference-server/queue/dsn.hpp
// parse_dsn). The input is the whole report, up to 256 KiB. Checked beyond the sanitizers:
// - a refusal carries a dsn_errc code and a detail; an accepted report has the fields
//   RFC 3464 requires (Reporting-MTA, per recipient Final-Recipient, Action, Status);
// - limits are monotonic: when the report parses under small limits, it parses under the
//   defaults to the same value;
// - build round trip: when build_dsn() accepts the parsed recipients, parse_dsn() reads
//   the report it wrote back with the same recipients, actions and statuses.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "reference-server/queue/dsn.hpp"
#include "reference-server/smtp/status.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 256u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "dsn_parse property violated: %s\n", what);
  std::abort();
}

bool same_typed(const queue::typed_value& a, const queue::typed_value& b) {
  return a.type == b.type && a.value == b.value;
}

bool same_optional_typed(const std::optional<queue::typed_value>& a,
                         const std::optional<queue::typed_value>& b) {
  return a.has_value() == b.has_value() && (!a || same_typed(*a, *b));
}

bool same_recipient(const queue::reported_recipient& a, const queue::reported_recipient& b) {
  return same_optional_typed(a.original_recipient, b.original_recipient) &&
         same_typed(a.final_recipient, b.final_recipient) && a.action == b.action &&
         a.status == b.status && same_optional_typed(a.remote_mta, b.remote_mta) &&
         same_optional_typed(a.diagnostic, b.diagnostic) && a.last_attempt == b.last_attempt &&
         a.will_retry_until == b.will_retry_until && a.other_fields == b.other_fields;
}

bool same_report(const queue::reported_dsn& a, const queue::reported_dsn& b) {
  if (a.recipients.size() != b.recipients.size()) return false;
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    if (!same_recipient(a.recipients[i], b.recipients[i])) return false;
  }
  return a.from == b.from && a.to == b.to && a.subject == b.subject &&
         a.message_id == b.message_id && a.auto_submitted == b.auto_submitted &&
         a.global == b.global && same_typed(a.reporting_mta, b.reporting_mta) &&
         a.original_envelope_id == b.original_envelope_id && a.arrival == b.arrival &&
         a.other_fields == b.other_fields && a.explanation == b.explanation &&
         a.returned == b.returned && a.returned_content == b.returned_content;
}

void check_result(const queue::dsn_parse_result& r) {
  if (!r.value) {
    require(r.error && r.error.category() == queue::dsn_category(), "refusal without a dsn_errc");
    require(!r.detail.empty(), "refusal without a detail");
    (void)r.error.message();
    return;
  }
  const queue::reported_dsn& d = *r.value;
  require(!d.reporting_mta.type.empty(), "Reporting-MTA without a type");
  require(!d.recipients.empty(), "a report without recipients");
  for (const auto& rcpt : d.recipients) {
    require(!rcpt.final_recipient.type.empty(), "Final-Recipient without a type");
    require(smtp::is_valid_enhanced(rcpt.status), "Status is not an RFC 3463 code");
    require(queue::parse_action(queue::action_name(rcpt.action)) == rcpt.action,
            "action_name/parse_action do not round-trip");
  }
}

// Writes a report about the parsed recipients and reads it back.
void check_build_round_trip(const queue::reported_dsn& d) {
  queue::dsn_request request;
  request.reporting_mta = "mx.example.net";
  request.now = core::from_epoch_ms(1'700'000'000'000);
  request.token = "fuzz";
  request.original.reverse_path.box.local_part = "alice";
  request.original.reverse_path.box.domain = "example.net";
  request.original.arrival = request.now;
  request.original.message = "Subject: x\r\n\r\nbody\r\n";
  for (const auto& rcpt : d.recipients) {
    queue::dsn_recipient& out = request.recipients.emplace_back();
    out.final_recipient = rcpt.final_recipient.value;
    out.action = rcpt.action;
    out.status = rcpt.status;
    if (rcpt.diagnostic) out.diagnostic = rcpt.diagnostic->value;
    out.last_attempt = rcpt.last_attempt;
    out.will_retry_until = rcpt.will_retry_until;
  }
  const queue::dsn_build_result built = queue::build_dsn(request);
  if (!built.value) return;  // e.g. a status whose class does not fit its action
  const queue::dsn_parse_result again = queue::parse_dsn(built.value->bytes);
  require(again.value.has_value(), "build_dsn wrote a report parse_dsn refuses");
  require(again.value->recipients.size() == d.recipients.size(), "recipient count changed");
  for (std::size_t i = 0; i < d.recipients.size(); ++i) {
    require(again.value->recipients[i].action == d.recipients[i].action, "action changed");
    require(again.value->recipients[i].status == d.recipients[i].status, "status changed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view message(reinterpret_cast<const char*>(data), size);

  // Small limits, so that inputs reach them.
  queue::dsn_parse_limits small;
  small.message_bytes_max = 64u << 10;
  small.parts_max = 4;
  small.recipients_max = 4;
  small.fields_max = 24;
  small.field_bytes_max = 512;
  const queue::dsn_parse_result limited = queue::parse_dsn(message, small);
  check_result(limited);

  const queue::dsn_parse_result full = queue::parse_dsn(message);
  check_result(full);
  if (limited.value) {
    require(full.value && same_report(*limited.value, *full.value),
            "a report read under small limits reads differently under the defaults");
  }
  if (full.value) check_build_round_trip(*full.value);
  return 0;
}
