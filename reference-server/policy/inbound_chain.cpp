#include "reference-server/policy/inbound_chain.hpp"

#include <utility>

#include "reference-server/policy/inbound_session_impl.hpp"

namespace mailsim::policy {

namespace {

std::vector<dnsbl_list> lists_of(const std::vector<dnsbl_rule>& rules) {
  std::vector<dnsbl_list> out;
  for (const dnsbl_rule& r : rules) out.push_back(r.list);
  return out;
}

stage_verdict refuse(const reply_spec& r) {
  return {smtp::make_reply(r.code, r.enhanced, r.text), r.code == 421};
}

stage_verdict refuse(int code, std::string_view enhanced, std::string_view text) {
  return {smtp::make_reply(code, enhanced, text), code == 421};
}

check_action action_for(const spf_settings& s, auth::spf_result r) {
  switch (r) {
    case auth::spf_result::fail: return s.on_fail;
    case auth::spf_result::softfail: return s.on_softfail;
    case auth::spf_result::permerror: return s.on_permerror;
    case auth::spf_result::temperror: return s.on_temperror;
    default: return check_action::accept;
  }
}

// RFC 7372 §3.2: 5.7.23 SPF validation failed, 5.7.24 (4.7.24) SPF validation error.
std::optional<stage_verdict> spf_refusal(const spf_settings& s, const auth::spf_outcome& o) {
  const check_action action = action_for(s, o.result);
  const bool error = o.result == auth::spf_result::permerror ||
                     o.result == auth::spf_result::temperror;
  const std::string why = o.result == auth::spf_result::fail ? o.explanation : o.problem;
  const std::string text = std::string("Message rejected due to SPF ") +
                           auth::to_string(o.result) + " for " + o.domain +
                           (why.empty() ? "" : ": " + why);
  if (action == check_action::reject) return refuse(550, error ? "5.7.24" : "5.7.23", text);
  if (action == check_action::defer) return refuse(451, "4.7.24", text + "; try again later");
  return std::nullopt;
}

}  // namespace

// ---- inbound_state ----

std::unique_ptr<inbound_state> inbound_state::create(
    inbound_settings settings, std::shared_ptr<const auth::public_suffix_list> psl,
    core::resolver& resolver, const core::clock& clock, core::random_source& random,
    std::string& error) {
  std::optional<spam_scorer> scorer = spam_scorer::create(settings.spam, error);
  if (!scorer) return nullptr;
  return std::unique_ptr<inbound_state>(new inbound_state(std::move(settings), std::move(psl),
                                                          resolver, clock, random,
                                                          std::move(*scorer)));
}

inbound_state::inbound_state(inbound_settings settings,
                             std::shared_ptr<const auth::public_suffix_list> psl,
                             core::resolver& resolver, const core::clock& clock,
                             core::random_source& random, spam_scorer scorer)
    : settings_(std::move(settings)),
      psl_(std::move(psl)),
      resolver_(resolver),
      clock_(clock),
      random_(random),
      greylist_(settings_.greylist),
      rates_(settings_.rate),
      dmarc_reports_(settings_.dmarc.report_rows_max),
      scorer_(std::move(scorer)),
      spf_(resolver, settings_.spf.options),
      dkim_(resolver, clock, settings_.dkim_options),
      arc_(resolver, clock, settings_.arc_options),
      dmarc_(resolver, *psl_, random, settings_.dmarc.options),
      dnsbl_(resolver, lists_of(settings_.dnsbl), settings_.dnsbl_bounds) {}

// ---- inbound_session: connect ----

inbound_session::inbound_session(inbound_state& state, core::ip_address client)
    : impl_(std::make_shared<impl>(state, client)) {}

inbound_session::~inbound_session() = default;  // pending callbacks find impl_ gone

std::optional<stage_verdict> inbound_session::on_connect() {
  impl& m = *impl_;
  rate_verdict rate = m.state.rates().check_and_count(rate_event::connection, m.client, m.now());
  if (rate.over) return refuse(rate.reply);
  m.start_dnsbl();
  return stage_verdict{};
}

// The lists are asked in the background from the connect on; RCPT waits for the answers.
void inbound_session::impl::start_dnsbl() {
  if (settings().dnsbl.empty()) return;
  std::weak_ptr<impl> weak = weak_from_this();
  std::optional<dnsbl_outcome> now = state.dnsbl_.check(client_text, [weak](dnsbl_outcome o) {
    if (auto self = weak.lock()) self->dnsbl_done(std::move(o));
  });
  if (now) {
    dnsbl = std::move(*now);
  } else {
    dnsbl_running = true;
  }
}

void inbound_session::impl::dnsbl_done(dnsbl_outcome outcome) {
  dnsbl = std::move(outcome);
  dnsbl_running = false;
  if (waiting_rcpt) std::exchange(waiting_rcpt, {})(rcpt_verdict(waiting_recipient));
}

void inbound_session::on_helo(std::string_view name) { impl_->helo = std::string(name); }

// ---- MAIL ----

std::optional<stage_verdict> inbound_session::on_mail(std::string_view sender, stage_fn done) {
  impl& m = *impl_;
  rate_verdict rate = m.state.rates().check_and_count(rate_event::message, m.client, m.now());
  if (rate.over) return refuse(rate.reply);
  m.sender = std::string(sender);
  m.spf_mail.reset();
  m.spf_helo.reset();
  const spf_settings& s = m.settings().spf;
  if (!s.enabled) return stage_verdict{};
  auth::spf_request request{m.client, m.sender, m.helo, m.settings().authserv_id, m.now()};
  std::weak_ptr<impl> weak = m.weak_from_this();
  auto on_mail_from = [weak](auth::spf_outcome o) {
    if (auto self = weak.lock()) self->spf_done(std::move(o));
  };
  m.mail_pending = 0;
  if (auto now = m.state.spf_.check_mail_from(request, on_mail_from)) {
    m.spf_mail = std::move(*now);
  } else {
    ++m.mail_pending;
  }
  // The HELO identity separately only when MAIL FROM did not already check it (null sender).
  if (s.check_helo && !m.sender.empty() && !m.helo.empty()) {
    if (auto now = m.state.spf_.check_helo(request, on_mail_from)) {
      m.spf_helo = std::move(*now);
    } else {
      ++m.mail_pending;
    }
  }
  if (m.mail_pending == 0) return m.mail_verdict();
  m.waiting_mail = std::move(done);
  return std::nullopt;
}

void inbound_session::impl::spf_done(auth::spf_outcome outcome) {
  (outcome.identity == "helo" && !sender.empty() ? spf_helo : spf_mail) = std::move(outcome);
  if (--mail_pending == 0 && waiting_mail) std::exchange(waiting_mail, {})(mail_verdict());
}

stage_verdict inbound_session::impl::mail_verdict() const {
  if (!spf_mail) return {};
  return spf_refusal(settings().spf, *spf_mail).value_or(stage_verdict{});
}

// ---- RCPT ----

std::optional<stage_verdict> inbound_session::on_rcpt(std::string_view recipient,
                                                      stage_fn done) {
  impl& m = *impl_;
  if (!m.dnsbl_running) return m.rcpt_verdict(std::string(recipient));
  m.waiting_recipient = std::string(recipient);
  m.waiting_rcpt = std::move(done);
  return std::nullopt;
}

const dnsbl_rule* inbound_session::impl::blocking_rule() const {
  if (!dnsbl || dnsbl->allowed()) return nullptr;  // a DNSWL listing outranks block lists
  for (const dnsbl_hit& hit : dnsbl->lists) {
    if (hit.allow_list || hit.status != dnsbl_status::listed) continue;
    for (const dnsbl_rule& rule : settings().dnsbl) {
      if (rule.list.zone == hit.zone && rule.on_listed == check_action::reject) return &rule;
    }
  }
  return nullptr;
}

// Order (Postfix smtpd_recipient_restrictions style): DNSBL, greylisting, then the rate.
stage_verdict inbound_session::impl::rcpt_verdict(const std::string& recipient) {
  if (const dnsbl_rule* rule = blocking_rule()) {
    for (const dnsbl_hit& hit : dnsbl->lists) {
      if (hit.zone == rule->list.zone) return refuse(dnsbl_reply(hit));
    }
  }
  const bool allowed = dnsbl && dnsbl->allowed();
  if (settings().greylisting && !allowed) {
    greylist_verdict g = state.greylisting().check(client, sender, recipient, now());
    if (!g.passed()) return refuse(g.reply);
  }
  rate_verdict rate =
      state.rates().check_and_count(rate_event::recipient, client, now(), recipient);
  if (rate.over) return refuse(rate.reply);
  return {};
}

// ---- DATA: inbound_message.cpp ----

std::optional<message_verdict> inbound_session::on_message(std::string_view message,
                                                           message_fn done) {
  return impl_->start_message(message, std::move(done));
}

}  // namespace mailsim::policy
