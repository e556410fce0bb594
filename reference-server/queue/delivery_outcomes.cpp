// The delivery engine's bookkeeping half: what each attempt means for each recipient, the
// spool updates (made durable before anything else happens), the reports and the removal
// of finished messages.
#include <algorithm>
#include <utility>

#include "reference-server/queue/engine_impl.hpp"

namespace mailsim::queue {

namespace {

// RFC 3463 codes for failures that no server reply describes.
std::string status_of_end(const connection_end& end) {
  if (end.answer && end.answer->code >= 400) return status_from_reply(*end.answer);
  if (end.reason == smtp::close_reason::tls_required) return "4.7.4";      // TLS not available
  if (end.error.category() == core::transport_category()) return "4.7.5";  // cryptographic
  if (end.reason == smtp::close_reason::timeout) return "4.4.2";           // bad connection
  return "4.4.1";                                                          // no answer from host
}

// A 421 (the receiver is closing the channel, RFC 5321 §4.2.3) or a transient X.7.28 (the
// registry's "mail flood detected", which rate limits answer) asks the client to back off
// from the whole destination. Other transient X.7.x replies concern one recipient or one
// message: greylisting answers 451 4.7.1 per (client, sender, recipient) triplet, and a
// pause of the whole destination would hold back every other recipient as well.
bool throttling(const smtp::reply& r) {
  return r.code == 421 || (r.transient() && r.enhanced == "4.7.28");
}

engine_event::kind event_kind(attempt_outcome::kind k) {
  switch (k) {
    case attempt_outcome::kind::delivered:
      return engine_event::kind::delivered;
    case attempt_outcome::kind::relayed:
      return engine_event::kind::relayed;
    case attempt_outcome::kind::failed:
      return engine_event::kind::failed;
    case attempt_outcome::kind::deferred:
      return engine_event::kind::deferred;
  }
  return engine_event::kind::deferred;
}

}  // namespace

void delivery_engine::impl::on_result(outbound_connection& c, delivery_job job,
                                      const smtp::transaction_result& result) {
  destination* d = destination_of(c);
  std::vector<attempt_outcome> outcomes;
  outcomes.reserve(job.recipients.size());
  for (std::size_t k = 0; k < job.recipients.size(); ++k) {
    const smtp::recipient_outcome& r = k < result.recipients.size()
                                           ? result.recipients[k]
                                           : smtp::recipient_outcome{result.answer, true};
    outcomes.push_back(outcome_of(r, c.capabilities().dsn, c.target()));
    outcomes.back().source = c.local_address();
    if (d != nullptr && !r.local) throttle_if_asked(*d, r.answer);
  }
  record(std::move(job), std::move(outcomes));
}

void delivery_engine::impl::on_finished(outbound_connection& c, const connection_end& end,
                                        std::optional<delivery_job> unfinished) {
  destination* d = destination_of(c);
  attempt_outcome o;
  o.status = status_of_end(end);
  if (end.answer && !end.was_ready) o.reply = end.answer;
  o.diagnostic = end.detail;
  o.host = end.last.host;
  o.address = end.last.address;
  o.source = c.local_address();
  if (unfinished) record_all(*unfinished, o);
  engine_event ev;
  ev.what = end.was_ready ? engine_event::kind::session_closed : engine_event::kind::connect_failed;
  ev.domain = d != nullptr ? d->domain : "";
  ev.host = end.last.host;
  ev.address = end.last.address;
  ev.source = c.local_address();
  ev.detail = end.detail;
  emit(std::move(ev));
  if (d == nullptr) return;
  if (end.answer && !end.was_ready) throttle_if_asked(*d, *end.answer);
  retire(*d, c);
  // Every address failed and no other connection serves the destination: what waits on it
  // is settled now, as a 5xx greeting bounces and anything else defers (Postfix does so).
  const bool others = std::any_of(d->connections.begin(), d->connections.end(),
                                  [](const auto& p) { return !p->finished(); });
  if (!end.was_ready && !others) {
    if (end.answer && end.answer->permanent()) o.what = attempt_outcome::kind::failed;
    core::fifo<delivery_job> jobs = std::move(d->jobs);
    d->jobs.clear();
    for (const delivery_job& job : jobs) record_all(job, o);
    d->plan.reset();  // look again next time
    return;
  }
  pump(*d);
}

void delivery_engine::impl::throttle_if_asked(destination& d, const smtp::reply& r) {
  if (!throttling(r)) return;
  const core::time_point until = deps_.clock->now() + d.settings->throttle_pause;
  if (d.throttled_until >= until) return;
  d.throttled_until = until;
  engine_event ev;
  ev.what = engine_event::kind::throttled;
  ev.domain = d.domain;
  ev.detail = r.text();
  ev.at = until;
  emit(std::move(ev));
  pump_later(d, until);
}

attempt_outcome delivery_engine::impl::outcome_of(const smtp::recipient_outcome& r,
                                                  bool dsn_capable,
                                                  const connection_target& t) const {
  attempt_outcome o;
  o.host = t.host;
  o.address = t.address;
  o.status = status_from_reply(r.answer);
  if (r.local) {
    o.diagnostic = r.answer.text();
  } else {
    o.reply = r.answer;
  }
  if (r.delivered()) {
    o.what = dsn_capable ? attempt_outcome::kind::delivered : attempt_outcome::kind::relayed;
  } else if (r.answer.permanent()) {
    o.what = attempt_outcome::kind::failed;
  } else {
    o.what = attempt_outcome::kind::deferred;
  }
  return o;
}

recipient_status delivery_engine::impl::next_status(const queued_message& m,
                                                    const queued_recipient& r,
                                                    attempt_outcome&& o) const {
  const core::time_point now = deps_.clock->now();
  recipient_status s = r.status;
  ++s.attempts;
  s.last_attempt_at = now;
  s.status = std::move(o.status);
  s.reply = std::move(o.reply);
  s.remote_mta = std::move(o.host);
  s.remote_address = std::move(o.address);
  s.diagnostic = std::move(o.diagnostic);
  switch (o.what) {
    case attempt_outcome::kind::delivered:
      s.state = recipient_state::delivered;
      s.dsn_sent = true;  // the receiving server took over the reports (RFC 3461 §5.2.1)
      return s;
    case attempt_outcome::kind::relayed:
      s.state = recipient_state::relayed;
      return s;
    case attempt_outcome::kind::failed:
      s.state = recipient_state::failed;
      return s;
    case attempt_outcome::kind::deferred:
      break;
  }
  const std::string& domain = r.rcpt.address.box.domain;
  retry_decision next =
      next_attempt(settings_.retry.for_domain(domain), m.queued_at, s.attempts, now);
  if (next.expired) {
    s.state = recipient_state::failed;
    s.status = std::string(expired_status);
    if (s.diagnostic.empty() && !s.reply) s.diagnostic = "delivery time expired";
  } else {
    s.next_attempt_at = next.next_attempt_at;
  }
  return s;
}

void delivery_engine::impl::record_all(const delivery_job& job, const attempt_outcome& outcome) {
  record(job, std::vector<attempt_outcome>(job.recipients.size(), outcome));
}

// Outcomes that arrive in one turn of the loop are written together: one spool batch, one
// durability barrier, however many sessions finished (group commit, as for enqueueing).
void delivery_engine::impl::record(delivery_job job, std::vector<attempt_outcome> outcomes) {
  pending_records_.push_back({std::move(job), std::move(outcomes)});
  if (records_scheduled_) return;
  records_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  deps_.timers->schedule(deps_.clock->now(), [this, alive] {
    if (!alive.expired()) flush_records();
  });
}

// Whether the statuses after `up` leave nothing to do: every recipient final, no report owed.
bool delivery_engine::impl::settles_quietly(const queued_message& m, const state_update& up) const {
  std::vector<const recipient_status*> now(m.recipients.size());
  for (std::size_t i = 0; i < m.recipients.size(); ++i) now[i] = &m.recipients[i].status;
  for (const recipient_change& c : up.changes) now[c.index] = &c.status;
  for (std::size_t i = 0; i < now.size(); ++i) {
    const recipient_status& s = *now[i];
    if (s.state == recipient_state::pending) return false;
    if (s.dsn_sent) continue;
    const dsn_action action = s.state == recipient_state::failed    ? dsn_action::failed
                              : s.state == recipient_state::relayed ? dsn_action::relayed
                                                                    : dsn_action::delivered;
    if (dsn_due(m.envelope.reverse_path, m.recipients[i].rcpt.notify, action, settings_.dsn)) {
      return false;
    }
  }
  return true;
}

// Durable first: the spool batch (or the removal of a message that is done); then the
// events, the reports and the next wake.
void delivery_engine::impl::flush_records() {
  records_scheduled_ = false;
  std::vector<pending_record> batch = std::move(pending_records_);
  pending_records_.clear();
  std::vector<state_update> updates;
  std::vector<std::size_t> updated;  // index into batch of each update
  std::vector<std::vector<std::string>> recipients(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const delivery_job& job = batch[b].job;
    const queued_message* m = deps_.queue->find(job.id);
    if (m == nullptr) {
      release(job);
      continue;
    }
    state_update up{job.id, {}};
    for (std::size_t k = 0; k < job.recipients.size(); ++k) {
      const std::size_t i = job.recipients[k];
      up.changes.push_back({i, next_status(*m, m->recipients[i], std::move(batch[b].outcomes[k]))});
      recipients[b].push_back(m->recipients[i].rcpt.address.box.to_string());
    }
    if (settles_quietly(*m, up) && !deps_.queue->remove_settled(job.id)) {
      after_record(batch[b], up, recipients[b], true);
      continue;
    }
    updates.push_back(std::move(up));
    updated.push_back(b);
  }
  const std::vector<std::error_code> errors = deps_.queue->update(updates);
  for (std::size_t u = 0; u < updates.size(); ++u) {
    const pending_record& r = batch[updated[u]];
    if (errors[u]) {
      engine_event ev;
      ev.what = engine_event::kind::spool_error;
      ev.id = r.job.id;
      ev.detail = errors[u].message();
      emit(std::move(ev));
      release(r.job);
      // The recipients stay due; a failing disk is not hammered.
      schedule_wake(deps_.clock->now() + core::duration_ms{30'000});
      continue;
    }
    after_record(r, updates[u], recipients[updated[u]], false);
  }
  wake();
}

void delivery_engine::impl::after_record(const pending_record& r, const state_update& up,
                                         const std::vector<std::string>& recipients,
                                         bool removed) {
  for (std::size_t k = 0; k < up.changes.size(); ++k) {
    const recipient_status& s = up.changes[k].status;
    engine_event ev;
    ev.what = s.state == recipient_state::failed ? engine_event::kind::failed
                                                 : event_kind(r.outcomes[k].what);
    ev.id = r.job.id;
    ev.domain = r.job.domain;
    ev.recipient = recipients[k];
    ev.host = s.remote_mta;
    ev.address = s.remote_address;
    ev.source = r.outcomes[k].source;
    ev.status = s.status;
    ev.detail = s.reply ? s.reply->text() : s.diagnostic;
    if (s.state == recipient_state::pending) ev.at = s.next_attempt_at;
    if (s.state == recipient_state::pending) ++stats.deferred;
    else if (s.state == recipient_state::failed) ++stats.failed;
    else ++stats.delivered;
    emit(std::move(ev));
  }
  release(r.job);
  if (!removed) return settle(r.job.id);
  bytes_cache_.erase(r.job.id);
  engine_event ev;
  ev.what = engine_event::kind::removed;
  ev.id = r.job.id;
  emit(std::move(ev));
}

void delivery_engine::impl::release(const delivery_job& job) {
  bool still_flying = false;
  if (const auto busy = in_flight_.find(job.id); busy != in_flight_.end()) {
    flight& f = busy->second;
    for (std::size_t i : job.recipients) {
      if (i >= f.busy.size() || !f.busy[i]) continue;
      f.busy[i] = false;
      --f.count;
      --in_flight_count_;
    }
    still_flying = f.count > 0;
    if (!still_flying) in_flight_.erase(busy);
  }
  if (!still_flying) {
    bytes_cache_.erase(job.id);
    deps_.queue->unhold(job.id);  // back in the schedule with its new due times
  }
}

// Reports owed now, in one report per message; then removal when nothing is left to do.
void delivery_engine::impl::settle(const std::string& id) {
  const queued_message* m = deps_.queue->find(id);
  if (m == nullptr || reporting_.count(id)) return;
  const core::time_point now = deps_.clock->now();
  std::vector<std::size_t> indices, delayed;
  std::vector<dsn_recipient> reports;
  std::vector<recipient_change> silent;
  for (std::size_t i = 0; i < m->recipients.size(); ++i) {
    const queued_recipient& r = m->recipients[i];
    const recipient_status& s = r.status;
    dsn_action action = dsn_action::failed;
    if (s.state == recipient_state::pending) {
      const auto warn =
          delay_warning_at(settings_.retry.for_domain(r.rcpt.address.box.domain), m->queued_at);
      if (s.delay_warning_sent || s.attempts == 0 || !warn || *warn > now) continue;
      action = dsn_action::delayed;
    } else if (s.dsn_sent) {
      continue;
    } else if (s.state != recipient_state::failed) {
      action = s.state == recipient_state::relayed ? dsn_action::relayed : dsn_action::delivered;
    }
    recipient_status flagged = s;
    (action == dsn_action::delayed ? flagged.delay_warning_sent : flagged.dsn_sent) = true;
    if (!dsn_due(m->envelope.reverse_path, r.rcpt.notify, action, settings_.dsn)) {
      silent.push_back({i, flagged});
      continue;
    }
    dsn_recipient rep;
    rep.final_recipient = r.rcpt.address.box.to_string();
    rep.orcpt = r.rcpt.orcpt;
    rep.action = action;
    rep.status = s.status.empty() ? (action == dsn_action::failed ? "5.0.0" : "4.0.0") : s.status;
    if (action == dsn_action::relayed && rep.status[0] != '2') rep.status = "2.0.0";
    rep.remote_mta = s.remote_mta;
    rep.remote_reply = s.reply;
    rep.diagnostic = s.diagnostic;
    rep.last_attempt = s.last_attempt_at;
    if (action == dsn_action::delayed) {
      rep.will_retry_until =
          m->queued_at + settings_.retry.for_domain(r.rcpt.address.box.domain).lifetime;
      delayed.push_back(i);
    } else {
      indices.push_back(i);
    }
    reports.push_back(std::move(rep));
  }
  // Reports nobody asked for are marked done at once, with the status as it is now.
  if (!silent.empty() && deps_.queue->update(state_update{id, std::move(silent)})) return;
  m = deps_.queue->find(id);
  if (m != nullptr && !reports.empty())
    return send_report(*m, indices, std::move(reports), delayed);
  if (m == nullptr || m->has_pending()) return;
  if (std::any_of(m->recipients.begin(), m->recipients.end(),
                  [](const queued_recipient& r) { return !r.status.dsn_sent; })) {
    return;
  }
  if (deps_.queue->remove(id)) return;
  bytes_cache_.erase(id);
  engine_event ev;
  ev.what = engine_event::kind::removed;
  ev.id = id;
  emit(std::move(ev));
}

void delivery_engine::impl::send_report(const queued_message& m, std::vector<std::size_t> indices,
                                        std::vector<dsn_recipient> reports,
                                        std::vector<std::size_t> delayed) {
  std::error_code error;
  std::shared_ptr<const std::string> bytes = deps_.queue->load_message(m.id, error);
  dsn_request request;
  request.reporting_mta = settings_.hostname;
  request.now = deps_.clock->now();
  request.token = make_dsn_token(*deps_.random);
  request.original = original_of(m.envelope, m.queued_at, bytes ? std::string_view(*bytes) : "");
  request.recipients = std::move(reports);
  request.options = settings_.dsn_content;
  dsn_build_result built = build_dsn(request);
  const std::string id = m.id;
  if (!built.value) {
    engine_event ev;
    ev.what = engine_event::kind::spool_error;
    ev.id = id;
    ev.detail = "report not built: " + built.detail;
    return emit(std::move(ev));
  }
  engine_event ev;
  ev.what = engine_event::kind::report_queued;
  ev.id = id;
  ev.recipient = built.value->recipient.to_string();
  ev.detail = built.value->message_id;
  reporting_.insert(id);
  ++stats.reports;
  std::weak_ptr<bool> alive = alive_;
  deps_.reports(std::move(*built.value), [this, alive, id, indices, delayed, ev](bool ok) {
    if (alive.expired()) return;
    reporting_.erase(id);
    const queued_message* now_m = deps_.queue->find(id);
    if (!ok || now_m == nullptr) {
      if (ok) return;
      // The report could not be stored: try again later; nothing is marked sent.
      std::weak_ptr<bool> again = alive_;
      deps_.timers->schedule(deps_.clock->now() + core::duration_ms{60'000}, [this, again, id] {
        if (!again.expired()) settle(id);
      });
      return;
    }
    emit(ev);
    state_update up{id, {}};
    for (std::size_t i : indices) {
      recipient_status s = now_m->recipients[i].status;
      s.dsn_sent = true;
      up.changes.push_back({i, s});
    }
    for (std::size_t i : delayed) {
      recipient_status s = now_m->recipients[i].status;
      s.delay_warning_sent = true;
      up.changes.push_back({i, s});
    }
    if (!deps_.queue->update(up)) settle(id);
  });
}

}  // namespace mailsim::queue
