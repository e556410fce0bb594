// The names of RFC 7208 evaluation (spf_macro.hpp): query names made from expansions (§7.3),
// the "i" form and reverse names of addresses (§7.2, §5.5), DNS-name checks and the key form
// names are compared in.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

// Writes b in decimal at `p`, returning the end.
char* put_decimal(char* p, std::uint8_t b) {
  if (b >= 100) *p++ = static_cast<char>('0' + b / 100);
  if (b >= 10) *p++ = static_cast<char>('0' + b / 10 % 10);
  *p++ = static_cast<char>('0' + b % 10);
  return p;
}

// The four bytes of an IPv4 address in `order`, dotted, appended (one append, no temporaries:
// "i" and "c" are common in macros, and the reverse name is made for every ptr check).
void append_dotted(std::string& out, const core::ip_address& ip, const int (&order)[4]) {
  char buffer[16];
  char* p = buffer;
  for (int i : order) {
    if (p != buffer) *p++ = '.';
    p = put_decimal(p, ip.bytes[i]);
  }
  out.append(buffer, p);
}

std::string_view without_final_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

bool same_ignoring_case(std::string_view x, std::string_view y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                    [](char a, char b) { return core::ascii_lower(a) == core::ascii_lower(b); });
}

}  // namespace

std::string_view spf_query_name_view(std::string_view expanded) {
  if (!expanded.empty() && expanded.back() == '.') expanded.remove_suffix(1);
  while (expanded.size() > 253) {
    std::size_t dot = expanded.find('.');
    if (dot == std::string_view::npos) break;  // one long label: no valid name, left as is
    expanded.remove_prefix(dot + 1);
  }
  return expanded;
}

std::string spf_query_name(std::string_view expanded) {
  return std::string(spf_query_name_view(expanded));
}

std::string_view spf_dotted_ip(const core::ip_address& ip, char (&buffer)[spf_dotted_ip_max]) {
  char* p = buffer;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *p++ = '.';
      p = put_decimal(p, ip.bytes[i]);
    }
    return std::string_view(buffer, static_cast<std::size_t>(p - buffer));
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  for (std::uint8_t b : ip.bytes) {
    if (p != buffer) *p++ = '.';
    *p++ = hex[b >> 4];
    *p++ = '.';
    *p++ = hex[b & 0xf];
  }
  return std::string_view(buffer, static_cast<std::size_t>(p - buffer));
}

std::string spf_dotted_ip(const core::ip_address& ip) {
  char buffer[spf_dotted_ip_max];
  return std::string(spf_dotted_ip(ip, buffer));
}

// Eight octets at a time where the machine allows: this runs for every expanded target. The
// dots of a word are found at once (an exact per-octet test, no borrow between octets) and
// each closes a label.
bool spf_is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  const char* const data = name.data();
  const std::size_t n = name.size();
  std::size_t label = 0;              // where the current label starts
  auto dot_at = [&](std::size_t i) {  // false: the label it closes is empty or too long
    if (i == label || i - label > 63) return false;
    label = i + 1;
    return true;
  };
  std::size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t dots = 0x2e2e2e2e2e2e2e2eULL, low7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, sizeof word);
      const std::uint64_t x = word ^ dots;                      // zero octets where the dots are
      std::uint64_t found = ~(((x & low7) + low7) | x | low7);  // 0x80 in each of those
      for (; found != 0; found &= found - 1)
        if (!dot_at(i + static_cast<std::size_t>(std::countr_zero(found)) / 8)) return false;
    }
  }
  for (; i < n; ++i)
    if (data[i] == '.' && !dot_at(i)) return false;
  return label < n && n - label <= 63;
}

std::string spf_reverse_name(const core::ip_address& ip) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  if (!ip.v6) {
    append_dotted(out, ip, {3, 2, 1, 0});
    return out + ".in-addr.arpa";
  }
  for (int i = 15; i >= 0; --i) {
    out += hex[ip.bytes[i] & 0xf];
    out += '.';
    out += hex[ip.bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string spf_name_key(std::string_view name) {
  name = without_final_dot(name);
  std::string out(name.size(), '\0');
  std::transform(name.begin(), name.end(), out.begin(), core::ascii_lower);
  return out;
}

bool spf_is_name_key(std::string_view name) {
  return (name.empty() || name.back() != '.') &&
         std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool spf_name_under(std::string_view name, std::string_view domain) {
  name = without_final_dot(name);
  domain = without_final_dot(domain);
  if (name.size() == domain.size()) return same_ignoring_case(name, domain);
  return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
         same_ignoring_case(name.substr(name.size() - domain.size()), domain);
}

}  // namespace mailsim::auth
