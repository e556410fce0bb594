// The names of RFC 7208 evaluation (spf_macro.hpp): query names made from expansions (§7.3),
// the "i" form and reverse names of addresses (§7.2, §5.5), DNS-name checks and the key form
// names are compared in.
#include <algorithm>
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

void append_dotted_quad(std::string& out, const core::ip_address& ip) {
  append_dotted(out, ip, {0, 1, 2, 3});
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

std::string spf_dotted_ip(const core::ip_address& ip) {
  std::string out;
  if (!ip.v6) {
    append_dotted_quad(out, ip);
    return out;
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  for (std::uint8_t b : ip.bytes) {
    if (!out.empty()) out += '.';
    out += hex[b >> 4];
    out += '.';
    out += hex[b & 0xf];
  }
  return out;
}

bool spf_is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  const char* label = name.data();
  const char* const end = name.data() + name.size();
  for (;;) {
    const void* dot = std::memchr(label, '.', static_cast<std::size_t>(end - label));
    const char* label_end = dot ? static_cast<const char*>(dot) : end;
    if (label_end == label || label_end - label > 63) return false;
    if (!dot) return true;
    label = label_end + 1;
  }
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
