// MAIL FROM (RFC 5321 §4.1.1.2) with its ESMTP parameters: SIZE (RFC 1870), BODY (RFC 6152,
// RFC 3030), SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461), AUTH (RFC 4954 §5).
#include <charconv>

#include "reference-server/smtp/session_handlers.hpp"
#include "reference-server/smtp/xtext.hpp"

namespace mailsim::smtp {
namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

// Applies one MAIL parameter to the envelope; returns the error reply when it is refused.
static std::optional<reply> apply_mail_param(const esmtp_param& p, envelope& env,
                                             const server_options& o, const limits& lim) {
  const std::string value = p.value.value_or("");
  if (p.keyword == "SIZE" && p.value) {
    std::uint64_t size = 0;
    if (!parse_u64(value, size)) return make_reply(501, "5.5.4", "Error: bad SIZE value");
    // RFC 1870 §6: refuse at MAIL when the declared size is already too big.
    if (size > lim.message_bytes_max) {
      return make_reply(552, "5.3.4", "Error: message size exceeds fixed maximum message size");
    }
    env.declared_size = size;
  } else if (p.keyword == "BODY" && p.value) {
    if (value == "7BIT") {
      env.body = body_type::seven_bit;
    } else if (value == "8BITMIME" && o.eight_bit_mime) {
      env.body = body_type::eight_bit_mime;
    } else if (value == "BINARYMIME" && o.chunking) {
      env.body = body_type::binary_mime;
    } else {
      return make_reply(501, "5.5.4", "Error: unsupported BODY type");
    }
  } else if (p.keyword == "SMTPUTF8" && !p.value && o.smtputf8) {
    env.smtputf8 = true;
  } else if (p.keyword == "RET" && p.value && o.dsn && (value == "FULL" || value == "HDRS")) {
    env.ret = value == "FULL" ? dsn_ret::full : dsn_ret::headers;
  } else if (p.keyword == "ENVID" && p.value && o.dsn) {
    if (value.size() > 100 || !is_xtext(value)) {  // RFC 3461 §4.4
      return make_reply(501, "5.5.4", "Error: bad ENVID value");
    }
    env.envid = value;
  } else if (p.keyword == "AUTH" && p.value) {
    // RFC 4954 §5: the submitter's identity from a trusted relay; recorded nowhere since
    // this server trusts no relay, but accepted as the RFC requires.
  } else {
    // RFC 5321 §4.1.1.11: 555 for parameters that are not recognized or not implemented.
    return make_reply(555, "5.5.4", "Error: unsupported parameter " + p.keyword);
  }
  return std::nullopt;
}

server_event server_session::handler::mail(server_session& s, command& cmd) {
  if (!s.greeted_) {
    s.protocol_error(503, "5.5.1", "Error: send HELO/EHLO first");
    return {};
  }
  if (s.options_.require_tls && !s.tls_) {  // RFC 3207 §4
    s.protocol_error(530, "5.7.0", "Must issue a STARTTLS command first");
    return {};
  }
  if (s.options_.require_auth && !s.auth_user_) {  // RFC 4954 §6
    s.protocol_error(530, "5.7.0", "Authentication required");
    return {};
  }
  if (s.has_mail_) {
    s.protocol_error(503, "5.5.1", "Error: nested MAIL command");
    return {};
  }
  if (s.limits_.transactions_max > 0 && s.transactions_ >= s.limits_.transactions_max) {
    s.close_with(421, "4.7.0", s.options_.hostname + " Error: too many transactions");
    return {};
  }
  s.reset_transaction();
  if (!s.envelope_.esmtp && !cmd.params.empty()) {  // parameters need EHLO
    s.protocol_error(555, "5.5.4", "Error: parameters require EHLO");
    return {};
  }
  for (const auto& p : cmd.params) {
    if (auto error = apply_mail_param(p, s.envelope_, s.options_, s.limits_)) {
      s.reset_transaction();
      s.send(*error);
      ++s.stats_.errors;
      s.mail_refused_ = true;
      return {};
    }
  }
  if (cmd.address.box.utf8 && !s.envelope_.smtputf8) {  // RFC 6531 §3.4
    s.reset_transaction();
    s.protocol_error(553, "5.6.7", "Error: UTF-8 address requires SMTPUTF8");
    return {};
  }
  s.envelope_.reverse_path = cmd.address;
  s.pending_cmd_ = std::move(cmd);
  return s.hold(server_event_kind::mail);
}

}  // namespace mailsim::smtp
