#include "simulator/world/throttle.hpp"

#include <algorithm>
#include <chrono>

namespace mailsim::sim::world {

namespace {

std::chrono::seconds seconds_of(core::duration_ms window) {
  // rate_limiter counts in whole seconds; a window under one second is one second.
  return std::max(std::chrono::seconds(1),
                  std::chrono::duration_cast<std::chrono::seconds>(window));
}

void add_rule(policy::rate_options& options, const char* name, const rate_spec& rate,
              policy::rate_event event, policy::rate_scope scope) {
  if (rate.max == 0) return;
  options.rules.push_back(policy::make_rate_rule(name, event, scope, seconds_of(rate.window),
                                                 static_cast<std::uint32_t>(rate.max)));
}

std::unique_ptr<policy::rate_limiter> limiter_of(policy::rate_options options) {
  if (options.rules.empty()) return nullptr;
  return std::make_unique<policy::rate_limiter>(std::move(options));
}

}  // namespace

throttle::throttle(const throttle_spec& spec, std::size_t keys_max) : spec_(spec) {
  policy::rate_options client;
  client.keys_max = keys_max;
  add_rule(client, "per_ip", spec.per_ip, policy::rate_event::message, policy::rate_scope::ip);
  add_rule(client, "per_net24", spec.per_net24, policy::rate_event::message,
           policy::rate_scope::subnet);
  policy::rate_options domain = client;
  domain.rules.clear();
  add_rule(domain, "per_domain", spec.per_domain, policy::rate_event::message,
           policy::rate_scope::recipient);
  policy::rate_options recipient = domain;
  recipient.rules.clear();
  add_rule(recipient, "per_recipient", spec.per_recipient, policy::rate_event::recipient,
           policy::rate_scope::recipient);
  client_ = limiter_of(std::move(client));
  domain_ = limiter_of(std::move(domain));
  recipient_ = limiter_of(std::move(recipient));
  enabled_ = client_ || domain_ || recipient_;
}

core::duration_ms throttle::window_of(const std::string& rule) const {
  if (rule == "per_ip") return spec_.per_ip.window;
  if (rule == "per_net24") return spec_.per_net24.window;
  if (rule == "per_domain") return spec_.per_domain.window;
  return spec_.per_recipient.window;
}

throttle_verdict throttle::over(const std::string& ip, const std::string& rule,
                                core::time_point now) {
  throttle_verdict v;
  v.what = throttle_verdict::action::defer;
  v.rule = rule;
  if (spec_.deferrals_before_reject == 0) return v;
  const std::int64_t now_ms = core::epoch_ms(now);
  strikes& s = strikes_[ip];
  if (s.count == 0 || now_ms - s.first_ms >= window_of(rule).count()) s = {now_ms, 0};
  if (s.count >= spec_.deferrals_before_reject) {
    v.what = throttle_verdict::action::reject;
    v.deferrals = s.count;
    return v;
  }
  v.deferrals = ++s.count;
  return v;
}

throttle_verdict throttle::check_message(const core::ip_address& client, const std::string& ip,
                                         std::string_view sender_domain, core::time_point now) {
  if (client_) {
    // Look at the domain window first so that a message refused there counts nowhere.
    if (domain_ && !sender_domain.empty() &&
        domain_->current("per_domain", client, now, sender_domain) + 1 > spec_.per_domain.max) {
      return over(ip, "per_domain", now);
    }
    policy::rate_verdict v = client_->check_and_count(policy::rate_event::message, client, now);
    if (v.over) return over(ip, v.rule, now);
  }
  if (domain_ && !sender_domain.empty()) {
    policy::rate_verdict v =
        domain_->check_and_count(policy::rate_event::message, client, now, sender_domain);
    if (v.over) return over(ip, v.rule, now);
  }
  return {};
}

throttle_verdict throttle::check_recipient(const core::ip_address& client, const std::string& ip,
                                           std::string_view recipient, core::time_point now) {
  if (!recipient_) return {};
  policy::rate_verdict v =
      recipient_->check_and_count(policy::rate_event::recipient, client, now, recipient);
  if (v.over) return over(ip, v.rule, now);
  return {};
}

}  // namespace mailsim::sim::world
