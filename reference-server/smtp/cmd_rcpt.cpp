// RCPT TO (RFC 5321 §4.1.1.3) with the DSN parameters NOTIFY and ORCPT (RFC 3461 §4.1-4.2).
#include "reference-server/smtp/session_handlers.hpp"
#include "reference-server/smtp/xtext.hpp"

namespace mailsim::smtp {
namespace {

// RFC 3461 §4.1: "NEVER" alone, or a comma list of SUCCESS, FAILURE, DELAY.
bool parse_notify(std::string_view value, dsn_notify& out) {
  out.specified = true;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    if (item == "NEVER") {
      out.never = true;
    } else if (item == "SUCCESS") {
      out.success = true;
    } else if (item == "FAILURE") {
      out.failure = true;
    } else if (item == "DELAY") {
      out.delay = true;
    } else {
      return false;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
    if (value.empty()) return false;
  }
  bool any = out.success || out.failure || out.delay;
  return out.never != any;
}

// RFC 3461 §4.2: ORCPT=addr-type ";" xtext.
bool valid_orcpt(std::string_view value) {
  std::size_t semi = value.find(';');
  return semi != std::string_view::npos && semi > 0 && semi + 1 < value.size() &&
         is_xtext(value.substr(semi + 1));
}

std::optional<reply> apply_rcpt_param(const esmtp_param& p, recipient& r, bool dsn) {
  if (dsn && p.keyword == "NOTIFY" && p.value) {
    if (!parse_notify(*p.value, r.notify)) return make_reply(501, "5.5.4", "Error: bad NOTIFY value");
  } else if (dsn && p.keyword == "ORCPT" && p.value) {
    if (!valid_orcpt(*p.value)) return make_reply(501, "5.5.4", "Error: bad ORCPT value");
    r.orcpt = *p.value;
  } else {
    return make_reply(555, "5.5.4", "Error: unsupported parameter " + p.keyword);
  }
  return std::nullopt;
}

}  // namespace

server_event server_session::handler::rcpt(server_session& s, command& cmd) {
  if (!s.has_mail_) {
    s.sequence_error(503, "5.5.1", need_mail_text);
    return {};
  }
  // RFC 5321 §4.5.3.1.10: 452 and the client sends the rest in another transaction.
  if (s.envelope_.recipients.size() >= s.limits_.recipients_max) {
    s.send(452, "4.5.3", "Error: too many recipients");
    return {};
  }
  recipient r;
  for (const auto& p : cmd.params) {
    if (auto error = apply_rcpt_param(p, r, s.options_.dsn)) {
      ++s.stats_.errors;
      s.send(*error);
      return {};
    }
  }
  if (cmd.address.box.utf8 && !s.envelope_.smtputf8) {  // RFC 6531 §3.4
    s.protocol_error(553, "5.6.7", "Error: UTF-8 address requires SMTPUTF8");
    return {};
  }
  r.address = cmd.address;
  s.pending_recipient_ = std::move(r);
  s.pending_cmd_ = std::move(cmd);
  return s.hold(server_event_kind::rcpt);
}

}  // namespace mailsim::smtp
