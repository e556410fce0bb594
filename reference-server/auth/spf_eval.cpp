// check_host() (RFC 7208 §4–§6) as one synchronous replay pass over the answers an
// spf_evaluation holds; see spf.hpp for the contract.
#include <algorithm>

#include "reference-server/auth/spf.hpp"
#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/auth/spf_record.hpp"

namespace mailsim::auth {
namespace {

const char* type_name(core::rr_type t) {
  switch (t) {
    case core::rr_type::a:
      return "A";
    case core::rr_type::aaaa:
      return "AAAA";
    case core::rr_type::mx:
      return "MX";
    case core::rr_type::ptr:
      return "PTR";
    case core::rr_type::txt:
      return "TXT";
    case core::rr_type::cname:
      return "CNAME";
  }
  return "?";
}

bool failed(const core::dns_answer& a) {
  return a.status == core::dns_status::servfail || a.status == core::dns_status::timeout;
}

// §4.6.4 void lookup: NXDOMAIN, or NOERROR with no answer records.
bool is_void(const core::dns_answer& a) {
  return !failed(a) && (a.status != core::dns_status::ok || (a.records.empty() && a.mx.empty()));
}

// §4.3: a domain check_host() can start from — a multi-label DNS name in visible ASCII.
bool is_checkable(std::string_view domain) {
  return spf_is_dns_name(domain) && domain.find('.') != std::string_view::npos &&
         domain.front() != '[' &&
         std::all_of(domain.begin(), domain.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

core::ip_address unmapped(core::ip_address ip) {
  const bool mapped =
      ip.v6 && ip.bytes[10] == 0xff && ip.bytes[11] == 0xff &&
      std::all_of(ip.bytes.begin(), ip.bytes.begin() + 10, [](std::uint8_t b) { return b == 0; });
  if (!mapped) return ip;
  core::ip_address v4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

spf_result qualifier_result(spf_qualifier q) {
  switch (q) {
    case spf_qualifier::pass:
      return spf_result::pass;
    case spf_qualifier::fail:
      return spf_result::fail;
    case spf_qualifier::softfail:
      return spf_result::softfail;
    case spf_qualifier::neutral:
      return spf_result::neutral;
  }
  return spf_result::neutral;
}

enum class match { no, yes, error, blocked };

// What one check_host() level decided.
struct host_result {
  spf_result result = spf_result::neutral;
  std::string mechanism;
  std::string problem;
  std::optional<std::string> exp;  // the exp= domain-spec of the deciding record
  std::string domain;              // that record's <domain>
};

// The PTR names of the client that validate (§5.5), found once per pass.
struct validated_names {
  bool dns_error = false;  // the PTR lookup failed
  bool void_answer = false;
  std::vector<std::string> names;
};

// An already normalized name (spf_name_key()) is looked up as it is, without a copy.
bool is_key(std::string_view name) {
  return (name.empty() || name.back() != '.') &&
         std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

// One replay pass over what an spf_evaluation holds (a friend of it).
class spf_engine {
 public:
  explicit spf_engine(spf_evaluation& e)
      : request_(e.request_),
        options_(e.options_),
        answers_(e.answers_),
        parsed_(e.parsed_),
        missing_(e.pending_),
        identity_(e.outcome_),
        local_(e.local_part_),
        ip_(unmapped(e.request_.ip)) {}

  std::optional<spf_outcome> evaluate();

 private:
  const core::dns_answer* lookup(std::string_view name, core::rr_type type);
  bool room_for(std::string_view name, core::rr_type type) const;
  core::rr_type family() const { return ip_.v6 ? core::rr_type::aaaa : core::rr_type::a; }
  unsigned prefix(const spf_mechanism& m) const { return ip_.v6 ? m.prefix6 : m.prefix4; }
  bool matches(const core::dns_answer& a, unsigned bits) const;

  match error(spf_result r, std::string problem);
  match dns_error(const core::dns_answer& a, const std::string& name, core::rr_type type,
                  const std::string& term);
  bool count_term(const std::string& term);
  bool count_void(const std::string& term, const std::string& name);

  spf_macro_values values(const std::string& domain) const;
  const validated_names* validated();
  std::string validated_for(const validated_names& v, const std::string& domain) const;
  match expand(const std::string& spec, spf_macro_context context, const std::string& domain,
               std::string& out);
  match target(const spf_mechanism& m, const std::string& domain, std::string& out);

  std::optional<host_result> check_host(const std::string& domain, unsigned depth,
                                        const std::string& via);
  std::optional<host_result> run_record(const spf_record& record, const std::string& domain,
                                        unsigned depth);
  std::optional<host_result> redirect(const spf_modifier& r, const std::string& domain,
                                      unsigned depth);
  match mechanism(const spf_mechanism& m, const std::string& domain, unsigned depth);
  match address_mechanism(const spf_mechanism& m, const std::string& domain);
  match mx_mechanism(const spf_mechanism& m, const std::string& domain);
  match mx_hosts(const spf_mechanism& m, const std::vector<core::mx_record>& records);
  match ptr_mechanism(const spf_mechanism& m, const std::string& domain);
  match include_mechanism(const spf_mechanism& m, const std::string& domain, unsigned depth);
  std::optional<std::string> explanation(const host_result& r);

  const spf_request& request_;
  const spf_options& options_;
  const spf_evaluation::answer_map& answers_;
  std::map<const std::string*, spf_parse_result>& parsed_;
  std::vector<spf_evaluation::query>& missing_;
  const spf_outcome& identity_;  // identity, domain, sender
  const std::string& local_;
  core::ip_address ip_;
  bool blocked_ = false;
  bool over_cap_ = false;
  spf_result error_result_ = spf_result::permerror;
  std::string error_problem_;
  std::optional<validated_names> validated_;
  unsigned lookups_ = 0, voids_ = 0;
};

const core::dns_answer* spf_engine::lookup(std::string_view name, core::rr_type type) {
  std::string normalized = is_key(name) ? std::string() : spf_name_key(name);
  const std::string_view key = normalized.empty() ? name : std::string_view(normalized);
  if (auto it = answers_.find(std::pair(key, type)); it != answers_.end()) return &it->second;
  blocked_ = true;
  const bool listed = std::any_of(missing_.begin(), missing_.end(),
                                  [&](const auto& q) { return q.name == key && q.type == type; });
  if (listed) return nullptr;
  if (answers_.size() + missing_.size() >= options_.queries_max) {
    over_cap_ = true;  // §4.6.4 asks for bounded work; past the cap nothing more is asked
    return nullptr;
  }
  missing_.push_back({std::string(key), type});
  return nullptr;
}

// Whether lookup() could ask this question without going over the query cap.
bool spf_engine::room_for(std::string_view name, core::rr_type type) const {
  const std::string key = spf_name_key(name);
  return answers_.count(std::pair(std::string_view(key), type)) != 0 ||
         std::any_of(missing_.begin(), missing_.end(),
                     [&](const auto& q) { return q.name == key && q.type == type; }) ||
         answers_.size() + missing_.size() < options_.queries_max;
}

bool spf_engine::matches(const core::dns_answer& a, unsigned bits) const {
  return std::any_of(a.records.begin(), a.records.end(), [&](const std::string& text) {
    std::optional<core::ip_address> address = core::parse_ip(text);
    return address && spf_network_match(*address, bits, ip_);
  });
}

match spf_engine::error(spf_result r, std::string problem) {
  error_result_ = r;
  error_problem_ = std::move(problem);
  return match::error;
}

match spf_engine::dns_error(const core::dns_answer& a, const std::string& name, core::rr_type type,
                            const std::string& term) {
  const char* what = a.status == core::dns_status::timeout ? "timeout" : "SERVFAIL";
  const std::string where = term.empty() ? "" : " (in '" + term + "')";
  return error(spf_result::temperror, std::string("DNS ") + what + " on " + type_name(type) +
                                          " lookup of " + name + where);
}

bool spf_engine::count_term(const std::string& term) {
  if (++lookups_ <= options_.dns_mechanisms_max) return true;
  error(spf_result::permerror, "more than " + std::to_string(options_.dns_mechanisms_max) +
                                   " DNS-querying terms (RFC 7208 §4.6.4) at '" + term + "'");
  return false;
}

bool spf_engine::count_void(const std::string& term, const std::string& name) {
  if (++voids_ <= options_.void_lookups_max) return true;
  error(spf_result::permerror, "more than " + std::to_string(options_.void_lookups_max) +
                                   " void lookups (RFC 7208 §4.6.4), the last of " + name +
                                   " in '" + term + "'");
  return false;
}

spf_macro_values spf_engine::values(const std::string& domain) const {
  spf_macro_values v;
  v.sender = identity_.sender;
  v.local_part = local_;
  v.sender_domain = identity_.domain;
  v.domain = domain;
  v.ip = ip_;
  v.validated = "unknown";
  v.helo = request_.helo;
  v.receiver = request_.receiver;
  v.timestamp_s = core::epoch_ms(request_.now) / 1000;
  return v;
}

const validated_names* spf_engine::validated() {
  if (validated_) return &*validated_;
  const core::dns_answer* ptr = lookup(spf_reverse_name(ip_), core::rr_type::ptr);
  if (!ptr) return nullptr;
  validated_names v;
  v.dns_error = failed(*ptr);
  v.void_answer = is_void(*ptr);
  const std::size_t count = std::min<std::size_t>(ptr->records.size(), options_.ptr_names_max);
  const bool usable = !v.dns_error && !v.void_answer;
  for (std::size_t i = 0; usable && i < count; ++i) {
    const std::string name = spf_name_key(ptr->records[i]);
    if (!spf_is_dns_name(name)) continue;
    const core::dns_answer* a = lookup(name, family());
    // §5.5: a DNS error on a name's address lookup skips the name.
    if (a && !blocked_ && !failed(*a) && matches(*a, ip_.v6 ? 128 : 32)) v.names.push_back(name);
  }
  if (blocked_) return nullptr;
  validated_ = std::move(v);
  return &*validated_;
}

// §7.2 "p": the <domain> itself if validated, else a validated subdomain of it, else any.
std::string spf_engine::validated_for(const validated_names& v, const std::string& domain) const {
  for (const std::string& n : v.names)
    if (spf_name_key(n) == spf_name_key(domain)) return n;
  for (const std::string& n : v.names)
    if (spf_name_under(n, domain)) return n;
  return v.names.empty() ? "unknown" : v.names.front();
}

match spf_engine::expand(const std::string& spec, spf_macro_context context,
                         const std::string& domain, std::string& out) {
  // A domain-spec passed the syntax check when its record was parsed; without a macro there
  // is nothing to do. Explanation text is always checked (it may be non-ASCII, §6.2).
  if (context == spf_macro_context::domain && spec.find('%') == std::string::npos) {
    out = spec;
    return match::yes;
  }
  spf_macro_values v = values(domain);
  if (check_spf_macros(spec, context).uses_p) {
    const validated_names* names = validated();
    if (!names) return match::blocked;
    v.validated = validated_for(*names, domain);
  }
  spf_expansion e = expand_spf_macros(spec, context, v, options_.expansion_bytes_max);
  if (!e.ok())
    return error(spf_result::permerror, std::string(to_string(e.error)) + " in '" + spec + "'");
  out = std::move(e.text);
  return match::yes;
}

match spf_engine::target(const spf_mechanism& m, const std::string& domain, std::string& out) {
  if (m.domain_spec.empty()) {
    out = domain;
    return match::yes;
  }
  match r = expand(m.domain_spec, spf_macro_context::domain, domain, out);
  if (r == match::yes) out = spf_query_name(out);
  return r;
}

match spf_engine::mechanism(const spf_mechanism& m, const std::string& domain, unsigned depth) {
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
match spf_engine::address_mechanism(const spf_mechanism& m, const std::string& domain) {
  if (!count_term(m.term)) return match::error;
  std::string name;
  if (match t = target(m, domain, name); t != match::yes) return t;
  if (!spf_is_dns_name(name)) return match::no;  // cannot exist (§4.3 by analogy)
  const bool exists = m.type == spf_mechanism_type::exists;
  const core::rr_type type = exists ? core::rr_type::a : family();
  const core::dns_answer* a = lookup(name, type);
  if (!a) return match::blocked;
  if (failed(*a)) return dns_error(*a, name, type, m.term);
  if (is_void(*a)) return count_void(m.term, name) ? match::no : match::error;
  return exists || matches(*a, prefix(m)) ? match::yes : match::no;
}

// §5.4 mx: the addresses of at most mx_names_max MX hosts.
match spf_engine::mx_mechanism(const spf_mechanism& m, const std::string& domain) {
  if (!count_term(m.term)) return match::error;
  std::string name;
  if (match t = target(m, domain, name); t != match::yes) return t;
  if (!spf_is_dns_name(name)) return match::no;
  const core::dns_answer* mx = lookup(name, core::rr_type::mx);
  if (!mx) return match::blocked;
  if (failed(*mx)) return dns_error(*mx, name, core::rr_type::mx, m.term);
  if (is_void(*mx)) return count_void(m.term, name) ? match::no : match::error;
  if (mx->mx.size() > options_.mx_names_max)
    return error(spf_result::permerror, "more than " + std::to_string(options_.mx_names_max) +
                                            " MX records at " + name + " (RFC 7208 §4.6.4)");
  return mx_hosts(m, mx->mx);
}

// Hosts in preference order, so that the outcome does not depend on the order served. All
// missing address lookups are asked at once; a match needs only the hosts before it.
match spf_engine::mx_hosts(const spf_mechanism& m, const std::vector<core::mx_record>& records) {
  std::vector<const core::mx_record*> hosts;
  hosts.reserve(records.size());
  for (const core::mx_record& r : records) hosts.push_back(&r);
  std::stable_sort(hosts.begin(), hosts.end(), [](const auto* x, const auto* y) {
    return std::tie(x->preference, x->exchange) < std::tie(y->preference, y->exchange);
  });
  for (const core::mx_record* host : hosts) {
    std::string_view exchange = host->exchange;
    if (!exchange.empty() && exchange.back() == '.') exchange.remove_suffix(1);
    if (!spf_is_dns_name(exchange)) continue;  // the null MX (RFC 7505) has no address
    const core::dns_answer* a = lookup(exchange, family());
    if (!a || blocked_) continue;
    if (failed(*a)) return dns_error(*a, std::string(exchange), family(), m.term);
    if (matches(*a, prefix(m))) return match::yes;
  }
  return blocked_ ? match::blocked : match::no;
}

// §5.5 ptr: a validated name equal to the target or under it.
match spf_engine::ptr_mechanism(const spf_mechanism& m, const std::string& domain) {
  if (!count_term(m.term)) return match::error;
  std::string name;
  if (match t = target(m, domain, name); t != match::yes) return t;
  const validated_names* v = validated();
  if (!v) return match::blocked;
  if (v->dns_error) return match::no;  // §5.5: a DNS error on the PTR lookup: no match
  if (v->void_answer && !count_void(m.term, spf_reverse_name(ip_))) return match::error;
  return std::any_of(v->names.begin(), v->names.end(),
                     [&](const std::string& n) { return spf_name_under(n, name); })
             ? match::yes
             : match::no;
}

// §5.2 include: pass matches; fail, softfail, neutral do not; errors propagate; none is
// permerror.
match spf_engine::include_mechanism(const spf_mechanism& m, const std::string& domain,
                                    unsigned depth) {
  if (!count_term(m.term)) return match::error;
  std::string name;
  if (match t = target(m, domain, name); t != match::yes) return t;
  std::optional<host_result> r = check_host(name, depth + 1, m.term);
  if (!r) return match::blocked;
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
  return error(spf_result::permerror, "include target " + name + " has no SPF record (in '" +
                                          m.term + "'): " + r->problem);
}

// `via`: the include/redirect term that leads here ("" at the top).
std::optional<host_result> spf_engine::check_host(const std::string& domain, unsigned depth,
                                                  const std::string& via) {
  auto done = [&domain](spf_result r, std::string problem) {
    return host_result{r, {}, std::move(problem), std::nullopt, domain};
  };
  if (depth > options_.nesting_max)
    return done(spf_result::permerror, "include/redirect nested too deep at " + domain);
  if (!is_checkable(domain))
    return done(spf_result::none, "'" + domain + "' is not a multi-label domain name");
  const core::dns_answer* txt = lookup(domain, core::rr_type::txt);
  if (!txt) return std::nullopt;
  if (failed(*txt)) {
    dns_error(*txt, domain, core::rr_type::txt, via);
    return done(spf_result::temperror, error_problem_);
  }
  if (is_void(*txt) && depth > 0 && !count_void(via, domain))
    return done(spf_result::permerror, error_problem_);
  const std::string* text = nullptr;
  std::size_t records = 0;
  for (const std::string& r : txt->records)
    if (is_spf_record(r) && records++ == 0) text = &r;
  if (records == 0) return done(spf_result::none, "no SPF record at " + domain);
  if (records > 1)  // §4.5
    return done(spf_result::permerror, std::to_string(records) + " SPF records at " + domain);
  auto cached = parsed_.find(text);  // the answers hold the text as long as the evaluation
  if (cached == parsed_.end())
    cached = parsed_.emplace(text, parse_spf_record(*text, {options_.record_bytes_max})).first;
  const spf_parse_result& parsed = cached->second;
  if (!parsed.ok())
    return done(spf_result::permerror, "SPF record of " + domain + ": " + parsed.message());
  return run_record(parsed.record, domain, depth);
}

std::optional<host_result> spf_engine::run_record(const spf_record& record,
                                                  const std::string& domain, unsigned depth) {
  std::optional<std::string> exp;
  if (record.exp) exp = record.exp->value;
  for (const spf_mechanism& m : record.mechanisms) {
    switch (mechanism(m, domain, depth)) {
      case match::no:
        continue;
      case match::yes:
        return host_result{qualifier_result(m.qualifier), m.term, {}, exp, domain};
      case match::error:
        return host_result{error_result_, {}, error_problem_, {}, domain};
      case match::blocked:
        return std::nullopt;
    }
  }
  if (record.redirect && !record.has_all()) return redirect(*record.redirect, domain, depth);
  return host_result{spf_result::neutral, {}, {}, exp, domain};  // §4.7 default
}

// §6.1: the target's result is this record's result, exp= included; none is permerror.
std::optional<host_result> spf_engine::redirect(const spf_modifier& r, const std::string& domain,
                                                unsigned depth) {
  auto error_result = [&] { return host_result{error_result_, {}, error_problem_, {}, domain}; };
  if (!count_term(r.term)) return error_result();
  std::string name;
  match t = expand(r.value, spf_macro_context::domain, domain, name);
  if (t == match::blocked) return std::nullopt;
  if (t == match::error) return error_result();
  name = spf_query_name(name);
  std::optional<host_result> sub = check_host(name, depth + 1, r.term);
  if (!sub || sub->result != spf_result::none) return sub;
  return host_result{
      spf_result::permerror,
      {},
      "redirect target " + name + " has no SPF record (in '" + r.term + "'): " + sub->problem,
      {},
      domain};
}

// §6.2: the exp= text, or the default, expanded; nullopt while a lookup is missing.
std::optional<std::string> spf_engine::explanation(const host_result& r) {
  std::string text;
  if (r.exp) {
    std::string name;
    match t = expand(*r.exp, spf_macro_context::domain, r.domain, name);
    if (t == match::blocked) return std::nullopt;
    name = spf_query_name(name);
    // An explanation is never worth a permerror: at the query cap it is the default.
    const bool ask = t == match::yes && spf_is_dns_name(name) && room_for(name, core::rr_type::txt);
    const core::dns_answer* txt = ask ? lookup(name, core::rr_type::txt) : nullptr;
    if (blocked_) return std::nullopt;
    const bool one = txt && txt->status == core::dns_status::ok && txt->records.size() == 1;
    if (one &&
        expand(txt->records.front(), spf_macro_context::explanation, r.domain, text) == match::yes)
      return text;
    if (blocked_) return std::nullopt;
  }
  match d = expand(options_.default_explanation, spf_macro_context::explanation, r.domain, text);
  if (d == match::blocked) return std::nullopt;
  return d == match::yes ? text : options_.default_explanation;
}

std::optional<spf_outcome> spf_engine::evaluate() {
  const std::string& domain = identity_.domain;
  std::optional<host_result> r = check_host(domain, 0, {});
  std::optional<std::string> exp;
  if (r && r->result == spf_result::fail) exp = explanation(*r);
  if (over_cap_) {
    r = host_result{spf_result::permerror,
                    {},
                    "more than " + std::to_string(options_.queries_max) + " DNS queries",
                    {},
                    {}};
  } else if (!r || (r->result == spf_result::fail && !exp)) {
    return std::nullopt;
  }
  spf_outcome o = identity_;
  o.result = r->result;
  o.mechanism = r->mechanism;
  o.problem = r->problem;
  if (r->result == spf_result::fail) o.explanation = exp.value_or("");
  o.dns_lookups = lookups_;
  o.void_lookups = voids_;
  return o;
}

void spf_evaluation::run() {
  pending_.clear();
  std::optional<spf_outcome> o = spf_engine(*this).evaluate();
  if (!o) return;
  outcome_ = std::move(*o);
  complete_ = true;
  pending_.clear();
}

}  // namespace mailsim::auth
