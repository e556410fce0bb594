// AUTH (RFC 4954) over the SASL mechanisms of reference-server/sasl.
#include <algorithm>
#include <utility>

#include "reference-server/core/base64.hpp"
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
      initial = *cmd.auth_initial_response == "="
                    ? std::optional<std::string>("")  // RFC 4954 §4: "=" is an empty response
                    : core::base64_decode(*cmd.auth_initial_response);
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
  if (line == "*") {  // RFC 4954 §4: the client cancels
    s.end_auth();
    s.protocol_error(501, "5.0.0", "Authentication aborted");
    return {};
  }
  if (s.auth_final_user_) {  // the empty acknowledgement of the last server data
    std::string user = *std::exchange(s.auth_final_user_, std::nullopt);
    if (!line.empty()) {
      s.end_auth();
      s.protocol_error(501, "5.5.2", "Error: malformed authentication response");
    } else {
      s.auth_succeeded(user);
    }
    return {};
  }
  std::optional<std::string> decoded = core::base64_decode(line);
  if (!decoded) {
    s.end_auth();
    s.protocol_error(501, "5.5.2", "Error: invalid base64 data");
    return {};
  }
  s.auth_job_ = std::make_unique<auth_job>(auth_job{false, std::move(decoded), std::nullopt});
  return {server_event_kind::auth};
}

void server_session::auth_step(const sasl::step_result& r) {
  using status = sasl::step_result::status;
  switch (r.state) {
    case status::challenge:  // RFC 4954 §4: "334 " + base64
      output_ += "334 " + core::base64_encode(r.data) + "\r\n";
      return;
    case status::success:
      if (r.data.empty()) {
        auth_succeeded(r.user);
        return;
      }
      // RFC 4954 §4: a 235 carries no data, so final server data (SCRAM's v=) goes in a
      // last 334 that the client acknowledges with an empty line.
      output_ += "334 " + core::base64_encode(r.data) + "\r\n";
      auth_final_user_ = r.user;
      return;
    case status::failure:
      end_auth();
      auth_failed();
      return;
    case status::malformed:
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
