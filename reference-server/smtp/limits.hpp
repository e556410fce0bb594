// mailsim::smtp limits — every bound an SMTP session enforces, named and configurable.
//
// Defaults follow RFC 5321 §4.5.3 minimums and common MTA practice (Postfix's smtpd_*
// limits); docs/configuration.md lists each with its source.
#pragma once

#include <cstddef>
#include <cstdint>

#include "reference-server/core/clock.hpp"

namespace mailsim::smtp {

struct limits {
  // §4.5.3.1.4 says 512 octets at least; ESMTP parameters add to it (Postfix: 2048).
  std::size_t command_line_bytes_max = 2048;
  // §4.5.3.1.8 says at least 100 recipients must be accepted (Postfix default: 1000).
  std::size_t recipients_max = 1000;
  // Advertised in EHLO SIZE (RFC 1870); 552 5.3.4 above it.
  std::uint64_t message_bytes_max = 25u << 20;
  // RFC 4954 §4: an AUTH line may be 12288 octets.
  std::size_t auth_line_bytes_max = 12288;
  // Protocol errors (5xx for syntax or sequence) before "421 4.7.0" and close.
  unsigned errors_max = 10;
  // Failed AUTH attempts before "421 4.7.0" and close; each failure is answered later.
  unsigned auth_failures_max = 3;
  core::duration_ms auth_failure_delay{1000};  // times the failure count
  // §4.5.3.2.7: the server waits at least 5 minutes for the next command or data block.
  core::duration_ms command_timeout{5 * 60 * 1000};
  core::duration_ms data_timeout{5 * 60 * 1000};
  // Transactions (MAIL) per connection before "421 4.7.0" (0 = unbounded).
  std::size_t transactions_max = 0;
};

}  // namespace mailsim::smtp
