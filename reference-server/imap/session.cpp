#include "reference-server/imap/session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "reference-server/imap/session_impl.hpp"

namespace mailsim::imap {
// The one dispatch table of the IMAP server: each command and the states it is valid in
// (RFC 9051 §6.1-§6.4, plus the extensions of command.hpp).
void session::impl::dispatch(const command& cmd) {
  constexpr auto bit = [](state s) { return 1U << static_cast<unsigned>(s); };
  constexpr unsigned not_auth = bit(state::not_authenticated);
  constexpr unsigned authed = bit(state::authenticated) | bit(state::selected);
  constexpr unsigned any_state = not_auth | authed;
  constexpr unsigned selected = bit(state::selected);
  struct command_entry {
    command_name name;
    handler_fn run;
    unsigned states;
  };
  static const std::array<command_entry, 30> table = {{
      {command_name::capability, &cmd_capability, any_state},
      {command_name::noop, &cmd_noop, any_state},
      {command_name::logout, &cmd_logout, any_state},
      {command_name::starttls, &cmd_starttls, not_auth},
      {command_name::authenticate, &cmd_authenticate, not_auth},
      {command_name::login, &cmd_login, not_auth},
      {command_name::enable, &cmd_enable, authed},
      {command_name::id, &cmd_id, any_state},
      {command_name::select, &cmd_select, authed},
      {command_name::examine, &cmd_select, authed},
      {command_name::create, &cmd_create, authed},
      {command_name::delete_mailbox, &cmd_delete, authed},
      {command_name::rename, &cmd_rename, authed},
      {command_name::subscribe, &cmd_subscribe, authed},
      {command_name::unsubscribe, &cmd_subscribe, authed},
      {command_name::list, &cmd_list, authed},
      {command_name::lsub, &cmd_list, authed},
      {command_name::namespace_, &cmd_namespace, authed},
      {command_name::status, &cmd_status, authed},
      {command_name::append, &cmd_append, authed},
      {command_name::idle, &cmd_idle, authed},
      {command_name::close, &cmd_close, selected},
      {command_name::unselect, &cmd_close, selected},
      {command_name::expunge, &cmd_expunge, selected},
      {command_name::search, &cmd_search, selected},
      {command_name::fetch, &cmd_fetch, selected},
      {command_name::store, &cmd_store, selected},
      {command_name::copy, &cmd_copy, selected},
      {command_name::move, &cmd_copy, selected},
      {command_name::check, &cmd_check, selected},
  }};
  ++self.stats_.commands;
  for (const auto& entry : table) {
    if (entry.name != cmd.name) continue;
    if ((entry.states & bit(st)) == 0) {
      bad(cmd.tag, "command not valid in this state");
      return;
    }
    entry.run(*this, cmd);
    return;
  }
  bad(cmd.tag, "unknown command");
}

namespace {

// The reader's limits before login: literals no larger than credentials need.
reader_limits unauthenticated(const limits& l) {
  reader_limits r = l.reader;
  r.literal_bytes_max = std::min(r.literal_bytes_max, l.unauthenticated_literal_bytes_max);
  r.nonsync_literal_bytes_max = std::min(r.nonsync_literal_bytes_max, r.literal_bytes_max);
  r.command_bytes_max = std::min(r.command_bytes_max, r.literal_bytes_max + r.line_bytes_max);
  return r;
}

}  // namespace

session::impl::impl(session& owner, options o, limits l, deps d)
    : self(owner),
      opts(std::move(o)),
      lim(l),
      dep(d),
      reader(unauthenticated(l)),
      tls(opts.tls_active) {
  last_activity = dep.clock->now();
}

// The autologout timer restarts on whole commands only: a client trickling one byte at a
// time is still logged out.
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
    if (st == state::logout) return event_kind::close;
    if (job) return event_kind::auth;
    if (fetching) {
      continue_fetch();
      if (fetching) return event_kind::write;
      continue;
    }
    if (starttls_due) {
      starttls_due = false;
      return event_kind::starttls;
    }
    if (tls_wait) {
      if (!eof) return event_kind::need_more;
      finish();  // the peer left during the handshake
      return event_kind::close;
    }
    read_event ev = reader.next();
    if (ev.state == read_event::status::need_more) {
      if (!eof) return event_kind::need_more;
      finish();
      return event_kind::close;
    }
    handle(ev);
  }
}

void session::impl::handle(read_event& ev) {
  switch (ev.state) {
    case read_event::status::need_more:
      return;
    case read_event::status::continuation_needed:
      on_continuation(ev);
      return;
    case read_event::status::error:
      on_read_error(ev);
      return;
    case read_event::status::complete:
      on_command(ev);
      return;
  }
}

void session::impl::on_continuation(const read_event& /*ev*/) {
  if (!in_sasl && !idling) {
    self.output_ += "+ Ready for literal data\r\n";
    return;
  }
  // SASL responses and DONE are single lines: a literal there is a client mistake.
  reader.refuse_literal();
  std::optional<std::string> tag = in_sasl ? std::optional<std::string>(auth_tag)
                                           : std::optional<std::string>(idle_tag);
  if (in_sasl) end_auth();
  idling = false;
  bad(tag, "unexpected literal");
}

void session::impl::on_read_error(const read_event& ev) {
  touch();
  if (ev.fatal) {
    bye_and_close("literal too large, cannot continue");
    return;
  }
  if (in_sasl) end_auth();
  const auto code = static_cast<errc>(ev.error.value());
  if (code == errc::literal_too_large && ev.tag) {
    tagged(*ev.tag, "NO", "[TOOBIG] literal too large");
  } else {
    bad(ev.tag, ev.error.message());
  }
}

void session::impl::on_command(const read_event& ev) {
  touch();
  if (in_sasl) {
    std::optional<std::string_view> line = single_line(ev.command);
    if (!line) {
      end_auth();
      bad(auth_tag, "malformed authentication response");
      return;
    }
    auth_response(*line);
    return;
  }
  if (idling) {
    idling = false;
    if (is_idle_done(ev.command)) {
      tagged(idle_tag, "OK", "IDLE terminated");
    } else {
      bad(idle_tag, "expected DONE");
    }
    return;
  }
  parse_result parsed = parse_command(ev.command, parser_options());
  if (!parsed.value) {
    bad(parsed.error.tag, parsed.error.text.empty() ? "syntax error" : parsed.error.text);
    return;
  }
  dispatch(*parsed.value);
}

void session::impl::untagged(std::string_view text) {
  self.output_ += "* ";
  self.output_ += text;
  self.output_ += "\r\n";
}

void session::impl::tagged(std::string_view tag, std::string_view status,
                           std::string_view text) {
  self.output_ += tag;
  self.output_ += ' ';
  self.output_ += status;
  self.output_ += ' ';
  self.output_ += text;
  self.output_ += "\r\n";
}

namespace {

// RFC 9051 §7.5.1: no EXPUNGE while the client may be counting on sequence numbers.
bool expunge_allowed_after(command_name name) {
  return name != command_name::fetch && name != command_name::store &&
         name != command_name::search;
}

}  // namespace

void session::impl::ok(const command& cmd, std::string_view text) {
  if (st == state::selected && box) {
    report_changes(expunge_allowed_after(cmd.name));
    if (st == state::logout) return;  // the mailbox went away: "* BYE" was the answer
  }
  tagged(cmd.tag, "OK", text);
}

void session::impl::no(const command& cmd, std::string_view text) {
  // A refusal in the selected state may be the first sign that the mailbox is gone.
  if (st == state::selected && box && selected_mailbox_gone()) return;
  tagged(cmd.tag, "NO", text);
}

void session::impl::bad(const std::optional<std::string>& tag, std::string_view text) {
  ++self.stats_.errors;
  if (tag) {
    tagged(*tag, "BAD", text);
  } else {
    untagged(std::string("BAD ") + std::string(text));
  }
  if (lim.errors_max > 0 && self.stats_.errors >= lim.errors_max) {
    bye_and_close("too many errors, closing connection");
  }
}

void session::impl::bye_and_close(std::string_view text) {
  if (st == state::logout) return;
  untagged(std::string("BYE ") + std::string(text));
  finish();
}

void session::impl::finish() {
  st = state::logout;
  close_mailbox();
  account.reset();
  mechanism.reset();
  job.reset();
  fetching.reset();
  final_user.reset();
  in_sasl = false;
  idling = false;
}

std::string session::impl::capability_list() const {
  std::string caps = "IMAP4rev1 IMAP4rev2";
  caps += reader.limits().nonsync_literal_bytes_max >= reader.limits().literal_bytes_max
              ? " LITERAL+"
              : " LITERAL-";
  caps += " SASL-IR ID ENABLE IDLE";
  if (st == state::not_authenticated) {
    if (opts.tls_available && !tls) caps += " STARTTLS";
    if (!plaintext_allowed()) caps += " LOGINDISABLED";
    for (const std::string& m : offered_mechanisms()) caps += " AUTH=" + m;
    return caps;
  }
  caps += " NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE"
          " QRESYNC ESEARCH SEARCHRES BINARY UTF8=ACCEPT";
  return caps;
}

session::session(options opts, limits lim, deps d)
    : impl_(std::make_unique<impl>(*this, std::move(opts), lim, d)) {}

session::~session() = default;

void session::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->untagged("OK [CAPABILITY " + impl_->capability_list() + "] " +
                  impl_->opts.greeting_text);
}

void session::feed(std::string_view bytes) {
  // After STARTTLS nothing may be read until TLS is up (CVE-2011-0411): those bytes go.
  if (impl_->st == impl::state::logout || impl_->tls_wait) return;
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
  const impl& s = *impl_;
  if (s.hold.active()) return s.hold.until();
  if (s.st == impl::state::logout || s.tls_wait || s.job || s.fetching) return std::nullopt;
  const core::duration_ms timeout = s.st == impl::state::not_authenticated
                                        ? s.lim.autologout_unauthenticated
                                        : s.lim.autologout_authenticated;
  core::time_point deadline = s.last_activity + timeout;
  if (s.idling && s.box) deadline = std::min(deadline, s.next_poll);
  return deadline;
}

void session::on_timeout(core::time_point now) {
  impl& s = *impl_;
  if (s.hold.active()) {
    if (s.hold.release_if_due(now)) s.touch();
    return;
  }
  if (s.st == impl::state::logout || s.tls_wait || s.job || s.fetching) return;
  if (s.idling && s.box && now >= s.next_poll) {
    s.idle_poll();
    s.next_poll = now + s.lim.idle_poll_interval;
  }
  const core::duration_ms timeout = s.st == impl::state::not_authenticated
                                        ? s.lim.autologout_unauthenticated
                                        : s.lim.autologout_authenticated;
  if (now >= s.last_activity + timeout) s.bye_and_close("autologout; idle for too long");
}

void session::tls_started() {
  impl& s = *impl_;
  if (!s.tls_wait) return;
  // RFC 9051 §6.2.1: the client starts over; nothing said before TLS counts.
  s.reader.clear();
  s.tls = true;
  s.tls_wait = false;
  s.touch();
}

void session::run_auth() {
  impl::auth_job* job = impl_->job.get();
  if (job == nullptr || job->result || !impl_->mechanism) return;
  job->result = job->start ? impl_->mechanism->start(job->input)
                           : impl_->mechanism->step(job->input.value_or(""));
}

void session::shutdown() {
  impl_->hold.clear();  // a stopping server does not make anyone wait
  impl_->bye_and_close("server shutting down");
}

bool session::closed() const {
  return impl_->st == impl::state::logout;
}

}  // namespace mailsim::imap
