#include "simulator/world/profiles.hpp"

#include <map>
#include <stdexcept>

namespace mailsim::sim::world {

namespace {

constexpr duration_ms minutes(long long m) {
  return duration_ms{m * 60'000};
}
constexpr duration_ms hours(long long h) {
  return duration_ms{h * 3'600'000};
}
constexpr duration_ms days(long long d) {
  return duration_ms{d * 86'400'000};
}

// Postfix as installed: every anvil rate limit off, 1000 recipients per message,
// smtpd_hard_error_limit 20 (receiver-behaviour.md §1.7, §8); no greylisting, no reputation
// (a plain Postfix has none); reject_rbl_client's reply shape (§1.5, policy/dnsbl.hpp).
resolved_provider postfix_default() {
  resolved_provider p;
  p.profile = "postfix-default";
  auto& r = p.replies;
  r.greeting = "ESMTP Postfix";
  r.accepted = "250 2.0.0 Ok: queued as {id}";
  r.unknown =
      "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table";
  r.disabled = "550 5.2.1 <{rcpt}>: Recipient address rejected: Mailbox disabled";
  r.full = "452 4.2.2 <{rcpt}>: Recipient address rejected: Mailbox full";
  r.full_permanent = "552 5.2.2 <{rcpt}>: Recipient address rejected: Mailbox full";
  r.relay_denied = "550 5.7.1 <{rcpt}>: Relay access denied";
  r.too_many_recipients = "452 4.5.3 Error: too many recipients";
  // §1.6: Barracuda/rspamd form; postgrey's own is 450 4.2.0 (task asks for 451 4.7.1).
  r.greylisted = "451 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, try again later";
  // §8: Postfix anvil answers 421 4.7.0 for connection counts.
  r.too_many_connections = "421 4.7.0 Error: too many connections from {ip}";
  r.too_many_messages = "421 4.7.0 Error: too many messages in one connection";
  r.dnsbl = "554 5.7.1 Service unavailable; Client host [{ip}] blocked using {zone}";
  r.content_rejected = "550 5.7.1 Message content rejected as spam";
  r.reputation_deferred = "421 4.7.0 Error: too much mail from {ip}, try again later";
  r.reputation_rejected = "550 5.7.1 Service unavailable; client [{ip}] has a poor reputation";
  // RFC 3463 §3.3: 4.2.1 "mailbox disabled, not accepting messages" is what Gmail uses
  // for a recipient that receives too fast (receiver-behaviour.md §1.1, §8).
  r.recipient_rate = "450 4.2.1 <{rcpt}>: Recipient is receiving mail too quickly";
  r.recipient_rate_rejected = "550 5.2.1 <{rcpt}>: Recipient is receiving mail too quickly";
  // RFC 7372 §3.1: 5.7.20 "No passing DKIM signature found"; §1.1's DMARC text.
  r.dkim_failed = "550 5.7.20 No passing DKIM signature found";
  r.dmarc_rejected =
      "550 5.7.1 Unauthenticated email from {domain} is not accepted due to domain's DMARC policy";
  r.dmarc_temporary = "451 4.7.1 DMARC temporary error for {domain}, try again later";
  // RFC 7372 §3.3: 5.7.25 "reverse DNS validation failed" (Postfix reject_unknown_client_hostname).
  r.ptr_missing = "550 5.7.25 Client host rejected: cannot find your hostname, [{ip}]";
  r.ptr_temporary = "450 4.7.25 Client host rejected: cannot find your hostname, [{ip}]";
  // RFC 7372 §3.2: 5.7.23 "SPF validation failed"; 4.7.24 for a temporary error.
  r.spf_failed = "550 5.7.23 <{domain}>: SPF validation failed for client [{ip}]";
  r.spf_temporary = "451 4.7.24 <{domain}>: SPF temporary error for client [{ip}]";
  p.throttle.defer_reply = "450 4.7.1 Error: too much mail from {ip}";  // policy/rate_limit.hpp
  p.throttle.reject_reply = "550 5.7.1 Error: too much mail from {ip}";
  p.recipients_per_message = 1000;  // smtpd_recipient_limit (§8)
  p.errors_max = 20;                // smtpd_hard_error_limit (§1.7)
  p.greylist.enabled = false;
  p.reputation_enabled = false;
  // SpamAssassin's required_score 5.0 files as Junk (project choice, policy/dnsbl.hpp);
  // rejecting at three times that is a project choice too.
  p.junk_threshold = 5.0;
  p.reject_threshold = 15.0;
  return p;
}

// Gmail (receiver-behaviour.md §1.1).
resolved_provider gmail_like() {
  resolved_provider p = postfix_default();
  p.profile = "gmail-like";
  auto& r = p.replies;
  r.greeting = "ESMTP - gsmtp";  // §1.1: every Gmail reply ends in "- gsmtp"
  r.accepted = "250 2.0.0 OK {id} - gsmtp";
  // §1.1 error table.
  r.unknown = "550 5.1.1 The email account that you tried to reach does not exist. - gsmtp";
  r.disabled = "550 5.2.1 The email account that you tried to reach is inactive. - gsmtp";
  r.full = "452 4.2.2 The recipient's inbox is out of storage space. - gsmtp";
  r.full_permanent =
      "552 5.2.2 The recipient's inbox is out of storage space and inactive. - gsmtp";
  r.relay_denied = "550 5.7.1 Relaying denied. - gsmtp";
  r.too_many_recipients = "452 4.5.3 Your message has too many recipients. - gsmtp";
  r.greylisted = "451 4.7.1 Try again later. - gsmtp";
  r.too_many_connections = "421 4.7.0 Try again later, closing connection. - gsmtp";
  r.too_many_messages = "421 4.7.0 Try again later, closing connection. - gsmtp";
  r.dnsbl =
      "550 5.7.1 [{ip}] The IP you're using to send mail is not authorized, listed in {zone}. - "
      "gsmtp";
  r.content_rejected =
      "550 5.7.1 Our system has detected that this message is likely unsolicited mail. - gsmtp";
  // §1.1: quota exceeded → 421 4.7.28, its permanent sibling 550 5.7.28.
  r.reputation_deferred =
      "421 4.7.28 [{ip}] Our system has detected an unusual rate of unsolicited mail originating "
      "from your IP address. - gsmtp";
  r.reputation_rejected =
      "550 5.7.1 [{ip}] Our system has detected that this message is likely suspicious due to "
      "the very low reputation of the sending IP address. - gsmtp";
  // §1.1: 550 5.7.30 DKIM did not pass; 550 5.7.26 DMARC; 451 4.7.26 on DNS failures.
  r.dkim_failed = "550 5.7.30 DKIM checks did not pass for this message. - gsmtp";
  r.dmarc_rejected =
      "550 5.7.26 Unauthenticated email from {domain} is not accepted due to domain's DMARC "
      "policy. - gsmtp";
  r.dmarc_temporary =
      "451 4.7.26 Unauthenticated email from {domain} is not accepted due to domain's DMARC "
      "policy, but temporary DNS failures prevent authentication. - gsmtp";
  // §1.1: 550 5.7.25 no PTR (permanent), 451 4.7.23 (temporary).
  r.ptr_missing =
      "550 5.7.25 The IP address sending this message does not have a PTR record setup, or the "
      "corresponding forward DNS entry does not point to the sending IP. - gsmtp";
  r.ptr_temporary =
      "451 4.7.23 The sending IP [{ip}] does not have a PTR record that resolves back to it; "
      "try again later. - gsmtp";
  // §1.1: 550 5.7.27 SPF did not pass; 451 4.7.26 when DNS failures prevent authentication.
  r.spf_failed = "550 5.7.27 The SPF check for [{domain}] did not pass with ip: [{ip}]. - gsmtp";
  r.spf_temporary =
      "451 4.7.26 Temporary DNS failures prevent authentication of [{domain}]. - gsmtp";
  p.throttle.defer_reply = r.reputation_deferred;
  p.throttle.reject_reply =
      "550 5.7.28 [{ip}] Our system has detected an unusual rate of unsolicited mail originating "
      "from your IP address; email sent from your IP address has been blocked. - gsmtp";
  // §1.1: per-recipient receiving limit 60/min, answered 450 4.2.1 (550 5.2.1 permanent).
  r.recipient_rate =
      "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please "
      "resend your message at a later time. - gsmtp";
  r.recipient_rate_rejected =
      "550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents "
      "additional messages from being delivered. - gsmtp";
  p.throttle.per_recipient = {60, minutes(1)};
  p.recipients_per_message = 100;  // 452 4.5.3 (§1.1); the count is a project choice
  p.reputation_enabled = true;
  p.reputation.complaint_rate_bad = 0.003;  // §1.1: never reach 0.30 %
  p.reputation.history_days = 30;           // §8: reputation memory ~30 days
  p.reputation.new_ip_daily_cap = 0;        // Gmail publishes none (§1.1)
  return p;
}

// Yahoo / AOL (receiver-behaviour.md §1.2).
resolved_provider yahoo_like() {
  resolved_provider p = postfix_default();
  p.profile = "yahoo-like";
  auto& r = p.replies;
  r.greeting = "ESMTP ready";
  r.accepted = "250 2.0.0 ok dirdel";
  // §1.2: Yahoo answers unknown and disabled users with 554.
  r.unknown =
      "554 5.1.1 delivery error: dd This user doesn't have a {domain} account ({rcpt}) [-9]";
  r.disabled = "554 5.2.1 delivery error: dd This mailbox is disabled ({rcpt}) (554.30)";
  r.full = "452 4.2.2 Mailbox full, try again later";
  r.full_permanent = "552 5.2.2 Mailbox full";
  r.relay_denied = "550 5.7.1 relaying denied for <{rcpt}>";
  r.too_many_recipients = "452 4.5.3 too many recipients";
  r.greylisted = "451 4.7.1 Resources temporarily unavailable. Please try again later [#4.16.1].";
  r.too_many_connections =
      "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user "
      "complaints";
  r.too_many_messages =
      "421 4.7.0 Max message per connection reached, closing transmission channel";
  r.recipient_rate = "450 4.2.1 User is receiving mail too quickly";  // §1.2
  // §1.2: [BL21] "in Spamhaus's list"; the zone is named so any list reads right.
  r.dnsbl =
      "553 5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is in {zone}";
  r.content_rejected =
      "554 5.7.9 Message not accepted for policy reasons. See "
      "https://postmaster.yahooinc.com/error-codes";
  r.reputation_deferred =
      "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user "
      "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes";
  r.reputation_rejected =
      "553 5.7.2 [TSS06] All messages from {ip} will be permanently deferred; Retrying will NOT "
      "succeed.";
  // §1.2: policy failures (SPF/DMARC) answer 554 5.7.9; DNS trouble 451.
  r.dkim_failed = r.content_rejected;
  r.dmarc_rejected = r.content_rejected;
  r.spf_failed =
      "554 5.7.9 Message not accepted for policy reasons. See "
      "https://postmaster.yahooinc.com/error-codes";
  r.spf_temporary = "451 4.7.24 Resources temporarily unavailable. Please try again later";
  p.throttle.defer_reply = r.reputation_deferred;   // §1.2 TSS04, at MAIL FROM
  p.throttle.reject_reply = r.reputation_rejected;  // §1.2 TSS06
  // §1.2: a per-connection message cap, then a silent close; the value is not published
  // (§8 suggests 20-100).
  p.messages_per_connection = 50;
  p.silent_close = true;
  p.reputation_enabled = true;
  p.reputation.complaint_rate_bad = 0.003;  // §1.2: < 0.3 %
  p.reputation.new_ip_daily_cap = 5000;     // §1.3 (SparkPost): AOL ~5k/day in week 1
  return p;
}

// Outlook.com (receiver-behaviour.md §1.3).
resolved_provider outlook_like() {
  resolved_provider p = postfix_default();
  p.profile = "outlook-like";
  auto& r = p.replies;
  r.greeting = "Microsoft ESMTP MAIL Service ready";
  r.accepted = "250 2.6.0 <{id}> Queued mail for delivery";
  r.unknown = "550 5.1.1 Requested action not taken: mailbox unavailable ({rcpt})";
  r.disabled = "550 5.2.1 Requested action not taken: mailbox disabled ({rcpt})";
  r.full = "452 4.2.2 The mailbox is full ({rcpt})";
  r.full_permanent = "552 5.2.2 The mailbox is full ({rcpt})";
  r.relay_denied = "550 5.7.1 Unable to relay for {rcpt}";
  r.too_many_recipients = "452 4.5.3 Too many recipients";
  r.greylisted = "451 4.7.1 Greylisted, please try again later";
  // §1.3: RP-003 connection limit, Exchange Online's 421 4.3.2 wording.
  r.too_many_connections =
      "421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing "
      "transmission channel (RP-003)";
  r.too_many_messages = "421 4.7.0 Exceeded the rate limit on this connection (RP-002)";
  // §1.3: AS3130 names the list.
  r.dnsbl = "550 5.7.1 Service unavailable, Client host [{ip}] blocked using {zone} (AS3130)";
  r.content_rejected = "550 5.7.1 Message rejected due to content or reputation (OU-002)";
  // §1.3: per-hour recipient limit.
  r.recipient_rate =
      "450 4.2.1 The recipient has exceeded their limit for the number of messages they can "
      "receive per hour. Try again later.";
  r.recipient_rate_rejected =
      "554 5.2.122 The recipient has exceeded their limit for the number of messages they can "
      "receive per hour.";
  // §1.3: 451 4.7.650 (S775) temporary, S3140 block when it persists.
  r.reputation_deferred =
      "451 4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP reputation. "
      "For e-mail delivery information, see https://aka.ms/postmaster (S775)";
  r.reputation_rejected =
      "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet "
      "service provider since part of their network is on our block list (S3140).";
  // §1.3: 550 5.7.515 for a domain that does not meet the authentication level.
  r.dkim_failed =
      "550 5.7.515 Access denied, sending domain {domain} does not meet the required "
      "authentication level.";
  r.dmarc_rejected = r.dkim_failed;
  r.spf_failed =
      "550 5.7.515 Access denied, sending domain {domain} does not meet the required "
      "authentication level.";
  r.spf_temporary = "451 4.7.24 Temporary authentication failure for {domain}";
  p.throttle.defer_reply = r.reputation_deferred;
  p.throttle.reject_reply = r.reputation_rejected;
  p.connections_per_ip = 500;  // §1.3: at most 500 simultaneous connections
  p.reputation_enabled = true;
  p.reputation.new_ip_daily_cap = 20000;  // §1.3 (SparkPost): ~20k/day in week 1
  p.reputation.complaint_rate_bad = 0.003;
  return p;
}

// A strict greylisting host: OpenBSD spamd's timings (receiver-behaviour.md §1.6) keyed on
// the exact client address (§1.6: exact keys hurt senders that retry from a pool).
resolved_provider strict_greylist() {
  resolved_provider p = postfix_default();
  p.profile = "strict-greylist";
  p.greylist.enabled = true;
  p.greylist.delay = minutes(25);       // spamd PASSTIME
  p.greylist.retry_window = hours(4);   // spamd GREYEXP
  p.greylist.pass_lifetime = days(36);  // spamd WHITEEXP
  p.greylist.key = greylist_spec::key_kind::ip;
  p.greylist_auto_whitelist_after = 0;  // spamd has none
  // The delay is the scenario's to change, so the text does not name it.
  p.replies.greylisted = "451 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted";
  p.errors_max = 10;  // a strict host: smtpd_soft_error_limit (§1.7) as the hard limit
  return p;
}

resolved_provider base_profile(const std::string& name) {
  if (name == "postfix-default") return postfix_default();
  if (name == "gmail-like") return gmail_like();
  if (name == "yahoo-like") return yahoo_like();
  if (name == "outlook-like") return outlook_like();
  if (name == "strict-greylist") return strict_greylist();
  std::string known;
  for (const auto& n : profile_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown receiver profile \"" + name + "\" (known: " + known + ")");
}

template <class T>
void override_with(T& value, const std::optional<T>& given) {
  if (given) value = *given;
}

}  // namespace

const std::vector<std::string>& profile_names() {
  static const std::vector<std::string> names = {"gmail-like", "yahoo-like", "outlook-like",
                                                 "postfix-default", "strict-greylist"};
  return names;
}

resolved_provider resolve_profile(const provider_spec& spec) {
  resolved_provider p = base_profile(spec.profile);
  if (spec.greylist) p.greylist = *spec.greylist;
  if (spec.throttle) {
    throttle_spec t = *spec.throttle;
    if (!t.defer_reply) t.defer_reply = p.throttle.defer_reply;
    if (!t.reject_reply) t.reject_reply = p.throttle.reject_reply;
    p.throttle = std::move(t);
  }
  override_with(p.messages_per_connection, spec.messages_per_connection);
  override_with(p.silent_close, spec.silent_close);
  override_with(p.connections_per_ip, spec.connections_per_ip);
  override_with(p.recipients_per_message, spec.recipients_per_message);
  override_with(p.tarpit, spec.tarpit);
  override_with(p.errors_max, spec.errors_max);
  override_with(p.require, spec.require);
  override_with(p.junk_threshold, spec.junk_threshold);
  override_with(p.reject_threshold, spec.reject_threshold);
  override_with(p.complaint_rate, spec.complaint_rate);
  if (!spec.dnsbls.empty()) p.dnsbls = spec.dnsbls;
  return p;
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "4.7.28": class, subject, detail (RFC 3463 §2).
bool is_enhanced(std::string_view w) {
  std::size_t parts = 0, digits = 0;
  for (char c : w) {
    if (is_digit(c)) {
      ++digits;
    } else if (c == '.' && digits > 0) {
      ++parts;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts == 2 && digits > 0 && (w[0] == '2' || w[0] == '4' || w[0] == '5');
}

void substitute(std::string& text, std::string_view name, std::string_view value) {
  for (std::size_t at = text.find(name); at != std::string::npos;
       at = text.find(name, at + value.size())) {
    text.replace(at, name.size(), value);
  }
}

// A template's code, enhanced code and text; code 0 when it does not start with a 2xx-5xx
// code and a space.
struct template_parts {
  int code = 0;
  std::string_view enhanced;
  std::string_view text;
};

template_parts split_template(std::string_view templ) {
  if (templ.size() < 4 || !is_digit(templ[0]) || !is_digit(templ[1]) || !is_digit(templ[2]) ||
      templ[0] < '2' || templ[0] > '5' || templ[3] != ' ') {
    return {};
  }
  template_parts p;
  p.code = (templ[0] - '0') * 100 + (templ[1] - '0') * 10 + (templ[2] - '0');
  p.text = templ.substr(4);
  const std::size_t space = p.text.find(' ');
  const std::string_view first = p.text.substr(0, space);
  if (is_enhanced(first)) {
    p.enhanced = first;
    p.text = space == std::string_view::npos ? std::string_view() : p.text.substr(space + 1);
  }
  return p;
}

}  // namespace

smtp::reply expand_reply(std::string_view templ, const reply_vars& vars) {
  const template_parts p = split_template(templ);
  if (p.code == 0) return smtp::make_reply(451, "4.3.0", std::string(templ));
  std::string text(p.text);
  if (text.find('{') != std::string::npos) {
    substitute(text, "{ip}", vars.ip);
    substitute(text, "{rcpt}", vars.rcpt);
    substitute(text, "{domain}", vars.domain);
    substitute(text, "{zone}", vars.zone);
    substitute(text, "{id}", vars.id);
  }
  return smtp::make_reply(p.code, p.enhanced, text);
}

std::string template_key(std::string_view templ) {
  const template_parts p = split_template(templ);
  if (p.code == 0) return "451 4.3.0";
  std::string key(templ.substr(0, 3));  // the code: three digits, the first 2-5
  if (!p.enhanced.empty()) {
    key += ' ';
    key += p.enhanced;
  }
  return key;
}

std::string reply_key(const smtp::reply& r) {
  std::string key = std::to_string(r.code);
  if (!r.enhanced.empty()) key += " " + r.enhanced;
  return key;
}

}  // namespace mailsim::sim::world
