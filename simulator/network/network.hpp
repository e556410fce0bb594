// mailsim::sim::network — the simulated internet's wires: in-memory byte links between
// addresses, on the simulator's scheduler.
//
// Contract: every stream honours core::transport's contract (core/transport.hpp), on both
// sides of a connection:
// - Every handler call is its own scheduler event, never made from inside connect(),
//   write(), start_tls(), close() or a stream's destruction, and reads the handler at the
//   time it runs: nothing is called after close() or after the stream was destroyed.
// - Bytes go in order. A write travels as one piece (or in segments of link.segment_bytes):
//   it leaves when the direction's wire is free, takes ceil(bytes × 1000 / bandwidth) ms on
//   the wire and arrives latency ms later; each piece is one on_data().
// - Connecting: the SYN reaches the listener after one latency; no listener (or a `refuse`
//   fault) answers with a reset, so the client gets connection_refused one round trip after
//   connect(); a `blackhole` fault answers nothing, and connect_request.timeout decides
//   (timed_out; 0 waits for ever). Otherwise the accept_handler gets the server's stream at
//   once (its on_connected follows on the next turn) and the client's on_connected comes
//   one round trip after connect(). Bytes written before on_connected wait for it.
// - close() sends what was written, then an orderly end (the peer's on_closed({}) after the
//   last byte). Before on_connected or during a TLS handshake it abandons the attempt: the
//   peer, if any, sees a reset. Destroying a stream without close() aborts: bytes not yet
//   delivered are dropped and the peer gets connection_reset one latency later.
//   link_stream::reset() does the same and keeps the stream.
// - Loss: each piece is lost with the link's (or a `loss` fault's) probability, drawn from
//   the connection's own stream "network/conn/<id>" of random_streams; TCP would retransmit
//   until it gives up, which the simulation shortens to a reset of both sides when the piece
//   would have arrived.
// - Stall: while a `stall` fault covers a connection, nothing is delivered either way (no
//   data, no orderly end); when it ends, what waited arrives at once, in order. Resets are
//   not held.
// - TLS (RFC 3207) is a flag on the link, no crypto. The connecting side is the TLS client.
//   The handshake completes one round trip after both sides called start_tls(): then the
//   client's verify mode is checked against the listener's tls_profile (handshake failure,
//   untrusted, expired, name mismatch — in that order) and both sides get on_tls_ready() or
//   on_closed(): the client the reason, the server tls_handshake_failed. Clear-text bytes
//   that reach a side after its start_tls() are dropped; bytes written during the handshake
//   wait and go out encrypted. A side whose handshake is not done within its request's
//   timeout gets timed_out (the peer a reset). start_tls() twice, or before on_connected,
//   ends that side with operation_not_permitted; hostname verification without a
//   server_name with invalid_argument (the peer sees a reset).
// - Faults are named, switched on and off at virtual times (or at once), and cover a
//   connection when its server address (and port, unless 0) or its client address is the
//   fault's. `reset` resets every covered connection when it starts, and while on, resets a
//   covered connection at its next piece. refuse and blackhole act when a SYN arrives.
// - Trace (source "net"): connects and their outcome, every piece delivered (quoted, cut at
//   trace_payload_bytes_max), closes, resets and why, TLS steps, fault switches.
// Determinism: no OS clock, no real randomness, no iteration over hashed or pointer-keyed
// containers: the same calls on the same seed give the same events and the same trace.
// Transports and streams may outlive the network: once it is destroyed their calls do
// nothing and its pending events run as no-ops. The scheduler, the random streams and the
// trace must outlive the network. Not thread-safe: one scheduler, one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/core/transport.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/network/address.hpp"

namespace mailsim::sim::network {

struct link_profile {
  core::duration_ms latency{0};             // one way
  std::uint64_t bandwidth_bytes_per_s = 0;  // per direction; 0: unlimited
  double loss = 0;                          // probability that a piece is lost (→ reset)
  std::size_t segment_bytes = 0;            // a write is cut in pieces of this size; 0: whole
};

enum class fault_kind { refuse, blackhole, stall, reset, loss };
const char* to_string(fault_kind kind);

struct fault {
  std::string name;  // unique; names the fault in the trace
  fault_kind kind = fault_kind::refuse;
  std::string address;     // an address literal
  std::uint16_t port = 0;  // the server port it covers; 0: every port
  double loss = 1.0;       // fault_kind::loss: the probability that replaces the link's
};

struct network_options {
  link_profile default_link;
  std::size_t trace_payload_bytes_max = 512;
  std::uint16_t ephemeral_port_first = 49152;
  std::uint16_t ephemeral_port_last = 65535;
};

struct network_stats {
  std::uint64_t connects = 0;     // connect() calls
  std::uint64_t established = 0;  // connections accepted
  std::uint64_t refused = 0;
  std::uint64_t timed_out = 0;  // connects and handshakes that timed out
  std::uint64_t resets = 0;     // connections ended by a reset
  std::uint64_t tls_failures = 0;
  std::uint64_t bytes_delivered = 0;
};

class connection;  // internal (connection.hpp)

// One side of a connection: the stream returned by connect() and the one a listener gets.
class link_stream final : public core::stream {
 public:
  link_stream(std::shared_ptr<connection> conn, int side);
  ~link_stream() override;
  link_stream(const link_stream&) = delete;
  link_stream& operator=(const link_stream&) = delete;

  void write(std::string_view bytes) override;
  void start_tls(const core::tls_request& request) override;
  void close() override;
  // Abortive close: the peer gets connection_reset; this side's handler is not called again.
  void reset();

  std::uint64_t connection_id() const;
  const core::endpoint& local() const;   // canonical
  const core::endpoint& remote() const;  // canonical
  bool tls_active() const;
  const std::string& tls_server_name() const;  // the SNI the client sent, once TLS is up

 private:
  std::shared_ptr<connection> conn_;
  int side_;
};

class accept_handler {
 public:
  virtual ~accept_handler() = default;
  // A connection arrived. The acceptor takes the stream and returns the handler for its
  // events (on_connected comes next, on a later turn), or nullptr to drop it (the client
  // sees a reset).
  virtual core::stream_handler* on_accept(std::unique_ptr<link_stream> stream) = 0;
};

struct network_core;  // internal (network_core.hpp)

class virtual_network {
 public:
  virtual_network(scheduler& sched, const random_streams& random, trace* tr,
                  network_options options = {});
  ~virtual_network();
  virtual_network(const virtual_network&) = delete;
  virtual_network& operator=(const virtual_network&) = delete;

  // --- listeners ---
  bool listen(const core::endpoint& at, accept_handler& handler, listen_options options = {});
  void unlisten(const core::endpoint& at);

  // --- hosts: a core::transport for a machine that owns `addresses` ---
  // connect() binds connect_request::local when it is one of them (else
  // address_not_available); an empty local address picks the first of the remote's family
  // (none: network_unreachable). Unparseable addresses and a family mismatch are
  // invalid_argument. Every failure reaches the handler through the loop.
  std::unique_ptr<core::transport> make_transport(std::vector<std::string> addresses);

  // --- links ---
  // The profile of connections whose server (else client) address is `address`.
  bool set_link(const std::string& address, const link_profile& profile);
  void set_default_link(const link_profile& profile);

  // --- faults ---
  // Switches the fault on at `on` and, if given, off at `off`. False: no name, a name in
  // use, an address that is not a literal, or `off` before `on`.
  bool add_fault(const fault& f, core::time_point on, std::optional<core::time_point> off = {});
  // Switches a known fault on or off now. False: no such fault.
  bool set_fault(const std::string& name, bool active);
  bool fault_active(const std::string& name) const;

  const network_stats& stats() const;
  // Connections in progress: connecting, or open on at least one side.
  std::size_t open_connections() const;

 private:
  std::shared_ptr<network_core> core_;  // shared with transports and connections (weakly)
};

}  // namespace mailsim::sim::network
