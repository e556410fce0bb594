// mailsim::sim::dns zone model — the world's DNS data, typed, and its two outputs.
//
// Contract: a plain value. Zones are declared with an Unbound local-zone type ("static" by
// default: a name with no record is NXDOMAIN, a name with records of other types only is
// NODATA, RFC 2308 §1); records are MX, A, AAAA, TXT (SPF, DKIM, DMARC policies are TXT,
// RFC 7208 §3, RFC 6376 §3.6.2, RFC 7489 §6.1), PTR and CNAME, each with a TTL. A DNSBL is
// an ordinary zone whose names are reversed addresses (RFC 5782 §2.1): dnsbl_name() builds
// them. validate() names the first bad item in a sentence; nothing here throws.
// Outputs: local_zone_lines() / local_data_lines() for libunbound in process (the
// simulator's sim_resolver), and unbound_conf() for the live mode's unbound daemon — the
// same lines, so both modes serve the same world. Records of one name and type are served
// in the order added. Names are kept lower case, without the final dot.
// version() grows with every change, so a resolver knows when to rebuild its context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/resolver.hpp"

namespace mailsim::sim::dns {

struct zone {
  std::string name;             // "example.test"; "" is the root
  std::string type = "static";  // an Unbound local-zone type: static, refuse, deny, ...
};

struct record {
  std::string name;
  core::rr_type type = core::rr_type::a;
  std::uint32_t ttl_s = 300;
  // A/AAAA: the address; MX: the exchange ("" for a null MX, RFC 7505); CNAME/PTR: the
  // target name; TXT: the text (cut into 255-byte character-strings on output).
  std::string data;
  std::uint16_t preference = 0;  // MX only
};

struct zone_limits {
  std::size_t zones_max = 10'000;
  std::size_t records_max = 1'000'000;
  std::size_t txt_bytes_max = 4096;
};

class zone_model {
 public:
  explicit zone_model(zone_limits limits = {}) : limits_(limits) {}

  void add_zone(std::string_view name, std::string_view type = "static");
  void add(record r);
  // Shorthands for the common records.
  void add_a(std::string_view name, std::string_view address, std::uint32_t ttl_s = 300);
  void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange,
              std::uint32_t ttl_s = 300);
  void add_txt(std::string_view name, std::string_view text, std::uint32_t ttl_s = 300);
  // Removes every record of `name` and `type`; returns how many went.
  std::size_t remove(std::string_view name, core::rr_type type);

  const std::vector<zone>& zones() const { return zones_; }
  const std::vector<record>& records() const { return records_; }
  std::uint64_t version() const { return version_; }

  // The first problem as a sentence ("record 'x.test A 1.2.3': not an IPv4 address"),
  // or nullopt when the model is good: names valid (RFC 1035 §2.3.4), zone types known,
  // zones unique, every record inside a declared zone, data of the record's type.
  std::optional<std::string> validate() const;

  std::vector<std::string> local_zone_lines() const;  // "example.test. static"
  std::vector<std::string> local_data_lines() const;  // "example.test. 300 IN MX 10 mx.t."
  // An unbound.conf "server:" block with the zones and records (live mode). Unbound's
  // default zones that shadow lab names (test., the RFC 5737 reverse zones ...) are
  // switched off with "nodefault" unless the model declares them.
  std::string unbound_conf() const;

 private:
  zone_limits limits_;
  std::vector<zone> zones_;
  std::vector<record> records_;
  std::uint64_t version_ = 0;
};

// Lower case, no final dot ("Example.TEST." -> "example.test").
std::string normalize_name(std::string_view name);
// RFC 1035 §2.3.4: labels of 1-63 octets, at most 253 octets of text.
bool is_dns_name(std::string_view name);
const char* type_name(core::rr_type type);  // "A", "MX", ...
// RFC 5782 §2.1 (IPv4: reversed octets) and §2.4 (IPv6: reversed nibbles) under `zone`:
// dnsbl_name("192.0.2.99", "bl.test") == "99.2.0.192.bl.test"; "" when not an address.
// With zone "in-addr.arpa" / "ip6.arpa" it is the PTR name (RFC 1035 §3.5, RFC 3596 §2.5).
std::string dnsbl_name(std::string_view address, std::string_view zone);
// Unbound's default zones that a lab world may use: the model switches them off.
const std::vector<std::string>& shadowing_default_zones();

}  // namespace mailsim::sim::dns
