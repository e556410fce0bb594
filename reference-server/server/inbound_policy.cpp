#include "reference-server/server/inbound_policy.hpp"

namespace mailsim::server {
namespace {

smtp::reply relay_denied() {
  return smtp::make_reply(554, "5.7.1", "Error: relay access denied");
}

// Forms that ask this server to route onward (RFC 5321 §3.6.1, Appendix C; the '%' hack
// and UUCP bang paths): never honoured, whoever asks.
bool is_relay_trick(const smtp::mailbox& box) {
  return box.local_part.find_first_of("%!@") != std::string::npos ||
         (!box.domain.empty() && box.domain.front() == '[');
}

}  // namespace

rcpt_decision inbound_policy::on_rcpt(const smtp::path& recipient, bool authenticated) const {
  const smtp::mailbox& box = recipient.box;
  if (is_relay_trick(box)) return {relay_denied(), {}, {}};
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain must be accepted; it means ours.
  const std::string& domain = box.domain.empty() ? primary_domain_ : box.domain;
  store::resolution r = directory_.resolve(box.local_part, domain);
  switch (r.status) {
    case store::resolve_status::not_local_domain:
      if (!authenticated) return {relay_denied(), {}, {}};
      if (!outbound_) {
        return {smtp::make_reply(451, "4.3.0", "Error: outbound delivery is switched off"), {}, {}};
      }
      return {std::nullopt, {}, {box.to_string()}};
    case store::resolve_status::unknown_user:
      return {smtp::make_reply(550, "5.1.1", "Error: no such user here"), {}, {}};
    case store::resolve_status::config_error:
      return {smtp::make_reply(451, "4.3.5", "Error: address temporarily misconfigured"), {}, {}};
    case store::resolve_status::local:
      break;
  }
  if (!r.remote.empty() && !outbound_) {  // an alias that forwards off this server
    return {smtp::make_reply(451, "4.3.0", "Error: forwarding is switched off"), {}, {}};
  }
  for (const auto& user : r.users) {
    const store::user_account* account = directory_.find_user(user);
    if (account != nullptr && store_.quota_check(*account, 0) == store::quota_state::full) {
      return {smtp::make_reply(452, "4.2.2", "Error: mailbox full"), {}, {}};  // RFC 3463 §3.3
    }
  }
  return {std::nullopt, std::move(r.users), std::move(r.remote)};
}

smtp::reply inbound_policy::on_vrfy(const std::string& argument) const {
  smtp::path_parse p = smtp::parse_path(argument, {});
  if (p.value) {
    store::resolution r = directory_.resolve(p.value->box.local_part, p.value->box.domain);
    if (r.status == store::resolve_status::local && !r.users.empty()) {
      return smtp::make_reply(250, "2.1.5", p.value->box.to_string());
    }
  }
  return smtp::make_reply(550, "5.1.1", "Error: no such user here");
}

std::optional<smtp::reply> inbound_policy::on_message(const std::vector<std::string>& users,
                                                      std::uint64_t message_bytes) const {
  for (const auto& user : users) {
    const store::user_account* account = directory_.find_user(user);
    if (account == nullptr) continue;
    if (store_.quota_check(*account, message_bytes) != store::quota_state::ok) {
      // RFC 3463 §3.3: X.2.2 mailbox full; the whole message is refused rather than lose a
      // copy, because a single SMTP transaction has a single reply.
      return smtp::make_reply(552, "5.2.2", "Error: mailbox full for " + user);
    }
  }
  return std::nullopt;
}

}  // namespace mailsim::server
