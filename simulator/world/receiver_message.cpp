// The end of DATA: content score, placement, traps, accept-then-bounce and complaints.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <span>

#include "reference-server/auth/author.hpp"
#include "reference-server/policy/common.hpp"
#include "simulator/world/outbound_setup.hpp"
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
    place(s, facts.number.value_or(0), i, s.accepted[i], junk, facts.score);
  }
  s.accepted.clear();
  ++s.messages;
  char id[32];
  std::snprintf(id, sizeof id, "%llX", static_cast<unsigned long long>(next_queue_id_++));
  return smtp::decision::accept_with(expand_reply(cfg_.replies.accepted, {s.ip(), {}, {}, {}, id}));
}

void provider_core::place(receiver_session& s, std::uint64_t message, std::size_t index,
                          mailbox_state state, bool junk, double score) {
  const std::string rcpt = s.smtp().current_envelope().recipients[index].address.box.to_string();
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
    trace_parts("deliver ", rcpt, " m", std::to_string(message), " from ", s.ip(), ": ",
                metrics::to_string(where));
  }
  if (where == placement::trap) {
    if (record) services_.record->at(*record).trap_hit = true;
    if (services_.record != nullptr) services_.record->count(name_, s.ip(), t, counter::trap_hit);
    if (services_.trap_hit) services_.trap_hit(s.ip(), s.sender_domain, t);
    if (reputation_) reputation_->note_trap_hit(s.ip(), reputed, t);
  } else if (where == placement::bounce_later) {
    // The report goes out whether or not the workload knows the message: the sender's sink
    // matches it to a record, or counts it as unmatched.
    schedule_bounce(s, message, index);
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

// ---- Accept-then-bounce: a real DSN, some minutes after the 250 ----
//
// The report is the reference server's (queue::build_dsn): Reporting-MTA the first MX
// host's name, one recipient with Action failed and Status 5.1.1 — the usual reason a
// message is bounced after acceptance is a front end that accepts without asking the
// mailbox store, which then finds no such user (docs/receiver-profiles.md) —, the ENVID
// when the sender gave one, and the original's header section (RET=FULL: the whole
// message). It is queued from <> (NOTIFY=NEVER) in the provider's own memory spool and
// delivered by the reference delivery engine, routed by the world's DNS like any mail.

namespace {

constexpr const char* bounce_status = "5.1.1";
constexpr const char* bounce_reason = "mailbox unavailable after acceptance";

// The header section of `message` up to and with the empty line that ends it (all of it
// when there is no body), cut after the last whole line within `bytes_max`: build_dsn()
// returns no more than that, so a pending report holds no more either.
std::string header_section(std::string_view message, std::size_t bytes_max) {
  std::size_t end = message.find("\r\n\r\n");
  std::string_view head = message;
  if (end != std::string_view::npos) {
    head = message.substr(0, end + 4);
  } else if ((end = message.find("\n\n")) != std::string_view::npos) {
    head = message.substr(0, end + 2);
  }
  if (head.size() <= bytes_max) return std::string(head);
  const std::size_t last = head.rfind('\n', bytes_max - 1);
  return last == std::string_view::npos ? std::string{} : std::string(head.substr(0, last + 1));
}

std::string bounce_label(std::uint64_t message, const std::string& rcpt) {
  return rcpt + " m" + std::to_string(message);
}

}  // namespace

// What the report needs is copied now: the session is gone when the delay is over. No
// report for a null reverse path (never a bounce for a bounce) or NOTIFY=NEVER (dsn_due).
void provider_core::schedule_bounce(receiver_session& s, std::uint64_t message, std::size_t index) {
  const smtp::envelope& env = s.smtp().current_envelope();
  const smtp::recipient& r = env.recipients[index];
  const std::string rcpt = r.address.box.to_string();
  if (!queue::dsn_due(env.reverse_path, r.notify, queue::dsn_action::failed)) {
    trace_line("bounce " + bounce_label(message, rcpt) + ": no DSN (" +
               (env.reverse_path.null ? "null reverse-path" : "NOTIFY=NEVER") + ")");
    return;
  }
  if (bounces_pending() >= services_.bounces_pending_max) {
    trace_line("bounce " + bounce_label(message, rcpt) + ": no DSN (" +
               std::to_string(bounces_pending()) + " reports pending, the limit)");
    return;
  }
  pending_bounce b;
  b.message = message;
  b.rcpt = rcpt;
  b.reverse_path = env.reverse_path;
  b.envid = env.envid;
  b.smtputf8 = env.smtputf8;
  b.arrival = now();
  // build_dsn() would return a message over return_bytes_max as headers anyway; keeping
  // only what it returns bounds what a pending report holds.
  const std::string_view message_bytes = s.smtp().message();
  const std::size_t bytes_max = queue::dsn_options{}.return_bytes_max;
  if (env.ret == smtp::dsn_ret::full && message_bytes.size() <= bytes_max) {
    b.ret = smtp::dsn_ret::full;
    b.content = std::string(message_bytes);
  } else {
    b.ret = smtp::dsn_ret::headers;  // only the header section is kept
    b.content = header_section(message_bytes, bytes_max);
  }
  ++bounces_waiting_;
  std::weak_ptr<bool> alive = alive_;
  services_.sched->schedule_after(cfg_.bounce_later_delay, [alive, this, b = std::move(b)] {
    if (alive.expired()) return;
    --bounces_waiting_;
    send_bounce(b);
  });
}

void provider_core::send_bounce(const pending_bounce& b) {
  const std::string label = bounce_label(b.message, b.rcpt);
  if (services_.dns == nullptr) {
    trace_line("bounce " + label + ": no DSN (the provider has no resolver to route it)");
    return;
  }
  if (!bounce_engine_) make_bounce_engine();
  queue::dsn_request request;
  request.reporting_mta = mx_.front().name;
  request.now = now();
  request.token = queue::make_dsn_token(dsn_random_);
  request.original.reverse_path = b.reverse_path;
  request.original.envid = b.envid;
  request.original.ret = b.ret;
  request.original.smtputf8 = b.smtputf8;
  request.original.arrival = b.arrival;
  request.original.message = b.content;
  queue::dsn_recipient failed;
  failed.final_recipient = b.rcpt;
  failed.action = queue::dsn_action::failed;
  failed.status = bounce_status;
  failed.diagnostic = bounce_reason;
  failed.last_attempt = now();
  request.recipients.push_back(std::move(failed));
  const queue::dsn_build_result built = queue::build_dsn(request);
  if (!built.value) {
    trace_line("bounce " + label + ": no DSN (" + built.detail + ")");
    return;
  }
  queue::enqueue_request q;
  q.envelope.reverse_path.null = true;
  q.envelope.helo_name = mx_.front().name;
  q.envelope.body = built.value->body;
  q.envelope.smtputf8 = built.value->smtputf8;
  smtp::recipient to;
  to.address.box = built.value->recipient;
  to.notify = {true, true, false, false, false};  // NOTIFY=NEVER: no report about a report
  q.envelope.recipients.push_back(std::move(to));
  q.message = built.value->bytes;
  q.received_from = "dns; " + mx_.front().name;
  const auto results = bounce_spool_->enqueue(std::span<const queue::enqueue_request>(&q, 1));
  if (!results[0].ok()) {
    trace_line("bounce " + label + ": no DSN (not queued: " + results[0].error.message() + ")");
    return;
  }
  bounces_queued_.insert(results[0].id);
  bounce_labels_.emplace(results[0].id, label);
  trace_line("dsn " + label + " to " + b.reverse_path.box.to_string() + ": queued " +
             results[0].id + " " + built.value->message_id + " status " + bounce_status);
  bounce_engine_->wake();
}

// The provider's outbound MTA, as a sender's (sender.cpp): leaving from the first MX
// address, named after the first MX host, routing by the world's MX records.
void provider_core::make_bounce_engine() {
  queue::engine_settings settings;
  settings.hostname = mx_.front().name;
  std::vector<std::string> addresses;
  for (const mx_host& h : mx_) {
    settings.routing.local_names.push_back(h.name);
    settings.routing.local_addresses.push_back(h.address);
    addresses.push_back(h.address);
  }
  settings.routing.families = families_reaching(addresses);
  queue::source_pool pool;
  pool.sender_domain = "*";
  pool.addresses = {mx_.front().address};
  settings.source_pools.push_back(std::move(pool));
  bounce_transport_ = services_.net->make_transport(addresses);
  bounce_spool_ = std::make_unique<queue::memory_spool>(
      queue::spool_limits{0, 0}, services_.sched->clock(), engine_random_,
      queue::memory_spool::states::not_kept);  // never restarts
  // Every message here is from <>: the engine never owes a report about one (dsn_due), so
  // the report sink is only there because the engine requires one.
  queue::engine_deps deps = virtual_engine_deps(*services_.sched, services_.dns, engine_random_,
                                                *bounce_transport_, *bounce_spool_, alive_);
  deps.events = [this](const queue::engine_event& e) { on_bounce_event(e); };
  bounce_engine_ = std::make_unique<queue::delivery_engine>(std::move(settings), std::move(deps));
  bounce_engine_->start();
}

void provider_core::on_bounce_event(const queue::engine_event& e) {
  using kind = queue::engine_event::kind;
  const auto label = bounce_labels_.find(e.id);
  if (e.what == kind::removed) {
    bounces_queued_.erase(e.id);
    if (label != bounce_labels_.end()) bounce_labels_.erase(label);
    return;
  }
  if (e.what != kind::delivered && e.what != kind::relayed && e.what != kind::deferred &&
      e.what != kind::failed) {
    return;
  }
  if (!tracing()) return;
  const std::string what = label == bounce_labels_.end() ? e.id : label->second;
  trace_line("dsn " + what + " " + std::string(queue::event_name(e.what)) +
             (e.address.empty() ? "" : " via " + e.host + " " + e.address) + ": " + e.detail);
}

}  // namespace mailsim::sim::world
