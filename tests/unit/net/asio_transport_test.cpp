// Tests of net::asio_transport over real loopback sockets: a small Asio line server in the
// test plays the receiver (greeting, echo, STARTTLS, QUIT), and a CA and server certificates
// are made here with OpenSSL for the TLS cases. Every run is bounded: run_until() gives up
// after a generous limit instead of hanging (a guard, not a timing assertion).
#include "reference-server/net/asio_transport.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/tls.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/unit/store/temp_dir.hpp"
#include <boost/asio/ssl.hpp>

namespace mailsim::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

// --- bounded running -----------------------------------------------------------------------

bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(20ms);
  }
  return true;
}

// Runs whatever is ready now, and what that makes ready, for a short while.
void run_a_little(asio::io_context& io) {
  if (io.stopped()) io.restart();
  io.run_for(100ms);
}

// --- certificates --------------------------------------------------------------------------

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

pkey_ptr make_key() { return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct cert_spec {
  std::string common_name;
  std::string alt_names;  // "DNS:a,DNS:b"; empty for a CA
  bool ca = false;
  long valid_from_s = -3600;   // relative to now
  long valid_until_s = 86400;  // relative to now
};

// A certificate for `key`, signed by `issuer` (self-signed when null).
x509_ptr make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  x509_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.valid_from_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.valid_until_s);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (spec.ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    if (!spec.alt_names.empty()) {
      add_extension(cert.get(), signer, NID_subject_alt_name, spec.alt_names);
    }
  }
  X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}


void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  if (cert != nullptr) PEM_write_X509(f, cert);
  if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

// A test CA, and server certificates it signed (or not), written as PEM files once.
struct pki {
  store::test::temp_dir dir;
  std::string ca_file = dir.path() + "/ca.pem";
  std::string other_ca_file = dir.path() + "/other-ca.pem";

  // Writes <name>.crt/.key for a server certificate; `self_signed` skips the CA.
  std::pair<std::string, std::string> server(const std::string& name, const cert_spec& spec,
                                             bool self_signed = false) {
    auto key = make_key();
    auto cert = self_signed ? make_cert(spec, key.get(), nullptr, nullptr)
                            : make_cert(spec, key.get(), ca_cert.get(), ca_key.get());
    const std::string crt = dir.path() + "/" + name + ".crt";
    const std::string pem_key = dir.path() + "/" + name + ".key";
    write_pem(crt, cert.get(), nullptr);
    write_pem(pem_key, nullptr, key.get());
    return {crt, pem_key};
  }

  pki() {
    write_pem(ca_file, ca_cert.get(), nullptr);
    auto other_key = make_key();
    auto other = make_cert({"Other Test CA", "", true}, other_key.get(), nullptr, nullptr);
    write_pem(other_ca_file, other.get(), nullptr);
  }

  pkey_ptr ca_key = make_key();
  x509_ptr ca_cert = make_cert({"Mailsim Test CA", "", true}, ca_key.get(), nullptr, nullptr);
};

// --- the receiver --------------------------------------------------------------------------

// What one server-side connection saw.
struct server_log {
  std::string peer_address;
  std::string received;  // every line, clear and TLS, with CRLF
  bool tls = false;
  std::string sni;
  bool handshake_failed = false;
  std::optional<error_code> end;  // how reading ended
  bool done = false;
};

enum class server_mode {
  smtpish,      // 220 greeting; echo; STARTTLS; QUIT → 221, then read to the end
  reset,        // accept, then abort the connection (RST)
  close,        // accept, greet, then close in order
  not_tls,      // like smtpish, but answers the ClientHello with clear-text junk
  tls_stall,    // like smtpish, but never answers the ClientHello
};

class line_server {
 public:
  line_server(asio::io_context& io, const std::string& address, server_mode mode,
              ssl::context* tls = nullptr)
      : io_(io), acceptor_(io), mode_(mode), tls_(tls) {
    error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec) return;
    acceptor_.open(tcp::endpoint(ip, 0).protocol(), ec);
    if (!ec) acceptor_.bind(tcp::endpoint(ip, 0), ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.close(ec);
      return;
    }
    ok_ = true;
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }
  ~line_server() {
    error_code ignored;
    acceptor_.close(ignored);
  }

  bool ok() const { return ok_; }
  core::endpoint endpoint() const {
    const auto ep = acceptor_.local_endpoint();
    return {ep.address().to_string(), ep.port()};
  }
  std::vector<std::shared_ptr<server_log>> logs;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      auto log = std::make_shared<server_log>();
      logs.push_back(log);
      asio::co_spawn(io_, serve(std::move(socket), log), asio::detached);
    }
  }

  template <typename Stream>
  static asio::awaitable<bool> send(Stream& s, std::string text) {
    error_code ec;
    co_await asio::async_write(s, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Reads lines until STARTTLS (returns true) or the end (false).
  template <typename Stream>
  asio::awaitable<bool> lines(Stream& s, server_log& log) {
    std::string buffer;
    for (;;) {
      error_code ec;
      const std::size_t n = co_await asio::async_read_until(
          s, asio::dynamic_buffer(buffer), "\r\n", asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        log.end = ec;
        co_return false;
      }
      const std::string line = buffer.substr(0, n - 2);
      buffer.erase(0, n);
      log.received += line + "\r\n";
      if (line == "STARTTLS" && !log.tls) {
        if (mode_ == server_mode::tls_stall) {
          co_await send(s, "220 go ahead\r\n");
          co_await asio::async_read(s, asio::dynamic_buffer(buffer),
                                    asio::redirect_error(asio::use_awaitable, ec));
          log.end = ec;  // the client gave up
          co_return false;
        }
        if (mode_ == server_mode::not_tls) {
          // Wait for the ClientHello, then answer with clear text.
          co_await send(s, "220 go ahead\r\n");
          std::array<char, 4096> hello{};
          co_await s.async_read_some(asio::buffer(hello), asio::redirect_error(asio::use_awaitable, ec));
          co_await send(s, "this is not TLS at all\r\n");
          log.end = ec;
          co_return false;
        }
        co_await send(s, "220 go ahead\r\n");
        co_return true;
      }
      if (line == "QUIT") {
        co_await send(s, "221 bye\r\n");
        continue;  // read on: the client closes, in order or not
      }
      co_await send(s, "echo: " + line + "\r\n");
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, std::shared_ptr<server_log> log) {
    error_code ec;
    log->peer_address = socket.remote_endpoint(ec).address().to_string();
    if (mode_ == server_mode::reset) {
      socket.set_option(asio::socket_base::linger(true, 0), ec);
      socket.close(ec);
      log->done = true;
      co_return;
    }
    co_await send(socket, "220 test ESMTP\r\n");
    if (mode_ == server_mode::close) {
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
      log->done = true;
      co_return;
    }
    if (co_await lines(socket, *log) && tls_ != nullptr) {
      ssl::stream<tcp::socket&> tls(socket, *tls_);
      co_await tls.async_handshake(ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, ec));
      if (const char* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        log->sni = sni;
      }
      if (ec) {
        log->handshake_failed = true;
        log->end = ec;
      } else {
        log->tls = true;
        co_await lines(tls, *log);
      }
    }
    log->done = true;
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  server_mode mode_;
  ssl::context* tls_;
  bool ok_ = false;
};

// --- the client side -----------------------------------------------------------------------

using recorder = test::recording_handler;


class asio_transport_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    transport_ = make_asio_transport(io_, options_, error);
    ASSERT_NE(transport_, nullptr) << error;
  }
  void remake(const asio_transport_options& options) {
    std::string error;
    transport_ = make_asio_transport(io_, options, error);
    ASSERT_NE(transport_, nullptr) << error;
  }

  std::unique_ptr<core::stream> connect(recorder& r, const core::endpoint& remote,
                                        core::endpoint local = {}) {
    return transport_->connect({remote, std::move(local), 10'000ms}, r);
  }

  asio::io_context io_;
  asio_transport_options options_;
  std::unique_ptr<asio_transport> transport_;
};

TEST_F(asio_transport_test, carries_bytes_both_ways_in_order) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  ASSERT_TRUE(server.ok());
  recorder r;
  auto s = connect(r, server.endpoint());
  s->write("EHLO one\r\n");  // before the connection: waits for it
  s->write("EHLO two\r\n");
  EXPECT_TRUE(r.events.empty()) << "never re-entrant from connect() or write()";
  ASSERT_TRUE(run_until(io_, [&] { return r.has("echo: EHLO two\r\n"); }));
  EXPECT_EQ(r.events.front(), "connected");
  EXPECT_EQ(r.data, "220 test ESMTP\r\necho: EHLO one\r\necho: EHLO two\r\n");
  EXPECT_FALSE(r.closed);
  ASSERT_EQ(server.logs.size(), 1u);
  EXPECT_EQ(server.logs[0]->peer_address, "127.0.0.1");
}

TEST_F(asio_transport_test, a_closed_port_is_connection_refused) {
  core::endpoint closed;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = {"127.0.0.1", probe.local_endpoint().port()};
  }
  recorder r;
  auto s = connect(r, closed);
  EXPECT_TRUE(r.events.empty());
  ASSERT_TRUE(run_until(io_, [&] { return r.closed.has_value(); }));
  EXPECT_EQ(*r.closed, std::make_error_code(std::errc::connection_refused));
  EXPECT_EQ(r.events, (std::vector<std::string>{"closed"}));
}

TEST_F(asio_transport_test, bad_addresses_fail_through_the_loop) {
  recorder junk, mixed, foreign;
  auto a = connect(junk, {"mx.example.test", 25});
  auto b = connect(mixed, {"127.0.0.1", 25}, {"::1", 0});
  auto c = connect(foreign, {"127.0.0.1", 25}, {"192.0.2.1", 0});  // TEST-NET-1: not ours
  EXPECT_FALSE(junk.closed || mixed.closed || foreign.closed) << "never re-entrant";
  ASSERT_TRUE(run_until(io_, [&] { return junk.closed && mixed.closed && foreign.closed; }));
  EXPECT_EQ(*junk.closed, std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(*mixed.closed, std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(*foreign.closed, std::make_error_code(std::errc::address_not_available));
}

TEST_F(asio_transport_test, binds_the_source_address_the_receiver_sees) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  ASSERT_TRUE(server.ok());
  recorder r;
  auto s = connect(r, server.endpoint(), {"127.0.0.2", 0});
  ASSERT_TRUE(run_until(io_, [&] { return !server.logs.empty() && r.has("220"); }));
  EXPECT_EQ(server.logs[0]->peer_address, "127.0.0.2");
}

TEST_F(asio_transport_test, ipv6_loopback) {
  line_server server(io_, "::1", server_mode::smtpish);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  recorder r;
  auto s = connect(r, server.endpoint(), {"::1", 0});
  s->write("HELO v6\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return r.has("echo: HELO v6\r\n"); }));
  EXPECT_EQ(server.logs[0]->peer_address, "::1");
}

TEST_F(asio_transport_test, a_connect_that_hangs_times_out) {
  // A listener whose accept queue is full drops new SYNs, so the connect hangs.
  tcp::acceptor full(io_);
  full.open(tcp::v4());
  full.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  tcp::socket filler(io_);
  filler.connect(full.local_endpoint());  // takes the one place in the queue
  recorder r;
  auto s = transport_->connect(
      {{"127.0.0.1", full.local_endpoint().port()}, {}, core::duration_ms{300}}, r);
  ASSERT_TRUE(run_until(io_, [&] { return r.closed.has_value(); }));
  EXPECT_EQ(*r.closed, std::make_error_code(std::errc::timed_out));
}

TEST_F(asio_transport_test, a_reset_is_connection_reset_and_an_orderly_close_is_empty) {
  line_server resetting(io_, "127.0.0.1", server_mode::reset);
  line_server closing(io_, "127.0.0.1", server_mode::close);
  recorder a, b;
  auto sa = connect(a, resetting.endpoint());
  auto sb = connect(b, closing.endpoint());
  ASSERT_TRUE(run_until(io_, [&] { return a.closed && b.closed; }));
  EXPECT_EQ(*a.closed, std::make_error_code(std::errc::connection_reset));
  EXPECT_EQ(*b.closed, std::error_code{});
  EXPECT_EQ(b.data, "220 test ESMTP\r\n");
}

TEST_F(asio_transport_test, close_flushes_everything_and_ends_in_order) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  recorder r;
  auto s = connect(r, server.endpoint());
  ASSERT_TRUE(run_until(io_, [&] { return r.has("220"); }));
  std::string expected;
  for (int i = 0; i < 5000; ++i) {  // far more than a socket buffer
    const std::string line = "line " + std::to_string(i) + " " + std::string(100, 'x') + "\r\n";
    s->write(line);
    expected += line;
  }
  s->write("QUIT\r\n");
  expected += "QUIT\r\n";
  s->close();
  s->write("dropped\r\n");
  s.reset();  // the flush goes on without the stream
  ASSERT_TRUE(run_until(io_, [&] { return !server.logs.empty() && server.logs[0]->done; }));
  EXPECT_EQ(server.logs[0]->received, expected);
  ASSERT_TRUE(server.logs[0]->end);
  EXPECT_EQ(*server.logs[0]->end, asio::error::eof) << server.logs[0]->end->message();
  EXPECT_FALSE(r.closed) << "no handler call after close()";
}

TEST_F(asio_transport_test, destroying_a_stream_with_a_read_pending_calls_nothing) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  auto r = std::make_unique<recorder>();
  auto s = connect(*r, server.endpoint());
  ASSERT_TRUE(run_until(io_, [&] { return r->has("220"); }));
  s->write("NOOP\r\n");
  s.reset();
  r.reset();  // a call into the handler now would be a use after free (ASan finds it)
  ASSERT_TRUE(run_until(io_, [&] { return server.logs[0]->done; }));
  run_a_little(io_);
}

TEST_F(asio_transport_test, a_handler_may_destroy_its_stream_from_a_callback) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  recorder r;
  auto s = connect(r, server.endpoint());
  r.on_data_hook = [&] { s.reset(); };
  ASSERT_TRUE(run_until(io_, [&] { return !server.logs.empty() && server.logs[0]->done; }));
  EXPECT_EQ(r.events, (std::vector<std::string>{"connected", "data"}));
}

TEST_F(asio_transport_test, destroying_a_stream_while_it_connects_calls_nothing) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  recorder r;
  auto s = connect(r, server.endpoint());
  s.reset();
  run_a_little(io_);
  EXPECT_TRUE(r.events.empty());
}

TEST_F(asio_transport_test, start_tls_before_connected_or_twice_is_refused) {
  line_server server(io_, "127.0.0.1", server_mode::smtpish);
  recorder early;
  auto s = connect(early, server.endpoint());
  s->start_tls({});
  ASSERT_TRUE(run_until(io_, [&] { return early.closed.has_value(); }));
  EXPECT_EQ(*early.closed, std::make_error_code(std::errc::operation_not_permitted));
}

// --- STARTTLS ------------------------------------------------------------------------------

class asio_tls_test : public asio_transport_test {
 protected:
  // A receiver with a certificate for mx.example.test (and *.wild.example.test) from the CA.
  std::unique_ptr<tls_server_context> server_tls(const cert_spec& spec, bool self_signed = false) {
    auto [crt, key] = certs_.server("server" + std::to_string(++n_), spec, self_signed);
    std::string error;
    auto ctx = make_server_tls({crt, key}, error);
    EXPECT_NE(ctx, nullptr) << error;
    return ctx;
  }

  // Connects, says STARTTLS, upgrades when the 220 comes; then says EHLO over TLS.
  void upgrade(recorder& r, std::unique_ptr<core::stream>& s, const core::endpoint& at,
               const core::tls_request& request) {
    s = connect(r, at);
    auto started = std::make_shared<bool>(false);
    r.on_data_hook = [&r, &s, request, started] {
      if (r.has("220 go ahead\r\n") && !*started) {
        *started = true;
        s->start_tls(request);
        s->write("EHLO secret\r\n");  // waits for the handshake, goes out encrypted
      }
    };
    ASSERT_TRUE(run_until(io_, [&] { return r.has("220 test"); }));
    s->write("STARTTLS\r\n");
    ASSERT_TRUE(run_until(io_, [&] { return r.tls || r.closed; }));
  }

  pki certs_;
  int n_ = 0;
  cert_spec good_{"mx.example.test", "DNS:mx.example.test,DNS:*.wild.example.test"};
};

TEST_F(asio_tls_test, verify_none_encrypts_and_reports_what_it_found) {
  auto tls = server_tls(good_);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"mx.example.test", core::tls_verify::none});
  ASSERT_TRUE(r.tls) << (r.closed ? r.closed->message() : "");
  EXPECT_EQ(r.tls->protocol, "TLSv1.3");
  EXPECT_FALSE(r.tls->cipher.empty());
  EXPECT_FALSE(r.tls->chain_trusted) << "the test CA is not in the system store";
  EXPECT_TRUE(r.tls->name_matched);
  EXPECT_FALSE(r.tls->detail.empty());
  ASSERT_TRUE(run_until(io_, [&] { return r.has("echo: EHLO secret\r\n"); }));
  EXPECT_TRUE(server.logs[0]->tls);
  EXPECT_EQ(server.logs[0]->sni, "mx.example.test");
  EXPECT_EQ(server.logs[0]->received, "STARTTLS\r\nEHLO secret\r\n");
  EXPECT_EQ(std::count(r.events.begin(), r.events.end(), "tls"), 1);
}

TEST_F(asio_tls_test, verify_trusted_with_the_ca_file) {
  remake({.ca_file = certs_.ca_file});
  auto tls = server_tls({"mx.example.test", "DNS:mx.example.test"});
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"other.example.test", core::tls_verify::trusted});
  ASSERT_TRUE(r.tls) << (r.closed ? r.closed->message() : "");
  EXPECT_TRUE(r.tls->chain_trusted);
  EXPECT_FALSE(r.tls->name_matched) << "trusted does not check the name, but reports it";
  EXPECT_EQ(r.tls->detail, "the certificate does not name other.example.test");
}

TEST_F(asio_tls_test, verify_trusted_fails_without_the_ca) {
  remake({.ca_file = certs_.other_ca_file});
  auto tls = server_tls(good_);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"mx.example.test", core::tls_verify::trusted});
  EXPECT_FALSE(r.tls);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(*r.closed, core::make_error_code(core::transport_errc::tls_untrusted))
      << r.closed->message();
  ASSERT_TRUE(run_until(io_, [&] { return server.logs[0]->done; }));
  EXPECT_TRUE(server.logs[0]->handshake_failed);
  EXPECT_EQ(server.logs[0]->received, "STARTTLS\r\n") << "nothing went out in clear after it";
}

TEST_F(asio_tls_test, verify_hostname_matches_names_and_wildcards) {
  remake({.ca_file = certs_.ca_file});
  auto tls = server_tls(good_);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  for (const std::string name : {"mx.example.test", "MX.Example.Test", "a.wild.example.test"}) {
    recorder r;
    std::unique_ptr<core::stream> s;
    upgrade(r, s, server.endpoint(), {name, core::tls_verify::hostname});
    ASSERT_TRUE(r.tls) << name << ": " << (r.closed ? r.closed->message() : "");
    EXPECT_TRUE(r.tls->verified()) << name;
    EXPECT_EQ(r.tls->detail, "") << name;
  }
}

TEST_F(asio_tls_test, verify_hostname_refuses_another_name) {
  remake({.ca_file = certs_.ca_file});
  auto tls = server_tls(good_);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  // RFC 6125 §6.4.3: the wildcard covers one label only.
  for (const std::string name : {"mx2.example.test", "b.a.wild.example.test", "wild.example.test"}) {
    recorder r;
    std::unique_ptr<core::stream> s;
    upgrade(r, s, server.endpoint(), {name, core::tls_verify::hostname});
    EXPECT_FALSE(r.tls) << name;
    ASSERT_TRUE(r.closed) << name;
    EXPECT_EQ(*r.closed, core::make_error_code(core::transport_errc::tls_name_mismatch))
        << name << ": " << r.closed->message();
  }
}

TEST_F(asio_tls_test, an_expired_certificate_is_reported_as_such) {
  remake({.ca_file = certs_.ca_file});
  cert_spec expired = good_;
  expired.valid_from_s = -7200;
  expired.valid_until_s = -3600;
  auto tls = server_tls(expired);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"mx.example.test", core::tls_verify::hostname});
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(*r.closed, core::make_error_code(core::transport_errc::tls_expired))
      << r.closed->message();
}

TEST_F(asio_tls_test, a_self_signed_certificate_is_untrusted_but_fine_for_none) {
  remake({.ca_file = certs_.ca_file});
  auto tls = server_tls(good_, /*self_signed=*/true);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder strict, lax;
  std::unique_ptr<core::stream> a, b;
  upgrade(strict, a, server.endpoint(), {"mx.example.test", core::tls_verify::hostname});
  ASSERT_TRUE(strict.closed);
  EXPECT_EQ(*strict.closed, core::make_error_code(core::transport_errc::tls_untrusted));
  upgrade(lax, b, server.endpoint(), {"mx.example.test", core::tls_verify::none});
  ASSERT_TRUE(lax.tls);
  EXPECT_FALSE(lax.tls->chain_trusted);
  EXPECT_TRUE(lax.tls->name_matched);
}

TEST_F(asio_tls_test, a_server_that_does_not_speak_tls_fails_the_handshake) {
  line_server server(io_, "127.0.0.1", server_mode::not_tls);
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"mx.example.test", core::tls_verify::none});
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(*r.closed, core::make_error_code(core::transport_errc::tls_handshake_failed))
      << r.closed->message();
  EXPECT_FALSE(r.has("this is not TLS")) << "clear text after STARTTLS is never delivered";
}

TEST_F(asio_tls_test, a_stalled_handshake_times_out) {
  line_server server(io_, "127.0.0.1", server_mode::tls_stall);
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(),
          {"mx.example.test", core::tls_verify::none, core::duration_ms{300}});
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(*r.closed, std::make_error_code(std::errc::timed_out));
  ASSERT_TRUE(run_until(io_, [&] { return server.logs[0]->done; }));
}

TEST_F(asio_tls_test, close_after_tls_flushes_and_ends_in_order) {
  auto tls = server_tls(good_);
  line_server server(io_, "127.0.0.1", server_mode::smtpish, &tls->native());
  recorder r;
  std::unique_ptr<core::stream> s;
  upgrade(r, s, server.endpoint(), {"mx.example.test", core::tls_verify::none});
  ASSERT_TRUE(r.tls);
  s->write("QUIT\r\n");
  s->close();
  s.reset();
  ASSERT_TRUE(run_until(io_, [&] { return server.logs[0]->done; }));
  EXPECT_EQ(server.logs[0]->received, "STARTTLS\r\nEHLO secret\r\nQUIT\r\n");
  ASSERT_TRUE(server.logs[0]->end);
  // The client's close_notify ends the TLS stream in order (Asio reports it as eof).
  EXPECT_EQ(*server.logs[0]->end, asio::error::eof) << server.logs[0]->end->message();
}

TEST(asio_transport_options_test, an_unreadable_ca_file_is_an_error) {
  asio::io_context io;
  std::string error;
  EXPECT_EQ(make_asio_transport(io, {.ca_file = "/nonexistent/ca.pem"}, error), nullptr);
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
  asio_transport_options old;
  old.min_tls_version = "1.1";
  EXPECT_EQ(make_asio_transport(io, old, error), nullptr);
}

}  // namespace
}  // namespace mailsim::net
