#include <string>

#include "reference-server/core/ascii.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/message.hpp"

namespace mailsim::message {
namespace {

// Position just after the LF that ends the line starting at `pos`, or the end.
std::size_t next_line(std::string_view s, std::size_t pos) {
  const std::size_t lf = s.find('\n', pos);
  return lf == std::string_view::npos ? s.size() : lf + 1;
}

// The line [pos, end) without its CRLF or LF.
std::string_view line_content(std::string_view s, std::size_t pos, std::size_t end) {
  std::string_view line = s.substr(pos, end - pos);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// RFC 5322 §3.6.8 ftext: printable US-ASCII except colon.
bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return false;
  }
  return true;
}

// RFC 5322 §2.2.3: unfolding removes the CRLFs; the white space after them stays.
std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n') out += c;
  }
  return std::string(core::trim(out));
}

}  // namespace

std::vector<header_field> parse_header_fields(std::string_view header, std::size_t offset,
                                              std::size_t fields_max) {
  std::vector<header_field> fields;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = next_line(header, pos);
    const std::string_view line = line_content(header, pos, end);
    if (line.empty()) break;  // the blank line that ends the header
    const std::size_t colon = line.find(':');
    // Continuation lines are consumed with their field; one here has no field to extend.
    if (core::is_wsp(line.front()) || colon == std::string_view::npos) {
      pos = end;
      continue;
    }
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && core::is_wsp(name.back())) name.remove_suffix(1);  // §4.5 obs
    while (end < header.size() && core::is_wsp(header[end])) end = next_line(header, end);
    if (valid_name(name) && fields.size() < fields_max) {
      header_field f;
      f.name = name;
      f.raw_value = line_content(header, pos + colon + 1, end);
      f.value = unfold(f.raw_value);
      f.offset = offset + pos;
      f.bytes = end - pos;
      fields.push_back(std::move(f));
    }
    pos = end;
  }
  return fields;
}

const header_field* part::field(std::string_view name) const {
  for (const header_field& f : fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

bool content_type::is(std::string_view t, std::string_view s) const {
  return iequals(type, t) && (s.empty() || iequals(subtype, s));
}

const mime_param* find_param(const std::vector<mime_param>& params, std::string_view name) {
  for (const mime_param& p : params) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

}  // namespace mailsim::message
