// Test double: a core::transport whose connections go to in-memory peers, through a
// manual_loop.
//
// Contract: the core::transport contract (reference-server/core/transport.hpp), with every
// event — on either side — delivered by a task posted to (or scheduled on) the loop, in the
// order caused, never re-entrantly. A test registers a memory_peer at an address and port
// with listen(); connect() to anything else fails with std::errc::connection_refused.
// - The client's bound local address (connect_request::local) is what the peer sees as
//   memory_connection::client(); without one, 127.0.0.1 or ::1 (by the remote's family) and
//   an ephemeral port. set_local_addresses() limits what may be bound (else
//   address_not_available), as a machine owns only its addresses. Unparseable addresses, or a
//   local address of the other family, are std::errc::invalid_argument.
// - A listener may delay its accept (connect_delay) or never accept (blackhole): then the
//   request's timeout ends the attempt with std::errc::timed_out, on the loop's clock.
// - start_tls() is a no-op upgrade that succeeds or fails per the listener's options and the
//   request's verify mode, with the rules of the real transport: untrusted chain under
//   trusted/hostname → transport_errc::tls_untrusted, name mismatch under hostname →
//   tls_name_mismatch, TLS unavailable → tls_handshake_failed. A failed handshake closes
//   both sides (the peer gets on_close). Bytes from the peer that arrive between
//   start_tls() and the handshake are dropped, as the real transport drops clear text.
// - Either side may close: the client with close() or by destroying its stream (the peer
//   gets on_close after the bytes written before), the peer with memory_connection::close()
//   (the client gets on_closed({}) after the bytes written before) or reset()
//   (on_closed(connection_reset)). Writes after a side closed are dropped.
// Every attempt is recorded (attempts()); every accepted connection stays inspectable until
// the transport is destroyed. The loop and the peers must outlive every run of the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "reference-server/core/transport.hpp"
#include "tests/support/manual_loop.hpp"

namespace mailsim::test {

struct memory_link;  // one connection's shared state (memory_transport.cpp)

// The peer's side of one in-memory connection.
class memory_connection {
 public:
  explicit memory_connection(memory_link& link) : link_(link) {}
  memory_connection(const memory_connection&) = delete;
  memory_connection& operator=(const memory_connection&) = delete;

  std::uint64_t id() const;                // 1, 2, … by connect() calls that found a listener
  const core::endpoint& client() const;    // the client's address and port as seen here
  const core::endpoint& server() const;    // the listener's endpoint
  bool tls_active() const;                 // after a successful start_tls()
  const std::string& server_name() const;  // the SNI the client asked for under TLS
  bool open() const;                       // neither side has closed

  // To the client, through the loop. Dropped once either side has closed.
  void write(std::string_view bytes);
  // Orderly close: the client gets the bytes written before, then on_closed({}).
  void close();
  // Abortive close: the client gets on_closed(std::errc::connection_reset).
  void reset();

 private:
  memory_link& link_;
};

// What listens at an endpoint. Called from the loop only; `conn` stays valid as long as the
// transport. One peer object serves every connection to its endpoint.
class memory_peer {
 public:
  virtual ~memory_peer() = default;
  virtual void on_open(memory_connection& conn) = 0;
  virtual void on_bytes(memory_connection& conn, std::string_view bytes) = 0;
  // The client's STARTTLS handshake succeeded; later bytes come encrypted.
  virtual void on_tls(memory_connection& conn) { (void)conn; }
  // The client closed or dropped the connection (not called after the peer's own close()).
  virtual void on_close(memory_connection& conn) = 0;
};

struct memory_listen_options {
  core::duration_ms connect_delay{0};  // the accept takes this long
  bool blackhole = false;              // never accepts: the client's timeout decides
  // What a STARTTLS handshake finds.
  bool tls_available = true;     // false: the handshake fails
  bool tls_trusted = true;       // the certificate chains to a trusted CA
  bool tls_name_matches = true;  // the certificate names the host the client asks for
  std::string tls_protocol = "TLSv1.3";
  std::string tls_cipher = "TLS_AES_256_GCM_SHA384";
};

struct connect_attempt {
  core::endpoint remote;
  core::endpoint local;  // as the peer sees it (the bound address or the default)
  core::time_point at;
  // Empty until decided; then the empty code for a connection, or the error.
  std::optional<std::error_code> result;
};

class memory_transport final : public core::transport {
 public:
  explicit memory_transport(manual_loop& loop) : loop_(loop) {}
  ~memory_transport() override;
  memory_transport(const memory_transport&) = delete;
  memory_transport& operator=(const memory_transport&) = delete;

  // Registers (or replaces) the peer at `at`. Addresses compare in canonical form.
  void listen(const core::endpoint& at, memory_peer& peer, memory_listen_options options = {});
  // Later connects to `at` are refused; open connections go on.
  void unlisten(const core::endpoint& at);
  // The addresses a client may bind; empty (the default) allows any.
  void set_local_addresses(std::set<std::string> addresses);

  std::unique_ptr<core::stream> connect(const core::connect_request& request,
                                        core::stream_handler& handler) override;

  std::vector<connect_attempt> attempts() const;
  // Every accepted connection, in order.
  std::vector<memory_connection*> connections() const;
  // Accepted connections that neither side has closed.
  std::size_t open_connections() const;

 private:
  struct listener {
    memory_peer* peer = nullptr;
    memory_listen_options options;
  };

  manual_loop& loop_;
  std::map<std::pair<std::string, std::uint16_t>, listener> listeners_;
  std::set<std::string> local_addresses_;
  std::vector<std::shared_ptr<memory_link>> links_;  // every attempt
  std::uint64_t next_connection_id_ = 1;
  std::uint16_t next_port_ = 49152;
};

}  // namespace mailsim::test
