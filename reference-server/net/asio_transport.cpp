#include "reference-server/net/asio_transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/net/asio.hpp"
#include <boost/asio/ssl.hpp>

namespace mailsim::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

struct asio_transport::client_context {
  ssl::context ctx{ssl::context::tls_client};
};

namespace {

// --- error mapping -------------------------------------------------------------------------

// OS errors become std::errc values; end of stream is the empty code (an orderly close).
std::error_code from_asio(const error_code& ec) {
  if (!ec || ec == asio::error::eof) return {};
  if (ec.category() == boost::system::system_category()) {
    return {ec.value(), std::generic_category()};
  }
  // A peer that closes the TCP connection without close_notify has still ended the stream;
  // SMTP marks the end of its data itself, so a truncation cannot pass for a message.
  if (ec == asio::ssl::error::stream_truncated) return {};
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return core::transport_errc::tls_protocol_error;
  }
  return std::make_error_code(std::errc::io_error);
}

// Why OpenSSL refused the server's certificate, as the engine logs and decides on it.
std::error_code from_verify_result(long result) {
  switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return core::transport_errc::tls_name_mismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return core::transport_errc::tls_expired;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return core::transport_errc::tls_untrusted;
    default:
      return core::transport_errc::tls_invalid_certificate;
  }
}

std::optional<asio::ip::address> parse_address(const std::string& text) {
  error_code ec;
  auto address = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return address;
}

bool is_address_literal(const std::string& name) { return core::parse_ip(name).has_value(); }

// RFC 6125 §6.4.3: a wildcard only as the whole left-most label ("*.example.com").
constexpr unsigned name_check_flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;

core::tls_result describe_session(SSL* ssl, const core::tls_request& request) {
  core::tls_result result;
  result.protocol = SSL_get_version(ssl);
  result.cipher = SSL_get_cipher_name(ssl);
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    result.detail = "the server sent no certificate";
    return result;
  }
  // Under tls_verify::hostname the verify result covers the name too; under the other modes
  // only the chain (no host was set), so the name is checked here for the report.
  const long verify = SSL_get_verify_result(ssl);
  result.chain_trusted = verify == X509_V_OK;
  const std::string& name = request.server_name;
  if (!name.empty()) {
    result.name_matched =
        is_address_literal(name)
            ? X509_check_ip_asc(cert, name.c_str(), 0) == 1
            : X509_check_host(cert, name.data(), name.size(), name_check_flags, nullptr) == 1;
  }
  if (!result.chain_trusted) result.detail = X509_verify_cert_error_string(verify);
  if (!result.name_matched) {
    if (!result.detail.empty()) result.detail += "; ";
    result.detail += name.empty() ? "no server name to match"
                                  : "the certificate does not name " + name;
  }
  return result;
}

// --- one connection ------------------------------------------------------------------------

// Everything a connection owns, shared with its in-flight operations: each completion holds
// a reference, so the socket outlives them, and `handler` is cleared when the stream is
// closed or destroyed, so that no completion calls into a handler that may be gone.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::io_context& io, std::shared_ptr<asio_transport::client_context> tls,
             const asio_transport_options& options, core::stream_handler& handler)
      : io_(io), socket_(io), timer_(io), tls_ctx_(std::move(tls)),
        linger_(options.close_linger), handler_(&handler) {}

  void start(const core::connect_request& request);
  void write(std::string_view bytes);
  void start_tls(const core::tls_request& request);
  void close();
  void abandon();

 private:
  enum class phase { connecting, open, tls_wait, handshaking, closing, done };

  void on_connect(const error_code& ec);
  void pump();
  void start_read();
  void on_read(const error_code& ec, std::size_t n);
  void start_write();
  void on_write(const error_code& ec);
  void cancel_read();
  void start_handshake();
  void on_handshake(const error_code& ec);
  std::error_code handshake_error() const;
  void close_step();
  void arm_timer(core::duration_ms after);
  void on_timer();
  void fail(std::error_code reason);
  void fail_later(std::error_code reason);
  void stop();

  asio::io_context& io_;
  tcp::socket socket_;
  asio::steady_timer timer_;  // connect timeout, handshake timeout, close linger
  std::uint64_t timer_generation_ = 0;
  std::shared_ptr<asio_transport::client_context> tls_ctx_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;  // after start_tls()
  core::tls_request tls_request_;
  core::duration_ms linger_;
  core::stream_handler* handler_;  // null once closed or abandoned by the stream

  phase phase_ = phase::connecting;
  bool tls_requested_ = false;
  bool tls_active_ = false;
  bool reading_ = false;
  bool read_cancelled_ = false;
  bool writing_ = false;
  bool tls_shutdown_started_ = false;
  bool tls_shutdown_done_ = false;
  bool send_shut_ = false;
  std::string pending_;  // written, not yet handed to the socket
  std::string sending_;  // the bytes of the write in flight
  std::array<char, 16 * 1024> read_buffer_{};
};

void connection::start(const core::connect_request& request) {
  auto remote_address = parse_address(request.remote.address);
  std::optional<asio::ip::address> local_address;
  if (!request.local.address.empty()) local_address = parse_address(request.local.address);
  if (!remote_address || (!request.local.address.empty() && !local_address) ||
      (local_address && local_address->is_v6() != remote_address->is_v6())) {
    fail_later(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  const tcp::endpoint remote(*remote_address, request.remote.port);
  error_code ec;
  socket_.open(remote.protocol(), ec);
  if (!ec && (local_address || request.local.port != 0)) {
    // The source address of a pool: the receiver must see exactly this address.
    const auto local = local_address.value_or(remote_address->is_v6()
                                                  ? asio::ip::address(asio::ip::address_v6::any())
                                                  : asio::ip::address(asio::ip::address_v4::any()));
    socket_.bind(tcp::endpoint(local, request.local.port), ec);
  }
  if (ec) {
    fail_later(from_asio(ec));
    return;
  }
  if (request.timeout.count() > 0) arm_timer(request.timeout);
  socket_.async_connect(remote, [self = shared_from_this()](const error_code& e) {
    self->on_connect(e);
  });
}

void connection::on_connect(const error_code& ec) {
  if (phase_ != phase::connecting) return;  // timed out, or abandoned
  ++timer_generation_;
  timer_.cancel();
  if (ec) {
    fail(from_asio(ec));
    return;
  }
  phase_ = phase::open;
  if (handler_ != nullptr) handler_->on_connected();
  pump();
}

void connection::write(std::string_view bytes) {
  if (phase_ == phase::closing || phase_ == phase::done) return;  // after close(): dropped
  pending_.append(bytes);
  pump();
}

void connection::start_tls(const core::tls_request& request) {
  if (phase_ == phase::done || phase_ == phase::closing) return;
  if (phase_ != phase::open || tls_requested_) {
    fail_later(std::make_error_code(std::errc::operation_not_permitted));
    return;
  }
  if (request.verify == core::tls_verify::hostname && request.server_name.empty()) {
    fail_later(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  tls_requested_ = true;
  tls_request_ = request;
  phase_ = phase::tls_wait;
  pump();
}

void connection::close() {
  handler_ = nullptr;
  if (phase_ == phase::closing || phase_ == phase::done) return;  // a second close()
  if (phase_ == phase::open) {
    phase_ = phase::closing;
    arm_timer(linger_);
    pump();
  } else {
    // Nothing worth flushing before the connection or the TLS session is up.
    stop();
  }
}

void connection::abandon() {
  handler_ = nullptr;
  if (phase_ != phase::closing) stop();
}

// Starts whatever the current phase needs and is not running yet. Called after every event
// and every call; it never calls the handler, so it is safe from inside the caller's calls.
void connection::pump() {
  switch (phase_) {
    case phase::connecting:
    case phase::handshaking:
    case phase::done:
      return;
    case phase::open:
      if (!writing_ && !pending_.empty()) start_write();
      if (!reading_) start_read();
      return;
    case phase::tls_wait:
      // The handshake needs the socket to itself: let the write in flight finish (it carries
      // the bytes written before STARTTLS was answered), and stop the clear-text read.
      if (writing_) return;
      if (reading_) {
        cancel_read();
        return;
      }
      start_handshake();
      return;
    case phase::closing:
      close_step();
      return;
  }
}

void connection::start_read() {
  reading_ = true;
  auto done = [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->on_read(ec, n);
  };
  // While closing, a finished TLS session leaves only the raw socket to drain.
  if (tls_active_ && !tls_shutdown_done_) {
    tls_->async_read_some(asio::buffer(read_buffer_), std::move(done));
  } else {
    socket_.async_read_some(asio::buffer(read_buffer_), std::move(done));
  }
}

void connection::cancel_read() {
  if (read_cancelled_) return;
  read_cancelled_ = true;
  error_code ignored;
  socket_.cancel(ignored);
}

void connection::on_read(const error_code& ec, std::size_t n) {
  reading_ = false;
  read_cancelled_ = false;
  switch (phase_) {
    case phase::done:
    case phase::connecting:
    case phase::handshaking:
      return;
    case phase::tls_wait:
      // RFC 3207 §6: clear text that arrives after STARTTLS was answered is not trusted and
      // never delivered; a cancelled read is the expected outcome.
      if (ec && ec != asio::error::operation_aborted) {
        fail(from_asio(ec));
        return;
      }
      pump();
      return;
    case phase::closing:
      if (ec && ec != asio::error::operation_aborted) {
        stop();  // the peer has closed too (or failed): the close is complete
        return;
      }
      if (!ec && send_shut_) start_read();  // draining until the peer closes
      else pump();
      return;
    case phase::open:
      break;
  }
  if (ec) {
    fail(from_asio(ec));
    return;
  }
  if (handler_ != nullptr) handler_->on_data(std::string_view(read_buffer_.data(), n));
  pump();  // the handler may have closed, abandoned or upgraded the stream
}

void connection::start_write() {
  writing_ = true;
  sending_ = std::move(pending_);
  pending_.clear();
  auto done = [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->on_write(ec);
  };
  if (tls_active_) {
    asio::async_write(*tls_, asio::buffer(sending_), std::move(done));
  } else {
    asio::async_write(socket_, asio::buffer(sending_), std::move(done));
  }
}

void connection::on_write(const error_code& ec) {
  writing_ = false;
  sending_.clear();
  if (phase_ == phase::done) return;
  if (ec) {
    if (phase_ == phase::closing) {
      stop();
    } else {
      fail(from_asio(ec));
    }
    return;
  }
  pump();
}

void connection::start_handshake() {
  phase_ = phase::handshaking;
  tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, tls_ctx_->ctx);
  SSL* ssl = tls_->native_handle();
  const std::string& name = tls_request_.server_name;
  bool ok = true;
  // RFC 6066 §3: SNI carries host names only, never an address literal.
  if (!name.empty() && !is_address_literal(name)) {
    ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(name.c_str())) == 1;
  }
  if (tls_request_.verify == core::tls_verify::hostname) {
    SSL_set_hostflags(ssl, name_check_flags);
    ok = ok && (is_address_literal(name)
                    ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                    : SSL_set1_host(ssl, name.c_str()) == 1);
  }
  // Under none, OpenSSL still checks the chain and keeps the result for the report.
  const bool verify = tls_request_.verify != core::tls_verify::none;
  SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!ok) {
    // pump() may run inside the caller's start_tls(): report from the io_context.
    fail_later(core::transport_errc::tls_handshake_failed);
    return;
  }
  if (tls_request_.timeout.count() > 0) arm_timer(tls_request_.timeout);
  tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](const error_code& ec) {
    self->on_handshake(ec);
  });
}

void connection::on_handshake(const error_code& ec) {
  if (phase_ != phase::handshaking) return;  // timed out or abandoned
  ++timer_generation_;
  timer_.cancel();
  if (ec) {
    fail(handshake_error());
    return;
  }
  phase_ = phase::open;
  tls_active_ = true;
  const core::tls_result result = describe_session(tls_->native_handle(), tls_request_);
  if (handler_ != nullptr) handler_->on_tls_ready(result);
  pump();
}

// Any failure other than the certificate's (an alert, EOF, junk) is the same to the caller.
std::error_code connection::handshake_error() const {
  const long verify = SSL_get_verify_result(tls_->native_handle());
  if (tls_request_.verify != core::tls_verify::none && verify != X509_V_OK) {
    return from_verify_result(verify);
  }
  return core::transport_errc::tls_handshake_failed;
}

// close(): flush, TLS close_notify (RFC 8446 §6.1), shut down the send side, drain until
// the peer closes. Closing a socket with unread data makes the kernel send a reset, which
// the peer would log as an error; draining avoids it.
void connection::close_step() {
  if (writing_) return;
  if (!pending_.empty()) {
    start_write();
    return;
  }
  if (tls_active_ && !tls_shutdown_done_) {
    if (reading_) {
      cancel_read();  // the shutdown reads the peer's close_notify itself
      return;
    }
    if (tls_shutdown_started_) return;
    tls_shutdown_started_ = true;
    tls_->async_shutdown([self = shared_from_this()](const error_code&) {
      self->tls_shutdown_done_ = true;
      if (self->phase_ == phase::closing) self->close_step();
    });
    return;
  }
  if (!send_shut_) {
    send_shut_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  if (!reading_) start_read();
}

void connection::arm_timer(core::duration_ms after) {
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_) return;
    self->on_timer();
  });
}

void connection::on_timer() {
  switch (phase_) {
    case phase::connecting:
    case phase::handshaking:
      fail(std::make_error_code(std::errc::timed_out));
      return;
    case phase::closing:
      stop();  // the linger is over
      return;
    default:
      return;
  }
}

// Ends the connection and reports it, from a completion (never from a caller's call).
void connection::fail(std::error_code reason) {
  if (phase_ == phase::done) return;
  stop();
  if (auto* handler = std::exchange(handler_, nullptr)) handler->on_closed(reason);
}

// Ends the connection now and reports it from the io_context: the caller's call returns first.
void connection::fail_later(std::error_code reason) {
  if (phase_ == phase::done) return;
  stop();
  asio::post(io_, [self = shared_from_this(), reason] {
    if (auto* handler = std::exchange(self->handler_, nullptr)) handler->on_closed(reason);
  });
}

// Closes the socket: every operation in flight completes with operation_aborted and finds
// phase done.
void connection::stop() {
  phase_ = phase::done;
  ++timer_generation_;
  timer_.cancel();
  error_code ignored;
  socket_.close(ignored);
  pending_.clear();
}

class asio_stream final : public core::stream {
 public:
  explicit asio_stream(std::shared_ptr<connection> c) : connection_(std::move(c)) {}
  ~asio_stream() override { connection_->abandon(); }
  asio_stream(const asio_stream&) = delete;
  asio_stream& operator=(const asio_stream&) = delete;

  void write(std::string_view bytes) override { connection_->write(bytes); }
  void start_tls(const core::tls_request& request) override { connection_->start_tls(request); }
  void close() override { connection_->close(); }

 private:
  std::shared_ptr<connection> connection_;
};

}  // namespace

asio_transport::asio_transport(asio::io_context& io, std::shared_ptr<client_context> tls,
                               asio_transport_options options)
    : io_(io), tls_(std::move(tls)), options_(std::move(options)) {}

asio_transport::~asio_transport() = default;

std::unique_ptr<core::stream> asio_transport::connect(const core::connect_request& request,
                                                      core::stream_handler& handler) {
  auto c = std::make_shared<connection>(io_, tls_, options_, handler);
  c->start(request);
  return std::make_unique<asio_stream>(std::move(c));
}

std::unique_ptr<asio_transport> make_asio_transport(asio::io_context& io,
                                                    const asio_transport_options& options,
                                                    std::string& error) {
  auto tls = std::make_shared<asio_transport::client_context>();
  error_code ec;
  tls->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  int min_version = 0;
  if (options.min_tls_version == "1.2") {
    min_version = TLS1_2_VERSION;  // RFC 8996: nothing older
  } else if (options.min_tls_version == "1.3") {
    min_version = TLS1_3_VERSION;
  } else {
    error = "unknown TLS version " + options.min_tls_version + " (use 1.2 or 1.3)";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(tls->ctx.native_handle(), min_version);
  if (options.ca_file.empty()) {
    tls->ctx.set_default_verify_paths(ec);
  } else {
    tls->ctx.load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    error = "cannot load CA certificates " +
            (options.ca_file.empty() ? std::string("from the system store") : options.ca_file) +
            ": " + ec.message();
    return nullptr;
  }
  return std::make_unique<asio_transport>(io, std::move(tls), options);
}

}  // namespace mailsim::net
