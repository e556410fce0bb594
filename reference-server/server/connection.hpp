// Internal to mailsim::server: one SMTP connection, a coroutine that shuttles bytes
// between a socket (plain or TLS) and an smtp::server_session, asks the inbound policy for
// decisions and the delivery worker for durability. Not a public header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "reference-server/config/config.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/tls.hpp"
#include "reference-server/policy/inbound_chain.hpp"
#include "reference-server/imap/backend.hpp"
#include "reference-server/pop3/maildrop.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/server/delivery_worker.hpp"
#include "reference-server/server/event_log.hpp"
#include "reference-server/server/inbound_policy.hpp"
#include "reference-server/server/outbound.hpp"

namespace mailsim::server {

// A session the server can ask to finish (SIGTERM) or cut (end of the shutdown grace):
// SMTP, POP3 and IMAP connections.
class live_session {
 public:
  virtual ~live_session() = default;
  virtual void on_shutdown() = 0;
  virtual void abort() = 0;
};

// What every connection of one server shares. Used on the I/O thread only.
struct server_context {
  const config::server_config& cfg;
  inbound_policy& policy;
  delivery_worker& worker;
  outbound_service* outbound = nullptr;  // none: remote recipients are refused by the policy
  event_log& log;
  const core::clock& clock;
  core::random_source& random;
  const sasl::credential_store& credentials;
  net::tls_server_context* tls = nullptr;
  boost::asio::thread_pool& auth_pool;  // SASL steps (password hashing) run here
  bool stopping = false;
  std::uint64_t next_session_id = 1;
  std::uint64_t messages_accepted = 0;
  std::map<std::string, std::size_t> per_ip;  // open connections per client address
  std::set<live_session*> live;
  policy::inbound_state* inbound = nullptr;  // none: no receiving-side checks
  pop3::maildrop_opener* maildrops = nullptr;  // POP3 listeners read the store through it
  imap::backend_opener* mail_accounts = nullptr;  // and IMAP listeners through this
};

// Serves one accepted socket until the session closes.
// `peer_ip` is the address the connection was counted under in per_ip (asked once, at
// accept: asking the socket again may fail once the client has reset).
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              std::string peer_ip,
                                              const config::listener& listener,
                                              server_context& ctx);

// Asks every live connection to finish (after SIGTERM).
void shutdown_connections(server_context& ctx);
// Cuts every live connection now (shutdown grace is over).
void abort_connections(server_context& ctx);

}  // namespace mailsim::server
