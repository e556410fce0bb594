// mailsim::auth author domain — the domain of the RFC 5322 From field, the identity that DKIM
// signing chooses a key by and that DMARC aligns against (RFC 7489 §3.1, "RFC5322.From").
//
// Contract: author_domain() reads the header section of a message (CRLF lines, as SMTP
// carries them; folded fields) and returns the lower-cased domain of the From field's
// address when there is exactly one From field with exactly one address; otherwise nullopt
// (RFC 7489 §6.6.1:
// such messages have no single author domain). Quoted local parts, comments and display
// names are skipped; group syntax and address literals give nullopt. Pure, bounded by the
// input, never throws beyond std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::auth {

std::optional<std::string> author_domain(std::string_view message);

}  // namespace mailsim::auth
