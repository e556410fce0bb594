// mailsim::sim::world profiles — the behaviour of a simulated receiving provider, in full:
// a named profile (gmail-like, yahoo-like, outlook-like, postfix-default, strict-greylist)
// gives every setting, and a provider_spec's set fields override it.
//
// Contract: resolve_profile() is pure: the same spec always gives the same settings. An
// unknown profile name is std::invalid_argument whose message names the known ones. Each
// profile's values cite their source (receiver-behaviour.md section) beside them in
// profiles.cpp; docs/receiver-profiles.md lists them. Reply texts are templates
// "ddd x.y.z text": a three-digit code, an optional RFC 3463 enhanced code, and text in
// which {ip}, {rcpt}, {domain}, {zone} and {id} are replaced by expand_reply().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/smtp/reply.hpp"
#include "simulator/world/reputation.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

// Every reply a provider gives for its own decisions (the SMTP session answers protocol
// errors itself).
struct provider_replies {
  std::string greeting = "ESMTP";       // after the host name in the 220
  std::string accepted;                 // 250 at the end of DATA
  std::string unknown;                  // RCPT: no such user
  std::string disabled;                 // RCPT: account disabled
  std::string full;                     // RCPT: mailbox full (temporary)
  std::string full_permanent;           // RCPT: mailbox full (permanent)
  std::string relay_denied;             // RCPT: not our domain
  std::string too_many_recipients;      // RCPT past recipients_per_message
  std::string greylisted;               // RCPT: first sight of a triplet
  std::string too_many_connections;     // connect past connections_per_ip
  std::string too_many_messages;        // MAIL past messages_per_connection
  std::string dnsbl;                    // connect: the client is listed in {zone}
  std::string content_rejected;         // DATA: content score at reject_threshold
  std::string reputation_deferred;      // MAIL: over today's cap
  std::string reputation_rejected;      // MAIL: reputation too low
  std::string recipient_rate;           // RCPT: per_recipient window full (temporary)
  std::string recipient_rate_rejected;  // RCPT: the same after escalation
  std::string ptr_missing;              // connect: require.ptr_required, no FCrDNS
  std::string ptr_temporary;            // connect: the same, DNS failed
  std::string dkim_failed;              // DATA: require.dkim_pass, no passing signature
  std::string dmarc_rejected;           // DATA: dmarc_enforce, DMARC fail under p=reject
  std::string dmarc_temporary;          // DATA: dmarc_enforce, DMARC temperror
  std::string spf_failed;               // MAIL: require.spf_pass and SPF did not pass
  std::string spf_temporary;            // MAIL: require.spf_pass and SPF temperror
};

struct resolved_provider {
  std::string profile;
  provider_replies replies;
  greylist_spec greylist;
  unsigned greylist_auto_whitelist_after = 0;  // passes before a client skips greylisting
  throttle_spec throttle;                      // defer_reply and reject_reply always set
  std::size_t messages_per_connection = 0;     // 0: no limit
  bool silent_close = false;
  std::size_t connections_per_ip = 0;  // 0: no limit
  std::size_t recipients_per_message = 1000;
  duration_ms tarpit{0};
  std::size_t errors_max = 20;
  auth_requirements require;
  std::vector<std::string> dnsbls;
  double junk_threshold = 5.0;
  double reject_threshold = 15.0;
  // P(a user marks a wanted message as spam). Gmail asks senders to stay under 0.1 % and
  // never reach 0.3 % (receiver-behaviour.md §1.1): those are lines for poor senders, so a
  // wanted message draws a tenth of the hard line (a choice).
  double complaint_rate = 0.0003;
  bool reputation_enabled = false;  // a reputation_book is kept and asked
  reputation_settings reputation;
  duration_ms bounce_later_delay{10 * 60'000};  // accept, then the DSN this much later
  duration_ms complaint_delay{60 * 60'000};     // placement → the user's complaint
};

// The known profile names, in a fixed order.
const std::vector<std::string>& profile_names();

// The profile spec.profile with spec's overrides applied.
resolved_provider resolve_profile(const provider_spec& spec);

struct reply_vars {
  std::string_view ip{};
  std::string_view rcpt{};
  std::string_view domain{};
  std::string_view zone{};
  std::string_view id{};  // the message's queue id in the 250
};

// The template as an smtp::reply; a template that does not start with a 2xx-5xx code gives
// 451 4.3.0 with the template as its text (profiles_test checks every shipped template).
smtp::reply expand_reply(std::string_view templ, const reply_vars& vars = {});
// "421 4.7.28": the code and enhanced code of a template or reply, for counters.
std::string reply_key(const smtp::reply& r);
// reply_key(expand_reply(templ)) without building the reply: a receiver counts every 4xx and
// 5xx line it sends by its key.
std::string template_key(std::string_view templ);

}  // namespace mailsim::sim::world
