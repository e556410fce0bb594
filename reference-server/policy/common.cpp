#include "reference-server/policy/common.hpp"

#include <algorithm>

namespace mailsim::policy {

core::ip_address mask_prefix(const core::ip_address& ip, unsigned prefix) {
  core::ip_address out = ip;
  unsigned bits = ip.v6 ? 128 : 32;
  prefix = std::min(prefix, bits);
  for (unsigned i = 0; i < bits / 8; ++i) {
    unsigned first_bit = i * 8;
    if (first_bit >= prefix) {
      out.bytes[i] = 0;
    } else if (prefix - first_bit < 8) {
      unsigned keep = prefix - first_bit;
      out.bytes[i] = static_cast<std::uint8_t>(out.bytes[i] & (0xff00u >> keep));
    }
  }
  return out;
}

std::string network_key(const core::ip_address& ip, unsigned v4_prefix, unsigned v6_prefix) {
  unsigned prefix = std::min(ip.v6 ? v6_prefix : v4_prefix, ip.v6 ? 128u : 32u);
  return core::to_string(mask_prefix(ip, prefix)) + "/" + std::to_string(prefix);
}

namespace {
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::size_t ifind(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return 0;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return lower(a) == lower(b); });
  return it == haystack.end() ? std::string_view::npos
                              : static_cast<std::size_t>(it - haystack.begin());
}

std::string printable(std::string_view text, std::size_t bytes_max) {
  std::string out;
  out.reserve(std::min(text.size(), bytes_max));
  for (char c : text.substr(0, bytes_max)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace mailsim::policy
