#include "reference-server/smtp/status.hpp"

#include <optional>

namespace mailsim::smtp {
namespace {

struct status_entry {
  int subject;
  int detail;
  std::string_view title;
};

// The IANA "SMTP Enhanced Status Codes" registry (RFC 5248), subject.detail → title. The
// titles are the registered sample texts; the class (2, 4, 5) does not change them.
constexpr status_entry status_table[] = {
    // RFC 3463 §3.1: other or undefined status.
    {0, 0, "Other undefined Status"},
    // RFC 3463 §3.2: addressing status.
    {1, 0, "Other address status"},
    {1, 1, "Bad destination mailbox address"},
    {1, 2, "Bad destination system address"},
    {1, 3, "Bad destination mailbox address syntax"},
    {1, 4, "Destination mailbox address ambiguous"},
    {1, 5, "Destination address valid"},
    {1, 6, "Destination mailbox has moved, No forwarding address"},
    {1, 7, "Bad sender's mailbox address syntax"},
    {1, 8, "Bad sender's system address"},
    {1, 9, "Message relayed to non-compliant mailer"},  // RFC 3886
    {1, 10, "Recipient address has null MX"},           // RFC 7505 §4.2
    // RFC 3463 §3.3: mailbox status.
    {2, 0, "Other or undefined mailbox status"},
    {2, 1, "Mailbox disabled, not accepting messages"},
    {2, 2, "Mailbox full"},
    {2, 3, "Message length exceeds administrative limit"},
    {2, 4, "Mailing list expansion problem"},
    // RFC 3463 §3.4: mail system status.
    {3, 0, "Other or undefined mail system status"},
    {3, 1, "Mail system full"},
    {3, 2, "System not accepting network messages"},
    {3, 3, "System not capable of selected features"},
    {3, 4, "Message too big for system"},
    {3, 5, "System incorrectly configured"},
    {3, 6, "Requested priority was changed"},  // RFC 6710
    // RFC 3463 §3.5: network and routing status.
    {4, 0, "Other or undefined network or routing status"},
    {4, 1, "No answer from host"},
    {4, 2, "Bad connection"},
    {4, 3, "Directory server failure"},
    {4, 4, "Unable to route"},
    {4, 5, "Mail system congestion"},
    {4, 6, "Routing loop detected"},
    {4, 7, "Delivery time expired"},
    // RFC 3463 §3.6: mail delivery protocol status.
    {5, 0, "Other or undefined protocol status"},
    {5, 1, "Invalid command"},
    {5, 2, "Syntax error"},
    {5, 3, "Too many recipients"},
    {5, 4, "Invalid command arguments"},
    {5, 5, "Wrong protocol version"},
    {5, 6, "Authentication Exchange line is too long"},  // RFC 4954 §6
    // RFC 3463 §3.7: message content or media status.
    {6, 0, "Other or undefined media error"},
    {6, 1, "Media not supported"},
    {6, 2, "Conversion required and prohibited"},
    {6, 3, "Conversion required but not supported"},
    {6, 4, "Conversion with loss performed"},
    {6, 5, "Conversion Failed"},
    {6, 6, "Message content not available"},  // RFC 4468 §6
    // RFC 6531 §4.2.
    {6, 7, "Non-ASCII addresses not permitted for that sender/recipient"},
    {6, 8, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    {6, 9,
     "UTF-8 header message cannot be transferred to one or more recipients, so the "
     "message must be rejected"},
    // RFC 6531 §4.2 registers X.6.10 without a title, as a deprecated duplicate of X.6.8.
    {6, 10, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    // RFC 3463 §3.8: security or policy status.
    {7, 0, "Other or undefined security status"},
    {7, 1, "Delivery not authorized, message refused"},
    {7, 2, "Mailing list expansion prohibited"},
    {7, 3, "Security conversion required but not possible"},
    {7, 4, "Security features not supported"},
    {7, 5, "Cryptographic failure"},
    {7, 6, "Cryptographic algorithm not supported"},
    {7, 7, "Message integrity failure"},
    // RFC 4954 §6 and RFC 5248 §5.
    {7, 8, "Authentication credentials invalid"},
    {7, 9, "Authentication mechanism is too weak"},
    {7, 10, "Encryption Needed"},
    {7, 11, "Encryption required for requested authentication mechanism"},
    {7, 12, "A password transition is needed"},
    {7, 13, "User Account Disabled"},
    {7, 14, "Trust relationship required"},
    // RFC 6710 §7.
    {7, 15, "Priority Level is too low"},
    {7, 16, "Message is too big for the specified priority"},
    // RFC 7293 §9.
    {7, 17, "Mailbox owner has changed"},
    {7, 18, "Domain owner has changed"},
    {7, 19, "RRVS test cannot be completed"},
    // RFC 7372 §3.
    {7, 20, "No passing DKIM signature found"},
    {7, 21, "No acceptable DKIM signature found"},
    {7, 22, "No valid author-matched DKIM signature found"},
    {7, 23, "SPF validation failed"},
    {7, 24, "SPF validation error"},
    {7, 25, "Reverse DNS validation failed"},
    {7, 26, "Multiple authentication checks failed"},
    {7, 27, "Sender address has null MX"},   // RFC 7505 §4.2
    {7, 28, "Mail flood detected"},          // IANA registration for mail-bombing reports
    {7, 29, "ARC validation failure"},       // RFC 8617 §7.3
    {7, 30, "REQUIRETLS support required"},  // RFC 8689 §6.3
};

struct enhanced_code {
  int class_digit = 0;
  int subject = 0;
  int detail = 0;
};

// RFC 3463 §2: a sub-code is 1*3digit, written without leading zeros ("0" itself is fine).
std::optional<int> parse_sub_code(std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// RFC 3463 §2: status-code = class "." subject "." detail, class = "2" / "4" / "5".
std::optional<enhanced_code> parse_enhanced(std::string_view code) {
  if (code.size() < 5 || code[1] != '.') return std::nullopt;
  if (code[0] != '2' && code[0] != '4' && code[0] != '5') return std::nullopt;
  const std::string_view rest = code.substr(2);
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto subject = parse_sub_code(rest.substr(0, dot));
  const auto detail = parse_sub_code(rest.substr(dot + 1));
  if (!subject || !detail) return std::nullopt;
  return enhanced_code{code[0] - '0', *subject, *detail};
}

}  // namespace

std::string_view describe_enhanced(std::string_view code) {
  const auto parsed = parse_enhanced(code);
  if (!parsed) return {};
  for (const status_entry& entry : status_table) {
    if (entry.subject == parsed->subject && entry.detail == parsed->detail) return entry.title;
  }
  return {};
}

bool is_valid_enhanced(std::string_view code) {
  return parse_enhanced(code).has_value();
}

}  // namespace mailsim::smtp
