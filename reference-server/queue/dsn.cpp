// The parts of the DSN module that are neither building nor parsing: errors, action names,
// and the RFC 3461 rules for when a report is due.
#include "reference-server/queue/dsn.hpp"

#include <array>

#include "reference-server/queue/dsn_text.hpp"
#include "reference-server/smtp/status.hpp"

namespace mailsim::queue {
namespace {

class dsn_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.queue.dsn"; }
  std::string message(int code) const override {
    switch (static_cast<dsn_errc>(code)) {
      case dsn_errc::invalid_request:
        return "delivery report request is invalid";
      case dsn_errc::not_a_report:
        return "message is not a delivery status report";
      case dsn_errc::malformed:
        return "delivery status report is malformed";
      case dsn_errc::missing_field:
        return "delivery status report lacks a required field";
      case dsn_errc::too_large:
        return "delivery status report exceeds a parse limit";
    }
    return "unknown delivery report error";
  }
};

constexpr std::array<std::string_view, 5> action_names = {"failed", "delayed", "delivered",
                                                          "relayed", "expanded"};

}  // namespace

const std::error_category& dsn_category() noexcept {
  static const dsn_error_category category;
  return category;
}

std::string_view action_name(dsn_action action) {
  return action_names[static_cast<std::size_t>(action)];
}

std::optional<dsn_action> parse_action(std::string_view text) {
  for (std::size_t i = 0; i < action_names.size(); ++i) {
    if (dsn_text::iequals(text, action_names[i])) return static_cast<dsn_action>(i);
  }
  return std::nullopt;
}

bool dsn_due(const smtp::path& reverse_path, const smtp::dsn_notify& notify, dsn_action event,
             const dsn_policy& policy) {
  // RFC 5321 §4.5.5 and §6.1: nothing is ever sent to the null reverse path, which every
  // report carries, so a report about a report cannot loop.
  if (reverse_path.null) return false;
  // RFC 3461 §4.1: NEVER excludes every other keyword and every report.
  if (notify.never) return false;
  if (!notify.specified) {
    // RFC 3461 §4.1: without NOTIFY the server acts as if FAILURE, or FAILURE,DELAY by
    // local choice, had been given; success is never reported.
    if (event == dsn_action::failed) return true;
    return event == dsn_action::delayed && policy.delay_reports_without_notify;
  }
  switch (event) {
    case dsn_action::failed:
      return notify.failure;
    case dsn_action::delayed:
      return notify.delay;
    case dsn_action::delivered:
    case dsn_action::relayed:  // RFC 3461 §5.2.2: SUCCESS asks for "relayed" too
    case dsn_action::expanded:
      return notify.success;
  }
  return false;
}

std::vector<dsn_recipient> due_recipients(const smtp::path& reverse_path,
                                          std::span<const dsn_candidate> candidates,
                                          const dsn_policy& policy) {
  std::vector<dsn_recipient> out;
  for (const dsn_candidate& candidate : candidates) {
    if (dsn_due(reverse_path, candidate.notify, candidate.report.action, policy)) {
      out.push_back(candidate.report);
    }
  }
  return out;
}

dsn_original original_of(const smtp::envelope& envelope, core::time_point arrival,
                         std::string_view message) {
  dsn_original original;
  original.reverse_path = envelope.reverse_path;
  original.envid = envelope.envid;
  original.ret = envelope.ret;
  original.smtputf8 = envelope.smtputf8;
  original.arrival = arrival;
  original.message = message;
  return original;
}

std::string make_dsn_token(core::random_source& random) {
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t value = random.next_u64();
  std::string out(16, '0');
  for (char& c : out) {
    c = hex[value & 15];
    value >>= 4;
  }
  return out;
}

std::string status_from_reply(const smtp::reply& reply) {
  const int reply_class = reply.code / 100;
  const std::string& code = reply.enhanced;
  if (smtp::is_valid_enhanced(code) && code[0] - '0' == reply_class) return code;
  // RFC 3463 §2: X.0.0 says only the class, which is all a bare reply code gives.
  if (reply_class == 2 || reply_class == 4) return std::to_string(reply_class) + ".0.0";
  return "5.0.0";
}

}  // namespace mailsim::queue
