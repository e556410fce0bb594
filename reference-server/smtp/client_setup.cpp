// The SMTP client session from the greeting to ready_for_transaction: EHLO with HELO
// fallback (RFC 5321 §3.2), STARTTLS (RFC 3207), AUTH (RFC 4954), and QUIT (§4.1.1.10).
#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/client.hpp"
#include "reference-server/smtp/client_session.hpp"

namespace mailsim::smtp {
namespace {

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
constexpr std::size_t command_line_octets_max = 512;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_2xx(const reply& r) {
  return r.code / 100 == 2;
}

void add_mechanisms(std::string_view list, std::vector<std::string>& out) {
  while (!list.empty()) {
    const std::size_t space = list.find(' ');
    const std::string name = upper(list.substr(0, space));
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
}

// RFC 1870 §3: "SIZE" with an optional number; 0, or no number, means no fixed limit known.
std::uint64_t parse_size(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() ? value : 0;
}

}  // namespace

server_capabilities parse_ehlo_reply(const reply& r) {
  using flag = bool server_capabilities::*;
  static constexpr std::array<std::pair<std::string_view, flag>, 9> flags = {{
      {"PIPELINING", &server_capabilities::pipelining},                      // RFC 2920
      {"SIZE", &server_capabilities::size},                                  // RFC 1870
      {"8BITMIME", &server_capabilities::eight_bit_mime},                    // RFC 6152
      {"SMTPUTF8", &server_capabilities::smtputf8},                          // RFC 6531
      {"CHUNKING", &server_capabilities::chunking},                          // RFC 3030
      {"BINARYMIME", &server_capabilities::binary_mime},                     // RFC 3030
      {"DSN", &server_capabilities::dsn},                                    // RFC 3461
      {"STARTTLS", &server_capabilities::starttls},                          // RFC 3207
      {"ENHANCEDSTATUSCODES", &server_capabilities::enhanced_status_codes},  // RFC 2034
  }};
  server_capabilities c;
  c.esmtp = true;
  // RFC 5321 §4.1.1.1: the first line greets; each further one is "keyword [params]".
  for (std::size_t i = 1; i < r.lines.size(); ++i) {
    const std::string_view line = r.lines[i];
    const std::size_t space = line.find(' ');
    const std::string keyword = upper(line.substr(0, space));
    const std::string_view params =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    for (const auto& [name, member] : flags) {
      if (name == keyword) c.*member = true;
    }
    if (keyword == "SIZE") c.size_max = parse_size(params);
    if (keyword == "AUTH") add_mechanisms(params, c.auth_mechanisms);  // RFC 4954 §3
    // Old servers still write "AUTH=MECH ..." (pre-RFC 4954 drafts); it means the same.
    if (keyword.rfind("AUTH=", 0) == 0) add_mechanisms(line.substr(5), c.auth_mechanisms);
  }
  return c;
}

void client_session::on_greeting(const reply& r, std::size_t) {
  if (r.code != 220) {
    // RFC 5321 §3.1: after a 554 greeting the server waits for QUIT before it closes.
    send_quit(close_reason::greeting_refused, "greeting refused: " + r.text(), r);
    return;
  }
  continue_setup();
}

// The single place that decides the next setup step, so that a quit() requested meanwhile,
// a TLS restart and the AUTH step are all taken in the same order.
void client_session::continue_setup() {
  if (quit_requested_) return send_quit(close_reason::quit, {}, {});
  if (!greeted_) {
    send_line("EHLO " + options_.helo_name);
    return await(expect::ehlo);
  }
  if (wants_starttls()) {
    send_line("STARTTLS");
    return await(expect::starttls);
  }
  if (!tls_ && options_.starttls == tls_policy::required) {
    return send_quit(close_reason::tls_required, "TLS required but not offered", {});
  }
  if (options_.credentials && !authenticated_) return start_auth();
  become_ready();
}

bool client_session::wants_starttls() const {
  return !tls_ && !tls_tried_ && options_.starttls != tls_policy::none && caps_.starttls;
}

void client_session::on_ehlo(const reply& r, std::size_t) {
  if (is_2xx(r)) {
    caps_ = parse_ehlo_reply(r);
    greeted_ = true;
    return continue_setup();
  }
  if (r.code / 100 == 5) {  // RFC 5321 §3.2: a server without EHLO answers 500/502/504/550
    send_line("HELO " + options_.helo_name);
    return await(expect::helo);
  }
  send_quit(close_reason::helo_refused, "EHLO refused: " + r.text(), r);
}

void client_session::on_helo(const reply& r, std::size_t) {
  if (!is_2xx(r)) return send_quit(close_reason::helo_refused, "HELO refused: " + r.text(), r);
  caps_ = {};  // HELO announces nothing: plain RFC 5321 without extensions
  greeted_ = true;
  continue_setup();
}

void client_session::on_starttls(const reply& r, std::size_t) {
  tls_tried_ = true;
  if (r.code == 220) {
    // Bytes already buffered after the 220 came in clear text before the handshake and may
    // have been injected by anyone on the path (the client side of CVE-2011-0411): drop them.
    parser_ = reply_parser(limits_.replies);
    phase_ = phase::tls_wait;
    push_event(client_event(client_event_kind::starttls));
    return;
  }
  if (options_.starttls == tls_policy::required) {
    return send_quit(close_reason::tls_required, "TLS required but STARTTLS refused: " + r.text(),
                     r);
  }
  continue_setup();  // opportunistic: the server could not do TLS now, go on in clear text
}

void client_session::tls_started() {
  if (phase_ != phase::tls_wait) return;
  // RFC 3207 §4.2: forget what the server said before TLS and greet it again.
  tls_ = true;
  greeted_ = false;
  caps_ = {};
  parser_ = reply_parser(limits_.replies);
  phase_ = phase::setup;
  continue_setup();
}

std::unique_ptr<sasl::client_mechanism> client_session::pick_mechanism(std::string& name) const {
  const client_credentials& cred = *options_.credentials;
  for (const std::string& wanted : options_.auth_mechanisms) {
    const std::string mech = upper(wanted);
    const auto& offered = caps_.auth_mechanisms;
    if (std::find(offered.begin(), offered.end(), mech) == offered.end()) continue;
    // PLAIN and LOGIN reveal the password to whoever reads the stream.
    const bool cleartext = mech == "PLAIN" || mech == "LOGIN";
    if (cleartext && !tls_ && !options_.cleartext_auth_without_tls) continue;
    auto m = sasl::make_client_mechanism(mech, cred.user, cred.password, *deps_.random);
    if (m) {
      name = mech;
      return m;
    }
  }
  return nullptr;
}

void client_session::start_auth() {
  std::string name;
  mechanism_ = pick_mechanism(name);
  if (!mechanism_) {
    return send_quit(
        close_reason::auth_unavailable,
        caps_.auth_mechanisms.empty() ? "AUTH not offered" : "no usable AUTH mechanism offered",
        {});
  }
  auth_cancelled_ = false;
  auth_done_ = false;
  std::string line = "AUTH " + name;
  if (auto initial = mechanism_->initial_response()) {
    // RFC 4954 §4: "=" stands for an empty initial response; one that would make the line
    // too long is left out, and the mechanism sends it after the server's empty challenge.
    const std::string arg = initial->empty() ? "=" : core::base64_encode(*initial);
    if (line.size() + 1 + arg.size() + 2 <= command_line_octets_max) line += " " + arg;
  }
  send_line(line);
  await(expect::auth);
}

void client_session::on_auth(const reply& r, std::size_t) {
  if (r.code == 334 && !auth_cancelled_) return auth_challenge(r);
  if (is_2xx(r) && !auth_cancelled_) {
    // sasl/client.hpp: a SCRAM server that says 235 without a valid v= proved nothing.
    if (!mechanism_->complete()) {
      return send_quit(close_reason::auth_failed,
                       "server claimed AUTH success without proving itself", r);
    }
    authenticated_ = true;
    mechanism_.reset();
    return continue_setup();
  }
  const std::string detail =
      auth_cancelled_ ? "AUTH cancelled: " + auth_error_ : "AUTH refused: " + r.text();
  mechanism_.reset();
  send_quit(close_reason::auth_failed, detail, r);
}

void client_session::auth_challenge(const reply& r) {
  if (auth_done_) return auth_cancel("challenge after the exchange was complete");
  if (r.lines.size() != 1) return auth_cancel("multi-line challenge");
  // RFC 4954 §4: "334 " and the challenge in base64.
  const std::optional<std::string> challenge = core::base64_decode(r.lines.front());
  if (!challenge) return auth_cancel("challenge is not base64");
  const sasl::client_step_result step = mechanism_->step(*challenge);
  switch (step.state) {
    case sasl::client_step_result::status::respond:
      send_line(core::base64_encode(step.data));
      return await(expect::auth);
    case sasl::client_step_result::status::done:
      // RFC 4954 §4: final server data (SCRAM's v=) came as a challenge; an empty line
      // acknowledges it and the 235 follows.
      auth_done_ = true;
      send_line("");
      return await(expect::auth);
    case sasl::client_step_result::status::error:
      return auth_cancel(step.reason);
  }
}

void client_session::auth_cancel(std::string reason) {
  // RFC 4954 §4: "*" cancels the exchange; the server answers 501.
  auth_cancelled_ = true;
  auth_error_ = std::move(reason);
  send_line("*");
  await(expect::auth);
}

void client_session::send_quit(close_reason reason, std::string detail, const reply& answer) {
  quit_reason_ = reason;
  quit_detail_ = std::move(detail);
  quit_answer_ = answer;
  mechanism_.reset();
  drop_ready_events();
  phase_ = phase::quitting;
  send_line("QUIT");  // RFC 5321 §4.1.1.10
  await(expect::quit);
}

// Whatever the server says to QUIT (221, or anything else), the session is over.
void client_session::on_quit(const reply&, std::size_t) {
  close(quit_reason_, quit_detail_, quit_answer_, false);
}

void client_session::become_ready() {
  phase_ = phase::ready;
  if (quit_requested_) return send_quit(close_reason::quit, {}, {});
  push_event(client_event(client_event_kind::ready_for_transaction));
}

bool client_session::quit() {
  if (phase_ == phase::closed) return false;
  if (phase_ == phase::quitting) return true;
  quit_requested_ = true;
  if (phase_ == phase::ready) send_quit(close_reason::quit, {}, {});
  return true;
}

}  // namespace mailsim::smtp
