// mailsim::auth DKIM signer — adds a DKIM-Signature field to a message (RFC 6376 §5,
// RFC 8463 for Ed25519).
//
// Contract: sign() returns the field to prepend ("DKIM-Signature: ...CRLF"); the message
// itself is not copied or changed. The algorithm follows the key: rsa-sha256 for RSA keys,
// ed25519-sha256 for Ed25519 keys (rsa-sha1 is never produced, RFC 8301 §3.1). The header
// list is built per message: every name of `headers` is listed once per instance present,
// and names also in `oversign` (From always) once more, so that nobody can add an instance
// without breaking the signature (RFC 6376 §8.15). t= comes from the `now` passed in (no
// clock is read). The field is folded at 78 columns (RFC 5322 §2.1.1) only where white space
// is allowed and, for b=, after the value has been computed, so the folding never changes
// what was signed. Messages are in wire form (CRLF line ends; see canonicalization.hpp).
// Errors: errc::invalid_option (bad d=, s=, i= or header name), errc::no_from_field,
// errc::crypto_failure. A signer is immutable and may be shared between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/core/clock.hpp"

namespace mailsim::auth {

// RFC 6376 §5.4.1's list, plus Sender, Message-ID, the MIME fields and RFC 8058's
// List-Unsubscribe-Post (which must be signed for one-click unsubscribe).
std::vector<std::string> default_signed_headers();

struct sign_options {
  std::string domain;    // d=
  std::string selector;  // s=
  std::string identity;  // i=; empty leaves it out (verifiers then assume "@" + d=)
  canon header_canon = canon::relaxed;
  canon body_canon = canon::relaxed;
  std::vector<std::string> headers = default_signed_headers();
  // Listed once more than present; only names that are signed count, and From always is.
  std::vector<std::string> oversign = {"from"};
  bool timestamp = true;                             // t=now
  std::optional<std::chrono::seconds> expire_after;  // x=now+this
  bool body_length = false;                          // l= (the whole canonical body)
};

struct sign_result {
  std::string field;  // the complete DKIM-Signature field with its final CRLF
  std::error_code error;

  bool ok() const { return !error; }
};

class dkim_signer {
 public:
  dkim_signer(private_key key, sign_options options);

  // errc::invalid_option when the options cannot make a valid signature (checked by sign()).
  std::error_code check_options() const;
  sign_result sign(std::string_view message, core::time_point now) const;

  const private_key& key() const { return key_; }
  dkim_algorithm algorithm() const;
  const sign_options& options() const { return options_; }

 private:
  private_key key_;
  sign_options options_;
};

// Lower level: computes b= for a DKIM-Signature field written by the caller, whose last tag is
// an empty "b=" (no final CRLF), using its a=, c= and h= (bh= is taken as written). Returns
// the field completed with the folded b= value and a CRLF. For re-creating published examples
// whose tag layout differs from sign()'s, and for tests.
sign_result sign_field(const private_key& key, std::string_view message,
                       std::string_view unsigned_field);

}  // namespace mailsim::auth
