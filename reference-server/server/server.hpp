// mailsim::server — the mailsim-server process: SMTP listeners (MX, submission,
// submissions) over Boost.Asio C++20 coroutines, driving the sans-IO smtp::server_session,
// delivering through the Maildir store by group commit; POP3 (pop3, pop3s) and IMAP (imap,
// imaps) listeners driving pop3::session and imap::session over the same Maildirs.
//
// Contract: run() blocks until SIGTERM/SIGINT (or stop()): then the listeners close, idle
// SMTP sessions get 421 4.3.2 (POP3 -ERR, IMAP BYE), sessions in a transaction may finish
// it until shutdown_grace, and
// what was queued for the store is committed before run() returns. A message gets its 250
// only after the store reported it durable. One I/O thread for all sessions; one worker
// thread for the store. Errors at start (ports, certificate, store) come back from start().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reference-server/config/config.hpp"

namespace mailsim::server {

class smtp_server {
 public:
  explicit smtp_server(config::server_config cfg);
  ~smtp_server();
  smtp_server(const smtp_server&) = delete;
  smtp_server& operator=(const smtp_server&) = delete;

  // Opens the store (cleaning tmp/ debris), the log, TLS and every listener. Returns an
  // error text, or an empty string when the server is ready for run().
  std::string start();
  // Serves until a stop signal, then shuts down gracefully.
  void run();
  // Asks run() to shut down, from any thread.
  void stop();
  // The bound ports in listener order (useful with port 0 in tests).
  std::vector<std::uint16_t> ports() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::server
