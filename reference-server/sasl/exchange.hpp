// mailsim::sasl server exchange — the protocol-neutral half of SMTP AUTH (RFC 4954 §4),
// POP3 AUTH (RFC 5034 §4) and IMAP AUTHENTICATE (RFC 9051 §6.2.2, RFC 4959 §3): how client
// lines become mechanism input, how mechanism results become what the server sends, and
// which mechanisms are offered.
//
// Contract: plain functions without I/O, state or clock. The protocol session keeps its own
// framing ("334 ", "+ "), reply codes and texts, owns the mechanism and runs its steps;
// these functions only classify. `final_user` is the session's record of a success whose
// final server data was sent as a last challenge: on_step() sets it, on_line() clears it
// when the client answers that challenge. Results:
// - decode_initial_response: the bytes for start(); "" for "=", nullopt when not base64.
// - on_line: cancel ("*"), a decoded response for step(), the acknowledgement of final
//   data (authenticated as `data`), a refused acknowledgement, or invalid base64.
// - on_step: a challenge or final data to send (`data` is already base64), success as
//   `data`, failure (wrong credentials), or a malformed client message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::sasl {

// How a protocol reads "=" on a continuation line.
struct line_rules {
  // POP3 (RFC 5034 §4) treats "=" as an empty response, and so as an acknowledgement of
  // final server data; SMTP and IMAP take it as (invalid) base64.
  bool equals_is_empty = false;
};

struct line_action {
  enum class kind {
    cancel,            // "*": the client gives up the exchange
    response,          // `data` is the decoded client message, for the mechanism's step()
    acknowledged,      // the empty answer to final server data: authenticated as `data`
    not_acknowledged,  // final server data was outstanding and the line was not empty
    invalid_base64,    // the line is not base64
  };
  kind what = kind::cancel;
  std::string data;
};

struct step_action {
  enum class kind {
    challenge,   // send `data` (base64) as a challenge and wait for the client
    final_data,  // success with server data: send `data` (base64) as a last challenge
    succeeded,   // authenticated as `data`
    failed,      // wrong credentials or unknown user
    malformed,   // the client's message broke the mechanism's syntax
  };
  kind what = kind::failed;
  std::string data;
};

// RFC 4954 §4, RFC 5034 §4, RFC 4959 §3: "=" is an empty initial response, anything else is
// base64. nullopt when it is not base64.
std::optional<std::string> decode_initial_response(std::string_view text);

// A client line while the exchange waits for it. Clears `final_user` unless the line is a
// response for step().
line_action on_line(std::string_view line, std::optional<std::string>& final_user,
                    line_rules rules = {});

// What to do with a mechanism's result. Sets `final_user` for final_data.
step_action on_step(const step_result& r, std::optional<std::string>& final_user);

// PLAIN and LOGIN send the password as it is (RFC 4616 §1); `name` is upper case.
bool is_plaintext_mechanism(std::string_view name);

// The mechanisms to offer: the configured names upper-cased (RFC 4422 §3.1), only those
// this module implements, PLAIN and LOGIN only when plaintext is allowed, each once.
std::vector<std::string> offered_mechanisms(const std::vector<std::string>& configured,
                                            bool plaintext_allowed);

// Whether a requested mechanism (any case) may be used, and why not.
enum class offer_status { offered, plaintext_refused, unsupported };
offer_status check_offered(const std::vector<std::string>& configured, bool plaintext_allowed,
                           std::string_view name);

}  // namespace mailsim::sasl
