// mailsim::auth Authentication-Results — the header field a receiver adds to say what it
// checked (RFC 8601), and the removal of forged copies of it.
//
// Contract: pure string functions, no I/O, never throw beyond std::bad_alloc.
// - authentication_results_field() composes the whole field, CRLF-terminated:
//   "Authentication-Results: <authserv-id>;" then the resinfo texts separated by ";", or
//   "; none" when there are none (§2.2 no-result). The version is omitted (§2.2: it is 1
//   by default). Each resinfo starts on a new line; a resinfo longer than the line is
//   folded at its white space (outside quoted strings and comments) with CRLF TAB so that
//   lines stay within line_octets_target where the words allow (RFC 5322 §2.1.1: 78).
//   The authserv-id is written as a value: quoted when it is not an RFC 2045 token.
//   The resinfo texts are taken as written (authres_text() of dkim_verifier.hpp and
//   dmarc.hpp, spf's); authres_value() quotes a property value when needed.
// - strip_authentication_results() removes every Authentication-Results field of the header
//   section whose authserv-id equals ours without regard to case (§5: a receiver must not
//   let a message arrive with a forged field in its own name); fields for other
//   authserv-ids, fields it cannot read, and the body are kept byte for byte.
// - authserv_id_of() reads the authserv-id of a field value: optional CFWS (comments may
//   nest), then an RFC 2045 token or a quoted-string (returned without its quotes and
//   escapes); nullopt when it is neither.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::auth {

inline constexpr std::string_view authentication_results_name = "Authentication-Results";

struct authres_options {
  std::size_t line_octets_target = 78;  // RFC 5322 §2.1.1 SHOULD
};

std::string authentication_results_field(std::string_view authserv_id,
                                         const std::vector<std::string>& resinfos,
                                         const authres_options& options = {});

// RFC 2045 §5.1 token: visible ASCII except SPACE, CTLs and tspecials ()<>@,;:\"/[]?=.
bool is_mime_token(std::string_view s);

// `s` as an RFC 2045 quoted-string ('"' and '\' escaped).
std::string quoted_string(std::string_view s);

// A property value (RFC 8601 §2.2 pvalue): as is when it is a token or of the form
// [local-part "@"] domain with a dot-atom local part; quoted otherwise.
std::string authres_value(std::string_view s);

std::optional<std::string> authserv_id_of(std::string_view field_value);

// `message` in wire form (CRLF lines). `removed`, when given, receives how many fields went.
std::string strip_authentication_results(std::string_view message, std::string_view authserv_id,
                                         std::size_t* removed = nullptr);

}  // namespace mailsim::auth
