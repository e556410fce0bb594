// mailsim::smtp envelope — what one SMTP transaction carries besides the message bytes.
//
// Contract: plain data, filled by the server session from MAIL/RCPT and read by the policy,
// the store and the queue. DSN fields follow RFC 3461; body and SMTPUTF8 follow RFC 6152,
// RFC 3030 and RFC 6531.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/smtp/address.hpp"

namespace mailsim::smtp {

enum class body_type { seven_bit, eight_bit_mime, binary_mime };
enum class dsn_ret { unspecified, full, headers };

// RFC 3461 §4.1 NOTIFY: NEVER, or any of SUCCESS, FAILURE, DELAY.
struct dsn_notify {
  bool specified = false;
  bool never = false;
  bool success = false;
  bool failure = false;
  bool delay = false;
};

struct recipient {
  path address;
  dsn_notify notify;
  std::optional<std::string> orcpt;  // RFC 3461 §4.2 "addr-type;xtext", as received
};

struct envelope {
  std::string helo_name;
  bool esmtp = false;
  path reverse_path;
  std::optional<std::uint64_t> declared_size;  // RFC 1870 SIZE=
  body_type body = body_type::seven_bit;
  bool smtputf8 = false;
  dsn_ret ret = dsn_ret::unspecified;
  std::optional<std::string> envid;            // RFC 3461 §4.4, xtext as received
  std::vector<recipient> recipients;
  std::optional<std::string> auth_user;        // authenticated identity, if any
  bool tls = false;
};

}  // namespace mailsim::smtp
