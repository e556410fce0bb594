// The `inbound:` section of the config file: the receiving-side checks of the MX listeners
// (config/inbound.hpp, reference-server/policy/inbound_chain.hpp). Uses the loader's value
// readers (loader_values.hpp), so errors name file:line:column like every other section.
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

#include "reference-server/config/loader_values.hpp"
#include "reference-server/policy/dnsbl.hpp"
#include "reference-server/policy/spam_score.hpp"
#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::config::detail {

namespace {

using policy::check_action;

check_action read_action(const value& v, std::vector<std::pair<std::string_view, check_action>> allowed) {
  return read_choice<check_action>(v, allowed);
}

// A score like 3, -1.5 or 0.25 (SpamAssassin scores), within ±1000.
double read_score(const value& v) {
  constexpr std::string_view what = "a number like 2.5";
  const std::string& text = read_text(v, what);
  double out = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc() || ptr != end || !std::isfinite(out) || std::fabs(out) > 1000) {
    expected(v, what);
  }
  return out;
}

std::chrono::seconds read_seconds(const value& v) {
  const core::duration_ms d = read_duration(v);
  if (d < std::chrono::seconds(1)) fail(v.where, quote(v.key) + " must be at least 1s");
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

void read_spf(const value& v, policy::spf_settings& out) {
  const section s(v, "inbound.spf",
                  {"enabled", "helo", "fail", "softfail", "permerror", "temperror",
                   "dns_mechanisms_max", "void_lookups_max"});
  if (auto e = s.get("enabled")) out.enabled = read_bool(*e);
  if (auto e = s.get("helo")) out.check_helo = read_bool(*e);
  const std::vector<std::pair<std::string_view, check_action>> verdicts = {
      {"accept", check_action::accept}, {"junk", check_action::junk},
      {"reject", check_action::reject}};
  if (auto a = s.get("fail")) out.on_fail = read_action(*a, verdicts);
  if (auto a = s.get("softfail")) out.on_softfail = read_action(*a, verdicts);
  if (auto a = s.get("permerror")) {
    out.on_permerror = read_action(*a, {{"accept", check_action::accept},
                                        {"reject", check_action::reject}});
  }
  if (auto a = s.get("temperror")) {
    out.on_temperror = read_action(*a, {{"accept", check_action::accept},
                                        {"defer", check_action::defer}});
  }
  if (auto n = s.get("dns_mechanisms_max")) {
    out.options.dns_mechanisms_max = fits<unsigned>(*n, at_least(*n, read_count(*n), 1, ""));
  }
  if (auto n = s.get("void_lookups_max")) out.options.void_lookups_max = fits<unsigned>(*n, read_count(*n));
}

void read_dkim_checks(const value& v, policy::inbound_settings& out) {
  const section s(v, "inbound.dkim", {"enabled", "signatures_max", "accept_body_length"});
  if (auto e = s.get("enabled")) out.dkim = read_bool(*e);
  if (auto n = s.get("signatures_max")) {
    out.dkim_options.signatures_max = fits<std::size_t>(*n, at_least(*n, read_count(*n), 1, ""));
  }
  if (auto b = s.get("accept_body_length")) out.dkim_options.accept_body_length = read_bool(*b);
}

void read_dmarc(const value& v, policy::dmarc_settings& out) {
  const section s(v, "inbound.dmarc", {"enabled", "enforce", "temperror", "report_rows_max"});
  if (auto e = s.get("enabled")) out.enabled = read_bool(*e);
  if (auto e = s.get("enforce")) out.enforce = read_bool(*e);
  if (auto a = s.get("temperror")) {
    out.on_temperror = read_action(*a, {{"accept", check_action::accept},
                                        {"defer", check_action::defer}});
  }
  if (auto n = s.get("report_rows_max")) {
    out.report_rows_max = fits<std::size_t>(*n, at_least(*n, read_count(*n), 1, ""));
  }
}

// One list: a built-in `profile`, or a `zone` with its own `codes`; `allow` for a DNSWL.
policy::dnsbl_rule read_dnsbl(const value& v) {
  const section s(v, "inbound.dnsbl",
                  {"zone", "profile", "kind", "codes", "allow", "action", "score", "txt"});
  policy::dnsbl_rule rule;
  if (auto p = s.get("profile")) {
    const std::string& name = read_text(*p, "a DNSBL profile name");
    auto profile = policy::dnsbl_profile(name);
    if (!profile) {
      std::vector<std::string_view> names(policy::dnsbl_profile_names().begin(),
                                          policy::dnsbl_profile_names().end());
      expected(*p, "one of " + join(names));
    }
    rule.list = std::move(*profile);
  }
  if (auto z = s.get("zone")) {
    const std::string& zone = read_text(*z, "a DNS zone like zen.spamhaus.org");
    if (!is_domain(zone)) expected(*z, "a DNS zone like zen.spamhaus.org");
    rule.list.zone = to_lower(zone);
  } else if (!s.get("profile")) {
    fail(v.where, "a DNSBL entry needs 'zone' or 'profile'");
  }
  if (auto k = s.get("kind")) {
    rule.list.kind = read_choice<policy::dnsbl_kind>(*k, {{"ip", policy::dnsbl_kind::ip},
                                                          {"domain", policy::dnsbl_kind::domain}});
  }
  if (auto c = s.get_unless_empty("codes")) {
    rule.list.codes.clear();
    for (const value& item : read_list(*c, "a list of return codes like 127.0.0.2")) {
      auto code = policy::parse_dnsbl_code(read_text(item, "a return code like 127.0.0.2"));
      if (!code) expected(item, "a return code like 127.0.0.2, 127.0.0.4-127.0.0.7 or 127.0.0.0&12");
      rule.list.codes.push_back(std::move(*code));
    }
  }
  if (auto a = s.get("allow")) rule.list.allow_list = read_bool(*a);
  if (auto a = s.get("action")) {
    rule.on_listed = read_action(*a, {{"reject", check_action::reject},
                                      {"score", check_action::accept}});
  }
  if (rule.list.allow_list) rule.on_listed = check_action::accept;
  if (auto sc = s.get("score")) rule.list.score = read_score(*sc);
  if (auto t = s.get("txt")) rule.list.query_txt = read_bool(*t);
  return rule;
}

void read_greylist(const value& v, policy::inbound_settings& out) {
  const section s(v, "inbound.greylist",
                  {"enabled", "delay", "retry_window", "max_age", "auto_whitelist_after", "key",
                   "entries_max", "reply_code", "reply_status", "reply_text"});
  policy::greylist_options& g = out.greylist;
  out.greylisting = true;
  if (auto e = s.get("enabled")) out.greylisting = read_bool(*e);
  if (auto d = s.get("delay")) g.delay = read_seconds(*d);
  if (auto d = s.get("retry_window")) g.retry_window = read_seconds(*d);
  if (auto d = s.get("max_age")) g.max_age = read_seconds(*d);
  if (auto n = s.get("auto_whitelist_after")) g.auto_whitelist_after = fits<unsigned>(*n, read_count(*n));
  if (auto k = s.get("key")) {
    g.key = read_choice<policy::greylist_key_mode>(*k, {{"subnet", policy::greylist_key_mode::subnet},
                                                        {"ip", policy::greylist_key_mode::exact}});
  }
  if (auto n = s.get("entries_max")) g.entries_max = fits<std::size_t>(*n, at_least(*n, read_count(*n), 1, ""));
  if (auto c = s.get("reply_code")) {
    const std::uint64_t code = read_count(*c);
    if (code < 400 || code > 499) expected(*c, "a 4xx reply code like 450");
    g.reply_code = static_cast<int>(code);
  }
  if (auto st = s.get("reply_status")) g.reply_enhanced = read_text(*st, "an enhanced status code like 4.2.0");
  if (auto t = s.get("reply_text")) g.reply_text = read_text(*t, "one line of reply text");
  if (g.retry_window <= g.delay) fail(v.key_where, "greylist 'retry_window' must be longer than 'delay'");
}

// One rate rule: `{event: messages, per: ip, window: 1h, max: 100}`.
policy::rate_rule read_rate_rule(const value& v) {
  const section s(v, "inbound.rate", {"name", "event", "per", "window", "max"});
  const auto event = read_choice<policy::rate_event>(
      s.require("event"), {{"connections", policy::rate_event::connection},
                           {"messages", policy::rate_event::message},
                           {"recipients", policy::rate_event::recipient}});
  const auto scope = read_choice<policy::rate_scope>(
      s.require("per"), {{"ip", policy::rate_scope::ip},
                         {"subnet", policy::rate_scope::subnet},
                         {"recipient", policy::rate_scope::recipient}});
  const value window_value = s.require("window");
  const std::chrono::seconds window = read_seconds(window_value);
  const value max_value = s.require("max");
  const auto max = fits<std::uint32_t>(max_value, at_least(max_value, read_count(max_value), 1, ""));
  std::string name = std::string(policy::to_string(event)) + "_per_" + policy::to_string(scope) +
                     "_" + std::to_string(window.count()) + "s";
  if (auto n = s.get("name")) name = read_text(*n, "a rule name");
  return policy::make_rate_rule(std::move(name), event, scope, window, max);
}

policy::content_rule read_content_rule(const value& v) {
  const section s(v, "inbound.spam.rules", {"name", "header", "body", "contains", "regex", "score"});
  policy::content_rule rule;
  rule.name = read_text(s.require("name"), "a rule name like SUBJ_LOTTERY");
  if (auto h = s.get("header")) {
    rule.target = policy::content_target::header;
    rule.header = read_text(*h, "a header field name like Subject");
  } else if (auto b = s.get("body"); !b || !read_bool(*b)) {
    fail(v.where, "a spam rule needs 'header: NAME' or 'body: true'");
  }
  auto contains = s.get("contains");
  auto regex = s.get("regex");
  if (contains.has_value() == regex.has_value()) {
    fail(v.where, "a spam rule needs exactly one of 'contains' and 'regex'");
  }
  rule.regex = regex.has_value();
  rule.pattern = read_text(rule.regex ? *regex : *contains, "a pattern");
  if (auto sc = s.get("score")) rule.score = read_score(*sc);
  return rule;
}

void read_spam(const value& v, policy::spam_options& out) {
  const section s(v, "inbound.spam", {"required_score", "reject_score", "scores", "rules"});
  if (auto r = s.get("required_score")) out.required_score = read_score(*r);
  if (auto r = s.get("reject_score")) out.reject_score = read_score(*r);
  if (auto m = s.get_unless_empty("scores")) {
    if (!m->node.IsMap()) expected(*m, "a mapping of rule names to scores");
    for (const auto& entry : m->node) {
      const value item = make_value(entry.first, entry.second, entry.first.Scalar());
      out.scores[item.key] = read_score(item);
    }
  }
  if (auto list = s.get_unless_empty("rules")) {
    for (const value& item : read_list(*list, "a list of content rules")) {
      out.rules.push_back(read_content_rule(item));
    }
  }
  std::string error;
  if (!policy::spam_scorer::create(out, error)) fail(v.key_where, "inbound.spam: " + error);
}

}  // namespace

void read_inbound(const value& v, const path_reader& read_path, inbound_config& out) {
  out.enabled = true;
  if (v.node.IsNull()) return;  // "inbound:" alone: every check with its defaults
  const section s(v, "inbound",
                  {"enabled", "authserv_id", "public_suffix_list", "spf", "dkim", "arc", "dmarc",
                   "dnsbl", "greylist", "rate", "spam", "junk_folder"});
  policy::inbound_settings& p = out.settings;
  if (auto e = s.get("enabled")) out.enabled = read_bool(*e);
  if (auto a = s.get("authserv_id")) {
    const std::string& id = read_text(*a, "a host name");
    if (!is_domain(id)) expected(*a, "a host name");
    p.authserv_id = to_lower(id);
  }
  if (auto f = s.get("public_suffix_list")) out.public_suffix_list = read_path(*f);
  if (auto x = s.get_unless_empty("spf")) read_spf(*x, p.spf);
  if (auto x = s.get_unless_empty("dkim")) read_dkim_checks(*x, p);
  if (auto x = s.get_unless_empty("arc")) {
    const section arc(*x, "inbound.arc", {"enabled"});
    if (auto e = arc.get("enabled")) p.arc = read_bool(*e);
  }
  if (auto x = s.get_unless_empty("dmarc")) read_dmarc(*x, p.dmarc);
  if (auto x = s.get_unless_empty("dnsbl")) {
    for (const value& item : read_list(*x, "a list of DNSBL or DNSWL entries")) {
      p.dnsbl.push_back(read_dnsbl(item));
    }
  }
  if (auto x = s.get_unless_empty("greylist")) read_greylist(*x, p);
  if (auto x = s.get_unless_empty("rate")) {
    for (const value& item : read_list(*x, "a list of rate rules")) p.rate.rules.push_back(read_rate_rule(item));
  }
  if (auto x = s.get_unless_empty("spam")) read_spam(*x, p.spam);
  if (auto j = s.get("junk_folder")) {
    const std::string& folder = read_text(*j, "a folder name like Junk");
    if (!store::is_folder_name(folder)) {
      expected(*j, "a folder name of letters, digits, '-', '_' and spaces (not INBOX)");
    }
    p.junk_folder = folder;
  }
}

}  // namespace mailsim::config::detail
