// USER/PASS (RFC 1939 §7) and AUTH (RFC 5034) over the SASL mechanisms of
// reference-server/sasl. PASS runs PLAIN, so both paths share one check of the password.
#include <utility>

#include "reference-server/pop3/session_impl.hpp"
#include "reference-server/sasl/exchange.hpp"

namespace mailsim::pop3 {
namespace {

// RFC 2595 §2 and RFC 3206 §4: the response code that says why a login cannot proceed.
constexpr std::string_view plaintext_refused_text =
    "[AUTH] Plaintext authentication disallowed on non-secure connections";
constexpr std::string_view auth_failed_text = "[AUTH] Authentication failed";

// RFC 5034 §4: "=" is an empty response, and so also acknowledges final server data.
constexpr sasl::line_rules pop3_lines{.equals_is_empty = true};

}  // namespace

std::vector<std::string> session::impl::offered_mechanisms() const {
  return sasl::offered_mechanisms(opts.auth_mechanisms, plaintext_allowed());
}

void session::impl::cmd_user(impl& s, const command_line& cmd) {
  if (!s.in_state(state::authorization)) return;
  if (!cmd.well_formed || cmd.args.size() != 1) {
    s.client_error(syntax_text);
  } else if (!s.plaintext_allowed()) {
    s.client_error(plaintext_refused_text);
  } else {
    s.user_name = std::string(cmd.args[0]);
    s.ok("send PASS");
  }
}

// The password is the rest of the line, spaces included: RFC 1939 §7 lets it hold them.
void session::impl::cmd_pass(impl& s, const command_line& cmd) {
  if (!s.in_state(state::authorization)) return;
  if (!s.plaintext_allowed()) {
    s.client_error(plaintext_refused_text);
  } else if (!s.user_name) {
    s.client_error("send USER first");
  } else if (cmd.rest.empty()) {
    s.client_error(syntax_text);
  } else {
    std::string message;
    message += '\0';
    message += *s.user_name;
    message += '\0';
    message += cmd.rest;
    s.user_name.reset();
    s.begin_auth("PLAIN", std::move(message), true);
  }
}

void session::impl::cmd_auth(impl& s, const command_line& cmd) {
  if (!s.in_state(state::authorization)) return;
  if (cmd.args.empty()) {
    // The list form that clients from before RFC 5034 send; CAPA SASL gives the same list.
    s.ok("list of SASL mechanisms follows");
    for (const std::string& name : s.offered_mechanisms()) s.self.output_ += name + "\r\n";
    s.self.output_ += ".\r\n";
    return;
  }
  if (!cmd.well_formed || cmd.args.size() > 2) {
    s.client_error(syntax_text);
    return;
  }
  switch (sasl::check_offered(s.opts.auth_mechanisms, s.plaintext_allowed(), cmd.args[0])) {
    case sasl::offer_status::offered:
      break;
    case sasl::offer_status::plaintext_refused:
      s.client_error(plaintext_refused_text);
      return;
    case sasl::offer_status::unsupported:
      s.client_error("unsupported authentication mechanism");
      return;
  }
  std::optional<std::string> initial;
  if (cmd.args.size() == 2) {
    initial = sasl::decode_initial_response(cmd.args[1]);
    if (!initial) {
      s.client_error("invalid base64 data");
      return;
    }
  }
  s.user_name.reset();
  s.begin_auth(cmd.args[0], std::move(initial), false);
}

void session::impl::begin_auth(std::string_view name, std::optional<std::string> initial,
                               bool via_pass) {
  mechanism = sasl::make_server_mechanism(name, *dep.credentials, *dep.random);
  if (!mechanism) {
    client_error("unsupported authentication mechanism");
    return;
  }
  st = state::sasl;
  auth_via_pass = via_pass;
  job = std::make_unique<auth_job>(auth_job{true, std::move(initial), std::nullopt});
}

void session::impl::auth_response(std::string_view line) {
  using kind = sasl::line_action::kind;
  sasl::line_action a = sasl::on_line(line, final_user, pop3_lines);
  switch (a.what) {
    case kind::response:
      job = std::make_unique<auth_job>(auth_job{false, std::move(a.data), std::nullopt});
      return;
    case kind::acknowledged:
      auth_succeeded(a.data);
      return;
    case kind::cancel:  // RFC 5034 §4: the client cancels; the server answers -ERR
      end_auth();
      client_error("authentication cancelled");
      return;
    case kind::not_acknowledged:
      end_auth();
      client_error("malformed authentication response");
      return;
    case kind::invalid_base64:
      end_auth();
      client_error("invalid base64 data");
      return;
  }
}

void session::impl::auth_step(const sasl::step_result& r) {
  using kind = sasl::step_action::kind;
  if (auth_via_pass && r.state != sasl::step_result::status::success &&
      r.state != sasl::step_result::status::failure) {
    // PLAIN answers PASS in one step; anything else (e.g. an over-long password that PLAIN
    // calls malformed) is a failed login, not a protocol error.
    end_auth();
    auth_failed();
    return;
  }
  sasl::step_action a = sasl::on_step(r, final_user);
  switch (a.what) {
    case kind::challenge:
    case kind::final_data:  // RFC 5034 §4: "+ " and base64; "+OK" carries no SASL data
      self.output_ += "+ " + a.data + "\r\n";
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
      client_error("malformed authentication response");
      return;
  }
}

// The maildrop opens right after authentication (RFC 1939 §7): a lock held by another
// session or a store failure keeps the client in AUTHORIZATION, where it may try again.
void session::impl::auth_succeeded(const std::string& user) {
  end_auth();
  open_result opened = dep.maildrops->open(user);
  if (opened.status == open_status::in_use) {
    err("[IN-USE] maildrop is locked by another session");
    return;
  }
  if (opened.status != open_status::ok || !opened.drop) {
    err("[SYS/TEMP] unable to open the maildrop");
    return;
  }
  drop = std::move(opened.drop);
  deleted.assign(drop->messages().size(), false);
  self.user_ = user;
  st = state::transaction;
  ok("maildrop has " + std::to_string(live_count()) + " messages (" + std::to_string(live_bytes()) +
     " octets)");
}

void session::impl::auth_failed() {
  ++self.stats_.auth_failures;
  if (lim.auth_failure_delay.count() > 0) {
    const auto failures = static_cast<core::duration_ms::rep>(self.stats_.auth_failures);
    hold.hold(self.output_.size(), dep.clock->now() + lim.auth_failure_delay * failures);
  }
  if (lim.auth_failures_max > 0 && self.stats_.auth_failures >= lim.auth_failures_max) {
    close_with(auth_failed_text);
    return;
  }
  err(auth_failed_text);
}

void session::impl::end_auth() {
  mechanism.reset();
  final_user.reset();
  auth_via_pass = false;
  if (st == state::sasl) st = state::authorization;
}

}  // namespace mailsim::pop3
