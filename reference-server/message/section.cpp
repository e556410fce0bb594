#include <string>

#include "reference-server/message/codec.hpp"
#include "reference-server/message/imap_view.hpp"

namespace mailsim::message {
namespace {

// IMAP sends lines ending in CRLF; a store that holds bare LFs gets them expanded.
std::string to_crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& n : names) {
    if (iequals(n, name)) return true;
  }
  return false;
}

// HEADER.FIELDS (.NOT): the chosen fields as written, then the blank line (RFC 9051
// §6.4.5: "the subset ... and the blank line").
std::string header_subset(const parsed_message& m, const part& p, const section_spec& spec) {
  const bool keep_listed = spec.kind == section_kind::header_fields;
  std::string out;
  for (const header_field& f : p.fields) {
    if (listed(spec.fields, f.name) != keep_listed) continue;
    std::string_view raw = m.bytes.substr(f.offset, f.bytes);
    out += to_crlf(raw);
    if (raw.empty() || raw.back() != '\n') out += "\r\n";  // a last field without line end
  }
  out += "\r\n";
  return out;
}

}  // namespace

std::optional<std::size_t> find_part(const parsed_message& m,
                                     std::span<const std::uint32_t> number) {
  std::size_t cur = 0;
  bool at_message = true;  // cur is a message whose body has not been numbered yet
  for (std::size_t i = 0; i < number.size(); ++i) {
    // Inside a message/rfc822 part, numbers address the embedded message's parts.
    if (i > 0 && m.parts[cur].kind == part_kind::message) {
      cur = m.parts[cur].children.front();
      at_message = true;
    }
    const part& p = m.parts[cur];
    const std::uint32_t n = number[i];
    if (p.kind == part_kind::multipart) {
      if (n < 1 || n > p.children.size()) return std::nullopt;
      cur = p.children[n - 1];
    } else if (n != 1 || !at_message) {
      return std::nullopt;  // part 1 of a non-multipart message is its body; nothing else
    }
    at_message = false;
  }
  return cur;
}

std::optional<std::string> section(const parsed_message& m, const section_spec& spec) {
  const std::optional<std::size_t> index = find_part(m, spec.part);
  if (!index) return std::nullopt;
  const part* p = &m.parts[*index];
  if (spec.kind == section_kind::full) {
    return to_crlf(spec.part.empty() ? m.bytes : m.body_of(*p));
  }
  if (spec.kind == section_kind::mime) {
    if (spec.part.empty()) return std::nullopt;
    return to_crlf(m.header_of(*p));
  }
  // HEADER, HEADER.FIELDS and TEXT apply to the message itself or a message/rfc822 part.
  if (!spec.part.empty()) {
    if (p->kind != part_kind::message) return std::nullopt;
    p = &m.parts[p->children.front()];
  }
  if (spec.kind == section_kind::header) return to_crlf(m.header_of(*p));
  if (spec.kind == section_kind::text) return to_crlf(m.body_of(*p));
  return header_subset(m, *p, spec);
}

std::string_view apply_partial(std::string_view data, std::uint64_t origin,
                               std::optional<std::uint64_t> count) {
  if (origin >= data.size()) return {};
  data.remove_prefix(static_cast<std::size_t>(origin));
  if (count && *count < data.size()) data = data.substr(0, static_cast<std::size_t>(*count));
  return data;
}

binary_result binary(const parsed_message& m, const part& p) {
  binary_result r;
  const std::string_view body = m.body_of(p);
  const std::string& cte = p.transfer_encoding;
  if (cte.empty() || iequals(cte, "7bit") || iequals(cte, "8bit") || iequals(cte, "binary")) {
    r.content = std::string(body);
  } else if (iequals(cte, "base64")) {
    r.content = decode_base64(body);
  } else if (iequals(cte, "quoted-printable")) {
    r.content = decode_quoted_printable(body);
  } else {
    r.unknown_encoding = true;
  }
  return r;
}

}  // namespace mailsim::message
