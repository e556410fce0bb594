// CAPABILITY, NOOP, CHECK (RFC 3501 §6.4.1), LOGOUT, STARTTLS, LOGIN, AUTHENTICATE
// (RFC 9051 §6.1-§6.2, RFC 4959 SASL-IR), ENABLE (RFC 5161) and ID (RFC 2971). LOGIN runs
// as PLAIN so that both paths share one password check over the SASL mechanisms of
// reference-server/sasl.
#include <utility>

#include "reference-server/imap/response_format.hpp"
#include "reference-server/imap/session_impl.hpp"
#include "reference-server/sasl/exchange.hpp"

namespace mailsim::imap {
namespace {

constexpr std::string_view plaintext_refused_text =
    "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections";
constexpr std::string_view auth_failed_text = "[AUTHENTICATIONFAILED] Authentication failed";

}  // namespace

void session::impl::cmd_capability(impl& s, const command& cmd) {
  s.untagged("CAPABILITY " + s.capability_list());
  s.ok(cmd, "CAPABILITY completed");
}

void session::impl::cmd_noop(impl& s, const command& cmd) {
  s.ok(cmd, "NOOP completed");
}

// RFC 3501 §6.4.1: a checkpoint of the selected mailbox. Every change here is durable when
// its command completes, so CHECK has nothing left to do and answers like NOOP, updates
// included.
void session::impl::cmd_check(impl& s, const command& cmd) {
  s.ok(cmd, "CHECK completed");
}

void session::impl::cmd_logout(impl& s, const command& cmd) {
  s.untagged("BYE logging out");
  s.tagged(cmd.tag, "OK", "LOGOUT completed");
  s.finish();
}

void session::impl::cmd_starttls(impl& s, const command& cmd) {
  if (!s.opts.tls_available || s.tls) {
    s.bad(cmd.tag, s.tls ? "TLS is already active" : "TLS is not available");
    return;
  }
  s.tagged(cmd.tag, "OK", "Begin TLS negotiation now");
  s.reader.clear();
  s.tls_wait = true;
  s.starttls_due = true;
}

void session::impl::cmd_login(impl& s, const command& cmd) {
  if (!s.plaintext_allowed()) {
    s.no(cmd, plaintext_refused_text);
    return;
  }
  const auto& args = std::get<login_args>(cmd.args);
  std::string message;
  message += '\0';
  message += args.user;
  message += '\0';
  message += args.password;
  s.begin_auth(cmd.tag, "PLAIN", std::move(message), true);
}

std::vector<std::string> session::impl::offered_mechanisms() const {
  return sasl::offered_mechanisms(opts.auth_mechanisms, plaintext_allowed());
}

void session::impl::cmd_authenticate(impl& s, const command& cmd) {
  const auto& args = std::get<authenticate_args>(cmd.args);
  switch (sasl::check_offered(s.opts.auth_mechanisms, s.plaintext_allowed(), args.mechanism)) {
    case sasl::offer_status::offered:
      break;
    case sasl::offer_status::plaintext_refused:
      s.no(cmd, plaintext_refused_text);
      return;
    case sasl::offer_status::unsupported:
      s.no(cmd, "Unsupported authentication mechanism");
      return;
  }
  std::optional<std::string> initial;
  if (args.initial_response) {
    initial = sasl::decode_initial_response(*args.initial_response);
    if (!initial) {
      s.bad(cmd.tag, "invalid base64 data");
      return;
    }
  }
  s.begin_auth(cmd.tag, args.mechanism, std::move(initial), false);
}

void session::impl::begin_auth(const std::string& tag, std::string_view name,
                               std::optional<std::string> initial, bool via_login) {
  mechanism = sasl::make_server_mechanism(name, *dep.credentials, *dep.random);
  if (!mechanism) {
    tagged(tag, "NO", "Unsupported authentication mechanism");
    return;
  }
  auth_tag = tag;
  in_sasl = !via_login;
  auth_via_login = via_login;
  job = std::make_unique<auth_job>(auth_job{true, std::move(initial), std::nullopt});
}

void session::impl::auth_response(std::string_view line) {
  using kind = sasl::line_action::kind;
  sasl::line_action a = sasl::on_line(line, final_user);
  switch (a.what) {
    case kind::response:
      job = std::make_unique<auth_job>(auth_job{false, std::move(a.data), std::nullopt});
      return;
    case kind::acknowledged:
      auth_succeeded(a.data);
      return;
    case kind::cancel:  // RFC 9051 §6.2.2: the client cancels; the server answers BAD
      end_auth();
      bad(auth_tag, "AUTHENTICATE cancelled");
      return;
    case kind::not_acknowledged:
      end_auth();
      bad(auth_tag, "malformed authentication response");
      return;
    case kind::invalid_base64:
      end_auth();
      bad(auth_tag, "invalid base64 data");
      return;
  }
}

void session::impl::auth_step(const sasl::step_result& r) {
  using kind = sasl::step_action::kind;
  if (auth_via_login && r.state != sasl::step_result::status::success &&
      r.state != sasl::step_result::status::failure) {
    // PLAIN answers LOGIN in one step; anything else is a failed login.
    end_auth();
    auth_failed();
    return;
  }
  sasl::step_action a = sasl::on_step(r, final_user);
  switch (a.what) {
    case kind::challenge:
    case kind::final_data:  // RFC 9051 §6.2.2: "+ " and base64; the tagged OK carries none
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
      bad(auth_tag, "malformed authentication response");
      return;
  }
}

void session::impl::auth_succeeded(const std::string& user) {
  const std::string tag = auth_tag;
  end_auth();
  account = dep.backends->open(user);
  if (!account) {
    tagged(tag, "NO", "[UNAVAILABLE] unable to open the mailbox store");
    return;
  }
  self.user_ = user;
  st = state::authenticated;
  reader.set_limits(lim.reader);
  tagged(tag, "OK", "[CAPABILITY " + capability_list() + "] Logged in");
}

void session::impl::auth_failed() {
  ++self.stats_.auth_failures;
  if (lim.auth_failure_delay.count() > 0) {
    const auto failures = static_cast<core::duration_ms::rep>(self.stats_.auth_failures);
    hold.hold(self.output_.size(), dep.clock->now() + lim.auth_failure_delay * failures);
  }
  tagged(auth_tag, "NO", auth_failed_text);
  if (lim.auth_failures_max > 0 && self.stats_.auth_failures >= lim.auth_failures_max) {
    bye_and_close("too many authentication failures");
  }
}

void session::impl::end_auth() {
  mechanism.reset();
  final_user.reset();
  in_sasl = false;
  auth_via_login = false;
}

// RFC 5161: ENABLED lists what this command turned on; unknown names are ignored.
void session::impl::cmd_enable(impl& s, const command& cmd) {
  std::string enabled;
  auto turn_on = [&enabled](bool& flag, std::string_view name) {
    if (flag) return;
    flag = true;
    enabled += ' ';
    enabled += name;
  };
  for (const std::string& cap : std::get<enable_args>(cmd.args).capabilities) {
    if (cap == "IMAP4REV2") turn_on(s.rev2, "IMAP4rev2");
    if (cap == "CONDSTORE") turn_on(s.condstore, "CONDSTORE");
    if (cap == "QRESYNC") {
      turn_on(s.qresync, "QRESYNC");
      s.condstore = true;  // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE
    }
    if (cap == "UTF8=ACCEPT") turn_on(s.utf8, "UTF8=ACCEPT");
  }
  s.untagged("ENABLED" + enabled);
  s.ok(cmd, "ENABLE completed");
}

void session::impl::cmd_id(impl& s, const command& cmd) {
  s.untagged("ID (\"name\" \"mailsim\" \"vendor\" \"mailsim\")");
  s.ok(cmd, "ID completed");
}

}  // namespace mailsim::imap
