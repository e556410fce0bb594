// STARTTLS on a simulated connection (RFC 3207): a flag on the link and a tls_result that
// describes the listener's certificate; no bytes are encrypted.
#include <utility>

#include "simulator/network/connection.hpp"
#include "simulator/network/network_core.hpp"

namespace mailsim::sim::network {

namespace {

std::error_code errc(std::errc e) {
  return std::make_error_code(e);
}

const char* side_name(int side) {
  return side == client_side ? "client" : "server";
}

bool names_host(const tls_profile& tls, const std::string& host) {
  if (host.empty()) return false;
  for (const auto& name : tls.names) {
    if (certificate_names_host(name, host)) return true;
  }
  return false;
}

void append_detail(std::string& detail, const std::string& more) {
  if (!detail.empty()) detail += "; ";
  detail += more;
}

}  // namespace

void connection::start_tls(int side, const core::tls_request& request) {
  auto& s = sides_[side];
  if (s.done || broken_ || net_.expired()) return;
  const int peer = 1 - side;
  std::error_code misuse;
  if (!s.reported || s.tls != tls_phase::none) {
    misuse = errc(std::errc::operation_not_permitted);
  } else if (side == client_side && request.verify == core::tls_verify::hostname &&
             request.server_name.empty()) {
    misuse = errc(std::errc::invalid_argument);
  }
  if (misuse) {
    log(std::string("starttls ") + side_name(side) + " refused: " + reason_text(misuse));
    broken_ = true;
    end_side(side, misuse, now());
    if (sides_[peer].exists)
      end_side(peer, errc(std::errc::connection_reset), now() + link_.latency);
    return;
  }
  s.tls = tls_phase::requested;
  s.tls_request = request;
  if (side == client_side) sni_ = request.server_name;
  log(std::string("starttls ") + side_name(side));
  if (request.timeout.count() > 0) {
    s.tls_timer = at(now() + request.timeout, [side](connection& c) {
      c.sides_[side].tls_timer.reset();
      c.tls_timed_out(side);
    });
  }
  // One round trip after the later of the two calls (a TLS 1.3 full handshake).
  if (sides_[peer].tls == tls_phase::requested) {
    at(now() + 2 * link_.latency, [](connection& c) { c.handshake_done(); });
  }
}

void connection::tls_timed_out(int side) {
  auto& s = sides_[side];
  if (s.tls != tls_phase::requested || s.done || broken_) return;
  if (auto net = net_.lock()) ++net->stats.timed_out;
  log(std::string("tls handshake timed out on the ") + side_name(side));
  broken_ = true;
  end_side(side, errc(std::errc::timed_out), now());
  const int peer = 1 - side;
  if (sides_[peer].exists) end_side(peer, errc(std::errc::connection_reset), now() + link_.latency);
}

// The checks in the order a verifying client meets them.
std::error_code connection::verify_failure(const core::tls_request& request) const {
  if (!tls_->available) return core::transport_errc::tls_handshake_failed;
  if (request.verify == core::tls_verify::none) return {};
  if (!tls_->trusted) return core::transport_errc::tls_untrusted;
  if (tls_->expired) return core::transport_errc::tls_expired;
  if (request.verify == core::tls_verify::hostname && !names_host(*tls_, request.server_name)) {
    return core::transport_errc::tls_name_mismatch;
  }
  return {};
}

core::tls_result connection::tls_result_for(int side) const {
  core::tls_result result;
  result.protocol = tls_->protocol;
  result.cipher = tls_->cipher;
  if (side == server_side) {
    result.detail = "no client certificate";
    return result;
  }
  result.chain_trusted = tls_->trusted && !tls_->expired;
  result.name_matched = names_host(*tls_, sni_);
  if (!tls_->trusted) append_detail(result.detail, "certificate not trusted");
  if (tls_->expired) append_detail(result.detail, "certificate expired");
  if (!result.name_matched) {
    append_detail(result.detail, "certificate does not name \"" + sni_ + "\"");
  }
  return result;
}

void connection::handshake_done() {
  auto net = net_.lock();
  auto& client = sides_[client_side];
  auto& server = sides_[server_side];
  if (broken_ || client.done || server.done) return;
  if (client.tls != tls_phase::requested || server.tls != tls_phase::requested) return;
  cancel(client.tls_timer);
  cancel(server.tls_timer);
  if (const std::error_code failure = verify_failure(client.tls_request)) {
    ++net->stats.tls_failures;
    log("tls failed: " + failure.message());
    broken_ = true;
    end_side(client_side, failure, now());
    end_side(server_side, core::transport_errc::tls_handshake_failed, now());
    return;
  }
  tls_up_ = true;
  client.tls = tls_phase::ready;
  server.tls = tls_phase::ready;
  log("tls ready " + tls_->protocol + " " + tls_->cipher + " sni=\"" + sni_ + "\"");
  for (int side : {client_side, server_side}) {
    at(now(), [side, result = tls_result_for(side)](connection& c) { c.report_tls(side, result); });
  }
  // Bytes written during the handshake go out now, encrypted.
  for (int side : {client_side, server_side}) {
    if (!sides_[side].held.empty()) send(side, std::exchange(sides_[side].held, {}), false);
  }
}

void connection::report_tls(int side, const core::tls_result& result) {
  auto& s = sides_[side];
  if (s.done || broken_) return;
  s.tls_reported = true;
  if (s.handler != nullptr) s.handler->on_tls_ready(result);
  arm_pump(1 - side);  // encrypted bytes from the peer may wait for this report
}

}  // namespace mailsim::sim::network
