// mailsim::sim::network addresses — canonical endpoints and the registry of listeners.
//
// Contract: addresses are IPv4 or IPv6 literals; every comparison uses the canonical text of
// core::parse_ip / core::to_string (RFC 5952 for IPv6), so "2001:DB8:0::1" and "2001:db8::1"
// are one address. Nothing here resolves names (DNS is simulator/dns) or wildcards: a
// listener listens on one address and port.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/core/transport.hpp"

namespace mailsim::sim::network {

class accept_handler;

// The canonical form of `text`, or nullopt when it is not an address literal.
std::optional<std::string> canonical_address(const std::string& text);
bool is_ipv6(const std::string& canonical);
// "192.0.2.1:25", "[2001:db8::1]:25", for traces and messages.
std::string format_endpoint(const core::endpoint& e);
// Appends what format_endpoint() returns, without a string of its own.
void append_endpoint(std::string& out, const core::endpoint& e);

// What a listener's STARTTLS handshake finds (no crypto: a description of the outcome).
struct tls_profile {
  bool available = true;  // false: every handshake fails (transport_errc::tls_handshake_failed)
  // The certificate's DNS-IDs (RFC 6125 §6.4): exact names, or "*.x.y" for one left-most
  // label. Empty: the certificate names no host the client could ask for.
  std::vector<std::string> names;
  bool trusted = true;   // the chain leads to a trusted CA
  bool expired = false;  // the certificate is out of its validity period
  std::string protocol = "TLSv1.3";
  std::string cipher = "TLS_AES_256_GCM_SHA384";
};

struct listen_options {
  tls_profile tls;
};

struct listener {
  accept_handler* handler = nullptr;
  listen_options options;
  std::shared_ptr<const tls_profile> tls;  // options.tls, shared by its connections
};

// Listeners by canonical (address, port).
class address_registry {
 public:
  // False when the address is not a literal or the port is 0; replaces an existing listener.
  bool listen(const core::endpoint& at, accept_handler& handler, listen_options options);
  void unlisten(const core::endpoint& at);
  // `at` must be canonical.
  const listener* find(const core::endpoint& at) const;
  std::size_t size() const { return listeners_.size(); }

 private:
  std::map<std::pair<std::string, std::uint16_t>, listener> listeners_;
};

// RFC 6125 §6.4.1 and §6.4.3: does a certificate DNS-ID name `host`? Case-insensitive;
// "*" only as the whole left-most label, matching exactly one label.
bool certificate_names_host(const std::string& dns_id, const std::string& host);

}  // namespace mailsim::sim::network
