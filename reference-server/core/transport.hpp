// mailsim::core transport — the injected network for outbound connections.
//
// Contract:
// - connect() returns at once. Events arrive on the handler from the caller's event loop,
//   never re-entrantly from connect(), write(), start_tls() or close(): first on_connected()
//   or on_closed(error); after on_connected(), on_data() for each piece received, in order.
// - write() queues bytes; they are sent in order. Bytes written before on_connected() wait
//   for the connection; bytes written while a TLS handshake runs wait for it and go out
//   encrypted.
// - start_tls() upgrades the connection in place (STARTTLS, RFC 3207): call it once, after
//   on_connected(), when the protocol has said so. Bytes that arrive in clear text after the
//   call are dropped, never delivered (RFC 3207 §6). Then on_tls_ready() reports what was
//   negotiated, or on_closed() gives the error: a failed handshake, or a failed check under
//   a verifying mode (tls_verify below).
// - close() ends the stream politely: bytes already written are still sent, then the
//   connection is shut down (before on_connected() or during a TLS handshake there is
//   nothing worth sending: the attempt is simply abandoned). After close() the handler is
//   never called again, and the stream may be destroyed at once (the flush goes on
//   without it, bounded in time).
//   Destroying a stream without close() aborts the connection: pending bytes are dropped.
//   Either way no handler call follows the destruction.
// - on_closed(reason) ends the stream: reason is empty when the peer closed the connection
//   in order, otherwise a value of std::errc (connection_refused, timed_out, connection_reset,
//   address_not_available for a local address that is not ours, network_unreachable, …) or of
//   transport_errc (TLS). Nothing follows on_closed().
// Real: Asio + OpenSSL (reference-server/net). Simulated: in-memory links (simulator/network).
// Tests: the memory transport in tests/support.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "reference-server/core/clock.hpp"

namespace mailsim::core {

struct endpoint {
  std::string address;  // IPv4 dotted quad or IPv6 text form (no brackets)
  std::uint16_t port = 0;

  bool operator==(const endpoint&) const = default;
};

struct connect_request {
  endpoint remote;
  // The source address (a sender's IP from a source-address pool): the receiver sees it.
  // An empty address lets the system pick one; port 0 picks any port.
  endpoint local;
  // connect() gives up with std::errc::timed_out after this long (0: never).
  duration_ms timeout{30'000};
};

// How much of the server's certificate must check out before the session goes on.
enum class tls_verify {
  none,      // encrypt only: any certificate (opportunistic TLS, RFC 7435)
  trusted,   // the chain leads to a trusted CA (the transport's CA file or the system store)
  hostname,  // trusted, and the certificate names server_name (RFC 6125 §6: DNS-ID in the
             // subject alternative names, the CN only when there is none; "*" only as a
             // whole left-most label)
};

struct tls_request {
  // The host the client means to reach (the MX host name): sent as SNI (RFC 6066 §3, not
  // for an address literal) and matched under tls_verify::hostname. Required for hostname.
  std::string server_name;
  tls_verify verify = tls_verify::none;
  // The handshake gives up with std::errc::timed_out after this long (0: never).
  duration_ms timeout{60'000};
};

// What the handshake negotiated, for logs and for the policy.
struct tls_result {
  std::string protocol;  // e.g. "TLSv1.3"
  std::string cipher;    // e.g. "TLS_AES_256_GCM_SHA384"
  // Both are checked under every mode (under none they are only reported).
  bool chain_trusted = false;  // the chain leads to a trusted CA
  bool name_matched = false;   // the certificate names tls_request::server_name
  std::string detail;          // why not trusted or not matched; empty when both hold

  bool verified() const { return chain_trusted && name_matched; }
};

// TLS failures, reported by on_closed().
enum class transport_errc {
  tls_handshake_failed = 1,  // no common version or cipher, an alert, bytes that are not TLS
  tls_untrusted,             // verify trusted/hostname: the chain has no trusted CA
  tls_expired,               // verify trusted/hostname: a certificate is expired or not yet valid
  tls_name_mismatch,         // verify hostname: the certificate does not name the host
  tls_invalid_certificate,   // verify trusted/hostname: any other certificate problem
  tls_protocol_error,        // a broken TLS record after the handshake
};

namespace detail {
class transport_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.transport"; }
  std::string message(int code) const override {
    switch (static_cast<transport_errc>(code)) {
      case transport_errc::tls_handshake_failed: return "TLS handshake failed";
      case transport_errc::tls_untrusted: return "TLS certificate not trusted";
      case transport_errc::tls_expired: return "TLS certificate expired or not yet valid";
      case transport_errc::tls_name_mismatch: return "TLS certificate does not name the host";
      case transport_errc::tls_invalid_certificate: return "TLS certificate invalid";
      case transport_errc::tls_protocol_error: return "TLS protocol error";
    }
    return "unknown transport error";
  }
};
}  // namespace detail

inline const std::error_category& transport_category() noexcept {
  static const detail::transport_error_category category;
  return category;
}

inline std::error_code make_error_code(transport_errc e) noexcept {
  return {static_cast<int>(e), transport_category()};
}

class stream_handler {
 public:
  virtual ~stream_handler() = default;
  virtual void on_connected() = 0;
  virtual void on_data(std::string_view bytes) = 0;
  virtual void on_tls_ready(const tls_result& result) = 0;
  virtual void on_closed(std::error_code reason) = 0;
};

class stream {
 public:
  virtual ~stream() = default;
  virtual void write(std::string_view bytes) = 0;
  // A second call, or a call before on_connected(), ends the stream with
  // on_closed(std::errc::operation_not_permitted).
  virtual void start_tls(const tls_request& request) = 0;
  virtual void close() = 0;
};

class transport {
 public:
  virtual ~transport() = default;
  // The handler must stay valid until on_closed() has run, close() was called or the stream
  // was destroyed, whichever comes first.
  virtual std::unique_ptr<stream> connect(const connect_request& request,
                                          stream_handler& handler) = 0;
};

}  // namespace mailsim::core

template <>
struct std::is_error_code_enum<mailsim::core::transport_errc> : std::true_type {};
