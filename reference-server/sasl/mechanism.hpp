// mailsim::sasl server mechanisms — PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
// SCRAM-SHA-256 (RFC 7677, RFC 5802), as sans-IO state machines shared by SMTP AUTH
// (RFC 4954), IMAP AUTHENTICATE and POP3 AUTH.
//
// Contract: the protocol session strips its own framing ("334 ", "+ ") and base64; a
// mechanism sees and returns raw bytes. start() takes the initial response when the client
// sent one (an empty string for "="), step() each further client message. A mechanism
// looks credentials up through the injected credential_store and draws nonces from the
// injected random source; it never does I/O. After success or failure it must not be
// stepped again. Crypto uses OpenSSL, included only in the .cpp files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/random.hpp"

namespace mailsim::sasl {

// Where a mechanism finds a user's stored password hash (see password.hpp for formats).
class credential_store {
 public:
  virtual ~credential_store() = default;
  // The encoded hash for this authentication identity, or nullopt when there is no such user.
  virtual std::optional<std::string> password_hash(std::string_view user) const = 0;
  // A stable server secret that keys the fake SCRAM salts handed to unknown users, so that
  // nobody can recompute them and tell unknown users from real ones (see scram.hpp). Stores
  // should return a secret from the server's configuration; the default (empty) falls back to
  // a fixed key, which keeps the salts stable but lets someone who knows this code compute
  // them.
  virtual std::string scram_mock_secret() const { return {}; }
};

struct step_result {
  enum class status {
    challenge,  // send `data` to the client and wait for its answer
    success,    // authenticated as `user`; `data` may hold final server data (SCRAM)
    failure,    // wrong credentials or unknown user: 535 5.7.8
    malformed,  // the client's message broke the mechanism's syntax: 501 5.5.2
  };
  status state = status::failure;
  std::string data;
  std::string user;
  std::string reason;  // for logs only, never sent to the client
};

class server_mechanism {
 public:
  virtual ~server_mechanism() = default;
  virtual step_result start(std::optional<std::string_view> initial_response) = 0;
  virtual step_result step(std::string_view client_message) = 0;
};

// The mechanism with this (upper-case) name, or nullptr when not supported.
std::unique_ptr<server_mechanism> make_server_mechanism(std::string_view name,
                                                        const credential_store& store,
                                                        core::random_source& random);

// Names of every mechanism this module implements, strongest first.
const std::vector<std::string>& supported_mechanisms();

}  // namespace mailsim::sasl
