// Return codes (their text form and matching) and the built-in list profiles.
#include <charconv>
#include <utility>

#include "reference-server/policy/dnsbl.hpp"

namespace mailsim::policy {
namespace {

std::optional<std::uint32_t> ipv4_number(std::string_view text) {
  std::optional<core::ip_address> ip = core::parse_ip(text);
  if (!ip || ip->v6) return std::nullopt;
  return std::uint32_t{ip->bytes[0]} << 24 | std::uint32_t{ip->bytes[1]} << 16 |
         std::uint32_t{ip->bytes[2]} << 8 | ip->bytes[3];
}

std::string ipv4_text(std::uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string(v >> 16 & 0xff) + "." +
         std::to_string(v >> 8 & 0xff) + "." + std::to_string(v & 0xff);
}

// "127.0.*.3": the starred octets become wildcards (cleared in mask and value).
std::optional<dnsbl_code> parse_wildcard(std::string_view text) {
  std::string concrete(text);
  std::uint32_t mask = 0xffffffffu;
  int octet = 0;
  for (std::size_t i = 0; i < concrete.size(); ++i) {
    if (concrete[i] == '.') ++octet;
    if (concrete[i] != '*') continue;
    concrete[i] = '0';
    mask &= ~(0xffu << (8 * (3 - octet)));
  }
  std::optional<std::uint32_t> value = ipv4_number(concrete);
  if (!value || octet != 3) return std::nullopt;
  dnsbl_code c;
  c.first = c.last = *value;
  c.mask = mask;
  return c;
}

std::optional<dnsbl_code> parse_shape(std::string_view text) {
  dnsbl_code c;
  if (std::size_t amp = text.find('&'); amp != std::string_view::npos) {
    std::optional<std::uint32_t> base = ipv4_number(text.substr(0, amp));
    std::string_view digits = text.substr(amp + 1);
    unsigned bits = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (!base || ec != std::errc{} || end != digits.data() + digits.size() || bits == 0 ||
        bits > 255)
      return std::nullopt;
    c.first = c.last = *base & 0xffffff00u;
    c.bits = static_cast<std::uint8_t>(bits);
    return c;
  }
  if (text.find('*') != std::string_view::npos) return parse_wildcard(text);
  std::size_t dash = text.find('-');
  std::optional<std::uint32_t> first = ipv4_number(text.substr(0, dash));
  std::optional<std::uint32_t> last =
      dash == std::string_view::npos ? first : ipv4_number(text.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  c.first = *first;
  c.last = *last;
  return c;
}

dnsbl_code code(std::string_view text, std::string meaning, std::optional<double> score = {}) {
  dnsbl_code c = *parse_dnsbl_code(text, std::move(meaning));
  c.score = score;
  return c;
}

dnsbl_code error_code(std::string_view text, std::string meaning) {
  return *parse_dnsbl_code(text, std::move(meaning), false);
}

// Spamhaus answers errors in 127.255.255.0/24 on every zone [primary,
// spamhaus.org/news/article/788; .252 from securityzones.net, receiver-behaviour.md §2.2].
void add_spamhaus_errors(std::vector<dnsbl_code>& codes) {
  codes.push_back(error_code("127.255.255.252", "typing error in DNSBL name"));
  codes.push_back(error_code("127.255.255.254", "query via public/open resolver"));
  codes.push_back(error_code("127.255.255.255", "excessive number of queries"));
}

// Scores: project choices (no list publishes one). Evidence-based listings (SBL, CSS, XBL,
// DROP) weigh 3.5, a policy listing (PBL: end-user ranges that should not send to MX
// directly, receiver-behaviour.md §2.2) 1.5; one list alone never reaches required_score 5.0.
dnsbl_list spamhaus_zen() {
  // Codes [primary, docs.spamhaus.com 040-zones, receiver-behaviour.md §2.2]; TXT records
  // carry the lookup URL [memory].
  dnsbl_list l{"zen.spamhaus.org", dnsbl_kind::ip, false, {}, 3.5, true, "RCVD_IN_ZEN"};
  l.codes = {code("127.0.0.2", "SBL"),
             code("127.0.0.3", "CSS"),
             code("127.0.0.4-127.0.0.7", "XBL"),
             code("127.0.0.9", "DROP"),
             code("127.0.0.10", "PBL (ISP)", 1.5),
             code("127.0.0.11", "PBL (Spamhaus)", 1.5)};
  add_spamhaus_errors(l.codes);
  return l;
}

dnsbl_list spamhaus_dbl() {
  // [primary, docs.spamhaus.com 040-zones, receiver-behaviour.md §2.2]
  dnsbl_list l{"dbl.spamhaus.org", dnsbl_kind::domain, false, {}, 3.0, true, "URIBL_DBL"};
  l.codes = {code("127.0.1.2", "spam domain"),
             code("127.0.1.4", "phishing domain"),
             code("127.0.1.5", "malware domain"),
             code("127.0.1.6", "botnet C&C domain"),
             code("127.0.1.102", "abused legit spam", 1.5),
             code("127.0.1.103", "abused legit spammed redirector", 1.5),
             code("127.0.1.104", "abused legit phish", 1.5),
             code("127.0.1.105", "abused legit malware", 1.5),
             code("127.0.1.106", "abused legit botnet C&C", 1.5),
             error_code("127.0.1.255", "IP queried against a domain list")};
  add_spamhaus_errors(l.codes);
  return l;
}

dnsbl_list single_code(std::string zone, std::string meaning, std::string name) {
  // SpamCop and Barracuda answer 127.0.0.2 [secondary, receiver-behaviour.md §2.3]; both
  // publish a TXT reason [memory].
  dnsbl_list l{std::move(zone), dnsbl_kind::ip, false, {}, 2.5, true, std::move(name)};
  l.codes = {code("127.0.0.2", std::move(meaning))};
  return l;
}

dnsbl_list uribl() {
  // Bits 2 black, 4 grey, 8 red; 127.0.0.1 = query refused [primary, uribl.com/refused.shtml,
  // receiver-behaviour.md §2.3].
  dnsbl_list l{"multi.uribl.com", dnsbl_kind::domain, false, {}, 3.0, false, "URIBL_MULTI"};
  l.codes = {code("127.0.0.0&2", "black"), code("127.0.0.0&4", "grey", 0.5),
             code("127.0.0.0&8", "red", 1.5), error_code("127.0.0.1", "query refused")};
  return l;
}

dnsbl_list surbl() {
  // Bits SC 2, WS 4, PH 8, MW 16, AB 32, JP 64 [primary, rspamd surbl.md,
  // receiver-behaviour.md §2.3].
  dnsbl_list l{"multi.surbl.org", dnsbl_kind::domain, false, {}, 3.0, false, "URIBL_SURBL"};
  const std::pair<const char*, const char*> bits[] = {
      {"127.0.0.0&2", "SC"},  {"127.0.0.0&4", "WS"},  {"127.0.0.0&8", "PH"},
      {"127.0.0.0&16", "MW"}, {"127.0.0.0&32", "AB"}, {"127.0.0.0&64", "JP"}};
  for (const auto& [text, meaning] : bits) l.codes.push_back(code(text, meaning));
  return l;
}

dnsbl_list dnswl() {
  // list.dnswl.org answers 127.0.X.Y, X the sender's category, Y the trust level 0-3;
  // 127.0.0.255 = query refused [memory: dnswl.org documentation; RFC 8904 describes the
  // method]. Scores: project choices, trust "none" earns nothing.
  dnsbl_list l{"list.dnswl.org", dnsbl_kind::ip, true, {}, -1.0, false, "RCVD_IN_DNSWL"};
  l.codes = {code("127.0.*.0", "trust none", 0.0), code("127.0.*.1", "trust low", -1.0),
             code("127.0.*.2", "trust medium", -2.5), code("127.0.*.3", "trust high", -5.0),
             error_code("127.0.0.255", "query refused")};
  return l;
}

}  // namespace

bool dnsbl_code::matches(std::uint32_t answer) const {
  if (bits != 0) return (answer & 0xffffff00u) == (first & 0xffffff00u) && (answer & bits) != 0;
  std::uint32_t v = answer & mask;
  return v >= first && v <= last;
}

std::optional<dnsbl_code> parse_dnsbl_code(std::string_view text, std::string meaning,
                                           bool listing) {
  std::optional<dnsbl_code> c = parse_shape(text);
  if (!c) return std::nullopt;
  c->meaning = std::move(meaning);
  c->listing = listing;
  return c;
}

std::string to_string(const dnsbl_code& c) {
  if (c.bits != 0) return ipv4_text(c.first) + "&" + std::to_string(c.bits);
  if (c.mask != 0xffffffffu) {
    std::string out;
    for (int octet = 0; octet < 4; ++octet) {
      unsigned shift = 8 * (3 - octet);
      if (octet > 0) out += '.';
      out += (c.mask >> shift & 0xff) == 0 ? std::string("*")
                                           : std::to_string(c.first >> shift & 0xff);
    }
    return out;
  }
  if (c.first == c.last) return ipv4_text(c.first);
  return ipv4_text(c.first) + "-" + ipv4_text(c.last);
}

std::optional<dnsbl_list> dnsbl_profile(std::string_view name) {
  if (name == "spamhaus-zen") return spamhaus_zen();
  if (name == "spamhaus-dbl") return spamhaus_dbl();
  if (name == "spamcop") return single_code("bl.spamcop.net", "SCBL", "RCVD_IN_SPAMCOP");
  if (name == "barracuda") return single_code("b.barracudacentral.org", "BRBL", "RCVD_IN_BRBL");
  if (name == "uribl") return uribl();
  if (name == "surbl") return surbl();
  if (name == "dnswl") return dnswl();
  return std::nullopt;
}

const std::vector<std::string>& dnsbl_profile_names() {
  static const std::vector<std::string> names{
      "spamhaus-zen", "spamhaus-dbl", "spamcop", "barracuda", "uribl", "surbl", "dnswl"};
  return names;
}

}  // namespace mailsim::policy
