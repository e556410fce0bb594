#include "simulator/network/address.hpp"

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/ip_address.hpp"

namespace mailsim::sim::network {

std::optional<std::string> canonical_address(const std::string& text) {
  auto ip = core::parse_ip(text);
  if (!ip) return std::nullopt;
  return core::to_string(*ip);
}

bool is_ipv6(const std::string& canonical) {
  return canonical.find(':') != std::string::npos;
}

std::string format_endpoint(const core::endpoint& e) {
  std::string out;
  append_endpoint(out, e);
  return out;
}

void append_endpoint(std::string& out, const core::endpoint& e) {
  const bool v6 = is_ipv6(e.address);
  if (v6) out += '[';
  out += e.address;
  if (v6) out += ']';
  out += ':';
  core::append_decimal(out, e.port);
}

bool address_registry::listen(const core::endpoint& at, accept_handler& handler,
                              listen_options options) {
  auto address = canonical_address(at.address);
  if (!address || at.port == 0) return false;
  auto tls = std::make_shared<const tls_profile>(options.tls);
  listeners_[{*address, at.port}] = listener{&handler, std::move(options), std::move(tls)};
  return true;
}

void address_registry::unlisten(const core::endpoint& at) {
  if (auto address = canonical_address(at.address)) listeners_.erase({*address, at.port});
}

const listener* address_registry::find(const core::endpoint& at) const {
  auto it = listeners_.find({at.address, at.port});
  return it == listeners_.end() ? nullptr : &it->second;
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = core::ascii_lower(c);
  return out;
}

}  // namespace

bool certificate_names_host(const std::string& dns_id, const std::string& host) {
  std::string id = lower(dns_id);
  std::string name = lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();  // an absolute name is the same host
  if (id.empty() || name.empty()) return false;
  if (id.rfind("*.", 0) != 0) return id == name;
  // RFC 6125 §6.4.3: the wildcard stands for the whole left-most label, exactly one label.
  const std::string rest = id.substr(2);
  const auto dot = name.find('.');
  return !rest.empty() && dot != std::string::npos && dot > 0 && name.substr(dot + 1) == rest;
}

}  // namespace mailsim::sim::network
