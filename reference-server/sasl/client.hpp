// mailsim::sasl client mechanisms — PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and
// SCRAM-SHA-256 (RFC 7677, RFC 5802), the client halves of mechanism.hpp, used by the SMTP
// client session (RFC 4954 AUTH) and by the tests.
//
// Contract: like the server mechanisms, a client mechanism sees and returns raw bytes; the
// protocol session does the base64 and the framing. Usage:
//   1. initial_response(): the data to send with the AUTH command, or nullopt when the
//      mechanism waits for a first challenge (LOGIN). A session that cannot send an initial
//      response (line too long, no SASL-IR) sends AUTH without it; the mechanism then gives
//      the same data in answer to the server's empty challenge.
//   2. step(challenge) for every server challenge:
//      respond -> send `data` (possibly empty);
//      done    -> the client is satisfied (SCRAM: the server proved it knows the password);
//                 if the server's message came as a challenge, answer it with an empty
//                 response (RFC 4954 §4) and expect the success reply;
//      error   -> cancel the exchange ("*", RFC 4954 §4); `reason` is for logs.
//   3. On the server's success reply, accept it only when complete() is true: a SCRAM server
//      that claims success without sending a valid v= has not authenticated itself.
// A mechanism never does I/O; SCRAM draws its nonce from the injected random source.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/random.hpp"

namespace mailsim::sasl {

struct client_step_result {
  enum class status {
    respond,  // send `data` to the server
    done,     // nothing more to prove; see the contract above
    error,    // abort the exchange
  };
  status state = status::error;
  std::string data;
  std::string reason;  // for logs only
};

class client_mechanism {
 public:
  virtual ~client_mechanism() = default;
  virtual std::optional<std::string> initial_response() = 0;
  virtual client_step_result step(std::string_view server_challenge) = 0;
  // True once the client has sent its credentials and, for SCRAM, verified the server.
  virtual bool complete() const = 0;
};

// The client mechanism with this name (as in supported_mechanisms(), ASCII case ignored), or
// nullptr when the name is unknown or the credentials cannot be used with it: PLAIN and LOGIN
// take 1 to 255 bytes without NUL for each; SCRAM-SHA-256 takes printable ASCII only (the
// subset on which SASLprep is the identity, see scram.hpp).
std::unique_ptr<client_mechanism> make_client_mechanism(std::string_view name,
                                                        std::string_view user,
                                                        std::string_view password,
                                                        core::random_source& random);

}  // namespace mailsim::sasl
