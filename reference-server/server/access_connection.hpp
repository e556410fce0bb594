// Internal to mailsim::server: one connection of a mail-reading listener (roles pop3,
// pop3s, imap, imaps), a coroutine that shuttles bytes between a socket and a pop3::session
// or imap::session, runs SASL steps on the auth pool and does the TLS handshake for
// STLS/STARTTLS. Not a public header.
#pragma once

#include <string>

#include "reference-server/config/config.hpp"
#include "reference-server/net/asio.hpp"

namespace mailsim::server {

struct server_context;

// Serves one accepted socket until the session closes. `peer_ip` as serve_connection().
boost::asio::awaitable<void> serve_pop3_connection(boost::asio::ip::tcp::socket socket,
                                                   std::string peer_ip,
                                                   const config::listener& listener,
                                                   server_context& ctx);
boost::asio::awaitable<void> serve_imap_connection(boost::asio::ip::tcp::socket socket,
                                                   std::string peer_ip,
                                                   const config::listener& listener,
                                                   server_context& ctx);

}  // namespace mailsim::server
