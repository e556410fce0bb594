#include "reference-server/smtp/status.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsim::smtp {
namespace {

TEST(status, is_valid_enhanced_follows_rfc_3463_section_2) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"2.0.0", true},     {"4.7.1", true},   {"5.1.10", true},    {"5.7.26", true},
      {"5.999.999", true}, {"4.0.100", true}, {"2.10.0", true},    {"3.0.0", false},
      {"1.0.0", false},    {"6.0.0", false},  {"0.0.0", false},    {"5.01.0", false},
      {"5.0.01", false},   {"5.00.0", false}, {"5.1000.0", false}, {"5.0.1000", false},
      {"5.1", false},      {"5.1.", false},   {".1.1", false},     {"5..1", false},
      {"5.1.1.1", false},  {"5.1.1 ", false}, {" 5.1.1", false},   {"55.1.1", false},
      {"5.a.1", false},    {"5.1.-1", false}, {"", false},
  };
  for (const auto& [code, valid] : cases) {
    EXPECT_EQ(is_valid_enhanced(code), valid) << '"' << code << '"';
  }
}

TEST(status, describe_enhanced_gives_registered_titles) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2.0.0", "Other undefined Status"},
      {"5.1.1", "Bad destination mailbox address"},
      {"2.1.5", "Destination address valid"},
      {"5.1.10", "Recipient address has null MX"},
      {"4.2.2", "Mailbox full"},
      {"5.3.4", "Message too big for system"},
      {"4.3.5", "System incorrectly configured"},
      {"4.4.0", "Other or undefined network or routing status"},
      {"4.4.7", "Delivery time expired"},
      {"5.5.2", "Syntax error"},
      {"5.5.6", "Authentication Exchange line is too long"},
      {"5.6.7", "Non-ASCII addresses not permitted for that sender/recipient"},
      {"5.6.8", "UTF-8 string reply is required, but not permitted by the SMTP client"},
      {"5.6.10", "UTF-8 string reply is required, but not permitted by the SMTP client"},
      {"5.7.1", "Delivery not authorized, message refused"},
      {"5.7.8", "Authentication credentials invalid"},
      {"5.7.9", "Authentication mechanism is too weak"},
      {"5.7.10", "Encryption Needed"},
      {"5.7.11", "Encryption required for requested authentication mechanism"},
      {"5.7.13", "User Account Disabled"},
      {"5.7.14", "Trust relationship required"},
      {"5.7.23", "SPF validation failed"},
      {"5.7.25", "Reverse DNS validation failed"},
      {"5.7.26", "Multiple authentication checks failed"},
      {"5.7.27", "Sender address has null MX"},
      {"4.7.28", "Mail flood detected"},
      {"5.7.29", "ARC validation failure"},
      {"5.7.30", "REQUIRETLS support required"},
  };
  for (const auto& [code, title] : cases) {
    EXPECT_EQ(describe_enhanced(code), title) << code;
  }
}

TEST(status, describe_enhanced_is_empty_for_unregistered_or_invalid_codes) {
  for (const std::string code : {"5.1.11", "5.2.5", "5.3.7", "5.4.8", "5.5.7", "5.6.11", "5.7.31",
                                 "5.8.0", "5.0.1", "3.0.0", "5.01.1", "5.1", "", "x.y.z"}) {
    EXPECT_EQ(describe_enhanced(code), "") << code;
  }
}

TEST(status, every_registered_code_is_described_in_every_class) {
  // subject → highest registered detail; every detail from 0 up to it is registered.
  const std::vector<std::pair<int, int>> registry = {
      {0, 0}, {1, 10}, {2, 4}, {3, 6}, {4, 7}, {5, 6}, {6, 10}, {7, 30},
  };
  for (const char* class_digit : {"2", "4", "5"}) {
    for (const auto& [subject, last] : registry) {
      for (int detail = 0; detail <= last; ++detail) {
        const std::string code =
            std::string(class_digit) + "." + std::to_string(subject) + "." + std::to_string(detail);
        EXPECT_TRUE(is_valid_enhanced(code)) << code;
        EXPECT_FALSE(describe_enhanced(code).empty()) << code;
      }
    }
  }
}

}  // namespace
}  // namespace mailsim::smtp
