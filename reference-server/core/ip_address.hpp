// mailsim::core IP addresses — parsing and canonical text for IPv4 and IPv6, without the
// socket headers (so the lower layers may use it; see tests/layering).
//
// Contract: parse_ip() accepts dotted-quad IPv4 (four decimal parts 0-255, no leading
// zeros, as inet_pton does) and RFC 4291 §2.2 IPv6 text (hex groups, one "::", an optional
// trailing dotted quad); no zone ids, no brackets. to_string() gives the RFC 5952 canonical
// form for IPv6 (lower case, leading zeros dropped, the longest run of two or more zero
// groups — the first one on a tie — as "::").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::core {

struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  bool operator==(const ip_address&) const = default;
};

std::optional<ip_address> parse_ip(std::string_view text);
std::string to_string(const ip_address& ip);

}  // namespace mailsim::core
