// FETCH (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE/VANISHED) and STORE
// (RFC 9051 §6.4.6, RFC 7162 UNCHANGEDSINCE).
#include <array>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "reference-server/imap/grammar.hpp"

namespace mailsim::imap::detail {
namespace {

using att_kind = fetch_att::kind;
using text_kind = section_spec::text_kind;

struct att_entry {
  std::string_view name;
  att_kind type;
  bool peek;
  bool section;  // requires "[...]"
};

constexpr std::array<att_entry, 14> atts = {{
    {"ENVELOPE", att_kind::envelope, false, false}, {"FLAGS", att_kind::flags, false, false},
    {"INTERNALDATE", att_kind::internaldate, false, false}, {"RFC822", att_kind::rfc822, false, false},
    {"RFC822.HEADER", att_kind::rfc822_header, false, false},
    {"RFC822.SIZE", att_kind::rfc822_size, false, false},
    {"RFC822.TEXT", att_kind::rfc822_text, false, false},
    {"BODYSTRUCTURE", att_kind::bodystructure, false, false}, {"UID", att_kind::uid, false, false},
    {"MODSEQ", att_kind::modseq, false, false},
    {"BODY.PEEK", att_kind::body_section, true, true},
    {"BINARY", att_kind::binary, false, true}, {"BINARY.PEEK", att_kind::binary, true, true},
    {"BINARY.SIZE", att_kind::binary_size, false, true},
}};

// The names stay as the client spelled them: the response echoes them that way (RFC 9051
// §7.5.2, as Dovecot does) and message/section matches them case-insensitively.
bool header_list(cursor& c, section_spec& out) {
  return paren_list(c, false, [&] {
    auto name = astring(c, "header field name");
    if (name) out.fields.push_back(std::move(*name));
    return name.has_value();
  });
}

// section-text after the part numbers (or section-msgtext without them).
bool section_text(cursor& c, section_spec& out, bool after_part) {
  const std::string word =
      upper(c.take_while([](char ch) { return core::is_alpha(ch) || ch == '.'; }));
  if (word == "HEADER") {
    out.text = text_kind::header;
  } else if (word == "TEXT") {
    out.text = text_kind::text;
  } else if (word == "MIME" && after_part) {
    out.text = text_kind::mime;
  } else if (word == "HEADER.FIELDS" || word == "HEADER.FIELDS.NOT") {
    out.text = word == "HEADER.FIELDS" ? text_kind::header_fields : text_kind::header_fields_not;
    return sp(c) && header_list(c, out);
  } else {
    return c.expected(after_part ? "HEADER, HEADER.FIELDS, TEXT or MIME"
                                 : "part number, HEADER, HEADER.FIELDS or TEXT");
  }
  return true;
}

// "[" [section-spec] "]"; BINARY sections take part numbers only.
bool section(cursor& c, section_spec& out, bool binary) {
  if (!c.take('[')) return c.expected("'['");
  if (c.take(']')) return true;
  const std::optional<char> first = c.peek();
  if (first && core::is_digit(*first)) {
    for (;;) {
      auto n = nz_number(c);
      if (!n) return false;
      out.part.push_back(*n);
      if (!c.take('.')) break;
      const std::optional<char> after = c.peek();
      if (after && core::is_digit(*after)) continue;
      if (binary || !section_text(c, out, true)) return binary ? c.expected("part number") : false;
      break;
    }
  } else if (binary || !section_text(c, out, false)) {
    return binary ? c.expected("part number") : false;
  }
  return c.take(']') || c.expected("']'");
}

bool partial(cursor& c, fetch_att& out) {
  // "<" number "." nz-number ">"
  if (!c.take('<')) return true;
  auto offset = number(c);
  if (!offset || !(c.take('.') || c.expected("'.'"))) return false;
  auto count = nz_number(c);
  if (!count || !(c.take('>') || c.expected("'>'"))) return false;
  out.partial.emplace(*offset, *count);
  return true;
}

bool fetch_att_at(cursor& c, fetch_args& out) {
  const std::string word =
      upper(c.take_while([](char ch) { return core::is_alnum(ch) || ch == '.'; }));
  fetch_att att;
  if (word == "BODY") {
    att.type = att_kind::body;
    if (c.peek() != '[') {
      out.atts.push_back(att);
      return true;
    }
    att.type = att_kind::body_section;
    if (!section(c, att.section, false) || !partial(c, att)) return false;
    out.atts.push_back(std::move(att));
    return true;
  }
  for (const att_entry& e : atts) {
    if (e.name != word) continue;
    att.type = e.type;
    att.peek = e.peek;
    if (e.section) {
      const bool binary = e.type != att_kind::body_section;
      if (!section(c, att.section, binary)) return false;
      if (e.type != att_kind::binary_size && !partial(c, att)) return false;
    }
    out.atts.push_back(std::move(att));
    return true;
  }
  return c.expected("fetch attribute");
}

bool add_macro(cursor& c, fetch_args& out) {
  // RFC 9051 §6.4.5: ALL = FLAGS INTERNALDATE RFC822.SIZE ENVELOPE; FAST without ENVELOPE;
  // FULL = ALL + BODY.
  const bool all = c.take_word("ALL");
  const bool full = !all && c.take_word("FULL");
  const bool fast = !all && !full && c.take_word("FAST");
  if (!all && !full && !fast) return false;
  for (att_kind k : {att_kind::flags, att_kind::internaldate, att_kind::rfc822_size}) {
    out.atts.push_back({k, false, {}, std::nullopt});
  }
  if (!fast) out.atts.push_back({att_kind::envelope, false, {}, std::nullopt});
  if (full) out.atts.push_back({att_kind::body, false, {}, std::nullopt});
  return true;
}

bool fetch_modifiers(cursor& c, fetch_args& out) {
  return paren_list(c, false, [&] {
    if (c.take_word("CHANGEDSINCE")) {
      if (!sp(c)) return false;
      out.changed_since = nz_number64(c);
      return out.changed_since.has_value();
    }
    if (c.take_word("VANISHED")) return out.vanished = true;
    return c.expected("CHANGEDSINCE or VANISHED");
  });
}

}  // namespace

bool parse_fetch(cursor& c, fetch_args& out) {
  auto set = seq_set(c);
  if (!set || !sp(c)) return false;
  out.set = std::move(*set);
  bool ok = false;
  if (c.peek() == '(') {
    ok = paren_list(c, false, [&] { return fetch_att_at(c, out); });
  } else {
    ok = add_macro(c, out) || fetch_att_at(c, out);
  }
  if (!ok) return false;
  if (c.take(' ') && !fetch_modifiers(c, out)) return false;
  // RFC 7162 §3.2.6: VANISHED needs CHANGEDSINCE.
  if (out.vanished && !out.changed_since) return c.expected("CHANGEDSINCE with VANISHED");
  return true;
}

bool parse_store(cursor& c, store_args& out) {
  auto set = seq_set(c);
  if (!set || !sp(c)) return false;
  out.set = std::move(*set);
  if (c.peek() == '(') {
    // store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer
    const bool ok = paren_list(c, false, [&] {
      if (!c.take_word("UNCHANGEDSINCE")) return c.expected("UNCHANGEDSINCE");
      if (!sp(c)) return false;
      out.unchanged_since = number64(c);
      return out.unchanged_since.has_value();
    });
    if (!ok || !sp(c)) return false;
  }
  if (c.take('+')) {
    out.how = store_args::mode::add;
  } else if (c.take('-')) {
    out.how = store_args::mode::remove;
  }
  if (c.take_word("FLAGS.SILENT")) {
    out.silent = true;
  } else if (!c.take_word("FLAGS")) {
    return c.expected("FLAGS, +FLAGS or -FLAGS");
  }
  if (!sp(c)) return false;
  if (c.peek() == '(') {
    auto flags = flag_list(c);
    if (flags) out.flags = std::move(*flags);
    return flags.has_value();
  }
  do {
    auto f = flag(c);
    if (!f) return false;
    out.flags.push_back(std::move(*f));
  } while (c.take(' '));
  return true;
}

}  // namespace mailsim::imap::detail
