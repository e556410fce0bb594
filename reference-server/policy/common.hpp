// mailsim::policy common pieces — the reply a policy part proposes, client network keys and
// text helpers shared by the DNSBL, greylisting, rate and spam-score parts.
//
// Contract: pure functions, no I/O. A reply_spec is what a part proposes to the SMTP
// session: the chain (reference-server/server) turns it into an smtp::reply with
// smtp::make_reply(code, enhanced, text). Texts built here hold printable ASCII only (RFC
// 5321 §4.2: reply text is <textstring>, no CR or LF), so data from DNS or from the client
// can never split a reply or inject a line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::policy {

// Reply texts are cut here: with "554 5.7.1 " and CRLF the line stays within the 512
// octets of RFC 5321 §4.5.3.1.5.
constexpr std::size_t reply_text_max = 500;

struct reply_spec {
  int code = 0;          // 4xx or 5xx
  std::string enhanced;  // RFC 3463 "4.2.0", or empty
  std::string text;      // without code and enhanced code
};

// `ip` with every bit past the first `prefix` bits cleared (prefix is capped at 32 for
// IPv4 and 128 for IPv6).
core::ip_address mask_prefix(const core::ip_address& ip, unsigned prefix);

// The network of `ip` as text, "192.0.2.0/24" or "2001:db8::/64": the key greylisting and
// rate windows use for a client's subnet (exact addresses get /32 or /128).
std::string network_key(const core::ip_address& ip, unsigned v4_prefix, unsigned v6_prefix);

// ASCII lower case.
std::string to_lower(std::string_view s);
using core::iequals;
// Case-insensitive substring search (ASCII); npos when absent.
std::size_t ifind(std::string_view haystack, std::string_view needle);

// `text` with every byte outside printable ASCII (0x20-0x7e) replaced by '?', and cut to
// `bytes_max` bytes: safe inside an SMTP reply line.
std::string printable(std::string_view text, std::size_t bytes_max);

}  // namespace mailsim::policy
