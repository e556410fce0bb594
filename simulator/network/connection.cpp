#include "simulator/network/connection.hpp"

#include <algorithm>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "simulator/network/network_core.hpp"

namespace mailsim::sim::network {

namespace {

std::error_code errc(std::errc e) {
  return std::make_error_code(e);
}

const char* side_name(int side) {
  return side == client_side ? "client" : "server";
}

// Time on the wire of `bytes` at `bandwidth` bytes per second, rounded up to whole ms.
core::duration_ms wire_time(std::size_t bytes, std::uint64_t bandwidth) {
  if (bandwidth == 0) return core::duration_ms{0};
  const std::uint64_t ms = (static_cast<std::uint64_t>(bytes) * 1000 + bandwidth - 1) / bandwidth;
  return core::duration_ms{static_cast<std::int64_t>(ms)};
}

}  // namespace

// Short, platform-independent names, so that transcripts do not depend on strerror().
std::string reason_text(std::error_code reason) {
  if (!reason) return "eof";
  if (reason.category() == std::generic_category()) {
    switch (static_cast<std::errc>(reason.value())) {
      case std::errc::connection_refused:
        return "connection_refused";
      case std::errc::timed_out:
        return "timed_out";
      case std::errc::connection_reset:
        return "connection_reset";
      case std::errc::operation_not_permitted:
        return "operation_not_permitted";
      case std::errc::invalid_argument:
        return "invalid_argument";
      case std::errc::address_not_available:
        return "address_not_available";
      case std::errc::network_unreachable:
        return "network_unreachable";
      default:
        break;
    }
  }
  return std::string(reason.category().name()) + ":" + std::to_string(reason.value());
}

core::timer_id connection::at(core::time_point when, std::function<void(connection&)> fn) {
  auto net = net_.lock();
  if (!net) return 0;
  return net->sched.schedule(when, [self = shared_from_this(), fn = std::move(fn)]() mutable {
    if (!self->net_.expired()) fn(*self);  // a destroyed network drops its pending events
  });
}

void connection::log(std::string_view text) const {
  auto net = net_.lock();
  if (!net || !net->tracing()) return;
  net->tr->record("net", line_start(*net).append(text));
}

// "connect <client> -> <server><tail>", built in the network's line buffer (once per
// connection: every attempt of a run).
void connection::log_connect(std::string_view tail) const {
  auto net = net_.lock();
  if (!net || !net->tracing()) return;
  std::string& line = line_start(*net);
  line += "connect ";
  append_endpoint(line, sides_[client_side].local);
  line += " -> ";
  append_endpoint(line, sides_[server_side].local);
  line += tail;
  net->tr->record("net", line);
}

// The network's line buffer, holding "c<id> ": a line is built there without strings of its
// own (payload lines are most of a run's transcript).
std::string& connection::line_start(network_core& net) const {
  std::string& line = net.line;
  line.assign("c");
  core::append_decimal(line, id_);
  line += ' ';
  return line;
}

core::time_point connection::now() const {
  auto net = net_.lock();
  return net ? net->sched.now() : core::time_point{};
}

void connection::cancel(std::optional<core::timer_id>& timer) {
  if (!timer) return;
  if (auto net = net_.lock()) net->sched.cancel(*timer);
  timer.reset();
}

// --- connecting -----------------------------------------------------------------------------

void connection::start(const core::endpoint& client, const core::endpoint& server,
                       core::stream_handler& handler, core::duration_ms timeout) {
  auto net = net_.lock();
  sides_[client_side].local = client;
  sides_[client_side].handler = &handler;
  sides_[client_side].exists = true;
  sides_[server_side].local = server;
  link_ = net->profile_for(server, client);
  log_connect("");
  at(now() + link_.latency, [](connection& c) { c.syn_arrives(); });
  if (timeout.count() > 0) {
    connect_timer_ = at(now() + timeout, [](connection& c) {
      c.connect_timer_.reset();
      c.connect_timed_out();
    });
  }
}

void connection::fail_at_once(const core::endpoint& client, const core::endpoint& server,
                              core::stream_handler& handler, std::error_code reason) {
  sides_[client_side].local = client;
  sides_[client_side].handler = &handler;
  sides_[client_side].exists = true;
  sides_[server_side].local = server;
  log_connect(" failed: " + reason_text(reason));
  connecting_ = false;
  broken_ = true;
  end_side(client_side, reason, now());
}

void connection::syn_arrives() {
  auto net = net_.lock();
  if (!connecting_ || sides_[client_side].done) return;  // the client gave up
  const auto& server = sides_[server_side].local;
  const auto& client = sides_[client_side].local;
  if (const fault* f = net->active_fault(fault_kind::blackhole, server, client)) {
    log("syn dropped (fault " + f->name + ")");
    return;  // the client's timeout decides
  }
  const listener* found = net->listeners.find(server);
  const fault* refusing = net->active_fault(fault_kind::refuse, server, client);
  if (found == nullptr || refusing != nullptr) {
    log(refusing ? "refused (fault " + refusing->name + ")" : std::string("refused (no listener)"));
    ++net->stats.refused;
    connecting_ = false;
    broken_ = true;
    cancel(connect_timer_);
    end_side(client_side, errc(std::errc::connection_refused), now() + link_.latency);
    return;
  }
  accept(*net, *found);
}

void connection::accept(network_core& net, const listener& found) {
  tls_ = found.tls;
  accept_handler* acceptor = found.handler;  // on_accept may change the registry
  auto& server = sides_[server_side];
  server.exists = true;
  server.can_send = true;
  ++net.stats.established;
  log("accepted");
  at(now() + link_.latency, [](connection& c) { c.client_connected(); });
  auto* handler =
      acceptor->on_accept(std::make_unique<link_stream>(shared_from_this(), server_side));
  if (server.done) return;  // closed or destroyed inside on_accept
  if (handler == nullptr) {
    abort(server_side, "dropped by the listener");
    return;
  }
  server.handler = handler;
  at(now(), [](connection& c) {
    auto& s = c.sides_[server_side];
    if (s.done || s.handler == nullptr) return;
    s.reported = true;
    s.handler->on_connected();
    c.arm_pump(client_side);
  });
}

void connection::client_connected() {
  auto& client = sides_[client_side];
  if (!connecting_ || client.done) return;
  connecting_ = false;
  cancel(connect_timer_);
  client.can_send = true;
  log("connected");
  // What was written before goes first, before anything written from on_connected().
  if (!client.held.empty()) send(client_side, std::exchange(client.held, {}), false);
  client.reported = true;
  client.handler->on_connected();
  arm_pump(server_side);
}

void connection::connect_timed_out() {
  auto net = net_.lock();
  if (!connecting_ || sides_[client_side].done) return;
  ++net->stats.timed_out;
  log("connect timed out");
  connecting_ = false;
  broken_ = true;
  end_side(client_side, errc(std::errc::timed_out), now());
  if (sides_[server_side].exists && !sides_[server_side].done) {
    end_side(server_side, errc(std::errc::connection_reset), now() + link_.latency);
  }
}

// --- ending ---------------------------------------------------------------------------------

void connection::end_side(int side, std::error_code reason, core::time_point when) {
  auto& s = sides_[side];
  if (s.done) return;
  s.done = true;
  s.held.clear();
  at(when, [side, reason](connection& c) {
    // Logged only when someone is told: a side that closed or dropped its stream is not.
    if (auto* handler = std::exchange(c.sides_[side].handler, nullptr)) {
      c.log(std::string("closed ") + side_name(side) + " " + reason_text(reason));
      handler->on_closed(reason);
    }
    c.maybe_finish();
  });
  maybe_finish();
}

void connection::maybe_finish() {
  if (over_) return;
  if (!sides_[client_side].done) return;
  if (sides_[server_side].exists && !sides_[server_side].done) return;
  over_ = true;
  cancel(connect_timer_);
  for (auto& s : sides_) {
    cancel(s.pump);
    cancel(s.tls_timer);
    s.out.clear();
  }
  if (auto net = net_.lock()) net->live.erase(id_);
}

void connection::close(int side) {
  auto& s = sides_[side];
  s.handler = nullptr;
  if (s.done) return;
  if (broken_) {
    s.done = true;
    maybe_finish();
    return;
  }
  // Nothing is worth sending before the connection or during a handshake (transport.hpp).
  if (!s.can_send || s.tls == tls_phase::requested) {
    abort(side, "abandoned");
    return;
  }
  s.done = true;
  log(std::string("close ") + side_name(side));
  send(side, {}, true);
  maybe_finish();
}

void connection::abort(int side, const char* why) {
  auto& s = sides_[side];
  s.handler = nullptr;
  if (s.done) return;
  s.done = true;
  s.held.clear();
  s.out.clear();
  cancel(s.pump);
  log(std::string("abort ") + side_name(side) + " (" + why + ")");
  const int peer = 1 - side;
  if (sides_[peer].exists && !sides_[peer].done && !broken_) {
    if (auto net = net_.lock()) ++net->stats.resets;
    end_side(peer, errc(std::errc::connection_reset), now() + link_.latency);
  }
  broken_ = true;
  maybe_finish();
}

void connection::stream_gone(int side) {
  if (sides_[side].done) {
    sides_[side].handler = nullptr;
    return;
  }
  abort(side, "stream destroyed");
}

void connection::reset_both(const std::string& why) {
  if (broken_ || over_) return;
  auto net = net_.lock();
  ++net->stats.resets;
  log("reset (" + why + ")");
  broken_ = true;
  connecting_ = false;
  cancel(connect_timer_);
  for (auto& s : sides_) {
    cancel(s.pump);
    s.out.clear();
  }
  end_side(client_side, errc(std::errc::connection_reset), now());
  if (sides_[server_side].exists) {
    end_side(server_side, errc(std::errc::connection_reset), now());
  }
}

// --- bytes ----------------------------------------------------------------------------------

void connection::write(int side, std::string_view bytes) {
  auto& s = sides_[side];
  if (s.done || broken_ || bytes.empty()) return;
  if (!s.can_send || s.tls == tls_phase::requested) {
    s.held.append(bytes);
    return;
  }
  send(side, bytes, false);
}

void connection::send(int side, std::string_view bytes, bool fin) {
  auto& s = sides_[side];
  const core::time_point t = now();
  auto net = net_.lock();
  if (fin) {
    s.out.push_back(piece{std::max(t, s.wire_free) + link_.latency, {}, false, true});
  } else {
    const std::size_t size = link_.segment_bytes != 0 ? link_.segment_bytes : bytes.size();
    for (std::size_t off = 0; off < bytes.size(); off += size) {
      const auto part = bytes.substr(off, size);
      s.wire_free = std::max(t, s.wire_free) + wire_time(part.size(), link_.bandwidth_bytes_per_s);
      s.out.push_back(piece{s.wire_free + link_.latency,
                            net ? net->take_buffer(part) : std::string(part),
                            s.tls == tls_phase::ready, false});
    }
  }
  arm_pump(side);
}

bool connection::stalled(const network_core& net) const {
  return net.active_fault(fault_kind::stall, sides_[server_side].local,
                          sides_[client_side].local) != nullptr;
}

// Schedules the delivery of the front piece from `side`, unless the receiver cannot take it
// yet (no on_connected() or on_tls_ready() so far) or a stall holds it; whoever lifts the
// obstacle calls this again.
void connection::arm_pump(int side) {
  auto& s = sides_[side];
  if (s.pump || s.out.empty() || broken_) return;
  auto net = net_.lock();
  if (!net || stalled(*net)) return;
  const auto& to = sides_[1 - side];
  if (!to.done && (!to.reported || (s.out.front().tls && !to.tls_reported))) return;
  s.pump = at(s.out.front().arrival, [side](connection& c) {
    c.sides_[side].pump.reset();
    c.deliver(side);
  });
}

void connection::deliver(int side) {
  auto net = net_.lock();
  auto& s = sides_[side];
  if (broken_ || s.out.empty() || stalled(*net)) return;
  if (const fault* f = net->active_fault(fault_kind::reset, sides_[server_side].local,
                                         sides_[client_side].local)) {
    reset_both("fault " + f->name);
    return;
  }
  if (!s.out.front().fin && lose_piece(*net)) return;
  piece p = std::move(s.out.front());
  s.out.pop_front();
  const int r = 1 - side;
  auto& to = sides_[r];
  if (p.fin) {
    log(std::string("end from ") + side_name(side));
    end_side(r, {}, now());
  } else if (to.tls != tls_phase::none && !p.tls) {
    // RFC 3207 §6: clear text after STARTTLS is never handed on.
    log("dropped " + std::to_string(p.bytes.size()) + " clear-text bytes after starttls");
  } else if (to.done || to.handler == nullptr) {
    log("discarded " + std::to_string(p.bytes.size()) + " bytes for the closed " + side_name(r));
  } else {
    net->stats.bytes_delivered += p.bytes.size();
    if (net->tracing()) {
      std::string& line = line_start(*net);
      line += side == client_side ? "> " : "< ";
      core::append_decimal(line, p.bytes.size());
      line += ' ';
      // "c<id> > <size> " and the bytes, quoted only for sinks that take lines.
      net->tr->record_payload("net", line, p.bytes, net->options.trace_payload_bytes_max);
    }
    to.handler->on_data(p.bytes);
  }
  net->give_back(std::move(p.bytes));
  arm_pump(side);
}

bool connection::lose_piece(network_core& net) {
  const fault* f =
      net.active_fault(fault_kind::loss, sides_[server_side].local, sides_[client_side].local);
  const double p = f != nullptr ? f->loss : link_.loss;
  if (p <= 0) return false;
  if (!rng_) rng_.emplace(net.random.fresh("network/conn/" + std::to_string(id_)));
  if (!rng_->chance(p)) return false;
  reset_both(f != nullptr ? "loss, fault " + f->name : std::string("loss"));
  return true;
}

void connection::rearm() {
  arm_pump(client_side);
  arm_pump(server_side);
}

bool connection::covered_by(const fault& f) const {
  return covers(f, sides_[server_side].local, sides_[client_side].local);
}

}  // namespace mailsim::sim::network
