#include "reference-server/core/ascii.hpp"
#include "reference-server/auth/canonicalization.hpp"

namespace mailsim::auth {
namespace {

using core::is_wsp;

constexpr std::string_view crlf = "\r\n";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// The end of the field starting at `begin`: after the CRLF of its last line (continuation
// lines start with WSP, RFC 5322 §2.2.3), or the end of the message.
std::size_t field_end(std::string_view m, std::size_t begin) {
  std::size_t pos = begin;
  for (;;) {
    std::size_t eol = m.find(crlf, pos);
    if (eol == std::string_view::npos) return m.size();
    pos = eol + 2;
    if (pos >= m.size() || !is_wsp(m[pos])) return pos;
  }
}

std::string_view field_name(std::string_view raw) {
  std::size_t colon = raw.find(':');
  std::size_t eol = raw.find(crlf);
  if (colon == std::string_view::npos || (eol != std::string_view::npos && eol < colon)) return {};
  std::string_view name = raw.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  return name;
}

// Relaxed canonical form of one line's content: WSP runs become one SP, trailing WSP goes.
void append_relaxed_line(std::string_view line, std::string& out) {
  bool pending_space = false;
  for (char c : line) {
    if (is_wsp(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
}

std::string simple_body(std::string_view body) {
  // §3.4.3: trailing empty lines go; an empty body or one without a final CRLF gets one.
  if (body.empty()) return std::string(crlf);
  if (body.size() < 2 || body.substr(body.size() - 2) != crlf) {
    std::string out(body);
    out.append(crlf);
    return out;
  }
  while (body.size() >= 4 && body.substr(body.size() - 4) == "\r\n\r\n") body.remove_suffix(2);
  return std::string(body);
}

std::string relaxed_body(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  std::size_t empty_lines = 0;  // held back until a later line shows they are not trailing
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find(crlf, pos);
    std::string_view line = body.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      ++empty_lines;  // empty once its WSP is gone (§3.4.4 a, then b)
      continue;
    }
    for (; empty_lines > 0; --empty_lines) out.append(crlf);
    append_relaxed_line(line, out);
    out.append(crlf);  // a non-empty body gets a final CRLF if it had none
  }
  return out;
}

}  // namespace

message_parts split_message(std::string_view message) {
  message_parts parts;
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (message.substr(pos, 2) == crlf) {
      parts.body = message.substr(pos + 2);
      return parts;
    }
    std::size_t end = field_end(message, pos);
    std::string_view raw = message.substr(pos, end - pos);
    parts.fields.push_back({field_name(raw), raw});
    pos = end;
  }
  return parts;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

void canonicalize_header(canon c, std::string_view raw_field, std::string& out) {
  if (c == canon::simple) {
    out.append(raw_field);
    return;
  }
  std::size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) colon = raw_field.size();
  std::string_view name = raw_field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  for (char ch : name) out.push_back(lower(ch));
  out.push_back(':');
  std::string_view value = colon < raw_field.size() ? raw_field.substr(colon + 1) : "";
  if (value.size() >= 2 && value.substr(value.size() - 2) == crlf) value.remove_suffix(2);
  // Unfolding removes each CRLF; the WSP after it joins the run that becomes one SP, and
  // WSP at either end of the value goes.
  bool started = false;
  bool pending_space = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char ch = value[i];
    if (ch == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (is_wsp(ch)) {
      pending_space = started;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.push_back(ch);
  }
  out.append(crlf);
}

std::string canonicalize_body(canon c, std::string_view body) {
  return c == canon::simple ? simple_body(body) : relaxed_body(body);
}

}  // namespace mailsim::auth
