// The `dns:` section of the config file (config::dns_config): where the resolver's answers
// come from. reference-server/net's unbound_resolver checks the records in full when the
// server builds it; here only their shape is checked, with file:line:column errors.
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/config/loader_values.hpp"

namespace mailsim::config::detail {

namespace {

// dns: where the resolver's answers come from (dns_config; reference-server/net's
// unbound_resolver checks the records in full when the server builds it).

// RFC 1035 §2.3.4 sizes: labels of 1-63 octets, at most 253 in all. Zone and record names
// are not host names ("_dmarc.example.test"), so any octet but a space may appear in a
// label. "." is the root.
bool is_dns_name(std::string_view name) {
  if (name == ".") return true;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// "ip" or "ip@port", Unbound's forward-addr form, as "ip@port" with the IP in canonical
// form and the port filled in (53, RFC 1035 §4.2.1).
std::string read_forwarder(const value& v) {
  constexpr std::string_view what = "an IP address with an optional @port, like 127.0.0.1@5353";
  const std::string& text = read_text(v, what);
  const auto at_sign = text.rfind('@');
  const auto ip = normalize_ip(text.substr(0, at_sign));
  const std::string port = at_sign == std::string::npos ? "53" : text.substr(at_sign + 1);
  const bool port_ok =
      !port.empty() && port.size() <= 5 && port.front() != '0' &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::stoi(port) <= 65535;
  if (!ip || !port_ok) expected(v, what);
  return *ip + "@" + port;
}

// The unbound.conf(5) local-zone types the resolver accepts (the same list as
// reference-server/net/unbound_resolver.cpp).
constexpr std::string_view zone_types[] = {
    "static",          "transparent",   "typetransparent",    "redirect",
    "refuse",          "deny",          "always_transparent", "always_refuse",
    "always_nxdomain", "always_nodata", "always_deny",        "always_null"};

// "name type" as "name. type", the name in lower case.
std::string read_zone(const value& v) {
  constexpr std::string_view what = "a zone and its type, like 'example.test. static'";
  const auto w = words(read_text(v, what));
  if (w.size() != 2 || !is_dns_name(w[0])) expected(v, what);
  if (std::find(std::begin(zone_types), std::end(zone_types), w[1]) == std::end(zone_types)) {
    fail(v.where,
         "unknown zone type " + quote(w[1]) + " in 'local_zones'; expected one of: " +
             join(std::vector<std::string_view>(std::begin(zone_types), std::end(zone_types))));
  }
  const std::string name = to_lower(w[0]);
  return (name.back() == '.' ? name : name + ".") + " " + w[1];
}

bool is_digits(const std::string& word) {
  return std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A type mnemonic: A, MX, NSEC3PARAM, TYPE65534 (RFC 3597 §5).
bool is_rr_type(const std::string& word) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  return !word.empty() && letter(word[0]) && std::all_of(word.begin(), word.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9');
  });
}

bool is_rr_class(const std::string& word) {
  const std::string upper = to_upper(word);
  return upper == "IN" || upper == "CH" || upper == "HS" || upper == "CS";
}

// The shape of a zone-file record (RFC 1035 §5.1): owner, optional TTL and class in either
// order, a type mnemonic (A, MX, TYPE65534), and rdata. Whether the rdata fits the type is
// left to libunbound, when the server starts.
std::string read_record(const value& v) {
  constexpr std::string_view what = "a record like 'mx.example.test. 300 IN A 192.0.2.1'";
  const std::string& text = read_text(v, what);
  if (std::any_of(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; })) {
    expected(v, what);
  }
  const auto w = words(text);
  std::size_t i = 1;  // past the optional TTL and class
  while (i < w.size() && i <= 2 && (is_digits(w[i]) || is_rr_class(w[i]))) ++i;
  if (w.empty() || !is_dns_name(w[0]) || i + 1 >= w.size() || !is_rr_type(w[i])) {
    expected(v, what);
  }
  return text;
}

}  // namespace

void read_dns(const value& v, dns_config& out) {
  const section s(v, "dns", {"forwarders", "local_zones", "local_data", "timeout"});
  if (auto list = s.get_unless_empty("forwarders")) {
    for (const auto& item : read_list(*list, "a list of forwarders")) {
      std::string forwarder = read_forwarder(item);
      if (std::find(out.forwarders.begin(), out.forwarders.end(), forwarder) !=
          out.forwarders.end()) {
        fail(item.where, "duplicate forwarder " + quote(forwarder));
      }
      out.forwarders.push_back(std::move(forwarder));
    }
  }
  if (auto list = s.get_unless_empty("local_zones")) {
    for (const auto& item : read_list(*list, "a list of zones")) {
      std::string zone = read_zone(item);
      const std::string name = zone.substr(0, zone.find(' ') + 1);
      for (const auto& other : out.local_zones) {
        if (other.compare(0, name.size(), name) == 0) {
          fail(item.where, "zone " + quote(name.substr(0, name.size() - 1)) +
                               " is declared twice in 'local_zones'");
        }
      }
      out.local_zones.push_back(std::move(zone));
    }
  }
  if (auto list = s.get_unless_empty("local_data")) {
    for (const auto& item : read_list(*list, "a list of records")) {
      out.local_data.push_back(read_record(item));
    }
  }
  if (auto t = s.get("timeout")) out.timeout = positive(*t, read_duration(*t));
}

}  // namespace mailsim::config::detail
