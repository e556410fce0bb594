// The scenario loader's traffic: senders (identity, authentication records, retries,
// warm-up), workloads (volume, recipients, message) and faults. Keys are documented in
// docs/scenarios.md.
#include "simulator/scenario/loader_detail.hpp"
#include "simulator/scenario/units.hpp"

namespace mailsim::sim::scenario::detail {

namespace {

std::optional<world::dkim_spec> read_dkim(const value& v) {
  world::dkim_spec d;
  if (v.node.IsScalar()) {  // `dkim: true` signs with the defaults; `dkim: false` does not sign
    if (!read_bool(v)) return std::nullopt;
    return d;
  }
  const section s(v, {"selector", "algorithm"});
  if (auto x = s.get("selector")) d.selector = read_domain(*x);
  if (auto x = s.get("algorithm")) d.algorithm = read_choice(*x, {"ed25519-sha256", "rsa-sha256"});
  return d;
}

// `retry: postfix | exim | fixed`, or a mapping with one of profile/fixed/list and an
// optional lifetime: `{ fixed: 15m }`, `{ list: [1m, 5m, 30m], lifetime: 2d }`.
world::retry_spec read_retry(const value& v) {
  world::retry_spec r;
  const std::vector<std::string_view> profiles{"postfix", "exim", "fixed"};
  if (v.node.IsScalar()) {
    r.profile = read_choice(v, profiles);
    return r;
  }
  const section s(v, {"profile", "fixed", "list", "lifetime"});
  int given = 0;
  if (auto x = s.get("profile")) {
    r.profile = read_choice(*x, profiles);
    ++given;
  }
  if (auto x = s.get("fixed")) {
    r.profile = "fixed";
    r.interval = read_positive_duration(*x);
    ++given;
  }
  if (auto x = s.get("list")) {
    r.profile = "list";
    for (const value& item : read_list(*x, "durations")) {
      r.offsets.push_back(read_positive_duration(item));
      if (r.offsets.size() > 1 && r.offsets.back() <= r.offsets[r.offsets.size() - 2]) {
        fail(item, "retry times are counted from the first attempt and must increase; got " +
                       describe(item.node) + " after a later one");
      }
    }
    if (r.offsets.empty()) expected(*x, "at least one retry time");
    ++given;
  }
  if (given > 1) fail(v, "a retry takes one of profile, fixed or list, not several");
  if (auto x = s.get("lifetime")) r.lifetime = read_positive_duration(*x);
  return r;
}

world::warmup_spec read_warmup(const value& v) {
  const section s(v, {"start_per_day", "growth_per_day"});
  world::warmup_spec w;
  w.start_per_day = read_positive_count(s.require("start_per_day"));
  if (auto x = s.get("growth_per_day")) {
    w.growth_per_day = read_number(*x);
    if (w.growth_per_day < 1.0) expected(*x, "a growth factor of at least 1 (1.4: +40% a day)");
  }
  return w;
}

world::sender_spec read_sender(const value& v, const context& c) {
  const section s(v, {"name", "domain", "ips", "helo", "dkim", "spf", "dmarc", "ptr", "retry",
                      "warmup", "connections_max", "messages_per_connection"});
  world::sender_spec out;
  out.where = c.ref(v);
  out.domain = read_domain(s.require("domain"));
  out.name = out.domain;
  if (auto x = s.get("name")) out.name = read_text(*x, "a sender name");
  const value ips = s.require("ips");
  out.ips = read_texts(ips, "IP addresses", read_ip);
  if (out.ips.empty()) expected(ips, "at least one IP address");
  if (auto x = s.get("helo")) out.helo = read_domain(*x);
  if (auto x = s.get("dkim")) out.dkim = read_dkim(*x);
  if (auto x = s.get("spf")) out.spf = read_text(*x, "an SPF record such as 'v=spf1 -all'");
  if (auto x = s.get("dmarc"))
    out.dmarc = read_text(*x, "a DMARC record such as 'v=DMARC1; p=none'");
  if (auto x = s.get("ptr")) out.ptr = read_bool(*x);
  if (auto x = s.get("retry")) out.retry = read_retry(*x);
  if (auto x = s.get("warmup")) out.warmup = read_warmup(*x);
  if (auto x = s.get("connections_max")) out.connections_max = read_positive_count(*x);
  if (auto x = s.get("messages_per_connection")) {
    out.messages_per_connection = read_positive_count(*x);
  }
  return out;
}

// `{ per_day: 40000, shape: business-hours }` or `{ total: 100, over: 1h }`.
world::volume_spec read_volume(const value& v) {
  const section s(v, {"total", "over", "per_day", "shape", "start"});
  world::volume_spec out;
  if (s.has("total") == s.has("per_day")) {
    fail(v, "a volume takes exactly one of 'total' (with 'over') or 'per_day'");
  }
  if (auto x = s.get("total")) out.total = read_count(*x);
  if (auto x = s.get("over")) {
    if (!s.has("total")) fail(*x, "'over' goes with 'total', not with 'per_day'");
    out.over = read_positive_duration(*x);
  }
  if (auto x = s.get("per_day")) out.per_day = read_count(*x);
  if (auto x = s.get("shape")) out.shape = read_choice(*x, {"flat", "business-hours"});
  if (auto x = s.get("start")) out.start = read_duration(*x);
  return out;
}

std::string read_world_name(const value& v) {
  return read_text(v, "a provider name or domain");
}

world::recipient_spec read_recipients(const value& v) {
  const section s(v, {"from_world", "invalid", "typo_domains", "role", "include_traps",
                      "per_message"});
  world::recipient_spec r;
  if (auto x = s.get("from_world")) {
    r.from_world = read_texts(*x, "provider names or domains", read_world_name);
    if (r.from_world.size() == 1 && r.from_world.front() == "all") r.from_world.clear();
  }
  if (auto x = s.get("invalid")) r.invalid = read_ratio(*x);
  if (auto x = s.get("typo_domains")) r.typo_domains = read_ratio(*x);
  if (auto x = s.get("role")) r.role = read_ratio(*x);
  if (r.invalid + r.typo_domains + r.role > 1.0) {
    fail(v, "invalid + typo_domains + role must not exceed 100% of the recipients");
  }
  if (auto x = s.get("include_traps")) r.include_traps = read_bool(*x);
  if (auto x = s.get("per_message")) r.per_message = read_positive_count(*x);
  return r;
}

// `message: templates/x.eml.j2` or `{ template: ..., size: 2KiB, spam_score: 3.5 }`.
world::message_spec read_message(const value& v) {
  world::message_spec m;
  if (v.node.IsScalar()) {
    m.template_path = read_text(v, "a message template path such as templates/news.eml.j2");
    return m;
  }
  const section s(v, {"template", "text", "size", "spam_score"});
  if (s.has("template") && s.has("text")) fail(v, "a message takes 'template' or 'text', not both");
  if (auto x = s.get("template")) m.template_path = read_text(*x, "a message template path");
  if (auto x = s.get("text")) m.text = read_text(*x, "the message text");
  if (auto x = s.get("size")) m.size_bytes = read_size(*x);
  if (auto x = s.get("spam_score")) m.spam_score = read_nonnegative_number(*x);
  return m;
}

world::workload_spec read_one_workload(const value& v, const context& c) {
  const section s(v, {"from", "volume", "recipients", "message"});
  world::workload_spec w;
  w.where = c.ref(v);
  w.from = read_address(s.require("from"));
  w.volume = read_volume(s.require("volume"));
  if (auto x = s.get("recipients")) w.recipients = read_recipients(*x);
  if (auto x = s.get("message")) w.message = read_message(*x);
  return w;
}

void read_dns_fault(const value& v, world::fault_spec& f) {
  const section s(v, {"name", "answer", "for"});
  f.what = world::fault_spec::kind::dns;
  f.name = read_domain(s.require("name"));
  if (auto x = s.get("answer")) f.answer = read_choice(*x, {"servfail", "timeout", "nxdomain"});
  if (auto x = s.get("for")) f.length = read_positive_duration(*x);
}

std::string read_target(const value& v) {
  return read_text(v, "an MX host name, an address or a provider's domain");
}

// `mx_down: mx1.gmail.sim` or `{ target: mx1.gmail.sim, for: 30m, effect: blackhole }`.
void read_mx_down(const value& v, world::fault_spec& f) {
  f.what = world::fault_spec::kind::host_down;
  if (v.node.IsScalar()) {
    f.target = read_target(v);
    return;
  }
  const section s(v, {"target", "for", "effect"});
  f.target = read_target(s.require("target"));
  if (auto x = s.get("for")) f.length = read_positive_duration(*x);
  if (auto x = s.get("effect")) f.effect = read_choice(*x, {"refuse", "blackhole"});
}

void read_network_fault(const value& v, world::fault_spec& f) {
  const section s(v, {"target", "effect", "loss", "for"});
  f.what = world::fault_spec::kind::network;
  f.target = read_target(s.require("target"));
  if (auto x = s.get("loss")) {
    f.loss = read_ratio(*x);
    f.effect = "loss";
  }
  if (auto x = s.get("effect")) {
    f.effect = read_choice(*x, {"refuse", "blackhole", "stall", "reset", "loss"});
    if (f.effect == "loss" && !s.has("loss")) fail(*x, "effect 'loss' needs 'loss: <ratio>'");
    if (f.effect != "loss" && s.has("loss")) fail(*x, "'loss' goes with effect 'loss'");
  }
  if (auto x = s.get("for")) f.length = read_positive_duration(*x);
}

world::fault_spec read_fault(const value& v, const context& c) {
  const section s(v, {"at", "dns", "mx_down", "network"});
  world::fault_spec f;
  f.where = c.ref(v);
  f.at = read_duration(s.require("at"));
  const int kinds = int{s.has("dns")} + int{s.has("mx_down")} + int{s.has("network")};
  if (kinds != 1) fail(v, "a fault takes exactly one of dns, mx_down or network");
  if (auto x = s.get("dns")) read_dns_fault(*x, f);
  if (auto x = s.get("mx_down")) read_mx_down(*x, f);
  if (auto x = s.get("network")) read_network_fault(*x, f);
  return f;
}

}  // namespace

void read_senders(const value& v, const context& c, std::vector<world::sender_spec>& out) {
  for (const value& item : read_list(v, "senders")) out.push_back(read_sender(item, c));
}

void read_workload(const value& v, const context& c, std::vector<world::workload_spec>& out) {
  for (const value& item : read_list(v, "workloads")) out.push_back(read_one_workload(item, c));
}

void read_faults(const value& v, const context& c, std::vector<world::fault_spec>& out) {
  for (const value& item : read_list(v, "faults")) out.push_back(read_fault(item, c));
}

}  // namespace mailsim::sim::scenario::detail
