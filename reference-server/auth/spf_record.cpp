#include "reference-server/auth/spf_record.hpp"

#include <algorithm>

#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::is_alnum;
using core::is_alpha;
using core::is_digit;

constexpr std::string_view version = "v=spf1";

// ASCII only: mechanism and modifier names and the version are ASCII (§4.6.1, ABNF).
bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return core::ascii_lower(x) == core::ascii_lower(y); });
}

// A failure while reading one term.
struct problem {
  spf_record_errc code = spf_record_errc::ok;
  std::string detail;
  bool ok() const { return code == spf_record_errc::ok; }
};

problem fail(spf_record_errc code, std::string detail = {}) {
  return {code, std::move(detail)};
}

// §7.1 toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  bool letter = false, hyphen = false;
  for (char c : label) {
    if (c == '-')
      hyphen = true;
    else if (is_alpha(c))
      letter = true;
    else if (!is_digit(c))
      return false;
  }
  return letter || hyphen;
}

// §4.6.1 modifier name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "=".
std::size_t modifier_name_length(std::string_view term) {
  if (term.empty() || !is_alpha(term[0])) return 0;
  std::size_t i = 1;
  while (i < term.size() &&
         (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.'))
    ++i;
  return i < term.size() && term[i] == '=' ? i : 0;
}

// Reads a CIDR length written after `sep` at the end of `body` and removes it. Leaves
// `body` alone when it does not end in sep + digits.
problem strip_cidr(std::string_view& body, std::string_view sep, unsigned max, unsigned& out) {
  std::size_t j = body.size();
  while (j > 0 && is_digit(body[j - 1])) --j;
  if (j == body.size() || j < sep.size() || body.substr(j - sep.size(), sep.size()) != sep)
    return {};
  std::string_view digits = body.substr(j);
  if (digits.size() > 1 && digits[0] == '0') return fail(spf_record_errc::bad_cidr, "leading zero");
  unsigned value = 0;
  for (char c : digits.substr(0, 4)) value = value * 10 + static_cast<unsigned>(c - '0');
  if (digits.size() > 3 || value > max)
    return fail(spf_record_errc::bad_cidr, "above " + std::to_string(max));
  out = value;
  body = body.substr(0, j - sep.size());
  return {};
}

problem domain_spec(std::string_view spec, std::string& out) {
  std::string detail;
  spf_record_errc code = check_domain_spec(spec, &detail);
  if (code != spf_record_errc::ok) return fail(code, detail);
  out = std::string(spec);
  return {};
}

// A mechanism's domain-spec, and its pieces when it has a macro (read once per parse, which a
// record cache keeps, rather than at every expansion).
problem domain_spec(std::string_view spec, spf_mechanism& m) {
  problem p = domain_spec(spec, m.domain_spec);
  if (p.ok() && spec.find('%') != std::string_view::npos)
    m.domain_pieces = split_spf_macros(spec, spf_macro_context::domain);
  return p;
}

// a and mx: [ ":" domain-spec ] [ "/" ip4-cidr ] [ "//" ip6-cidr ]
problem host_mechanism(std::string_view arg, spf_mechanism& m) {
  const bool has_spec = !arg.empty() && arg[0] == ':';
  std::string_view body = has_spec ? arg.substr(1) : arg;
  if (problem p = strip_cidr(body, "//", 128, m.prefix6); !p.ok()) return p;
  if (problem p = strip_cidr(body, "/", 32, m.prefix4); !p.ok()) return p;
  if (has_spec) {
    if (body.empty()) return fail(spf_record_errc::missing_domain);
    return domain_spec(body, m);
  }
  if (!body.empty()) return fail(spf_record_errc::bad_cidr, "malformed CIDR length");
  return {};
}

// ip4 and ip6: ":" network [ "/" cidr ]
problem network_mechanism(std::string_view arg, bool v6, spf_mechanism& m) {
  if (arg.empty() || arg[0] != ':') return fail(spf_record_errc::bad_network, "missing address");
  std::string_view value = arg.substr(1);
  const std::size_t slash = value.find('/');
  std::optional<core::ip_address> ip = core::parse_ip(value.substr(0, slash));
  if (!ip || ip->v6 != v6)
    return fail(spf_record_errc::bad_network, v6 ? "not an IPv6 address" : "not an IPv4 address");
  m.network = *ip;
  if (slash == std::string_view::npos) return {};
  std::string_view cidr = value.substr(slash);
  unsigned& prefix = v6 ? m.prefix6 : m.prefix4;
  if (problem p = strip_cidr(cidr, "/", v6 ? 128 : 32, prefix); !p.ok()) return p;
  if (!cidr.empty()) return fail(spf_record_errc::bad_cidr, "malformed CIDR length");
  return {};
}

// include, exists (required) and ptr (optional): ":" domain-spec
problem target_mechanism(std::string_view arg, bool required, spf_mechanism& m) {
  if (arg.empty()) return required ? fail(spf_record_errc::missing_domain) : problem{};
  if (arg[0] != ':') return fail(spf_record_errc::unexpected_argument);
  if (arg.size() == 1) return fail(spf_record_errc::missing_domain);
  return domain_spec(arg.substr(1), m);
}

std::optional<spf_mechanism_type> mechanism_type(std::string_view name) {
  static constexpr std::pair<std::string_view, spf_mechanism_type> names[] = {
      {"all", spf_mechanism_type::all}, {"include", spf_mechanism_type::include},
      {"a", spf_mechanism_type::a},     {"mx", spf_mechanism_type::mx},
      {"ptr", spf_mechanism_type::ptr}, {"ip4", spf_mechanism_type::ip4},
      {"ip6", spf_mechanism_type::ip6}, {"exists", spf_mechanism_type::exists}};
  for (const auto& [text, type] : names)
    if (iequals(name, text)) return type;
  return std::nullopt;
}

problem directive(std::string_view term, spf_record& record) {
  spf_mechanism m;
  m.term = std::string(term);
  std::string_view rest = term;
  if (!rest.empty() && std::string_view("+-~?").find(rest[0]) != std::string_view::npos) {
    m.qualifier = static_cast<spf_qualifier>(rest[0]);
    rest.remove_prefix(1);
  }
  const std::size_t end = std::min(rest.find(':'), rest.find('/'));
  std::optional<spf_mechanism_type> type = mechanism_type(rest.substr(0, end));
  if (!type) return fail(spf_record_errc::unknown_mechanism);
  m.type = *type;
  const std::string_view arg = end == std::string_view::npos ? "" : rest.substr(end);
  problem p;
  switch (m.type) {
    case spf_mechanism_type::all:
      if (!arg.empty()) p = fail(spf_record_errc::unexpected_argument);
      break;
    case spf_mechanism_type::include:
    case spf_mechanism_type::exists:
      p = target_mechanism(arg, true, m);
      break;
    case spf_mechanism_type::ptr:
      p = target_mechanism(arg, false, m);
      break;
    case spf_mechanism_type::a:
    case spf_mechanism_type::mx:
      p = host_mechanism(arg, m);
      break;
    case spf_mechanism_type::ip4:
      p = network_mechanism(arg, false, m);
      break;
    case spf_mechanism_type::ip6:
      p = network_mechanism(arg, true, m);
      break;
  }
  if (p.ok()) record.mechanisms.push_back(std::move(m));
  return p;
}

problem modifier(std::string_view term, std::size_t name_length, spf_record& record) {
  spf_modifier m{std::string(term.substr(0, name_length)),
                 std::string(term.substr(name_length + 1)), std::string(term)};
  const bool is_redirect = iequals(m.name, "redirect");
  if (!is_redirect && !iequals(m.name, "exp")) {
    spf_macro_check c = check_spf_macros(m.value, spf_macro_context::domain);
    if (!c.ok()) return fail(spf_record_errc::bad_macro, to_string(c.error));
    record.unknown.push_back(std::move(m));
    return {};
  }
  std::optional<spf_modifier>& slot = is_redirect ? record.redirect : record.exp;
  if (slot) return fail(spf_record_errc::duplicate_modifier);  // §6: at most once each
  std::string unused;
  if (problem p = domain_spec(m.value, unused); !p.ok()) return p;
  slot = std::move(m);
  return {};
}

}  // namespace

const char* to_string(spf_mechanism_type t) {
  switch (t) {
    case spf_mechanism_type::all:
      return "all";
    case spf_mechanism_type::include:
      return "include";
    case spf_mechanism_type::a:
      return "a";
    case spf_mechanism_type::mx:
      return "mx";
    case spf_mechanism_type::ptr:
      return "ptr";
    case spf_mechanism_type::ip4:
      return "ip4";
    case spf_mechanism_type::ip6:
      return "ip6";
    case spf_mechanism_type::exists:
      return "exists";
  }
  return "unknown";
}

const char* to_string(spf_record_errc e) {
  switch (e) {
    case spf_record_errc::ok:
      return "ok";
    case spf_record_errc::not_spf:
      return "not an SPF record (no v=spf1)";
    case spf_record_errc::non_ascii:
      return "record is not 7-bit ASCII";
    case spf_record_errc::too_long:
      return "record too long";
    case spf_record_errc::unknown_mechanism:
      return "unknown mechanism";
    case spf_record_errc::unexpected_argument:
      return "argument not allowed";
    case spf_record_errc::missing_domain:
      return "missing domain-spec";
    case spf_record_errc::bad_domain_spec:
      return "invalid domain-spec";
    case spf_record_errc::bad_macro:
      return "invalid macro";
    case spf_record_errc::bad_cidr:
      return "invalid CIDR length";
    case spf_record_errc::bad_network:
      return "invalid IP network";
    case spf_record_errc::duplicate_modifier:
      return "modifier appears twice";
  }
  return "unknown";
}

std::string spf_parse_result::message() const {
  std::string out = to_string(error);
  if (!term.empty()) out += " in '" + term + "'";
  if (!detail.empty()) out += ": " + detail;
  return out;
}

bool spf_record::has_all() const {
  return std::any_of(mechanisms.begin(), mechanisms.end(),
                     [](const spf_mechanism& m) { return m.type == spf_mechanism_type::all; });
}

bool is_spf_record(std::string_view txt) {
  // A plain loop: an evaluation asks this of every TXT record at every domain, every pass.
  if (txt.size() < version.size() || (txt.size() > version.size() && txt[version.size()] != ' '))
    return false;
  for (std::size_t i = 0; i < version.size(); ++i)
    if (core::ascii_lower(txt[i]) != version[i]) return false;
  return true;
}

bool spf_network_match(const core::ip_address& network, unsigned prefix_bits,
                       const core::ip_address& ip) {
  if (network.v6 != ip.v6) return false;
  unsigned bits = std::min(prefix_bits, network.v6 ? 128u : 32u);
  for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if (((network.bytes[i] ^ ip.bytes[i]) & mask) != 0) return false;
  }
  return true;
}

spf_record_errc check_domain_spec(std::string_view spec, std::string* detail) {
  auto refuse = [detail](spf_record_errc code, std::string why) {
    if (detail) *detail = std::move(why);
    return code;
  };
  if (spec.empty()) return refuse(spf_record_errc::missing_domain, {});
  spf_macro_check c = check_spf_macros(spec, spf_macro_context::domain);
  if (!c.ok()) return refuse(spf_record_errc::bad_macro, to_string(c.error));
  if (c.ends_with_macro) return spf_record_errc::ok;
  // domain-end = "." toplabel [ "." ], from the literal characters after the last macro.
  std::string_view tail = spec.substr(c.literal_tail);
  if (tail.back() == '.') tail.remove_suffix(1);
  const std::size_t dot = tail.rfind('.');
  if (dot == std::string_view::npos || !is_toplabel(tail.substr(dot + 1)))
    return refuse(spf_record_errc::bad_domain_spec,
                  "must end in a macro or in '.' and a top-level label");
  return spf_record_errc::ok;
}

spf_parse_result parse_spf_record(std::string_view text, const spf_record_limits& limits) {
  spf_parse_result r;
  auto refuse = [&r](spf_record_errc code, std::string_view term, std::string detail) {
    r.error = code;
    r.term = std::string(term);
    r.detail = std::move(detail);
    r.record = {};
    return r;
  };
  if (text.size() > limits.record_bytes_max)
    return refuse(spf_record_errc::too_long, {}, "over " + std::to_string(limits.record_bytes_max));
  if (std::any_of(text.begin(), text.end(), [](char c) { return (c & 0x80) != 0; }))
    return refuse(spf_record_errc::non_ascii, {}, {});
  if (!is_spf_record(text)) return refuse(spf_record_errc::not_spf, {}, {});
  std::string_view rest = text.substr(version.size());
  r.record.mechanisms.reserve(static_cast<std::size_t>(std::count(rest.begin(), rest.end(), ' ')));
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    const std::string_view term = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (term.empty()) continue;  // §4.6.1: 1*SP between terms, trailing SP allowed
    const std::size_t name_length = modifier_name_length(term);
    problem p = name_length > 0 ? modifier(term, name_length, r.record) : directive(term, r.record);
    if (!p.ok()) return refuse(p.code, term, std::move(p.detail));
  }
  return r;
}

}  // namespace mailsim::auth
