// The end of DATA: content score, placement, traps, accept-then-bounce and complaints.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "reference-server/auth/author.hpp"
#include "reference-server/policy/common.hpp"
#include "simulator/world/receiver_impl.hpp"

namespace mailsim::sim::world {

namespace {

using metrics::counter;
using metrics::placement;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "<m123@host>" → 123.
std::optional<std::uint64_t> number_of(std::string_view id) {
  if (id.size() < 4 || id[0] != '<' || (id[1] != 'm' && id[1] != 'M')) return std::nullopt;
  std::uint64_t n = 0;
  const char* first = id.data() + 2;
  const char* last = id.data() + id.size();
  const auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || end == first || end == last || *end != '@') return std::nullopt;
  return n;
}

double score_of(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return 0;
  return v;
}

// "name:" at the start of `line`, case-insensitively; the rest when it matches.
std::optional<std::string_view> field_value(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return std::nullopt;
  if (!policy::iequals(line.substr(0, name.size()), name)) return std::nullopt;
  return trim(line.substr(name.size() + 1));
}

placement placement_of(mailbox_state state, bool junk) {
  switch (state) {
    case mailbox_state::pristine_trap:
    case mailbox_state::recycled_trap:
      return placement::trap;
    case mailbox_state::bounce_later:
      return placement::bounce_later;
    default:
      return junk ? placement::junk : placement::inbox;
  }
}

}  // namespace

message_facts read_message_facts(std::string_view message) {
  message_facts facts;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view line = trim(message.substr(start, end - start));
    if (line.empty()) break;  // the header block ends at the first empty line
    if (auto v = field_value(line, "Message-ID")) {
      facts.number = number_of(*v);
    } else if (auto s = field_value(line, "X-Mailsim-Score")) {
      facts.score = score_of(*s);
    }
    start = end + 1;
  }
  return facts;
}

namespace {

std::string label_of(const message_facts& facts) {
  return facts.number ? "m" + std::to_string(*facts.number) : "message";
}

}  // namespace

std::optional<smtp::decision> provider_core::on_message(receiver_session& s) {
  s.facts = read_message_facts(s.smtp().message());
  if (s.facts.score >= cfg_.reject_threshold) {
    char score_text[32];
    std::snprintf(score_text, sizeof score_text, "score %.2f", s.facts.score);
    s.accepted.clear();
    return refuse("data", label_of(s.facts), s, cfg_.replies.content_rejected,
                  {s.ip(), {}, {}, {}, {}}, score_text);
  }
  if (!dkim_) return deliver_message(s, false);
  // Gmail answers authentication failures at the end of DATA (receiver-behaviour.md §1.5).
  std::weak_ptr<bool> alive = alive_;
  std::optional<std::vector<auth::dkim_result>> at_once = dkim_->verify(
      s.smtp().message(), [alive, this, id = s.id()](std::vector<auth::dkim_result> results) {
        if (alive.expired()) return;
        receiver_session* later = find(id);
        if (later == nullptr) return;
        if (auto d = after_dkim(*later, std::move(results))) later->resume(*d);
      });
  if (!at_once) return std::nullopt;
  return after_dkim(s, std::move(*at_once));
}

std::optional<smtp::decision> provider_core::after_dkim(receiver_session& s,
                                                        std::vector<auth::dkim_result> results) {
  const auto pass = std::find_if(results.begin(), results.end(), [](const auth::dkim_result& r) {
    return r.status == auth::dkim_status::pass;
  });
  const bool passed = pass != results.end();
  if (passed) s.signing_domain = policy::to_lower(pass->domain);
  if (cfg_.require.dkim_pass && !passed) {
    s.accepted.clear();
    return refuse("data", label_of(s.facts), s, cfg_.replies.dkim_failed,
                  {s.ip(), {}, s.sender_domain, {}, {}}, "dkim did not pass");
  }
  if (!dmarc_) return deliver_message(s, false);
  auth::dmarc_identifiers ids;
  ids.header_from = auth::author_domain(s.smtp().message()).value_or("");
  ids.spf_domain = s.spf_domain;
  ids.spf_result = s.spf_result;
  ids.dkim = std::move(results);
  std::weak_ptr<bool> alive = alive_;
  std::optional<auth::dmarc_outcome> at_once =
      dmarc_->check(std::move(ids), [alive, this, id = s.id()](auth::dmarc_outcome outcome) {
        if (alive.expired()) return;
        if (receiver_session* later = find(id)) later->resume(after_dmarc(*later, outcome));
      });
  if (!at_once) return std::nullopt;
  return after_dmarc(s, *at_once);
}

// RFC 7489 §6.6.2: the domain owner's requested disposition, as pct= left it; quarantine
// files as Junk.
smtp::decision provider_core::after_dmarc(receiver_session& s, const auth::dmarc_outcome& outcome) {
  const reply_vars vars{s.ip(), {}, outcome.header_from, {}, {}};
  if (outcome.status == auth::dmarc_status::temperror) {
    s.accepted.clear();
    return refuse("data", label_of(s.facts), s, cfg_.replies.dmarc_temporary, vars,
                  "dmarc temperror");
  }
  const bool failed = outcome.status == auth::dmarc_status::fail;
  if (failed && outcome.disposition == auth::dmarc_policy::reject) {
    s.accepted.clear();
    return refuse("data", label_of(s.facts), s, cfg_.replies.dmarc_rejected, vars,
                  "dmarc fail p=reject");
  }
  return deliver_message(s, failed && outcome.disposition == auth::dmarc_policy::quarantine);
}

// A verified signer is judged again at the end of DATA on its own domain's score (the
// MAIL-time check could only see the MAIL FROM domain): below reject_below the message is
// refused, below junk_below it goes to Junk. The IP was judged at MAIL already.
std::optional<smtp::decision> provider_core::signer_reputation(receiver_session& s, bool& junk) {
  if (!reputation_ || s.signing_domain.empty() || s.signing_domain == s.sender_domain) {
    return std::nullopt;
  }
  const double score = reputation_->score(s.signing_domain, now());
  if (score >= cfg_.reputation.junk_below) return std::nullopt;
  char why[96];
  std::snprintf(why, sizeof why, "score %.2f of d=%s", score, s.signing_domain.c_str());
  if (score < cfg_.reputation.reject_below) {
    s.accepted.clear();
    return refuse("data", label_of(s.facts), s, cfg_.replies.reputation_rejected,
                  {s.ip(), {}, s.signing_domain, {}, {}}, why);
  }
  if (tracing()) trace_line("data " + label_of(s.facts) + " from " + s.ip() + ": junk, " + why);
  junk = true;
  return std::nullopt;
}

smtp::decision provider_core::deliver_message(receiver_session& s, bool auth_junk) {
  // SpamAssassin-style: a score at the junk threshold, a sender the reputation book files
  // as Junk (by MAIL FROM domain at MAIL, by the verified d= here), or a DMARC quarantine
  // lands in the Junk folder.
  const message_facts& facts = s.facts;
  bool signer_junk = false;
  if (auto refusal = signer_reputation(s, signer_junk)) return *refusal;
  const bool junk = s.junk || signer_junk || auth_junk || facts.score >= cfg_.junk_threshold;
  const auto& recipients = s.smtp().current_envelope().recipients;
  const std::size_t n = std::min(recipients.size(), s.accepted.size());
  for (std::size_t i = 0; i < n; ++i) {
    place(s, facts.number.value_or(0), recipients[i].address.box.to_string(), s.accepted[i], junk,
          facts.score);
  }
  s.accepted.clear();
  ++s.messages;
  char id[32];
  std::snprintf(id, sizeof id, "%llX", static_cast<unsigned long long>(next_queue_id_++));
  return smtp::decision::accept_with(expand_reply(cfg_.replies.accepted, {s.ip(), {}, {}, {}, id}));
}

void provider_core::place(receiver_session& s, std::uint64_t message, const std::string& rcpt,
                          mailbox_state state, bool junk, double score) {
  const placement where = placement_of(state, junk);
  const core::time_point t = now();
  std::optional<std::size_t> record;
  if (services_.record != nullptr) {
    services_.record->count(name_, s.ip(), t, counter::accepted);
    if (message != 0) record = services_.record->find(message, rcpt);
    if (record) services_.record->at(*record).placed = where;
  }
  const std::string& reputed = s.reputation_domain();
  if (reputation_) reputation_->note_accepted(s.ip(), reputed, t);
  if (tracing()) {
    trace_line("deliver " + rcpt + " m" + std::to_string(message) + " from " + s.ip() + ": " +
               metrics::to_string(where));
  }
  if (where == placement::trap) {
    if (record) services_.record->at(*record).trap_hit = true;
    if (services_.record != nullptr) services_.record->count(name_, s.ip(), t, counter::trap_hit);
    if (services_.trap_hit) services_.trap_hit(s.ip(), s.sender_domain, t);
    if (reputation_) reputation_->note_trap_hit(s.ip(), reputed, t);
  } else if (where == placement::bounce_later) {
    if (record) schedule_bounce(*record, rcpt);
  } else if (where == placement::inbox) {
    // Complaint rule: the profile's rate, raised in proportion to the content score (a
    // message at the junk threshold that still reached the inbox is twice as likely to be
    // reported). One draw per inbox placement, from the provider's own stream.
    const double p =
        std::min(1.0, cfg_.complaint_rate *
                          (1.0 + std::max(0.0, score) / std::max(cfg_.junk_threshold, 1e-9)));
    if (complaints_.chance(p)) {
      schedule_complaint(record, s.ip(), s.sender_domain, reputed, rcpt);
    }
  }
}

// `domain`: the MAIL FROM domain (what domain DNSBLs hear of); `reputed`: the domain the
// reputation book notes (the verified d=, else the MAIL FROM domain).
void provider_core::schedule_complaint(std::optional<std::size_t> record, const std::string& ip,
                                       const std::string& domain, const std::string& reputed,
                                       const std::string& rcpt) {
  std::weak_ptr<bool> alive = alive_;
  services_.sched->schedule_after(cfg_.complaint_delay, [alive, this, record, ip, domain, reputed,
                                                         rcpt] {
    if (alive.expired()) return;
    const core::time_point t = now();
    if (services_.record != nullptr) {
      if (record) services_.record->at(*record).complained = true;
      services_.record->count(name_, ip, t, counter::complaint);
    }
    if (services_.complaint) services_.complaint(ip, domain, t);
    if (reputation_) reputation_->note_complaint(ip, reputed, t);
    trace_line("complaint " + rcpt + " about " + ip);
  });
}

void provider_core::schedule_bounce(std::size_t record, const std::string& rcpt) {
  std::weak_ptr<bool> alive = alive_;
  services_.sched->schedule_after(cfg_.bounce_later_delay, [alive, this, record, rcpt] {
    if (alive.expired()) return;
    services_.record->at(record).bounce_returned = true;
    trace_line("bounce " + rcpt + ": returned (recorded; no DSN is sent)");
  });
}

}  // namespace mailsim::sim::world
