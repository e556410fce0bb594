#include "reference-server/auth/auth_results.hpp"

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::is_wsp;

bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

bool is_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && !is_tspecial(c);
}

bool is_dot_atom(std::string_view s, bool (*allowed)(char)) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' ? s[i - 1] == '.' : !allowed(s[i])) return false;
  }
  return true;
}

bool is_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Splits a resinfo at its white space, keeping quoted strings and comments whole.
std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t begin = std::string_view::npos;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool split = !quoted && depth == 0 && (is_wsp(c) || c == '\r' || c == '\n');
    if (split) {
      if (begin != std::string_view::npos) words.push_back(text.substr(begin, i - begin));
      begin = std::string_view::npos;
      continue;
    }
    if (begin == std::string_view::npos) begin = i;
    if (c == '\\' && (quoted || depth > 0))
      ++i;
    else if (c == '"' && depth == 0)
      quoted = !quoted;
    else if (!quoted && c == '(')
      ++depth;
    else if (!quoted && c == ')' && depth > 0)
      --depth;
  }
  if (begin != std::string_view::npos) words.push_back(text.substr(begin));
  return words;
}

// Appends `word` to `out`, after a space on the current line when it fits, else on a new
// folded line. `line` is the length of the current line so far.
void append_word(std::string& out, std::size_t& line, std::string_view word, bool new_line,
                 std::size_t target) {
  if (new_line || line + 1 + word.size() > target) {
    out += "\r\n\t";
    line = 1;
  } else {
    out += ' ';
    ++line;
  }
  out += word;
  line += word.size();
}

// Skips CFWS (RFC 5322 §3.2.2, comments nested) from `i`; false on an unclosed comment.
bool skip_cfws(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    char c = s[i];
    if (is_wsp(c) || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\')
          ++i;
        else if (s[i] == '(')
          ++depth;
        else if (s[i] == ')' && --depth == 0)
          break;
      }
      if (i >= s.size()) return false;
      ++i;
    } else {
      break;
    }
  }
  return true;
}

std::optional<std::string> read_quoted(std::string_view s, std::size_t& i) {
  std::string out;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '"') {
      ++i;
      return out;
    }
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    if (s[i] != '\r' && s[i] != '\n') out += s[i];  // folding inside is not part of the id
  }
  return std::nullopt;
}

}  // namespace

bool is_mime_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::string quoted_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string authres_value(std::string_view s) {
  if (is_mime_token(s)) return std::string(s);
  std::size_t at = s.rfind('@');
  if (at != std::string_view::npos && is_dot_atom(s.substr(at + 1), is_domain_char) &&
      (at == 0 || is_dot_atom(s.substr(0, at), core::is_atext)))
    return std::string(s);
  return quoted_string(s);
}

std::string authentication_results_field(std::string_view authserv_id,
                                         const std::vector<std::string>& resinfos,
                                         const authres_options& options) {
  std::string out(authentication_results_name);
  out += ": ";
  out += is_mime_token(authserv_id) ? std::string(authserv_id) : quoted_string(authserv_id);
  out += ';';
  std::size_t line = out.size();
  if (resinfos.empty()) append_word(out, line, "none", false, options.line_octets_target);
  for (std::size_t r = 0; r < resinfos.size(); ++r) {
    std::vector<std::string_view> words = words_of(resinfos[r]);
    for (std::size_t w = 0; w < words.size(); ++w) {
      std::string word(words[w]);
      if (w + 1 == words.size() && r + 1 < resinfos.size()) word += ';';
      append_word(out, line, word, w == 0, options.line_octets_target);
    }
  }
  return out + "\r\n";
}

std::optional<std::string> authserv_id_of(std::string_view value) {
  std::size_t i = 0;
  if (!skip_cfws(value, i) || i == value.size()) return std::nullopt;
  std::string id;
  if (value[i] == '"') {
    std::optional<std::string> q = read_quoted(value, i);
    if (!q || q->empty()) return std::nullopt;
    id = std::move(*q);
  } else {
    while (i < value.size() && is_token_char(value[i])) id += value[i++];
    if (id.empty()) return std::nullopt;
  }
  // What follows the id: CFWS, the ";" before the results, or the end.
  if (i < value.size() && !is_wsp(value[i]) && value[i] != ';' && value[i] != '(' &&
      value[i] != '\r' && value[i] != '\n')
    return std::nullopt;
  return id;
}

std::string strip_authentication_results(std::string_view message, std::string_view authserv_id,
                                         std::size_t* removed) {
  const message_parts parts = split_message(message);
  std::string out;
  out.reserve(message.size());
  std::size_t copied = 0;  // offset in `message` up to which `out` holds it
  std::size_t count = 0;
  for (const header_field& f : parts.fields) {
    if (!iequals(f.name, authentication_results_name)) continue;
    std::string_view value = f.raw.substr(f.raw.find(':') + 1);
    std::optional<std::string> id = authserv_id_of(value);
    if (!id || !iequals(*id, authserv_id)) continue;
    auto begin = static_cast<std::size_t>(f.raw.data() - message.data());
    out.append(message.substr(copied, begin - copied));
    copied = begin + f.raw.size();
    ++count;
  }
  out.append(message.substr(copied));
  if (removed != nullptr) *removed = count;
  return out;
}

}  // namespace mailsim::auth
