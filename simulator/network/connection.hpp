// Internal to mailsim::sim::network: one connection and its two sides (the client at index
// 0, the server at 1). Not a public header; the contract is network.hpp's.
//
// A side is `done` once no further event may reach its handler except the one final
// on_closed() already scheduled; close() and the stream's destruction also clear the
// handler, so that final event calls nothing. The connection is over when both sides are
// done; a reset or a failed handshake marks it `broken` at once so no piece moves again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "reference-server/core/fifo.hpp"
#include "reference-server/core/transport.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/network/network.hpp"

namespace mailsim::sim::network {

struct network_core;

// The short name of a close reason in the trace ("eof", "connection_reset", …).
std::string reason_text(std::error_code reason);

constexpr int client_side = 0;
constexpr int server_side = 1;

struct piece {
  core::time_point arrival;
  std::string bytes;
  bool tls = false;  // written after the handshake
  bool fin = false;  // the orderly end
};

enum class tls_phase { none, requested, ready };

struct side_state {
  core::stream_handler* handler = nullptr;
  core::endpoint local;
  bool exists = false;    // the server side exists once accepted
  bool can_send = false;  // writes go on the wire (else they wait in `held`)
  bool reported = false;  // on_connected() was delivered
  bool done = false;
  std::string held;  // written before the connection or the handshake was up
  tls_phase tls = tls_phase::none;
  bool tls_reported = false;  // on_tls_ready() was delivered
  core::tls_request tls_request;
  std::optional<core::timer_id> tls_timer;
  // The pipe from this side to the other: the pieces on their way, oldest first.
  core::fifo<piece> out;
  core::time_point wire_free{};
  std::optional<core::timer_id> pump;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(std::weak_ptr<network_core> net, std::uint64_t id) : net_(std::move(net)), id_(id) {}

  // --- set up by the transport ---
  void start(const core::endpoint& client, const core::endpoint& server,
             core::stream_handler& handler, core::duration_ms timeout);
  void fail_at_once(const core::endpoint& client, const core::endpoint& server,
                    core::stream_handler& handler, std::error_code reason);

  // --- the streams' calls ---
  void write(int side, std::string_view bytes);
  void start_tls(int side, const core::tls_request& request);
  void close(int side);
  void abort(int side, const char* why);
  void stream_gone(int side);

  // --- the network's calls ---
  void reset_both(const std::string& why);
  void rearm();  // after a stall ended
  bool covered_by(const fault& f) const;

  std::uint64_t id() const { return id_; }
  const core::endpoint& endpoint_of(int side) const { return sides_[side].local; }
  bool tls_up() const { return tls_up_; }
  const std::string& sni() const { return sni_; }

 private:
  // Schedules fn(*this) on the network's scheduler; 0 when the network is gone.
  core::timer_id at(core::time_point when, std::function<void(connection&)> fn);
  core::time_point now() const;
  void cancel(std::optional<core::timer_id>& timer);
  void log(std::string_view text) const;
  void log_connect(std::string_view tail) const;
  std::string& line_start(network_core& net) const;

  void syn_arrives();
  void accept(network_core& net, const listener& found);
  void client_connected();
  void connect_timed_out();
  void end_side(int side, std::error_code reason, core::time_point when);
  void maybe_finish();

  void send(int side, std::string_view bytes, bool fin);
  void arm_pump(int side);
  void deliver(int side);
  bool lose_piece(network_core& net);
  bool stalled(const network_core& net) const;

  void tls_timed_out(int side);
  void handshake_done();
  std::error_code verify_failure(const core::tls_request& request) const;
  core::tls_result tls_result_for(int side) const;
  void report_tls(int side, const core::tls_result& result);

  std::weak_ptr<network_core> net_;
  std::uint64_t id_;
  side_state sides_[2];
  link_profile link_;
  // The listener's, shared at accept (a copy cost two allocations per connection).
  std::shared_ptr<const tls_profile> tls_;
  std::optional<core::timer_id> connect_timer_;
  std::optional<prng> rng_;  // "network/conn/<id>", made at the first loss draw
  bool connecting_ = true;   // the client has not been told on_connected() or the failure
  bool broken_ = false;      // reset or failed: nothing moves any more
  bool over_ = false;
  bool tls_up_ = false;
  std::string sni_;
};

}  // namespace mailsim::sim::network
