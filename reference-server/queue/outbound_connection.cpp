#include "reference-server/queue/outbound_connection.hpp"

#include <utility>

namespace mailsim::queue {

namespace {

connection_end make_end(bool was_ready, const connection_target& t) {
  connection_end end;
  end.was_ready = was_ready;
  end.last = t;
  return end;
}

}  // namespace

outbound_connection::outbound_connection(connection_setup setup, connection_deps deps,
                                         connection_owner& owner)
    : setup_(std::move(setup)), deps_(deps), owner_(owner) {}

outbound_connection::~outbound_connection() {
  *alive_ = false;
  if (deadline_timer_ != 0) deps_.timers->cancel(deadline_timer_);
}

const smtp::server_capabilities& outbound_connection::capabilities() const {
  return session_->capabilities();
}

bool outbound_connection::ready() const {
  return ready_ && !job_ && !finished_;
}

void outbound_connection::open() {
  connect_current();
}

void outbound_connection::connect_current() {
  const connection_target& t = setup_.targets[target_index_];
  smtp::client_options options = setup_.client;
  session_ = std::make_unique<smtp::client_session>(options, setup_.limits,
                                                    smtp::client_deps{deps_.clock, deps_.random});
  core::connect_request request;
  request.remote = {t.address, t.port};
  request.local = {setup_.local_address, 0};
  request.timeout = setup_.connect_timeout;
  owner_.on_connecting(*this, t);
  stream_ = deps_.transport->connect(request, *this);
}

void outbound_connection::send(delivery_job job, const smtp::envelope& env,
                               std::string_view message) {
  ready_ = false;
  job_ = std::move(job);
  if (!session_->start_transaction(env, message)) {
    // The session refused the envelope (a caller bug: the engine checks what it sends). The
    // error event that follows is turned into a transient local result, so nothing is lost.
  }
  pump();
}

void outbound_connection::quit() {
  ready_ = false;
  if (session_ && !session_->closed()) session_->quit();
  pump();
}

void outbound_connection::on_connected() {
  pump();
}

void outbound_connection::on_data(std::string_view bytes) {
  session_->feed(bytes);
  pump();
}

void outbound_connection::on_tls_ready(const core::tls_result&) {
  session_->tls_started();
  pump();
}

void outbound_connection::on_closed(std::error_code reason) {
  if (!session_->closed() && reason) {
    // The stream failed (refused, timed out, reset, TLS): the session cannot go on.
    connection_end end = make_end(was_ready_, target());
    end.error = reason;
    end.detail = reason.message();
    session_over(std::move(end));
    return;
  }
  session_->feed_eof();
  pump();
}

void outbound_connection::flush() {
  while (session_->has_output()) stream_->write(session_->take_output());
}

// Runs the session until it needs the network; handles what it reports on the way. The
// owner may call send() or quit() from inside (on_ready): the outer loop goes on for it.
void outbound_connection::pump() {
  if (in_pump_ || finished_ || !session_) return;
  in_pump_ = true;
  std::weak_ptr<bool> alive = alive_;
  for (;;) {
    smtp::client_event ev = session_->next_event();
    if (ev.kind == smtp::client_event_kind::need_more) {
      if (!session_->has_output()) break;
      flush();
      continue;
    }
    if (ev.kind == smtp::client_event_kind::waiting) {
      flush();
      break;
    }
    const bool closed = ev.kind == smtp::client_event_kind::closed;
    handle(ev);
    if (alive.expired() || closed || finished_) break;
  }
  if (alive.expired()) return;
  in_pump_ = false;
  if (!finished_) arm_deadline();
}

void outbound_connection::handle(const smtp::client_event& ev) {
  switch (ev.kind) {
    case smtp::client_event_kind::ready_for_transaction:
      ready_ = true;
      was_ready_ = true;
      if (!job_) owner_.on_ready(*this);
      return;
    case smtp::client_event_kind::starttls: {
      flush();
      core::tls_request request;
      request.server_name = target().host;
      request.verify = setup_.client.starttls == smtp::tls_policy::required
                           ? setup_.tls_verify
                           : core::tls_verify::none;
      request.timeout = setup_.tls_timeout;
      stream_->start_tls(request);
      return;
    }
    case smtp::client_event_kind::transaction_result: {
      ++transactions_;
      delivery_job job = std::move(*job_);
      job_.reset();
      owner_.on_result(*this, std::move(job), ev.result);
      return;
    }
    case smtp::client_event_kind::error: {
      if (!job_) return;
      smtp::transaction_result local;
      local.answer =
          smtp::make_reply(451, "4.3.0", "could not start the transaction: " + ev.detail);
      local.local = true;
      local.recipients.assign(job_->recipients.size(), smtp::recipient_outcome{local.answer, true});
      delivery_job job = std::move(*job_);
      job_.reset();
      owner_.on_result(*this, std::move(job), local);
      return;
    }
    case smtp::client_event_kind::closed: {
      flush();
      connection_end end = make_end(was_ready_, target());
      end.reason = ev.reason;
      if (ev.answer.code != 0) end.answer = ev.answer;
      end.detail = std::string(smtp::close_reason_name(ev.reason)) +
                   (ev.detail.empty() ? "" : ": " + ev.detail);
      session_over(std::move(end));
      return;
    }
    default:
      return;
  }
}

// The session on the current target is over. Before it was ever ready, the next target is
// tried (RFC 5321 §5.1: a connection failure or a refusing greeting moves on to the next
// address); otherwise, or when none is left, the connection is finished.
void outbound_connection::session_over(connection_end end) {
  ready_ = false;
  if (stream_) stream_->close();
  const bool try_next = !end.was_ready && end.reason != smtp::close_reason::quit &&
                        target_index_ + 1 < setup_.targets.size();
  if (!try_next) return finish(std::move(end));
  owner_.on_target_failed(*this, end);
  ++target_index_;
  // Not from inside the old stream's callback: the old stream is released on a later turn.
  std::weak_ptr<bool> alive = alive_;
  deps_.timers->schedule(deps_.clock->now(), [this, alive] {
    if (alive.expired() || finished_) return;
    stream_.reset();
    connect_current();
  });
}

void outbound_connection::finish(connection_end end) {
  finished_ = true;
  ready_ = false;
  if (deadline_timer_ != 0) deps_.timers->cancel(deadline_timer_);
  deadline_timer_ = 0;
  std::optional<delivery_job> unfinished = std::move(job_);
  job_.reset();
  owner_.on_finished(*this, end, std::move(unfinished));
}

void outbound_connection::arm_deadline() {
  std::optional<core::time_point> at = session_ ? session_->next_deadline() : std::nullopt;
  if (at == deadline_at_) return;
  if (deadline_timer_ != 0) deps_.timers->cancel(deadline_timer_);
  deadline_timer_ = 0;
  deadline_at_ = at;
  if (!at) return;
  // `this` alone: the destructor cancels deadline_timer_, and a lambda that fits
  // std::function's own room costs no allocation on every command.
  deadline_timer_ = deps_.timers->schedule(*at, [this] {
    deadline_timer_ = 0;
    deadline_at_.reset();
    on_deadline();
  });
}

void outbound_connection::on_deadline() {
  if (finished_ || !session_) return;
  session_->on_timeout(deps_.clock->now());
  pump();
}

}  // namespace mailsim::queue
