#include "reference-server/core/ip_address.hpp"

#include <charconv>
#include <string>
#include <vector>

namespace mailsim::core {
namespace {

bool parse_ipv4(std::string_view text, std::uint8_t* out) {
  int part = 0;
  std::size_t i = 0;
  while (part < 4) {
    std::size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    std::size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    out[part++] = static_cast<std::uint8_t>(value);
    if (part < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  return i == text.size();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses one side of "::" into 16-bit groups; a dotted quad may end the right side.
bool parse_groups(std::string_view side, bool quad_allowed, std::vector<std::uint16_t>& out) {
  if (side.empty()) return true;
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = side.find(':', start);
    std::string_view group = side.substr(start, colon == std::string_view::npos ? side.npos : colon - start);
    if (colon == std::string_view::npos && quad_allowed && group.find('.') != group.npos) {
      std::uint8_t quad[4];
      if (!parse_ipv4(group, quad)) return false;
      out.push_back(static_cast<std::uint16_t>(quad[0] << 8 | quad[1]));
      out.push_back(static_cast<std::uint16_t>(quad[2] << 8 | quad[3]));
      return true;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned value = 0;
    for (char c : group) {
      int d = hex_digit(c);
      if (d < 0) return false;
      value = value * 16 + static_cast<unsigned>(d);
    }
    out.push_back(static_cast<std::uint16_t>(value));
    if (colon == std::string_view::npos) return true;
    start = colon + 1;
  }
}

std::optional<ip_address> parse_ipv6(std::string_view text) {
  std::vector<std::uint16_t> head, tail;
  std::size_t gap = text.find("::");
  bool ok = gap == std::string_view::npos
                ? parse_groups(text, true, head)
                : text.find("::", gap + 1) == std::string_view::npos &&
                      parse_groups(text.substr(0, gap), false, head) &&
                      parse_groups(text.substr(gap + 2), true, tail);
  std::size_t groups = head.size() + tail.size();
  if (!ok || (gap == std::string_view::npos ? groups != 8 : groups > 7)) return std::nullopt;
  ip_address ip;
  ip.v6 = true;
  std::vector<std::uint16_t> all = head;
  all.resize(8 - tail.size(), 0);
  all.insert(all.end(), tail.begin(), tail.end());
  for (std::size_t i = 0; i < 8; ++i) {
    ip.bytes[2 * i] = static_cast<std::uint8_t>(all[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<std::uint8_t>(all[i] & 0xff);
  }
  return ip;
}

// "a.b.c.d" from four bytes, without printf: the simulator names addresses on every
// connection and reply it counts.
std::string dotted_quad(const std::uint8_t* b) {
  std::string out;  // at most 15 characters: within the string's own buffer
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out += '.';
    char digits[4];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, b[i]).ptr);
  }
  return out;
}

}  // namespace

std::optional<ip_address> parse_ip(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return parse_ipv6(text);
  ip_address ip;
  if (!parse_ipv4(text, ip.bytes.data())) return std::nullopt;
  return ip;
}

std::string to_string(const ip_address& ip) {
  if (!ip.v6) return dotted_quad(&ip.bytes[0]);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  bool mapped = ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
  for (int i = 0; i < 10 && mapped; ++i) mapped = ip.bytes[i] == 0;
  if (mapped) return "::ffff:" + dotted_quad(&ip.bytes[12]);
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>(ip.bytes[2 * i] << 8 | ip.bytes[2 * i + 1]);
  int best = -1, best_len = 1;  // RFC 5952 §4.2.2: a single zero group is not shortened
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    char group[8];
    out.append(group, std::to_chars(group, group + sizeof group, g[i], 16).ptr);
  }
  return out;
}

}  // namespace mailsim::core
