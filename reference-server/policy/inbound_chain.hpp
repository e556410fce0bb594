// mailsim::policy inbound chain — the receiving-side checks of an MX, each at its SMTP stage:
//
//   connect  rate windows (connections per IP and per /24) → 421 4.7.0 and close; the DNSBL
//            and DNSWL lookups start here, in the background
//   MAIL     rate windows (messages); SPF of the MAIL FROM identity (and of HELO, RFC 7208
//            §2.3) → 550 5.7.23 on fail, 550 5.7.24 on permerror, 451 4.7.24 on temperror,
//            each as configured (RFC 7372 codes)
//   RCPT     a DNSBL listing → 554 5.7.1 naming the list (Postfix reject_rbl_client acts
//            here too, so that the log has sender and recipient); greylisting → 450 4.2.0;
//            rate windows (recipients)
//   DATA     DKIM, ARC, then DMARC → 550 5.7.26 for p=reject (451 4.7.26 on DNS temperror),
//            quarantine → Junk; the spam score → Junk or 550 5.7.1; and the
//            Authentication-Results field (RFC 8601) the message is stored with
//
// Contract: L2 — the resolver, the clock and the random source are passed in; no I/O. One
// inbound_state per server (greylist table, rate windows, DMARC report counters, the
// verifiers with their caches of public keys and parsed SPF records), one inbound_session
// per SMTP connection. Each stage returns its verdict at once,
// or nullopt and later calls `done` exactly once — never from inside the call, and never
// after the session was destroyed (pending lookups are detached then). One stage at a time
// per session. Not thread-safe: every session of one state on one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/dmarc.hpp"
#include "reference-server/auth/public_suffix.hpp"
#include "reference-server/auth/spf.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/core/resolver.hpp"
#include "reference-server/policy/dnsbl.hpp"
#include "reference-server/policy/greylist.hpp"
#include "reference-server/policy/rate_limit.hpp"
#include "reference-server/policy/spam_score.hpp"
#include "reference-server/smtp/reply.hpp"

namespace mailsim::policy {

// What a check does with a result it dislikes.
enum class check_action { accept, junk, reject, defer };

struct spf_settings {
  bool enabled = true;
  bool check_helo = true;                        // RFC 7208 §2.3: also check the HELO name
  check_action on_fail = check_action::reject;   // 550 5.7.23 (RFC 7372 §3.2)
  check_action on_softfail = check_action::accept;
  check_action on_permerror = check_action::accept;  // reject: 550 5.7.24
  check_action on_temperror = check_action::accept;  // defer: 451 4.7.24
  auth::spf_options options;
};

struct dmarc_settings {
  bool enabled = true;
  bool enforce = true;  // p=reject → 550 5.7.26, p=quarantine → Junk; false: report only
  check_action on_temperror = check_action::defer;  // 451 4.7.26
  auth::dmarc_options options;
  std::size_t report_rows_max = 10'000;  // aggregate-report counters kept
};

// One DNSBL or DNSWL and what a listing does: reject at RCPT (554 5.7.1) or only score.
struct dnsbl_rule {
  dnsbl_list list;
  check_action on_listed = check_action::reject;
};

struct inbound_settings {
  std::string authserv_id;  // RFC 8601 §2.5; the server's host name by default
  spf_settings spf;
  bool dkim = true;
  auth::verify_options dkim_options;
  bool arc = true;
  auth::arc_verify_options arc_options;
  dmarc_settings dmarc;
  std::vector<dnsbl_rule> dnsbl;  // block lists and allow lists (dnsbl_list::allow_list)
  dnsbl_limits dnsbl_bounds;
  bool greylisting = false;
  greylist_options greylist;
  rate_options rate;  // no rules: no limits (Postfix's anvil limits are off by default)
  spam_options spam;
  std::string junk_folder = "Junk";
};

// A stage's answer: accept (no reply), or the reply to give (4xx/5xx), and whether to close.
struct stage_verdict {
  std::optional<smtp::reply> reply;
  bool disconnect = false;
  bool accepted() const { return !reply.has_value(); }
};

// The end-of-DATA answer: refused (reply), or accepted into `folder` ("" = inbox) with
// `header` (Authentication-Results and X-Spam-Status fields, CRLF-ended) to prepend; when
// forged Authentication-Results fields in our name were removed (RFC 8601 §5), `rewritten`
// holds the message to store instead of the one received.
struct message_verdict {
  std::optional<smtp::reply> reply;
  std::string folder;
  std::string header;
  std::optional<std::string> rewritten;
  std::vector<std::string> notes;  // one line per check, for the event log
};

class inbound_state {
 public:
  // nullptr with `error` when the settings cannot work (a spam rule that does not compile).
  static std::unique_ptr<inbound_state> create(
      inbound_settings settings, std::shared_ptr<const auth::public_suffix_list> psl,
      core::resolver& resolver, const core::clock& clock, core::random_source& random,
      std::string& error);

  const inbound_settings& settings() const { return settings_; }
  greylist& greylisting() { return greylist_; }
  rate_limiter& rates() { return rates_; }
  auth::dmarc_report_counters& dmarc_reports() { return dmarc_reports_; }

 private:
  friend class inbound_session;
  inbound_state(inbound_settings settings, std::shared_ptr<const auth::public_suffix_list> psl,
                core::resolver& resolver, const core::clock& clock, core::random_source& random,
                spam_scorer scorer);

  inbound_settings settings_;
  std::shared_ptr<const auth::public_suffix_list> psl_;
  core::resolver& resolver_;
  const core::clock& clock_;
  core::random_source& random_;
  greylist greylist_;
  rate_limiter rates_;
  auth::dmarc_report_counters dmarc_reports_;
  spam_scorer scorer_;
  // Shared by every session: the verifiers keep a cache of public keys.
  auth::spf_checker spf_;
  auth::dkim_verifier dkim_;
  auth::arc_verifier arc_;
  auth::dmarc_checker dmarc_;
  dnsbl_checker dnsbl_;
};

class inbound_session {
 public:
  using stage_fn = std::function<void(stage_verdict)>;
  using message_fn = std::function<void(message_verdict)>;

  inbound_session(inbound_state& state, core::ip_address client);
  ~inbound_session();
  inbound_session(const inbound_session&) = delete;
  inbound_session& operator=(const inbound_session&) = delete;

  [[nodiscard]] std::optional<stage_verdict> on_connect();
  void on_helo(std::string_view name);
  [[nodiscard]] std::optional<stage_verdict> on_mail(std::string_view sender, stage_fn done);
  [[nodiscard]] std::optional<stage_verdict> on_rcpt(std::string_view recipient, stage_fn done);
  [[nodiscard]] std::optional<message_verdict> on_message(std::string_view message,
                                                          message_fn done);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;  // shared with pending callbacks, which check it is alive
};

}  // namespace mailsim::policy
