// AUTH (RFC 4954) over the SASL mechanisms of reference-server/sasl.
#include <algorithm>
#include <utility>

#include "reference-server/sasl/exchange.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/smtp/session_handlers.hpp"

namespace mailsim::smtp {
namespace {

bool offered(const server_options& o, std::string_view mechanism) {
  return std::find(o.auth_mechanisms.begin(), o.auth_mechanisms.end(), mechanism) !=
         o.auth_mechanisms.end();
}

}  // namespace

server_event server_session::handler::auth(server_session& s, command& cmd) {
  if (!s.greeted_ || !s.envelope_.esmtp) {
    s.protocol_error(503, "5.5.1", "Error: send EHLO first");
  } else if (s.options_.auth_mechanisms.empty()) {
    s.protocol_error(502, "5.5.1", "Error: authentication not enabled");
  } else if (s.options_.require_tls && !s.tls_) {  // RFC 3207 §4: nothing before STARTTLS
    s.protocol_error(530, "5.7.0", "Must issue a STARTTLS command first");
  } else if (s.options_.auth_requires_tls && !s.tls_) {  // RFC 4954 §6
    s.protocol_error(538, "5.7.11", "Error: encryption required for authentication");
  } else if (s.auth_user_) {  // RFC 4954 §4: one successful AUTH per session
    s.protocol_error(503, "5.5.1", "Error: already authenticated");
  } else if (s.has_mail_) {
    s.protocol_error(503, "5.5.1", "Error: AUTH not permitted during a mail transaction");
  } else if (!offered(s.options_, cmd.auth_mechanism)) {
    s.protocol_error(504, "5.5.4", "Error: unsupported authentication mechanism");
  } else {
    std::optional<std::string> initial;
    if (cmd.auth_initial_response) {
      initial = sasl::decode_initial_response(*cmd.auth_initial_response);
      if (!initial) {
        s.protocol_error(501, "5.5.2", "Error: invalid base64 data");
        return {};
      }
    }
    s.mechanism_ = sasl::make_server_mechanism(cmd.auth_mechanism, *s.deps_.credentials,
                                               *s.deps_.random);
    if (!s.mechanism_) {
      s.protocol_error(504, "5.5.4", "Error: unsupported authentication mechanism");
      return {};
    }
    s.state_ = state::auth;
    s.auth_job_ = std::make_unique<auth_job>(auth_job{true, std::move(initial), std::nullopt});
    return {server_event_kind::auth};
  }
  return {};
}

server_event server_session::handler::auth_response(server_session& s, std::string_view line) {
  using kind = sasl::line_action::kind;
  sasl::line_action a = sasl::on_line(line, s.auth_final_user_);
  switch (a.what) {
    case kind::cancel:  // RFC 4954 §4
      s.end_auth();
      s.protocol_error(501, "5.0.0", "Authentication aborted");
      return {};
    case kind::acknowledged:
      s.auth_succeeded(a.data);
      return {};
    case kind::not_acknowledged:
      s.end_auth();
      s.protocol_error(501, "5.5.2", "Error: malformed authentication response");
      return {};
    case kind::invalid_base64:
      s.end_auth();
      s.protocol_error(501, "5.5.2", "Error: invalid base64 data");
      return {};
    case kind::response:
      break;
  }
  s.auth_job_ = std::make_unique<auth_job>(auth_job{false, std::move(a.data), std::nullopt});
  return {server_event_kind::auth};
}

void server_session::auth_step(const sasl::step_result& r) {
  using kind = sasl::step_action::kind;
  sasl::step_action a = sasl::on_step(r, auth_final_user_);
  switch (a.what) {
    case kind::challenge:
    case kind::final_data:  // RFC 4954 §4: "334 " + base64; a 235 carries no data
      output_ += "334 " + a.data + "\r\n";
      return;
    case kind::succeeded:
      auth_succeeded(a.data);
      return;
    case kind::failed:
      end_auth();
      auth_failed();
      return;
    case kind::malformed:
      end_auth();
      protocol_error(501, "5.5.2", "Error: malformed authentication response");
      return;
  }
}

void server_session::auth_succeeded(const std::string& user) {
  end_auth();
  auth_user_ = user;
  envelope_.auth_user = user;
  send(235, "2.7.0", "Authentication successful");
}

// Failures are answered late, and later each time, so that guessing passwords is slow;
// past auth_failures_max the session closes (RFC 4954 §4 allows both).
void server_session::auth_failed() {
  ++stats_.auth_failures;
  delayed_reply_ = make_reply(535, "5.7.8", "Error: authentication credentials invalid");
  delayed_until_ = deps_.clock->now() + limits_.auth_failure_delay * stats_.auth_failures;
  delayed_close_ = stats_.auth_failures >= limits_.auth_failures_max;
}

void server_session::end_auth() {
  mechanism_.reset();
  auth_final_user_.reset();
  state_ = state::idle;
}

}  // namespace mailsim::smtp
