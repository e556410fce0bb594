// mailsim::sim::world spec — the typed model of a simulated world: receivers (providers with
// domains, MX hosts, mailbox populations and behaviours), DNSBL operators, senders, the
// workload and the faults. Plain data with defaults; no behaviour.
//
// Contract: simulator/scenario fills it from YAML (every field has a documented key, see
// docs/scenarios.md); simulator/world builds and runs a world from it. A field left at its
// "unset" value (std::nullopt, empty) takes the provider profile's default
// (profiles.hpp); a set field overrides the profile. Times are virtual durations; ratios are
// fractions in [0, 1] (the YAML's "2%" is 0.02).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/core/clock.hpp"

namespace mailsim::sim::world {

using core::duration_ms;

// Where a spec value came from, for error messages after loading ("scenario.yaml:12:5").
struct source_ref {
  std::string file;
  std::size_t line = 0;    // 1-based; 0: unknown
  std::size_t column = 0;  // 1-based
};

// A count given either as a number or as a fraction of the valid mailboxes ("2%").
struct amount {
  std::size_t count = 0;
  std::optional<double> fraction;  // when set, count = round(fraction × valid)
  std::size_t resolve(std::size_t valid) const;
};

// The mailbox population of each of a provider's domains. Addresses are generated
// deterministically (see population.hpp); each has one state.
struct mailbox_spec {
  std::size_t valid = 100;  // accept mail
  amount unknown;           // 550 5.1.1 at RCPT
  amount disabled;          // 550 5.2.1 at RCPT
  amount full;              // 452 4.2.2 at RCPT (552 5.2.2 when full_permanent)
  bool full_permanent = false;
  amount bounce_later;      // accepted, then a DSN comes back (accept-then-bounce)
  bool catch_all = false;   // any other local part is accepted as valid
  // Role mailboxes (RFC 2142) at every domain, accepted like valid ones: postmaster is
  // required by RFC 5321 §4.5.1, abuse by RFC 2142 §2; lists add info, sales, support ...
  std::vector<std::string> roles{"postmaster", "abuse"};
  std::size_t pristine_traps = 0;  // never a real user: accept silently, record a trap hit
  std::size_t recycled_traps = 0;  // 550 5.1.1 during the cooling period, then trap accept
  duration_ms recycled_cooling{0}; // from the start of the run
  // A typo-domain trap (gmial.sim): every address at the provider's domains is a pristine
  // trap, and no address is generated (the counts above are ignored).
  bool trap_domain = false;
};

// Rate window: at most `max` events per `window`, counted per key.
struct rate_spec {
  std::size_t max = 0;  // 0: no limit
  duration_ms window{3600'000};
};

struct greylist_spec {
  bool enabled = false;
  duration_ms delay{300'000};        // retries before this are refused again (451 4.7.1)
  duration_ms retry_window{4 * 3600'000LL};  // a triplet not retried within this is forgotten
  duration_ms pass_lifetime{36LL * 24 * 3600'000};  // auto-whitelist lifetime
  enum class key_kind { ip, net24 } key = key_kind::ip;  // the client part of the triplet
};

// Deferral when a sender keeps hammering: `deferrals_before_reject` 4xx replies inside the
// window turn into 5xx (0: never escalate).
struct throttle_spec {
  rate_spec per_ip;       // messages per sending IP
  rate_spec per_net24;    // messages per sending /24
  rate_spec per_domain;   // messages per sender (MAIL FROM) domain
  rate_spec per_recipient;  // messages per recipient mailbox
  std::size_t deferrals_before_reject = 0;
  std::optional<std::string> defer_reply;   // "421 4.7.28 ..." (profile text when unset)
  std::optional<std::string> reject_reply;  // "550 5.7.1 ..."
};

struct auth_requirements {
  bool spf_pass = false;    // refuse mail whose SPF result is not pass (550 5.7.23-style)
  bool dkim_pass = false;   // refuse unsigned or failing mail (550 5.7.30-style)
  bool dmarc_enforce = false;  // apply the sender's DMARC policy (reject → 550 5.7.26)
  bool ptr_required = false;   // refuse clients without forward-confirmed reverse DNS
};

// One MX host of a provider. Unset address: generated in the provider's address block.
struct mx_spec {
  std::string name;  // mx1.<first domain> when empty
  std::uint16_t preference = 10;
  std::string address;
};

struct provider_spec {
  std::string name;     // defaults to the profile name, then "provider-N"
  std::string profile = "postfix-default";
  std::vector<std::string> domains;
  std::vector<mx_spec> mx;  // empty: one MX host per the profile (mx1.<domain>)
  mailbox_spec mailboxes;
  // Overrides of the profile (unset: profile default).
  std::optional<greylist_spec> greylist;
  std::optional<throttle_spec> throttle;
  std::optional<std::size_t> messages_per_connection;  // then 421 and close (0: no limit)
  std::optional<bool> silent_close;                     // close without a reply instead
  std::optional<std::size_t> connections_per_ip;        // more: 421 at connect
  std::optional<std::size_t> recipients_per_message;    // more: 452 4.5.3
  std::optional<duration_ms> tarpit;                    // delay before each reply
  std::optional<std::size_t> errors_max;                // protocol errors before 421 + close
  std::optional<auth_requirements> require;
  std::vector<std::string> dnsbls;  // zones consulted: IP lists at connect, domain lists at MAIL
  std::optional<double> junk_threshold;                 // content score ≥ this → Junk
  std::optional<double> reject_threshold;               // content score ≥ this → 550 5.7.1
  std::optional<double> complaint_rate;                 // P(user marks an INBOX message as spam)
  source_ref where;
};

// A DNSBL operator: owns `zone` in the world DNS and lists sending IPs (kind ip, like
// Spamhaus ZEN) or sender (MAIL FROM) domains (kind domain, like Spamhaus DBL) by rule.
struct dnsbl_spec {
  enum class subject_kind { ip, domain };
  std::string zone;
  subject_kind kind = subject_kind::ip;
  std::string style = "spamhaus";   // spamhaus: 127.0.0.2 (SBL) for trap listings; generic: 127.0.0.2
  std::size_t trap_hits = 3;        // list when a subject reaches this many trap hits ...
  duration_ms window{24 * 3600'000LL};  // ... inside this window
  std::size_t complaints = 0;       // or this many complaints in the window (0: off)
  duration_ms expire_after{48 * 3600'000LL};  // delisted this long after the last hit
  std::vector<std::string> listed;  // subjects (IPs or domains, by kind) listed from the start
  source_ref where;
};

struct dkim_spec {
  std::string selector = "s1";
  std::string algorithm = "ed25519-sha256";  // or rsa-sha256
};

struct retry_spec {
  std::string profile = "postfix";  // postfix, exim, fixed, list
  duration_ms interval{900'000};    // fixed
  std::vector<duration_ms> offsets; // list
  std::optional<duration_ms> lifetime;
};

struct warmup_spec {
  std::size_t start_per_day = 0;    // the sender's own cap on day 1
  double growth_per_day = 1.0;      // multiplied each day
};

struct sender_spec {
  std::string name;
  std::string domain;
  std::vector<std::string> ips;
  std::string helo;  // EHLO name; mail.<domain> when empty
  std::optional<dkim_spec> dkim;
  std::optional<std::string> spf;    // TXT at the domain; "v=spf1 ip4:<ips> -all" when unset
  std::optional<std::string> dmarc;  // TXT at _dmarc.<domain>; none when unset
  bool ptr = true;                   // PTR records for the IPs (forward-confirmed)
  retry_spec retry;
  std::optional<warmup_spec> warmup;
  std::size_t connections_max = 20;        // per destination domain
  std::size_t messages_per_connection = 100;
  source_ref where;
};

struct volume_spec {
  std::size_t total = 0;         // messages, spread evenly over `over` ...
  duration_ms over{3600'000};
  std::size_t per_day = 0;       // ... or this many a day until the run ends (or `days`)
  std::string shape = "flat";    // flat or business-hours (09–17 UTC, weekdays)
  duration_ms start{0};          // offset from the run's start
};

struct recipient_spec {
  std::vector<std::string> from_world;  // "all", provider names or domains; empty: all
  double invalid = 0;       // extra recipients that do not exist at valid domains
  double typo_domains = 0;  // recipients at typo domains (gmial.sim: NXDOMAIN or trap domain)
  double role = 0;          // recipients at the chosen domains' role mailboxes (postmaster@...)
  bool include_traps = true;  // the world's trap addresses are on the list
  std::size_t per_message = 1;
};

struct message_spec {
  std::string template_path;  // an .eml or .eml.j2 (rendered before the run); empty: built in
  std::string text;           // the rendered message (filled by the loader or pyapi)
  std::size_t size_bytes = 1024;   // built-in message size
  double spam_score = 1.0;    // content score the receivers' filters see
};

struct workload_spec {
  std::string from;  // reverse path; its domain names the sender
  volume_spec volume;
  recipient_spec recipients;
  message_spec message;
  source_ref where;
};

struct fault_spec {
  enum class kind { dns, host_down, network } what = kind::dns;
  duration_ms at{0};
  duration_ms length{3600'000};  // the YAML's `for`
  // dns
  std::string name;              // a DNS name (and its subtree)
  std::string answer = "servfail";  // servfail, timeout, nxdomain
  // host_down / network: an MX host name, an address or a provider's domain
  std::string target;
  std::string effect = "refuse";  // refuse, blackhole, stall, reset, loss
  double loss = 0;
  source_ref where;
};

struct world_spec {
  std::vector<provider_spec> providers;
  std::vector<dnsbl_spec> dnsbls;
  std::vector<sender_spec> senders;
  std::vector<workload_spec> workload;
  std::vector<fault_spec> faults;
  duration_ms latency{20};  // one-way link latency
};

}  // namespace mailsim::sim::world
