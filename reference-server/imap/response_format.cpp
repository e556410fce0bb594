#include "reference-server/imap/response_format.hpp"

#include "reference-server/imap/syntax.hpp"

namespace mailsim::imap {

std::string format_string(std::string_view text, bool utf8) {
  bool quotable = true;
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (b == 0 || ch == '\r' || ch == '\n' || (b >= 0x80 && !utf8)) quotable = false;
  }
  if (!quotable) return "{" + std::to_string(text.size()) + "}\r\n" + std::string(text);
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + '"';
}

std::string format_astring(std::string_view text, bool utf8) {
  bool atom = !text.empty();
  for (char ch : text) atom = atom && is_astring_char(ch);
  const bool nil = text.size() == 3 && (text[0] | 0x20) == 'n' && (text[1] | 0x20) == 'i' &&
                   (text[2] | 0x20) == 'l';
  return atom && !nil ? std::string(text) : format_string(text, utf8);
}

std::string format_nstring(const std::optional<std::string>& text, bool utf8) {
  return text ? format_string(*text, utf8) : std::string("NIL");
}

}  // namespace mailsim::imap
