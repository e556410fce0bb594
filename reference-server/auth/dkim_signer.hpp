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
// sign() is made of the building blocks at the end of this header (h= list, folding,
// signing into b=), which ARC sealing (arc.hpp) uses too, so both write fields the same way.
#pragma once

#include <chrono>
#include <cstddef>
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

// ---- building blocks shared with ARC sealing (arc_seal.cpp), whose AMS and AS are written
// and signed the way a DKIM-Signature is (RFC 8617 §4.1.2, §4.1.3) ----

// The a= a key makes: rsa-sha256 for RSA, ed25519-sha256 for Ed25519 (RFC 6376 §3.3,
// RFC 8463 §3); never rsa-sha1 (RFC 8301 §3.1).
dkim_algorithm signing_algorithm(const private_key& key);

// A name that h= can list: RFC 5322 §3.6.8 ftext (printable ASCII but ":") without the ";"
// that would end the tag (RFC 6376 §3.2 VALCHAR). Case is not looked at.
bool is_signable_header_name(std::string_view name);

// The h= list for `parts` (RFC 6376 §5.4.2 for repeated names, §8.15 over-signing): each
// name of `headers`, lower-cased and taken once, From first when missing, listed once per
// instance present; then, in the same order, each of those names that `oversign` holds
// (without regard to case; From always) once more, so that nobody can add an instance
// without breaking the signature. Names of `oversign` not in `headers` are ignored. The
// list always ends with at least one "from". Names are not checked here
// (is_signable_header_name() is the caller's).
std::vector<std::string> signed_header_list(const message_parts& parts,
                                            const std::vector<std::string>& headers,
                                            const std::vector<std::string>& oversign);

// Writes a signature field folded at 78 columns (RFC 5322 §2.1.1 SHOULD), CRLF SP at each
// fold, and only where the tag-list syntax allows folding white space (RFC 6376 §3.2, §3.5):
// between tags, after a ":" of h=, anywhere in b=. Unfolding the result gives back what was
// written, so a field can be folded before or after it is signed.
class field_folder {
 public:
  // `head` is the field so far, e.g. "DKIM-Signature:"; lines continue after its last CRLF.
  explicit field_folder(std::string head);

  // A token after white space (a new tag): folded before it when it does not fit.
  void word(std::string_view token);
  // A token with no white space before it unless folded (the next name of h=).
  void glued(std::string_view token);
  // "h=a:b:...;" as one word whose folds come only after a ":"; nothing for an empty list.
  void header_list(const std::vector<std::string>& names);
  // A base64 value that may fold anywhere (b=): fills every line to the column limit.
  void base64(std::string_view value);

  const std::string& text() const { return out_; }
  // The field with its final CRLF; the folder is left empty.
  std::string take();

 private:
  void fold();
  void append(std::string_view t);

  std::string out_;
  std::size_t column_;
};

// Signs `digest` (SHA-256, from header_digest() or arc_seal_digest()) with `key` and writes
// the base64 signature after `field`'s text, which ends in "b=". False, and nothing written,
// when the digest is empty or OpenSSL refuses: the caller reports errc::crypto_failure.
bool append_signature(const private_key& key, std::string_view digest, field_folder& field);

}  // namespace mailsim::auth
