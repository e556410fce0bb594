#include "reference-server/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "reference-server/net/asio.hpp"
#include <boost/asio/ssl.hpp>

namespace mailsim::net {

tls_server_context::tls_server_context(std::unique_ptr<boost::asio::ssl::context> ctx)
    : ctx_(std::move(ctx)) {}

tls_server_context::~tls_server_context() = default;

std::unique_ptr<tls_server_context> make_server_tls(const tls_settings& settings,
                                                    std::string& error) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  int min = settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), min);  // RFC 8996: nothing older
  ctx->use_certificate_chain_file(settings.certificate_file, ec);
  if (ec) {
    error = "cannot load certificate " + settings.certificate_file + ": " + ec.message();
    return nullptr;
  }
  ctx->use_private_key_file(settings.private_key_file, ssl::context::pem, ec);
  if (ec) {
    error = "cannot load private key " + settings.private_key_file + ": " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    error = "private key does not match certificate " + settings.certificate_file;
    return nullptr;
  }
  return std::make_unique<tls_server_context>(std::move(ctx));
}

}  // namespace mailsim::net
