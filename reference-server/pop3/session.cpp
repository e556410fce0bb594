#include "reference-server/pop3/session.hpp"

#include <array>
#include <utility>

#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {
// The one dispatch table of the POP3 server (RFC 1939 §5-6, RFC 2449, 2595, 5034).
void session::impl::dispatch(const command_line& cmd) {
  struct command_entry {
    std::string_view name;
    handler_fn run;
  };
  static const std::array<command_entry, 14> table = {{
      {"USER", &cmd_user},
      {"PASS", &cmd_pass},
      {"AUTH", &cmd_auth},
      {"CAPA", &cmd_capa},
      {"STLS", &cmd_stls},
      {"STAT", &cmd_stat},
      {"LIST", &cmd_list},
      {"UIDL", &cmd_uidl},
      {"RETR", &cmd_retr},
      {"TOP", &cmd_top},
      {"DELE", &cmd_dele},
      {"RSET", &cmd_rset},
      {"NOOP", &cmd_noop},
      {"QUIT", &cmd_quit},
  }};
  for (const auto& entry : table) {
    if (entry.name == cmd.name) {
      entry.run(*this, cmd);
      return;
    }
  }
  client_error("unknown command");
}

session::impl::impl(session& owner, options o, limits l, deps d)
    : self(owner),
      opts(std::move(o)),
      lim(l),
      dep(d),
      reader({l.line_bytes_max}),
      tls(opts.tls_active) {
  last_activity = dep.clock->now();
}

// The idle timer restarts on complete lines only: a client trickling one byte at a time
// must still be logged out.
void session::impl::touch() {
  last_activity = dep.clock->now();
}

event_kind session::impl::run() {
  for (;;) {
    if (hold.active()) {
      if (!eof) return event_kind::need_more;  // nothing is read until the answer went out
      hold.discard(self.output_);  // leaving must not be a way around the delay
      finish();
      return event_kind::close;
    }
    if (st == state::closed) return event_kind::close;
    if (job) return event_kind::auth;
    if (stls_due) {
      stls_due = false;
      return event_kind::stls;
    }
    if (st == state::tls_wait) {
      if (!eof) return event_kind::need_more;
      finish();  // the peer left during the handshake
      return event_kind::close;
    }
    // Pipelined RETRs answer faster than a slow reader takes: write before reading more.
    if (self.output_.size() >= lim.output_pending_max) return event_kind::write;
    core::line l = reader.next();
    if (l.state == core::line::status::need_more) {
      if (!eof) return event_kind::need_more;
      finish();  // the peer is gone: no UPDATE state, nothing is deleted
      return event_kind::close;
    }
    touch();
    if (l.state == core::line::status::too_long) {
      // The reader skips to the next LF, so the session can answer and go on.
      if (st == state::sasl) end_auth();
      client_error("line too long");
      continue;
    }
    if (l.has_bare_cr) {
      if (st == state::sasl) end_auth();
      client_error("bare CR in command line");
      continue;
    }
    if (st == state::sasl) {
      auth_response(l.text);
      continue;
    }
    dispatch(split_command(l.text));
  }
}

void session::impl::ok(std::string_view text) {
  self.output_ += "+OK";
  if (!text.empty()) {
    self.output_ += ' ';
    self.output_ += text;
  }
  self.output_ += "\r\n";
}

void session::impl::err(std::string_view text) {
  self.output_ += "-ERR ";
  self.output_ += text;
  self.output_ += "\r\n";
}

void session::impl::client_error(std::string_view text) {
  ++self.stats_.errors;
  err(text);
  if (lim.errors_max > 0 && self.stats_.errors >= lim.errors_max) {
    close_with("too many errors, closing connection");
  }
}

void session::impl::close_with(std::string_view text) {
  err(text);
  finish();
}

void session::impl::finish() {
  st = state::closed;
  drop.reset();
  deleted.clear();
  mechanism.reset();
  job.reset();
  final_user.reset();
}

bool session::impl::in_state(state wanted) {
  if (st == wanted) return true;
  client_error(wrong_state_text);
  return false;
}

session::session(options opts, limits lim, deps d)
    : impl_(std::make_unique<impl>(*this, std::move(opts), lim, d)) {}

session::~session() = default;

void session::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->ok(impl_->opts.greeting_text);
}

void session::feed(std::string_view bytes) {
  // After STLS nothing may be read until TLS is up (CVE-2011-0411): those bytes are dropped.
  if (impl_->st == impl::state::closed || impl_->st == impl::state::tls_wait) return;
  // A client that keeps sending while its failed login is held is closed, not buffered.
  if (impl_->hold.active() && !impl_->hold.accept_input(bytes.size())) {
    impl_->hold.discard(output_);
    impl_->finish();
    return;
  }
  impl_->reader.feed(bytes);
}

void session::feed_eof() {
  impl_->eof = true;
}

event_kind session::next_event() {
  if (impl_->job && impl_->job->result) {
    sasl::step_result r = std::move(*impl_->job->result);
    impl_->job.reset();
    impl_->auth_step(r);
  }
  return impl_->run();
}

std::string session::take_output() {
  return impl_->hold.take(output_);
}

bool session::has_output() const {
  return impl_->hold.has_ready(output_);
}

std::optional<core::time_point> session::next_deadline() const {
  if (impl_->hold.active()) return impl_->hold.until();
  // While a SASL step or a TLS handshake runs, the time is the server's, not the peer's.
  if (impl_->st == impl::state::closed || impl_->st == impl::state::tls_wait || impl_->job) {
    return std::nullopt;
  }
  return impl_->last_activity + impl_->lim.idle_timeout;
}

void session::on_timeout(core::time_point now) {
  if (impl_->hold.active()) {
    if (impl_->hold.release_if_due(now)) impl_->touch();
    return;
  }
  auto deadline = next_deadline();
  if (!deadline || now < *deadline) return;
  // RFC 1939 §3: the autologout timer; a timeout is not a QUIT, so nothing is deleted.
  impl_->close_with("autologout; idle for too long");
}

void session::tls_started() {
  if (impl_->st != impl::state::tls_wait) return;
  // RFC 2595 §4: the client starts over; nothing said before TLS counts.
  impl_->reader.clear();
  impl_->tls = true;
  impl_->user_name.reset();
  impl_->st = impl::state::authorization;
  impl_->touch();
}

void session::run_auth() {
  impl::auth_job* job = impl_->job.get();
  if (job == nullptr || job->result || !impl_->mechanism) return;
  job->result = job->start ? impl_->mechanism->start(job->input)
                           : impl_->mechanism->step(job->input.value_or(""));
}

void session::shutdown() {
  impl_->hold.clear();  // a stopping server does not make anyone wait
  if (impl_->st == impl::state::closed) return;
  impl_->close_with("[SYS/TEMP] server shutting down");
}

bool session::closed() const {
  return impl_->st == impl::state::closed;
}

}  // namespace mailsim::pop3
