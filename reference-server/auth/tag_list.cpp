#include "reference-server/auth/tag_list.hpp"

#include <string>

#include "reference-server/auth/error.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::is_wsp;
using core::is_alpha;
using core::is_digit;

// RFC 6376 §3.2 VALCHAR (%x21-3A / %x3C-7E), widened to UTF-8 octets by RFC 8616 §4.
bool is_valchar(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u <= 0x7e && u != ';') || u >= 0x80;
}

// Skips FWS at `i`. Returns false on a CRLF that is not followed by WSP: it would end the
// header field, so it cannot be inside a tag list.
bool skip_fws(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    if (is_wsp(s[i])) {
      ++i;
    } else if (s[i] == '\r' && i + 2 < s.size() && s[i + 1] == '\n' && is_wsp(s[i + 2])) {
      i += 3;
    } else if (s[i] == '\r' || s[i] == '\n') {
      return false;
    } else {
      break;
    }
  }
  return true;
}

// Reads a tag value up to ";" or the end. `last_char_end` is where the value's last VALCHAR
// ends, so that trailing FWS is not part of it.
bool read_value(std::string_view s, std::size_t& i, std::size_t& last_char_end) {
  last_char_end = i;
  while (i < s.size() && s[i] != ';') {
    if (is_valchar(s[i])) {
      ++i;
      last_char_end = i;
    } else if (!skip_fws(s, i) || (i < s.size() && s[i] != ';' && !is_valchar(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const tag* tag_list::find(std::string_view name) const {
  for (const tag& t : tags) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

tag_list parse_tag_list(std::string_view text) {
  tag_list out;
  std::size_t i = 0;
  auto fail = [&out](errc e) {
    out.tags.clear();
    out.error = e;
    return out;
  };
  for (;;) {
    if (!skip_fws(text, i)) return fail(errc::tag_syntax);
    if (i == text.size()) break;  // empty text, or white space after a final ";"
    std::size_t name_begin = i;
    if (!is_alpha(text[i])) return fail(errc::tag_syntax);
    while (i < text.size() && (is_alpha(text[i]) || is_digit(text[i]) || text[i] == '_')) ++i;
    tag t;
    t.name = text.substr(name_begin, i - name_begin);
    if (!skip_fws(text, i) || i == text.size() || text[i] != '=') return fail(errc::tag_syntax);
    t.region_begin = ++i;
    if (!skip_fws(text, i)) return fail(errc::tag_syntax);
    std::size_t value_begin = i;
    std::size_t value_end = i;
    if (!read_value(text, i, value_end)) return fail(errc::tag_syntax);
    t.value = text.substr(value_begin, value_end - value_begin);
    t.region_end = i;
    if (out.find(t.name) != nullptr) return fail(errc::duplicate_tag);
    out.tags.push_back(t);
    if (i == text.size()) break;
    ++i;  // the ";"
  }
  return out;
}

std::string remove_fws(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> split_list(std::string_view value, char separator) {
  std::vector<std::string_view> items;
  std::size_t begin = 0;
  for (;;) {
    std::size_t end = value.find(separator, begin);
    std::string_view item = value.substr(begin, end == std::string_view::npos ? end : end - begin);
    while (!item.empty() && (is_wsp(item.front()) || item.front() == '\r' || item.front() == '\n'))
      item.remove_prefix(1);
    while (!item.empty() && (is_wsp(item.back()) || item.back() == '\r' || item.back() == '\n'))
      item.remove_suffix(1);
    items.push_back(item);
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return items;
}

}  // namespace mailsim::auth
