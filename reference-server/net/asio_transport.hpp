// mailsim::net Asio transport — core::transport over TCP sockets of a boost::asio::io_context,
// with OpenSSL client TLS for STARTTLS.
//
// Contract: the core::transport contract (reference-server/core/transport.hpp), plus:
// - IPv4 and IPv6. The remote and local addresses are literals (DNS is the resolver's job);
//   an unparseable one, or a local address of the other family, is std::errc::invalid_argument.
//   A local address that is not on this machine is std::errc::address_not_available.
// - Errors from the OS are std::errc values (std::generic_category), so that
//   `reason == std::errc::connection_refused` holds; end of stream from the peer (with or
//   without a TLS close_notify) is the empty reason.
// - TLS: TLS 1.2 or later (RFC 8996); SNI for host names; trust anchors from
//   asio_transport_options::ca_file or, when empty, the system store. A handshake that fails
//   under a verifying mode because of the certificate reports the transport_errc saying why.
// - close(): pending bytes are sent, TLS sends close_notify, the TCP send side is shut down
//   and the stream reads until the peer closes, so that the peer sees an orderly end, not a
//   reset. All of that is bounded by close_linger; then the socket is closed. A close()
//   before on_connected() or during the TLS handshake aborts at once: nothing is worth
//   flushing then.
// - Destroying a stream while operations are in flight is safe: their completions find the
//   stream detached and call nothing.
// Not thread-safe: use the transport and its streams from the io_context's thread. The
// io_context must outlive the transport and every stream; streams may outlive the transport.
#pragma once

#include <memory>
#include <string>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/transport.hpp"

namespace boost::asio {
class io_context;
}

namespace mailsim::net {

struct asio_transport_options {
  // PEM file of trusted CA certificates for tls_verify::trusted and ::hostname (and for the
  // chain_trusted report under ::none). Empty: the system's default store.
  std::string ca_file;
  std::string min_tls_version = "1.2";  // "1.2" or "1.3"
  // How long a closed stream may spend flushing and shutting down before the socket closes.
  core::duration_ms close_linger{5'000};
};

class asio_transport final : public core::transport {
 public:
  struct client_context;  // the OpenSSL client context, shared with the streams

  asio_transport(boost::asio::io_context& io, std::shared_ptr<client_context> tls,
                 asio_transport_options options);
  ~asio_transport() override;
  asio_transport(const asio_transport&) = delete;
  asio_transport& operator=(const asio_transport&) = delete;

  std::unique_ptr<core::stream> connect(const core::connect_request& request,
                                        core::stream_handler& handler) override;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<client_context> tls_;
  asio_transport_options options_;
};

// Builds the transport. Returns nullptr with a message when the TLS context cannot be made
// (a CA file that cannot be read, an unknown min_tls_version).
std::unique_ptr<asio_transport> make_asio_transport(boost::asio::io_context& io,
                                                    const asio_transport_options& options,
                                                    std::string& error);

}  // namespace mailsim::net
