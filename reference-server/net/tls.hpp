// mailsim::net TLS — a server TLS context (OpenSSL 3 through Boost.Asio's ssl), kept
// opaque so that OpenSSL headers stay out of everyone's includes.
//
// Contract: make_server_tls() loads a PEM certificate chain and private key and allows
// TLS 1.2 or 1.3 and up (configurable), with OpenSSL's default secure cipher choice.
// Returns nullptr with a message on any failure (missing file, key/cert mismatch).
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace mailsim::net {

struct tls_settings {
  std::string certificate_file;
  std::string private_key_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

class tls_server_context {
 public:
  explicit tls_server_context(std::unique_ptr<boost::asio::ssl::context> ctx);
  ~tls_server_context();
  boost::asio::ssl::context& native() { return *ctx_; }

 private:
  std::unique_ptr<boost::asio::ssl::context> ctx_;
};

std::unique_ptr<tls_server_context> make_server_tls(const tls_settings& settings,
                                                    std::string& error);

}  // namespace mailsim::net
