#include <string>

#include "reference-server/message/codec.hpp"
#include "reference-server/message/imap_view.hpp"

namespace mailsim::message {
namespace {

// body-fld-param; text parts without a charset get charset=us-ascii (RFC 2045 §5.2).
std::string params_text(const std::vector<mime_param>& params, bool text) {
  const bool add_charset = text && find_param(params, "charset") == nullptr;
  if (params.empty() && !add_charset) return "NIL";
  std::string out = "(";
  for (const mime_param& p : params) {
    if (out.size() > 1) out += ' ';
    out += imap_string(p.name);
    out += ' ';
    out += imap_string(p.value);
  }
  if (add_charset) out += out.size() > 1 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"";
  out += ')';
  return out;
}

// body-fld-dsp, body-fld-lang, body-fld-loc: the extension data both kinds share.
std::string common_extension(const part& p) {
  std::string out;
  if (p.disposition_value) {
    out += '(' + imap_string(p.disposition_value->value) + ' ' +
           params_text(p.disposition_value->params, false) + ')';
  } else {
    out += "NIL";
  }
  out += ' ';
  if (p.languages && !p.languages->empty()) {
    out += '(';
    for (std::size_t i = 0; i < p.languages->size(); ++i) {
      if (i > 0) out += ' ';
      out += imap_string((*p.languages)[i]);
    }
    out += ')';
  } else {
    out += "NIL";
  }
  out += ' ';
  out += imap_nstring(p.location);
  return out;
}

std::string multipart_text(const parsed_message& m, const part& p, bool extended) {
  std::string out = "(";
  for (std::size_t child : p.children) out += body_structure(m, m.parts[child], extended);
  out += ' ';
  out += imap_string(p.type.subtype);
  if (extended) {
    out += ' ' + params_text(p.type.params, false) + ' ' + common_extension(p);
  }
  out += ')';
  return out;
}

std::string leaf_text(const parsed_message& m, const part& p, bool extended) {
  const bool text = p.type.is("text");
  std::string out = "(";
  out += imap_string(p.type.type) + ' ' + imap_string(p.type.subtype) + ' ';
  out += params_text(p.type.params, text) + ' ';
  out += imap_nstring(p.id) + ' ' + imap_nstring(p.description) + ' ';
  out += imap_string(p.transfer_encoding.empty() ? "7bit" : p.transfer_encoding);
  out += ' ' + std::to_string(p.body_crlf_bytes);
  if (p.kind == part_kind::message) {  // body-type-msg: envelope body lines
    const part& embedded = m.parts[p.children.front()];
    out += ' ' + envelope(m, embedded) + ' ' + body_structure(m, embedded, extended);
    out += ' ' + std::to_string(p.body_lines);
  } else if (text) {  // body-type-text: lines
    out += ' ' + std::to_string(p.body_lines);
  }
  if (extended) out += ' ' + imap_nstring(p.md5) + ' ' + common_extension(p);
  out += ')';
  return out;
}

}  // namespace

std::string body_structure(const parsed_message& m, const part& p, bool extended) {
  if (p.kind == part_kind::multipart) return multipart_text(m, p, extended);
  return leaf_text(m, p, extended);
}

}  // namespace mailsim::message
