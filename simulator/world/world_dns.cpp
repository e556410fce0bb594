#include "simulator/world/world_dns.hpp"

#include <map>
#include <set>
#include <stdexcept>

#include "reference-server/core/ip_address.hpp"

namespace mailsim::sim::world {
namespace {

// An hour, the usual TTL of MX and host records: the world's data does not change during a
// run (DNSBL zones, which do, are their operators' and carry their own short TTLs), and a
// long TTL keeps lookups in the resolver's cache.
constexpr std::uint32_t ttl_s = 3600;

// Canonical text of an address literal, or "" when it is not one.
std::string canonical_ip(const std::string& text) {
  const auto ip = core::parse_ip(text);
  return ip ? core::to_string(*ip) : std::string{};
}

bool is_v6(const std::string& address) {
  const auto ip = core::parse_ip(address);
  return ip && ip->v6;
}

// Addresses already taken, with who took them, so that a duplicate names both users.
class address_book {
 public:
  void claim(const std::string& address, const std::string& who, const source_ref& where) {
    const std::string canonical = canonical_ip(address);
    if (canonical.empty()) {
      spec_error(where, who + " has address '" + address + "', which is not an IP address");
    }
    const auto [it, fresh] = owners_.emplace(canonical, who);
    if (!fresh) {
      spec_error(where, "address " + canonical + " is used twice: by " + it->second +
                            " and by " + who);
    }
  }
  bool taken(const std::string& address) const {
    return owners_.count(canonical_ip(address)) > 0;
  }

 private:
  std::map<std::string, std::string> owners_;
};

void fill_sender(sender_spec& s, std::size_t k) {
  s.domain = dns::normalize_name(s.domain);
  if (s.domain.empty()) spec_error(s.where, "sender " + std::to_string(k) + " has no domain");
  if (s.name.empty()) s.name = s.domain;
  if (s.helo.empty()) s.helo = "mail." + s.domain;
  s.helo = dns::normalize_name(s.helo);
}

// An unnamed provider takes its profile's name, or "provider-N" when that name is taken.
void name_providers(std::vector<provider_spec>& providers) {
  std::set<std::string> taken;
  for (const provider_spec& p : providers) {
    if (!p.name.empty()) taken.insert(p.name);
  }
  for (std::size_t i = 0; i < providers.size(); ++i) {
    provider_spec& p = providers[i];
    if (!p.name.empty()) continue;
    p.name = !p.profile.empty() && taken.count(p.profile) == 0
                 ? p.profile
                 : "provider-" + std::to_string(i + 1);
    taken.insert(p.name);
  }
}

void fill_provider_names(provider_spec& p) {
  if (p.domains.empty()) spec_error(p.where, "provider " + p.name + " has no domain");
  for (std::string& d : p.domains) d = dns::normalize_name(d);
  if (p.mx.empty()) p.mx.push_back(mx_spec{});
  for (std::size_t k = 0; k < p.mx.size(); ++k) {
    mx_spec& m = p.mx[k];
    if (m.name.empty()) m.name = "mx" + std::to_string(k + 1) + "." + p.domains.front();
    m.name = dns::normalize_name(m.name);
  }
}

// The k-th candidate of provider p's block: 10.<p>.0.<k>, spilling into the third octet
// for large indexes so that every provider keeps a block of its own.
std::string provider_address(std::size_t p, std::size_t k) {
  return "10." + std::to_string(p % 256) + "." + std::to_string((p / 256) * 4 + k / 254) +
         "." + std::to_string(k % 254 + 1);
}

void check_unique_domains(const world_spec& spec) {
  std::map<std::string, std::string> owner;
  for (const provider_spec& p : spec.providers) {
    for (const std::string& d : p.domains) {
      const auto [it, fresh] = owner.emplace(d, p.name);
      if (!fresh) {
        spec_error(p.where, "domain " + d + " belongs to two providers: " + it->second +
                                " and " + p.name);
      }
    }
  }
  std::set<std::string> names;
  for (const provider_spec& p : spec.providers) {
    if (!names.insert(p.name).second) spec_error(p.where, "two providers are named " + p.name);
  }
  std::set<std::string> senders;
  for (const sender_spec& s : spec.senders) {
    if (!senders.insert(s.name).second) spec_error(s.where, "two senders are named " + s.name);
  }
}

// Declares a zone for `name` when no declared zone holds it yet.
void ensure_zone(dns::zone_model& model, std::set<std::string>& zones, const std::string& name) {
  for (std::string suffix = name;;) {
    if (zones.count(suffix) > 0) return;
    const auto dot = suffix.find('.');
    if (dot == std::string::npos) break;
    suffix = suffix.substr(dot + 1);
  }
  zones.insert(name);
  model.add_zone(name);
}

std::string default_spf(const sender_spec& s) {
  std::string spf = "v=spf1";
  for (const std::string& ip : s.ips) spf += (is_v6(ip) ? " ip6:" : " ip4:") + ip;
  return spf + " -all";
}

void add_provider_records(dns::zone_model& model, std::set<std::string>& zones,
                          const provider_spec& p) {
  for (const std::string& d : p.domains) ensure_zone(model, zones, d);
  for (const std::string& d : p.domains) {
    for (const mx_spec& m : p.mx) model.add_mx(d, m.preference, m.name, ttl_s);
  }
  std::set<std::string> named;  // one host may be listed twice (two preferences)
  for (const mx_spec& m : p.mx) {
    if (!named.insert(m.name + " " + m.address).second) continue;
    ensure_zone(model, zones, m.name);
    dns::record r;
    r.name = m.name;
    r.type = is_v6(m.address) ? core::rr_type::aaaa : core::rr_type::a;
    r.data = m.address;
    r.ttl_s = ttl_s;
    model.add(r);
  }
}

void add_sender_records(dns::zone_model& model, std::set<std::string>& zones,
                        const sender_spec& s) {
  ensure_zone(model, zones, s.domain);
  ensure_zone(model, zones, s.helo);
  for (const std::string& ip : s.ips) {
    dns::record r;
    r.name = s.helo;
    r.type = is_v6(ip) ? core::rr_type::aaaa : core::rr_type::a;
    r.data = ip;
    r.ttl_s = ttl_s;
    model.add(r);
  }
  model.add_txt(s.domain, s.spf.value_or(default_spf(s)), ttl_s);
  if (s.dmarc) {
    ensure_zone(model, zones, "_dmarc." + s.domain);
    model.add_txt("_dmarc." + s.domain, *s.dmarc, ttl_s);
  }
  if (!s.ptr) return;
  for (const std::string& ip : s.ips) {
    const std::string reverse = is_v6(ip) ? "ip6.arpa" : "in-addr.arpa";
    ensure_zone(model, zones, reverse);
    dns::record r;
    r.name = dns::dnsbl_name(ip, reverse);
    r.type = core::rr_type::ptr;
    r.data = s.helo;
    r.ttl_s = ttl_s;
    model.add(r);
  }
}

// Addresses the spec gives are claimed first, so that generated ones step around them.
void claim_given_addresses(world_spec& spec, address_book& book) {
  for (sender_spec& s : spec.senders) {
    for (std::string& ip : s.ips) {
      book.claim(ip, "sender " + s.name, s.where);
      ip = canonical_ip(ip);
    }
  }
  for (const provider_spec& p : spec.providers) {
    std::set<std::string> own;  // one host listed twice may repeat its address
    for (const mx_spec& m : p.mx) {
      if (m.address.empty() || !own.insert(canonical_ip(m.address)).second) continue;
      book.claim(m.address, "MX host " + m.name, p.where);
    }
  }
}

void assign_sender_ips(world_spec& spec, address_book& book) {
  for (std::size_t i = 0; i < spec.senders.size(); ++i) {
    sender_spec& s = spec.senders[i];
    if (!s.ips.empty()) continue;
    std::size_t k = i;
    while (book.taken("192.0.2." + std::to_string(k % 254 + 1))) ++k;
    s.ips.push_back("192.0.2." + std::to_string(k % 254 + 1));
    book.claim(s.ips.back(), "sender " + s.name, s.where);
  }
}

void assign_mx_addresses(world_spec& spec, address_book& book) {
  for (std::size_t i = 0; i < spec.providers.size(); ++i) {
    provider_spec& p = spec.providers[i];
    std::map<std::string, std::string> by_name;  // a host listed twice keeps one address
    std::size_t k = 0;
    for (mx_spec& m : p.mx) {
      if (m.address.empty() && by_name.count(m.name) > 0) m.address = by_name[m.name];
      if (m.address.empty()) {
        while (book.taken(provider_address(i + 1, k))) ++k;
        m.address = provider_address(i + 1, k++);
        book.claim(m.address, "MX host " + m.name, p.where);
      }
      m.address = canonical_ip(m.address);
      by_name.emplace(m.name, m.address);
    }
  }
}

}  // namespace

std::string where_text(const source_ref& where) {
  if (where.file.empty() && where.line == 0) return "world";
  std::string text = where.file.empty() ? "world" : where.file;
  if (where.line > 0) text += ":" + std::to_string(where.line);
  return text;
}

void spec_error(const source_ref& where, const std::string& sentence) {
  throw std::invalid_argument(where_text(where) + ": " + sentence);
}

void fill_defaults(world_spec& spec) {
  for (std::size_t i = 0; i < spec.senders.size(); ++i) fill_sender(spec.senders[i], i + 1);
  name_providers(spec.providers);
  for (provider_spec& p : spec.providers) fill_provider_names(p);
  check_unique_domains(spec);
  address_book book;
  claim_given_addresses(spec, book);
  assign_sender_ips(spec, book);
  assign_mx_addresses(spec, book);
}

dns::zone_model build_zone_model(const world_spec& spec) {
  dns::zone_model model;
  std::set<std::string> zones;
  for (const provider_spec& p : spec.providers) add_provider_records(model, zones, p);
  for (const sender_spec& s : spec.senders) add_sender_records(model, zones, s);
  for (const bounce_route& r : bounce_routes(spec)) model.add_mx(r.domain, 10, r.host, ttl_s);
  return model;
}

std::vector<bounce_route> bounce_routes(const world_spec& spec) {
  std::set<std::string> taken;  // provider domains have MX records of their own
  for (const provider_spec& p : spec.providers) {
    for (const std::string& d : p.domains) taken.insert(dns::normalize_name(d));
  }
  std::vector<bounce_route> routes;
  for (const sender_spec& s : spec.senders) {
    const std::string domain = dns::normalize_name(s.domain);
    if (taken.count(domain) > 0) {
      for (bounce_route& r : routes) {
        if (r.domain != domain) continue;
        for (const std::string& ip : s.ips) r.addresses.push_back(ip);
      }
      continue;
    }
    taken.insert(domain);
    routes.push_back({domain, s.helo, s.ips});
  }
  return routes;
}

std::vector<std::string> target_addresses(const world_spec& spec, const std::string& target) {
  const std::string name = dns::normalize_name(target);
  const std::string literal = canonical_ip(target);
  std::vector<std::string> out;
  auto add = [&out](const std::string& a) {
    for (const std::string& o : out) {
      if (o == a) return;
    }
    out.push_back(a);
  };
  for (const provider_spec& p : spec.providers) {
    bool whole = false;
    for (const std::string& d : p.domains) whole = whole || d == name;
    for (const mx_spec& m : p.mx) {
      if (whole || m.name == name || (!literal.empty() && m.address == literal)) add(m.address);
    }
  }
  if (out.empty() && !literal.empty()) out.push_back(literal);
  return out;
}

}  // namespace mailsim::sim::world
