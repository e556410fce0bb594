// The server side of a SASL exchange, shared by SMTP AUTH, POP3 AUTH and IMAP AUTHENTICATE.
#include "reference-server/sasl/exchange.hpp"

#include <algorithm>
#include <utility>

#include "reference-server/core/base64.hpp"

namespace mailsim::sasl {
namespace {

using line_kind = line_action::kind;
using step_kind = step_action::kind;

// RFC 4422 §3.1: mechanism names are upper case; clients and configurations may differ.
std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The answer to final server data: an empty line (RFC 4954 §4, RFC 5034 §4, RFC 9051
// §6.2.2), or "=" where the protocol reads it as empty.
line_action acknowledge(std::optional<std::string>& final_user, bool empty) {
  std::string user = *std::exchange(final_user, std::nullopt);
  if (!empty) return {line_kind::not_acknowledged, {}};
  return {line_kind::acknowledged, std::move(user)};
}

}  // namespace

std::optional<std::string> decode_initial_response(std::string_view text) {
  if (text == "=") return std::string();  // RFC 4954 §4, RFC 5034 §4, RFC 4959 §3
  return core::base64_decode(text);
}

line_action on_line(std::string_view line, std::optional<std::string>& final_user,
                    line_rules rules) {
  if (line == "*") {  // RFC 4954 §4, RFC 5034 §4, RFC 9051 §6.2.2: the client cancels
    final_user.reset();
    return {line_kind::cancel, {}};
  }
  const bool equals_empty = rules.equals_is_empty && line == "=";
  if (final_user) return acknowledge(final_user, line.empty() || equals_empty);
  std::optional<std::string> decoded =
      equals_empty ? std::optional<std::string>("") : core::base64_decode(line);
  if (!decoded) return {line_kind::invalid_base64, {}};
  return {line_kind::response, std::move(*decoded)};
}

step_action on_step(const step_result& r, std::optional<std::string>& final_user) {
  using status = step_result::status;
  switch (r.state) {
    case status::challenge:
      return {step_kind::challenge, core::base64_encode(r.data)};
    case status::success:
      if (r.data.empty()) return {step_kind::succeeded, r.user};
      // RFC 4954 §4, RFC 5034 §4, RFC 9051 §6.2.2: the success reply carries no SASL data,
      // so final server data (SCRAM's v=) goes in a last challenge that the client
      // acknowledges with an empty line.
      final_user = r.user;
      return {step_kind::final_data, core::base64_encode(r.data)};
    case status::failure:
      return {step_kind::failed, {}};
    case status::malformed:
      return {step_kind::malformed, {}};
  }
  return {step_kind::failed, {}};
}

bool is_plaintext_mechanism(std::string_view name) {
  return name == "PLAIN" || name == "LOGIN";
}

std::vector<std::string> offered_mechanisms(const std::vector<std::string>& configured,
                                            bool plaintext_allowed) {
  std::vector<std::string> out;
  for (const std::string& configured_name : configured) {
    std::string name = upper(configured_name);
    if (!contains(supported_mechanisms(), name)) continue;
    if (is_plaintext_mechanism(name) && !plaintext_allowed) continue;
    if (!contains(out, name)) out.push_back(std::move(name));
  }
  return out;
}

offer_status check_offered(const std::vector<std::string>& configured, bool plaintext_allowed,
                           std::string_view name) {
  const std::string wanted = upper(name);
  if (contains(offered_mechanisms(configured, plaintext_allowed), wanted)) {
    return offer_status::offered;
  }
  if (is_plaintext_mechanism(wanted) && !plaintext_allowed) return offer_status::plaintext_refused;
  return offer_status::unsupported;
}

}  // namespace mailsim::sasl
