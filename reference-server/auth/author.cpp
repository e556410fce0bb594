#include "reference-server/auth/author.hpp"

#include <cctype>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"

namespace mailsim::auth {

namespace {

// The value of a field, unfolded (RFC 5322 §2.2.3), without comments (RFC 5322 §3.2.2) and
// with quoted strings blanked, so that '@', ',' and '<' inside them do not count.
std::string plain_value(std::string_view raw) {
  const auto colon = raw.find(':');
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = colon + 1; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\r' || c == '\n') continue;
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if (depth > 0) {
      if (c == '\\') ++i;
      else if (c == '(') ++depth;
      else if (c == ')') --depth;
      continue;
    }
    if (c == '(') ++depth;
    else if (c == '"') quoted = true, out += 'q';
    else out += c;
  }
  return out;
}

bool domain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

std::optional<std::string> author_domain(std::string_view message) {
  const message_parts parts = split_message(message);
  std::optional<std::string> value;
  for (const header_field& f : parts.fields) {
    if (!iequals(f.name, "from")) continue;
    if (value) return std::nullopt;  // several From fields
    value = plain_value(f.raw);
  }
  if (!value || value->find(',') != std::string::npos || value->find(':') != std::string::npos) {
    return std::nullopt;  // no From, several addresses, or a group
  }
  const auto open = value->find('<');
  const std::string address =
      open == std::string::npos ? *value : value->substr(open + 1, value->find('>', open) - open - 1);
  const auto at = address.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  std::string domain;
  std::size_t i = at + 1;
  while (i < address.size() && std::isspace(static_cast<unsigned char>(address[i])) != 0) ++i;
  for (; i < address.size() && domain_char(address[i]); ++i) domain += address[i];
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty() || domain.front() == '.') return std::nullopt;
  return to_lower(domain);
}

}  // namespace mailsim::auth
