// mailsim::sim::dns zone model: validation and the Unbound lines. Contract in the header.
#include "simulator/dns/zone_model.hpp"

#include <algorithm>

#include "reference-server/core/ip_address.hpp"

namespace mailsim::sim::dns {
namespace {

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string fqdn(const std::string& name) {
  return name.empty() ? "." : name + ".";
}

bool is_zone_type(std::string_view type) {
  static constexpr std::string_view types[] = {
      "static",          "transparent",   "typetransparent",    "redirect",
      "refuse",          "deny",          "always_transparent", "always_refuse",
      "always_nxdomain", "always_nodata", "always_deny",        "always_null"};
  return std::find(std::begin(types), std::end(types), type) != std::end(types);
}

bool inside(const std::string& name, const std::string& zone) {
  if (zone.empty() || name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

// RFC 1035 §3.3.14: a <character-string> holds at most 255 octets; quote and escape each.
std::string txt_rdata(std::string_view text) {
  std::string out;
  do {
    const std::string_view piece = text.substr(0, 255);
    text.remove_prefix(piece.size());
    if (!out.empty()) out += ' ';
    out += '"';
    for (const char c : piece) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } while (!text.empty());
  return out;
}

std::optional<std::string> check_data(const record& r, const zone_limits& limits) {
  using core::rr_type;
  switch (r.type) {
    case rr_type::a:
    case rr_type::aaaa: {
      const auto ip = core::parse_ip(r.data);
      if (!ip || ip->v6 != (r.type == rr_type::aaaa)) {
        return std::string(r.type == rr_type::a ? "not an IPv4 address" : "not an IPv6 address");
      }
      return std::nullopt;
    }
    case rr_type::mx:
      if (!r.data.empty() && !is_dns_name(r.data)) return std::string("not a host name");
      return std::nullopt;
    case rr_type::cname:
    case rr_type::ptr:
      if (!is_dns_name(r.data)) return std::string("not a domain name");
      return std::nullopt;
    case rr_type::txt:
      if (r.data.size() > limits.txt_bytes_max) return std::string("text longer than the limit");
      return std::nullopt;
  }
  return std::string("unknown type");
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
    if (end == start || end - start > 63) return false;
    for (std::size_t i = start; i < end; ++i) {
      const auto c = static_cast<unsigned char>(name[i]);
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ';') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

const char* type_name(core::rr_type type) {
  switch (type) {
    case core::rr_type::a: return "A";
    case core::rr_type::cname: return "CNAME";
    case core::rr_type::ptr: return "PTR";
    case core::rr_type::mx: return "MX";
    case core::rr_type::txt: return "TXT";
    case core::rr_type::aaaa: return "AAAA";
  }
  return "?";
}

std::string dnsbl_name(std::string_view address, std::string_view zone) {
  const auto ip = core::parse_ip(address);
  if (!ip) return "";
  std::string out;
  static constexpr char hex[] = "0123456789abcdef";
  if (ip->v6) {
    for (int i = 15; i >= 0; --i) {
      const unsigned b = ip->bytes[static_cast<std::size_t>(i)];
      out += hex[b & 0xf];
      out += '.';
      out += hex[b >> 4];
      out += '.';
    }
  } else {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(ip->bytes[static_cast<std::size_t>(i)]) + ".";
    }
  }
  return out + normalize_name(zone);
}

const std::vector<std::string>& shadowing_default_zones() {
  // RFC 6761 test./invalid., RFC 6303 private and RFC 5737 documentation reverse zones.
  static const std::vector<std::string> zones = {
      "test",          "invalid",        "10.in-addr.arpa",        "168.192.in-addr.arpa",
      "127.in-addr.arpa", "2.0.192.in-addr.arpa", "100.51.198.in-addr.arpa",
      "113.0.203.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa"};
  return zones;
}

void zone_model::add_zone(std::string_view name, std::string_view type) {
  zones_.push_back({normalize_name(name), std::string(type)});
  ++version_;
}

void zone_model::add(record r) {
  r.name = normalize_name(r.name);
  if (r.type != core::rr_type::txt && r.type != core::rr_type::a &&
      r.type != core::rr_type::aaaa) {
    r.data = normalize_name(r.data);
  }
  records_.push_back(std::move(r));
  ++version_;
}

void zone_model::add_a(std::string_view name, std::string_view address, std::uint32_t ttl_s) {
  const bool v6 = address.find(':') != std::string_view::npos;
  add({std::string(name), v6 ? core::rr_type::aaaa : core::rr_type::a, ttl_s,
       std::string(address), 0});
}

void zone_model::add_mx(std::string_view name, std::uint16_t preference,
                        std::string_view exchange, std::uint32_t ttl_s) {
  add({std::string(name), core::rr_type::mx, ttl_s, std::string(exchange), preference});
}

void zone_model::add_txt(std::string_view name, std::string_view text, std::uint32_t ttl_s) {
  add({std::string(name), core::rr_type::txt, ttl_s, std::string(text), 0});
}

std::size_t zone_model::remove(std::string_view name, core::rr_type type) {
  const std::string n = normalize_name(name);
  const auto gone = std::erase_if(records_, [&](const record& r) {
    return r.name == n && r.type == type;
  });
  if (gone > 0) ++version_;
  return gone;
}

std::optional<std::string> zone_model::validate() const {
  if (zones_.size() > limits_.zones_max) return "more zones than zones_max";
  if (records_.size() > limits_.records_max) return "more records than records_max";
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    const zone& z = zones_[i];
    const std::string where = "zone " + quote(fqdn(z.name)) + ": ";
    if (!z.name.empty() && !is_dns_name(z.name)) return where + "not a domain name";
    if (!is_zone_type(z.type)) return where + "unknown zone type " + quote(z.type);
    for (std::size_t j = 0; j < i; ++j) {
      if (zones_[j].name == z.name) return where + "declared twice";
    }
  }
  for (const record& r : records_) {
    const std::string where = "record " + quote(r.name + " " + type_name(r.type) + " " +
                                                r.data) + ": ";
    if (!is_dns_name(r.name)) return where + "not a domain name";
    if (r.ttl_s > 0x7fffffff) return where + "TTL above 2^31-1 (RFC 2181 §8)";
    const bool zoned = std::any_of(zones_.begin(), zones_.end(),
                                   [&](const zone& z) { return inside(r.name, z.name); });
    if (!zoned) return where + "outside every declared zone";
    if (auto bad = check_data(r, limits_)) return where + *bad;
  }
  return std::nullopt;
}

std::vector<std::string> zone_model::local_zone_lines() const {
  std::vector<std::string> out;
  for (const zone& z : zones_) out.push_back(fqdn(z.name) + " " + z.type);
  return out;
}

std::vector<std::string> zone_model::local_data_lines() const {
  std::vector<std::string> out;
  for (const record& r : records_) {
    std::string line =
        fqdn(r.name) + " " + std::to_string(r.ttl_s) + " IN " + type_name(r.type) + " ";
    switch (r.type) {
      case core::rr_type::mx:
        line += std::to_string(r.preference) + " " + fqdn(r.data);
        break;
      case core::rr_type::txt:
        line += txt_rdata(r.data);
        break;
      case core::rr_type::cname:
      case core::rr_type::ptr:
        line += fqdn(r.data);
        break;
      default:
        line += r.data;
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::string zone_model::unbound_conf() const {
  std::string out = "server:\n";
  for (const auto& name : shadowing_default_zones()) {
    const bool declared = std::any_of(zones_.begin(), zones_.end(),
                                      [&](const zone& z) { return z.name == name; });
    if (!declared) out += "  local-zone: \"" + name + ".\" nodefault\n";
  }
  for (const zone& z : zones_) out += "  local-zone: \"" + fqdn(z.name) + "\" " + z.type + "\n";
  for (const auto& line : local_data_lines()) {
    std::string escaped;
    for (const char c : line) {
      if (c == '\'') escaped += "\\'";  // the line goes in single quotes (TXT has '"')
      else escaped += c;
    }
    out += "  local-data: '" + escaped + "'\n";
  }
  return out;
}

}  // namespace mailsim::sim::dns
