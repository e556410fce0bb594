// The mechanisms of RFC 7208 §5 for one replay pass (spf_engine.hpp), with the macro
// expansion of their targets (§7) and the validated PTR names behind ptr and %{p} (§5.5).
#include <algorithm>
#include <tuple>

#include "reference-server/auth/spf_engine.hpp"

namespace mailsim::auth {
namespace {

std::string_view exchange_of(const core::mx_record& host) {
  std::string_view name = host.exchange;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

bool spf_engine::matches(const kept_answer& a, unsigned bits) const {
  const record_range texts = records(a);
  return std::any_of(texts.begin(), texts.end(), [&](std::string_view text) {
    std::optional<core::ip_address> address = core::parse_ip(text);
    return address && spf_network_match(*address, bits, ip_);
  });
}

spf_macro_values spf_engine::values(std::string_view domain) const {
  spf_macro_values v;
  v.sender = identity_.sender;
  v.local_part = e_.local_part();
  v.sender_domain = identity_.domain;
  v.domain = domain;
  v.ip = ip_;
  v.validated = "unknown";
  v.helo = e_.helo();
  v.receiver = e_.receiver();
  v.timestamp_s = core::epoch_ms(e_.now_) / 1000;
  return v;
}

const spf_engine::validated_names* spf_engine::validated() {
  if (validated_) return &*validated_;
  const stored_answer* ptr = lookup(spf_reverse_name(ip_), core::rr_type::ptr);
  if (!ptr) return nullptr;
  validated_names v;
  v.dns_error = failed(ptr->answer);
  v.void_answer = is_void(ptr->answer);
  const record_range names = records(ptr->answer);
  const std::size_t count = std::min<std::size_t>(names.size(), options_.ptr_names_max);
  const bool usable = !v.dns_error && !v.void_answer;
  auto next = names.begin();
  for (std::size_t i = 0; usable && i < count; ++i) {
    std::string name = spf_name_key(*next++);
    if (!spf_is_dns_name(name)) continue;
    const stored_answer* a = lookup(name, family());
    // §5.5: a DNS error on a name's address lookup skips the name.
    if (a && !blocked_ && !failed(a->answer) && matches(a->answer, ip_.v6 ? 128 : 32))
      v.names.push_back(std::move(name));
  }
  if (blocked_) return nullptr;
  validated_ = std::move(v);
  return &*validated_;
}

// §7.2 "p": the <domain> itself if validated, else a validated subdomain of it, else any.
std::string_view spf_engine::validated_for(const validated_names& v,
                                           std::string_view domain) const {
  for (const std::string& n : v.names)
    if (spf_name_equals(domain, n)) return n;
  for (const std::string& n : v.names)
    if (spf_name_under(n, domain)) return n;
  return v.names.empty() ? std::string_view("unknown") : std::string_view(v.names.front());
}

// `out` is `spec` itself when it has no macro, else a view of `scratch`.
spf_engine::match spf_engine::expand(std::string_view spec, spf_macro_context context,
                                     std::string_view domain, std::string& scratch,
                                     std::string_view& out, const spf_macro_pieces* pieces) {
  // A domain-spec passed the syntax check when its record was parsed; without a macro there
  // is nothing to do. Explanation text is always checked (it may be non-ASCII, §6.2).
  if (context == spf_macro_context::domain && spec.find('%') == std::string_view::npos) {
    out = spec;
    return match::yes;
  }
  spf_macro_values v = values(domain);
  const bool split = pieces && !pieces->empty();  // read into pieces by the record's parse
  auto expansion = [&] {
    return split ? expand_spf_pieces(spec, *pieces, v, options_.expansion_bytes_max)
                 : expand_spf_macros(spec, context, v, options_.expansion_bytes_max);
  };
  spf_expansion e = expansion();
  if (e.uses_p) {  // %{p} costs DNS, and is rare: made (and expanded again) on need
    const validated_names* names = validated();
    if (!names) return match::blocked;
    v.validated = validated_for(*names, domain);
    e = expansion();
  }
  if (!e.ok()) {
    return error(spf_result::permerror,
                 std::string(to_string(e.error)) + " in '" + std::string(spec) + "'");
  }
  scratch = std::move(e.text);
  out = scratch;
  return match::yes;
}

// The name a mechanism looks up: its domain-spec expanded (§7.3), or the current <domain>.
spf_engine::match spf_engine::target(const spf_mechanism& m, std::string_view domain,
                                     std::string& scratch, std::string_view& out) {
  if (&m == carried_for_) {  // resumed here: expanded by the last pass
    carried_for_ = nullptr;
    out = carried_;
    return match::yes;
  }
  if (m.domain_spec.empty()) {
    out = domain;
    return match::yes;
  }
  match r =
      expand(m.domain_spec, spf_macro_context::domain, domain, scratch, out, &m.domain_pieces);
  if (r == match::yes) out = spf_query_name_view(out);
  return r;
}

spf_engine::match spf_engine::mechanism(const spf_mechanism& m, std::string_view domain,
                                        unsigned depth) {
  switch (m.type) {
    case spf_mechanism_type::all:
      return match::yes;
    case spf_mechanism_type::ip4:  // §5.6: each family matches its own clients only
    case spf_mechanism_type::ip6:
      return spf_network_match(m.network, prefix(m), ip_) ? match::yes : match::no;
    case spf_mechanism_type::a:
    case spf_mechanism_type::exists:
      return address_mechanism(m, domain);
    case spf_mechanism_type::mx:
      return mx_mechanism(m, domain);
    case spf_mechanism_type::ptr:
      return ptr_mechanism(m, domain);
    case spf_mechanism_type::include:
      return include_mechanism(m, domain, depth);
  }
  return match::no;
}

// §5.3 a (the client's family, under the CIDR length) and §5.7 exists (any A record).
spf_engine::match spf_engine::address_mechanism(const spf_mechanism& m, std::string_view domain) {
  if (!count_term(m.term)) return match::error;
  std::string scratch;
  std::string_view name;
  if (match t = target(m, domain, scratch, name); t != match::yes) return t;
  if (!known_name(m, name) && !spf_is_dns_name(name)) return match::no;  // cannot exist (§4.3)
  const bool exists = m.type == spf_mechanism_type::exists;
  const core::rr_type type = exists ? core::rr_type::a : family();
  const stored_answer* a = lookup(name, type);
  if (!a) return blocked_after(scratch, name);
  if (failed(a->answer)) return dns_error(a->answer, name, type, m.term);
  if (is_void(a->answer)) return count_void(m.term, name) ? match::no : match::error;
  return exists || matches(a->answer, prefix(m)) ? match::yes : match::no;
}

// §5.4 mx: the addresses of at most mx_names_max MX hosts.
spf_engine::match spf_engine::mx_mechanism(const spf_mechanism& m, std::string_view domain) {
  if (!count_term(m.term)) return match::error;
  std::string scratch;
  std::string_view name;
  if (match t = target(m, domain, scratch, name); t != match::yes) return t;
  if (!known_name(m, name) && !spf_is_dns_name(name)) return match::no;
  stored_answer* mx = lookup(name, core::rr_type::mx);
  if (!mx) return blocked_after(scratch, name);
  if (failed(mx->answer)) return dns_error(mx->answer, name, core::rr_type::mx, m.term);
  if (is_void(mx->answer)) return count_void(m.term, name) ? match::no : match::error;
  if (mx->answer.mx.size() > options_.mx_names_max) {
    return error(spf_result::permerror, "more than " + std::to_string(options_.mx_names_max) +
                                            " MX records at " + std::string(name) +
                                            " (RFC 7208 §4.6.4)");
  }
  const match r = mx_hosts(m, *mx);
  return r == match::blocked ? blocked_after(scratch, name) : r;
}

// Hosts in preference order, so that the outcome does not depend on the order served (an
// answer already in that order, the usual case, is walked as it is). All missing address
// lookups are asked at once. What only depends on the answer is found once an evaluation.
spf_engine::match spf_engine::mx_hosts(const spf_mechanism& m, stored_answer& mx) {
  const std::vector<core::mx_record>& records = mx.answer.mx;
  auto before = [](const core::mx_record& x, const core::mx_record& y) {
    return std::tie(x.preference, x.exchange) < std::tie(y.preference, y.exchange);
  };
  if (!mx.mx_checked) {
    mx.mx_checked = true;
    mx.mx_sorted = std::is_sorted(records.begin(), records.end(), before);
    for (std::size_t i = 0; i < records.size() && i < 64; ++i)
      if (spf_is_dns_name(exchange_of(records[i]))) mx.mx_names |= std::uint64_t{1} << i;
  }
  auto host = [&](std::size_t i) -> std::optional<match> {
    const bool name =
        i < 64 ? (mx.mx_names >> i & 1) != 0 : spf_is_dns_name(exchange_of(records[i]));
    return name ? mx_host(m, records[i]) : std::nullopt;  // the null MX has no address
  };
  if (mx.mx_sorted) {
    for (std::size_t i = 0; i < records.size(); ++i)
      if (std::optional<match> r = host(i)) return *r;
  } else {
    std::vector<std::size_t> order(records.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return before(records[x], records[y]); });
    for (std::size_t i : order)
      if (std::optional<match> r = host(i)) return *r;
  }
  return blocked_ ? match::blocked : match::no;
}

// One MX host: a match or a DNS error ends the mechanism; nullopt goes on to the next host
// (once blocked, only to list the lookups still missing).
std::optional<spf_engine::match> spf_engine::mx_host(const spf_mechanism& m,
                                                     const core::mx_record& host) {
  const std::string_view exchange = exchange_of(host);
  const stored_answer* a = lookup(exchange, family());
  if (!a || blocked_) return std::nullopt;
  if (failed(a->answer)) return dns_error(a->answer, exchange, family(), m.term);
  if (matches(a->answer, prefix(m))) return match::yes;
  return std::nullopt;
}

// §5.5 ptr: a validated name equal to the target or under it.
spf_engine::match spf_engine::ptr_mechanism(const spf_mechanism& m, std::string_view domain) {
  if (!count_term(m.term)) return match::error;
  std::string scratch;
  std::string_view name;
  if (match t = target(m, domain, scratch, name); t != match::yes) return t;
  const validated_names* v = validated();
  if (!v) return blocked_after(scratch, name);
  if (v->dns_error) return match::no;  // §5.5: a DNS error on the PTR lookup: no match
  if (v->void_answer && !count_void(m.term, spf_reverse_name(ip_))) return match::error;
  return std::any_of(v->names.begin(), v->names.end(),
                     [&](const std::string& n) { return spf_name_under(n, name); })
             ? match::yes
             : match::no;
}

// §5.2 include: pass matches; fail, softfail, neutral do not; errors propagate; none is
// permerror.
spf_engine::match spf_engine::include_mechanism(const spf_mechanism& m, std::string_view domain,
                                                unsigned depth) {
  if (!count_term(m.term)) return match::error;
  std::string scratch;
  std::string_view name;
  if (match t = target(m, domain, scratch, name); t != match::yes) return t;
  std::optional<host_result> r = check_host(name, depth + 1, m.term);
  if (!r) return blocked_after(scratch, name);
  switch (r->result) {
    case spf_result::pass:
      return match::yes;
    case spf_result::fail:
    case spf_result::softfail:
    case spf_result::neutral:
      return match::no;
    case spf_result::temperror:
    case spf_result::permerror:
      return error(r->result, r->problem);
    case spf_result::none:
      break;
  }
  return error(spf_result::permerror, "include target " + std::string(name) +
                                          " has no SPF record (in '" + m.term +
                                          "'): " + r->problem);
}

}  // namespace mailsim::auth
