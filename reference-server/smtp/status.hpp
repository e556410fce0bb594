// mailsim::smtp status codes — the RFC 3463 enhanced mail system status code table, and
// the RFC 5321 reply codes used by the sessions.
//
// Contract: describe_enhanced() gives the registered meaning of "class.subject.detail"
// (RFC 3463 §3 plus the later registrations: RFC 3886, 4468, 4865, 4954, 5248, 6531, 7372,
// 7505, 8098), or an empty view when the code is not registered. is_valid_enhanced() checks
// syntax.
#pragma once

#include <string_view>

namespace mailsim::smtp {

std::string_view describe_enhanced(std::string_view code);
bool is_valid_enhanced(std::string_view code);

}  // namespace mailsim::smtp
