// CAPABILITY, NOOP, CHECK (RFC 3501 §6.4.1), LOGOUT, STARTTLS, LOGIN, AUTHENTICATE
// (RFC 9051 §6.1-§6.2, RFC 4959 SASL-IR), ENABLE (RFC 5161) and ID (RFC 2971). LOGIN runs
// as PLAIN so that both paths share one password check over the SASL mechanisms of
// reference-server/sasl.
#include <algorithm>
#include <utility>

#include "reference-server/core/base64.hpp"
#include "reference-server/imap/response_format.hpp"
#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {
namespace {

constexpr std::string_view plaintext_refused_text =
    "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections";
constexpr std::string_view auth_failed_text = "[AUTHENTICATIONFAILED] Authentication failed";

bool is_plaintext_mechanism(std::string_view name) {
  return name == "PLAIN" || name == "LOGIN";
}

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

void session::impl::cmd_authenticate(impl& s, const command& cmd) {
  const auto& args = std::get<authenticate_args>(cmd.args);
  auto offered = s.offered_mechanisms();
  if (std::find(offered.begin(), offered.end(), args.mechanism) == offered.end()) {
    if (is_plaintext_mechanism(args.mechanism) && !s.plaintext_allowed()) {
      s.no(cmd, plaintext_refused_text);
    } else {
      s.no(cmd, "Unsupported authentication mechanism");
    }
    return;
  }
  std::optional<std::string> initial;
  if (args.initial_response) {
    // RFC 4959 §3: "=" is an empty initial response.
    initial = *args.initial_response == "=" ? std::optional<std::string>("")
                                            : core::base64_decode(*args.initial_response);
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
  if (line == "*") {  // RFC 9051 §6.2.2: the client cancels; the server answers BAD
    end_auth();
    bad(auth_tag, "AUTHENTICATE cancelled");
    return;
  }
  if (final_user) {  // the empty acknowledgement of the server's last data
    std::string user = *std::exchange(final_user, std::nullopt);
    if (line.empty()) {
      auth_succeeded(user);
    } else {
      end_auth();
      bad(auth_tag, "malformed authentication response");
    }
    return;
  }
  std::optional<std::string> decoded = core::base64_decode(line);
  if (!decoded) {
    end_auth();
    bad(auth_tag, "invalid base64 data");
    return;
  }
  job = std::make_unique<auth_job>(auth_job{false, std::move(decoded), std::nullopt});
}

void session::impl::auth_step(const sasl::step_result& r) {
  using status = sasl::step_result::status;
  if (auth_via_login && r.state != status::success && r.state != status::failure) {
    // PLAIN answers LOGIN in one step; anything else is a failed login.
    end_auth();
    auth_failed();
    return;
  }
  switch (r.state) {
    case status::challenge:
      self.output_ += "+ " + core::base64_encode(r.data) + "\r\n";
      return;
    case status::success:
      if (r.data.empty()) {
        auth_succeeded(r.user);
        return;
      }
      // Final server data (SCRAM's v=) goes in a last challenge the client acknowledges
      // with an empty line.
      self.output_ += "+ " + core::base64_encode(r.data) + "\r\n";
      final_user = r.user;
      return;
    case status::failure:
      end_auth();
      auth_failed();
      return;
    case status::malformed:
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
