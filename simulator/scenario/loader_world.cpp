// The scenario loader's world: providers (domains, MX hosts, mailboxes, behaviour overrides)
// and DNSBL operators. Keys are documented in docs/scenarios.md ("world").
#include "reference-server/core/ascii.hpp"
#include "simulator/scenario/loader_detail.hpp"
#include "simulator/scenario/units.hpp"

namespace mailsim::sim::scenario::detail {

namespace {

world::mx_spec read_mx(const value& v) {
  world::mx_spec mx;
  if (v.node.IsScalar()) {
    mx.name = read_domain(v);
    return mx;
  }
  const section s(v, {"name", "preference", "address"});
  if (auto x = s.get("name")) mx.name = read_domain(*x);
  if (auto x = s.get("preference")) {
    const std::uint64_t n = read_count(*x);
    if (n > 65535) expected(*x, "a preference from 0 to 65535");
    mx.preference = static_cast<std::uint16_t>(n);
  }
  if (auto x = s.get("address")) mx.address = read_ip(*x);
  return mx;
}

void read_traps(const value& v, world::mailbox_spec& m) {
  const section s(v, {"pristine", "recycled", "cooling"});
  if (auto x = s.get("pristine")) m.pristine_traps = read_count(*x);
  if (auto x = s.get("recycled")) m.recycled_traps = read_count(*x);
  if (auto x = s.get("cooling")) m.recycled_cooling = read_duration(*x);
}

// A role mailbox's local part (RFC 2142: postmaster, abuse, info ...): a dot-atom of at
// most 64 octets (RFC 5321 §4.5.3.1.1).
std::string read_role(const value& v) {
  constexpr std::string_view what = "a role mailbox's local part such as postmaster or info";
  const std::string text = read_text(v, what);
  bool ok = !text.empty() && text.size() <= 64 && text.front() != '.' && text.back() != '.' &&
            text.find("..") == std::string::npos;
  for (char c : text) ok = ok && (core::is_atext(c) || c == '.');
  if (!ok) expected(v, what);
  return text;
}

world::mailbox_spec read_mailboxes(const value& v) {
  world::mailbox_spec m;
  if (v.node.IsScalar()) {  // shorthand: `mailboxes: 2000` is the valid count
    m.valid = read_count(v);
    return m;
  }
  const section s(v, {"valid", "unknown", "disabled", "full", "full_permanent", "bounce_later",
                      "catch_all", "roles", "traps", "trap_domain"});
  if (auto x = s.get("valid")) m.valid = read_count(*x);
  if (auto x = s.get("unknown")) m.unknown = read_amount(*x);
  if (auto x = s.get("disabled")) m.disabled = read_amount(*x);
  if (auto x = s.get("full")) m.full = read_amount(*x);
  if (auto x = s.get("full_permanent")) m.full_permanent = read_bool(*x);
  if (auto x = s.get("bounce_later")) m.bounce_later = read_amount(*x);
  if (auto x = s.get("catch_all")) m.catch_all = read_bool(*x);
  if (auto x = s.get("roles")) m.roles = read_texts(*x, "role local parts", read_role);
  if (auto x = s.get("traps")) read_traps(*x, m);
  if (auto x = s.get("trap_domain")) m.trap_domain = read_bool(*x);
  return m;
}

world::greylist_spec read_greylist(const value& v) {
  world::greylist_spec g;
  if (v.node.IsScalar()) {  // `greylist: true` (defaults) or `greylist: false` (off)
    g.enabled = read_bool(v);
    return g;
  }
  const section s(v, {"enabled", "delay", "retry_window", "pass_lifetime", "key"});
  g.enabled = true;
  if (auto x = s.get("enabled")) g.enabled = read_bool(*x);
  if (auto x = s.get("delay")) g.delay = read_duration(*x);
  if (auto x = s.get("retry_window")) g.retry_window = read_positive_duration(*x);
  if (auto x = s.get("pass_lifetime")) g.pass_lifetime = read_positive_duration(*x);
  if (auto x = s.get("key")) {
    g.key = read_choice(*x, {"ip", "ip/24"}) == "ip" ? world::greylist_spec::key_kind::ip
                                                     : world::greylist_spec::key_kind::net24;
  }
  return g;
}

// A rate: `100` (per hour), "100/10m", or { max: 100, window: 10m }.
world::rate_spec read_rate(const value& v) {
  world::rate_spec r;
  if (v.node.IsMap()) {
    const section s(v, {"max", "window"});
    if (auto x = s.get("max")) r.max = read_count(*x);
    if (auto x = s.get("window")) r.window = read_positive_duration(*x);
    return r;
  }
  constexpr std::string_view what = "a rate such as 100, 100/1h or { max: 100, window: 1h }";
  if (!v.node.IsScalar()) expected(v, what);
  const std::string& text = v.node.Scalar();
  const std::size_t slash = text.find('/');
  const auto max = parse_count(text.substr(0, slash));
  if (!max) expected(v, what);
  r.max = *max;
  if (slash != std::string::npos) {
    const auto window = parse_duration(text.substr(slash + 1));
    if (!window || window->count() <= 0) expected(v, what);
    r.window = *window;
  }
  return r;
}

world::throttle_spec read_throttle(const value& v) {
  world::throttle_spec t;
  const section s(v, {"per_ip", "per_net24", "per_domain", "per_recipient",
                      "deferrals_before_reject", "defer_reply", "reject_reply"});
  if (auto x = s.get("per_ip")) t.per_ip = read_rate(*x);
  if (auto x = s.get("per_net24")) t.per_net24 = read_rate(*x);
  if (auto x = s.get("per_domain")) t.per_domain = read_rate(*x);
  if (auto x = s.get("per_recipient")) t.per_recipient = read_rate(*x);
  if (auto x = s.get("deferrals_before_reject")) t.deferrals_before_reject = read_count(*x);
  if (auto x = s.get("defer_reply"))
    t.defer_reply = read_text(*x, "an SMTP reply such as '421 4.7.28 ...'");
  if (auto x = s.get("reject_reply"))
    t.reject_reply = read_text(*x, "an SMTP reply such as '550 5.7.1 ...'");
  return t;
}

// `require: [spf, dkim]` or `require: { spf: true, dmarc: true }`.
world::auth_requirements read_require(const value& v) {
  world::auth_requirements r;
  const std::vector<std::string_view> names{"spf", "dkim", "dmarc", "ptr"};
  auto set = [&r](const std::string& name, bool on) {
    if (name == "spf") r.spf_pass = on;
    if (name == "dkim") r.dkim_pass = on;
    if (name == "dmarc") r.dmarc_enforce = on;
    if (name == "ptr") r.ptr_required = on;
  };
  if (v.node.IsSequence()) {
    for (const value& item : read_list(v, "checks")) set(read_choice(item, names), true);
    return r;
  }
  if (!v.node.IsMap()) expected(v, "a list such as [spf, dkim] or a mapping such as { spf: true }");
  const section s(v, names);
  for (std::string_view name : names) {
    if (auto x = s.get(name)) set(std::string(name), read_bool(*x));
  }
  return r;
}

// The optional behaviour overrides of a provider (the profile's values when absent).
void read_overrides(const section& s, world::provider_spec& p) {
  if (auto x = s.get("greylist")) p.greylist = read_greylist(*x);
  if (auto x = s.get("throttle")) p.throttle = read_throttle(*x);
  if (auto x = s.get("messages_per_connection")) p.messages_per_connection = read_count(*x);
  if (auto x = s.get("silent_close")) p.silent_close = read_bool(*x);
  if (auto x = s.get("connections_per_ip")) p.connections_per_ip = read_count(*x);
  if (auto x = s.get("recipients_per_message")) p.recipients_per_message = read_count(*x);
  if (auto x = s.get("tarpit")) p.tarpit = read_duration(*x);
  if (auto x = s.get("errors_max")) p.errors_max = read_count(*x);
  if (auto x = s.get("require")) p.require = read_require(*x);
  if (auto x = s.get("dnsbls")) p.dnsbls = read_texts(*x, "DNSBL zones", read_domain);
  if (auto x = s.get("junk_threshold")) p.junk_threshold = read_number(*x);
  if (auto x = s.get("reject_threshold")) p.reject_threshold = read_number(*x);
  if (auto x = s.get("complaint_rate")) p.complaint_rate = read_ratio(*x);
}

world::provider_spec read_provider(const value& v, const context& c) {
  const section s(v, {"name", "profile", "domains", "mx", "mailboxes", "greylist", "throttle",
                      "messages_per_connection", "silent_close", "connections_per_ip",
                      "recipients_per_message", "tarpit", "errors_max", "require", "dnsbls",
                      "junk_threshold", "reject_threshold", "complaint_rate"});
  world::provider_spec p;
  p.where = c.ref(v);
  if (auto x = s.get("name")) p.name = read_text(*x, "a provider name");
  if (auto x = s.get("profile")) p.profile = read_text(*x, "a profile name such as gmail-like");
  const value domains = s.require("domains");
  p.domains = read_texts(domains, "domain names", read_domain);
  if (p.domains.empty()) expected(domains, "at least one domain");
  if (auto x = s.get("mx")) {
    for (const value& item : read_list(*x, "MX hosts", true)) p.mx.push_back(read_mx(item));
  }
  if (auto x = s.get("mailboxes")) p.mailboxes = read_mailboxes(*x);
  read_overrides(s, p);
  return p;
}

struct condition {
  std::uint64_t count = 0;
  std::optional<core::duration_ms> window;
};

// A listing rule: `3` or ">= 3 in 24h" (">=" and "in <window>" are optional).
condition read_condition(const value& v) {
  constexpr std::string_view what = "a count such as 3 or a rule such as '>= 3 in 24h'";
  if (!v.node.IsScalar()) expected(v, what);
  std::string_view text = v.node.Scalar();
  if (text.substr(0, 2) == ">=") text.remove_prefix(2);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  condition out;
  const std::size_t in = text.find(" in ");
  const auto count = parse_count(text.substr(0, in));
  if (!count || *count == 0) expected(v, what);
  out.count = *count;
  if (in != std::string_view::npos) {
    std::string_view rest = text.substr(in + 4);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto window = parse_duration(rest);
    if (!window || window->count() <= 0) expected(v, what);
    out.window = *window;
  }
  return out;
}

void read_list_when(const value& v, world::dnsbl_spec& d) {
  const section s(v, {"trap_hits", "complaints", "window"});
  std::optional<core::duration_ms> window;
  std::optional<value> window_from;
  auto take = [&](const value& x, std::size_t& into) {
    const condition rule = read_condition(x);
    into = static_cast<std::size_t>(rule.count);
    if (!rule.window) return;
    if (window && *window != *rule.window) {
      fail(x, "trap_hits and complaints count in one window; got " + describe(x.node) + " after " +
                  describe(window_from->node));
    }
    window = rule.window;
    window_from = x;
  };
  if (auto x = s.get("trap_hits")) take(*x, d.trap_hits);
  if (auto x = s.get("complaints")) take(*x, d.complaints);
  if (auto x = s.get("window")) {
    const core::duration_ms w = read_positive_duration(*x);
    if (window && *window != w)
      fail(*x, "the window disagrees with " + describe(window_from->node));
    window = w;
  }
  if (window) d.window = *window;
}

world::dnsbl_spec read_dnsbl(const value& v, const context& c) {
  const section s(v, {"zone", "kind", "style", "list_when", "expire_after", "listed"});
  world::dnsbl_spec d;
  d.where = c.ref(v);
  d.zone = read_domain(s.require("zone"));
  if (auto x = s.get("kind")) {
    d.kind = read_choice(*x, {"ip", "domain"}) == "domain" ? world::dnsbl_spec::subject_kind::domain
                                                           : world::dnsbl_spec::subject_kind::ip;
  }
  if (auto x = s.get("style")) d.style = read_choice(*x, {"spamhaus", "generic"});
  if (auto x = s.get("list_when")) read_list_when(*x, d);
  if (auto x = s.get("expire_after")) d.expire_after = read_positive_duration(*x);
  if (auto x = s.get("listed")) {
    // A domain list lists domains (RFC 5782 §2.3), an IP list addresses.
    d.listed = d.kind == world::dnsbl_spec::subject_kind::domain
                   ? read_texts(*x, "domains", read_domain)
                   : read_texts(*x, "IP addresses", read_ip);
  }
  return d;
}

}  // namespace

void read_providers(const value& v, const context& c, std::vector<world::provider_spec>& out) {
  for (const value& item : read_list(v, "providers")) out.push_back(read_provider(item, c));
}

void read_dnsbls(const value& v, const context& c, std::vector<world::dnsbl_spec>& out) {
  for (const value& item : read_list(v, "DNSBL operators")) out.push_back(read_dnsbl(item, c));
}

}  // namespace mailsim::sim::scenario::detail
