// One SMTP session of a simulated provider (or of a sender's bounce sink): the driver loop
// of reference-server/server/connection.cpp, on the scheduler instead of Asio.
#include <utility>

#include "simulator/world/receiver_impl.hpp"

namespace mailsim::sim::world {

receiver_session::receiver_session(session_owner& owner, std::uint64_t id,
                                   std::unique_ptr<network::link_stream> stream,
                                   smtp::server_options options, smtp::limits limits,
                                   smtp::server_deps deps)
    : owner_(owner),
      id_(id),
      stream_(std::move(stream)),
      ip_(stream_->remote().address),
      address_(core::parse_ip(ip_).value_or(core::ip_address{})),
      smtp_(std::move(options), limits, deps) {}

receiver_session::~receiver_session() {
  if (timer_) owner_.sched().cancel(*timer_);
}

void receiver_session::on_data(std::string_view bytes) {
  smtp_.feed(bytes);
  drive();
}

void receiver_session::on_closed(std::error_code) {
  // Nothing follows on_closed(): the session sees the end of input and winds down.
  smtp_.feed_eof();
  drive();
}

void receiver_session::resume(const smtp::decision& d) {
  if (finished_) return;
  smtp_.submit(d);
  drive();
}

// Runs the session until it needs bytes, waits for a later decision, or ends.
void receiver_session::drive() {
  if (driving_ || paused_ || finished_) return;
  driving_ = true;
  for (;;) {
    const smtp::server_event ev = smtp_.next_event();
    using kind = smtp::server_event_kind;
    if (ev.kind == kind::need_more || ev.kind == kind::waiting) break;
    if (ev.kind == kind::close || ev.kind == kind::starttls || ev.kind == kind::auth) {
      closing_ = true;  // STARTTLS and AUTH are never offered, so never reached
      break;
    }
    std::optional<smtp::decision> d = owner_.decide(*this, ev);
    if (finished_) break;  // a silent close
    if (!d) break;         // answered later through resume()
    smtp_.submit(*d);
  }
  driving_ = false;
  flush();
  if (!finished_) arm_deadline();
}

// Writes what the session said, after the tarpit delay when there is one; the session is
// not driven meanwhile, so each answer waits its turn, as behind a sleeping server.
void receiver_session::flush() {
  if (finished_ || paused_) return;
  std::string out = smtp_.take_output();
  if (out.empty()) {
    if (closing_) finish();
    return;
  }
  owner_.count_replies(*this, out);
  const core::duration_ms tarpit = owner_.tarpit();
  if (tarpit.count() <= 0) {
    write_out(std::move(out));
    return;
  }
  paused_ = true;
  std::weak_ptr<bool> alive = owner_.liveness();
  session_owner* owner = &owner_;
  owner_.sched().schedule_after(tarpit, [alive, owner, id = id_, out = std::move(out)]() mutable {
    if (alive.expired()) return;
    receiver_session* s = owner->find(id);
    if (s == nullptr || s->finished_) return;
    s->paused_ = false;
    s->write_out(std::move(out));
    if (!s->finished_) s->drive();
  });
}

void receiver_session::write_out(std::string bytes) {
  stream_->write(bytes);
  if (closing_) finish();
}

// Answers already given (a pipelining client's 250 for its last message) still go out;
// the command being decided gets no answer at all.
void receiver_session::close_silently() {
  closing_ = true;
  flush();
}

void receiver_session::shut_down() {
  if (finished_) return;
  if (!paused_ && smtp_.shutdown()) {
    closing_ = true;
    flush();
    return;
  }
  close_silently();
}

void receiver_session::finish() {
  if (finished_) return;
  finished_ = true;
  if (timer_) owner_.sched().cancel(*timer_);
  timer_.reset();
  stream_->close();  // what was written still goes out, then an orderly end
  owner_.finished(*this);
}

// One timer per session, armed lazily: activity moves the deadline later without touching
// the scheduler; when the timer fires early it is armed again for the new deadline.
void receiver_session::arm_deadline() {
  const std::optional<core::time_point> deadline = smtp_.next_deadline();
  if (!deadline) return;  // a stale timer firing later finds nothing due
  if (timer_ && armed_ && *armed_ <= *deadline) return;
  if (timer_) owner_.sched().cancel(*timer_);
  armed_ = *deadline;
  std::weak_ptr<bool> alive = owner_.liveness();
  session_owner* owner = &owner_;
  timer_ = owner_.sched().schedule(*deadline, [alive, owner, id = id_] {
    if (alive.expired()) return;
    receiver_session* s = owner->find(id);
    if (s == nullptr || s->finished_) return;
    s->timer_.reset();
    s->armed_.reset();
    s->smtp_.on_timeout(owner->sched().now());
    s->drive();
  });
}

}  // namespace mailsim::sim::world
