// USER/PASS (RFC 1939 §7) and AUTH (RFC 5034) over the SASL mechanisms of
// reference-server/sasl. PASS runs PLAIN, so both paths share one check of the password.
#include <algorithm>
#include <utility>

#include "reference-server/core/base64.hpp"
#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {
namespace {

// RFC 2595 §2 and RFC 3206 §4: the response code that says why a login cannot proceed.
constexpr std::string_view plaintext_refused_text =
    "[AUTH] Plaintext authentication disallowed on non-secure connections";
constexpr std::string_view auth_failed_text = "[AUTH] Authentication failed";

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_plaintext_mechanism(std::string_view name) {
  return name == "PLAIN" || name == "LOGIN";
}

}  // namespace

std::vector<std::string> session::impl::offered_mechanisms() const {
  const auto& implemented = sasl::supported_mechanisms();
  std::vector<std::string> out;
  for (const std::string& configured : opts.auth_mechanisms) {
    std::string name = upper(configured);
    if (std::find(implemented.begin(), implemented.end(), name) == implemented.end()) continue;
    if (is_plaintext_mechanism(name) && !plaintext_allowed()) continue;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
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
  std::string name = upper(cmd.args[0]);
  auto offered = s.offered_mechanisms();
  if (std::find(offered.begin(), offered.end(), name) == offered.end()) {
    s.client_error(is_plaintext_mechanism(name) && !s.plaintext_allowed()
                       ? plaintext_refused_text
                       : std::string_view("unsupported authentication mechanism"));
    return;
  }
  std::optional<std::string> initial;
  if (cmd.args.size() == 2) {
    // RFC 5034 §4: "=" is an empty initial response.
    initial =
        cmd.args[1] == "=" ? std::optional<std::string>("") : core::base64_decode(cmd.args[1]);
    if (!initial) {
      s.client_error("invalid base64 data");
      return;
    }
  }
  s.user_name.reset();
  s.begin_auth(name, std::move(initial), false);
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
  if (line == "*") {  // RFC 5034 §4: the client cancels; the server answers -ERR
    end_auth();
    client_error("authentication cancelled");
    return;
  }
  if (final_user) {  // the empty acknowledgement of the server's last data
    std::string user = *std::exchange(final_user, std::nullopt);
    if (line.empty() || line == "=") {
      auth_succeeded(user);
    } else {
      end_auth();
      client_error("malformed authentication response");
    }
    return;
  }
  std::optional<std::string> decoded =
      line == "=" ? std::optional<std::string>("") : core::base64_decode(line);
  if (!decoded) {
    end_auth();
    client_error("invalid base64 data");
    return;
  }
  job = std::make_unique<auth_job>(auth_job{false, std::move(decoded), std::nullopt});
}

void session::impl::auth_step(const sasl::step_result& r) {
  using status = sasl::step_result::status;
  if (auth_via_pass && r.state != status::success && r.state != status::failure) {
    // PLAIN answers PASS in one step; anything else (e.g. an over-long password that PLAIN
    // calls malformed) is a failed login, not a protocol error.
    end_auth();
    auth_failed();
    return;
  }
  switch (r.state) {
    case status::challenge:  // RFC 5034 §4: "+ " and base64
      self.output_ += "+ " + core::base64_encode(r.data) + "\r\n";
      return;
    case status::success:
      if (r.data.empty()) {
        auth_succeeded(r.user);
        return;
      }
      // RFC 5034 §4: "+OK" carries no SASL data, so final server data (SCRAM's v=) goes in
      // a last challenge that the client acknowledges with an empty line.
      self.output_ += "+ " + core::base64_encode(r.data) + "\r\n";
      final_user = r.user;
      return;
    case status::failure:
      end_auth();
      auth_failed();
      return;
    case status::malformed:
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
