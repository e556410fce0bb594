#include <string>

#include "reference-server/message/imap_view.hpp"

namespace mailsim::message {

// RFC 9051 §4.3: a quoted string holds 7-bit text without CR, LF or NUL; '"' and '\'
// are escaped. Anything else must be a literal.
std::string imap_string(std::string_view s) {
  bool quotable = true;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || u == '\r' || u == '\n' || u >= 0x80) {
      quotable = false;
      break;
    }
  }
  std::string out;
  if (!quotable) {
    out = "{" + std::to_string(s.size()) + "}\r\n";
    out += s;
    return out;
  }
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string imap_nstring(const std::optional<std::string>& s) {
  return s ? imap_string(*s) : std::string("NIL");
}

}  // namespace mailsim::message
