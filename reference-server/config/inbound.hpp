// mailsim::config inbound — the `inbound:` section: the receiving-side checks of the MX
// listeners (SPF, DKIM, ARC, DMARC, DNSBL/DNSWL, greylisting, rate windows, the spam score;
// reference-server/policy/inbound_chain.hpp). Filled by the loader (loader_inbound.cpp),
// read by the server. Every key and its default: docs/configuration.md.
#pragma once

#include <string>

#include "reference-server/policy/inbound_chain.hpp"

namespace mailsim::config {

struct inbound_config {
  // Off without an `inbound:` section: a lab server keeps accepting what it always did.
  bool enabled = false;
  // Debian's `publicsuffix` package; read when the server starts (DMARC organizational
  // domains, RFC 7489 §3.2).
  std::string public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
  policy::inbound_settings settings;  // authserv_id empty: server.hostname
};

}  // namespace mailsim::config
