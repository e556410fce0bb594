// SEARCH: RFC 9051 §6.4.4 search keys (and the RFC 3501 NEW/OLD/RECENT), RFC 7162 MODSEQ,
// RFC 4731/9051 RETURN options.
#include <array>

#include "reference-server/core/ascii.hpp"
#include "reference-server/imap/grammar.hpp"
#include "reference-server/imap/syntax.hpp"

namespace mailsim::imap::detail {
namespace {

using kind = search_key::kind;

// What follows a search key's name.
enum class arg { none, astring, date, keyword, number, seqset, header, modseq, one_key, two_keys };

struct key_entry {
  std::string_view name;
  kind type;
  arg takes;
};

constexpr std::array<key_entry, 36> keys = {{
    {"ALL", kind::all, arg::none}, {"ANSWERED", kind::answered, arg::none},
    {"BCC", kind::bcc, arg::astring}, {"BEFORE", kind::before, arg::date},
    {"BODY", kind::body, arg::astring}, {"CC", kind::cc, arg::astring},
    {"DELETED", kind::deleted, arg::none}, {"DRAFT", kind::draft, arg::none},
    {"FLAGGED", kind::flagged, arg::none}, {"FROM", kind::from, arg::astring},
    {"HEADER", kind::header, arg::header}, {"KEYWORD", kind::keyword, arg::keyword},
    {"LARGER", kind::larger, arg::number}, {"NEW", kind::new_, arg::none},
    {"NOT", kind::not_, arg::one_key}, {"OLD", kind::old, arg::none},
    {"ON", kind::on, arg::date}, {"OR", kind::or_, arg::two_keys},
    {"RECENT", kind::recent, arg::none}, {"SEEN", kind::seen, arg::none},
    {"SENTBEFORE", kind::sentbefore, arg::date}, {"SENTON", kind::senton, arg::date},
    {"SENTSINCE", kind::sentsince, arg::date}, {"SINCE", kind::since, arg::date},
    {"SMALLER", kind::smaller, arg::number}, {"SUBJECT", kind::subject, arg::astring},
    {"TEXT", kind::text, arg::astring}, {"TO", kind::to, arg::astring},
    {"UID", kind::uid, arg::seqset}, {"UNANSWERED", kind::unanswered, arg::none},
    {"UNDELETED", kind::undeleted, arg::none}, {"UNDRAFT", kind::undraft, arg::none},
    {"UNFLAGGED", kind::unflagged, arg::none}, {"UNKEYWORD", kind::unkeyword, arg::keyword},
    {"UNSEEN", kind::unseen, arg::none}, {"MODSEQ", kind::modseq, arg::modseq},
}};

bool search_key_at(cursor& c, search_key& out);

// RFC 7162 §3.1.5: "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer
bool modseq_arg(cursor& c, search_key& out) {
  if (c.peek() == '"') {
    auto name = quoted(c);
    if (!name || !sp(c)) return false;
    if (name->rfind("/flags/", 0) != 0) return c.expected("entry name \"/flags/...\"");
    out.modseq_entry = std::move(*name);
    auto type = atom(c, "priv, shared or all");
    if (!type) return false;
    out.modseq_entry_type = upper(*type);
    if (out.modseq_entry_type != "PRIV" && out.modseq_entry_type != "SHARED" &&
        out.modseq_entry_type != "ALL") {
      return c.expected("priv, shared or all");
    }
    if (!sp(c)) return false;
  }
  auto v = number64(c);
  if (v) out.number = *v;
  return v.has_value();
}

bool key_argument(cursor& c, arg takes, search_key& out) {
  switch (takes) {
    case arg::none: return true;
    case arg::astring: {
      auto s = astring(c);
      if (s) out.text = std::move(*s);
      return s.has_value();
    }
    case arg::date: {
      auto d = search_date(c);
      if (d) out.when = *d;
      return d.has_value();
    }
    case arg::keyword: {
      auto k = atom(c, "flag keyword");
      if (k) out.text = std::move(*k);
      return k.has_value();
    }
    case arg::number: {
      auto n = number64(c);
      if (n) out.number = *n;
      return n.has_value();
    }
    case arg::seqset: {
      auto s = seq_set(c);
      if (s) out.set = std::move(*s);
      return s.has_value();
    }
    case arg::header: {
      auto field = astring(c, "header field name");
      if (!field || !sp(c)) return false;
      out.text = std::move(*field);
      auto value = astring(c);
      if (value) out.value = std::move(*value);
      return value.has_value();
    }
    case arg::modseq: return modseq_arg(c, out);
    case arg::one_key:
    case arg::two_keys: {
      out.children.resize(takes == arg::one_key ? 1 : 2);
      if (!search_key_at(c, out.children[0])) return false;
      return takes == arg::one_key || (sp(c) && search_key_at(c, out.children[1]));
    }
  }
  return false;
}

bool named_key(cursor& c, search_key& out) {
  const std::string_view word = c.take_while([](char ch) { return core::is_alpha(ch); });
  const std::string up = upper(word);
  for (const key_entry& e : keys) {
    if (e.name != up) continue;
    out.type = e.type;
    if (e.takes == arg::none) return true;
    return sp(c) && key_argument(c, e.takes, out);
  }
  return c.expected("search key");
}

bool search_key_at(cursor& c, search_key& out) {
  // Every key counts as a level so that NOT NOT NOT ... cannot exhaust the stack.
  if (!c.enter()) return false;
  bool ok = false;
  const std::optional<char> next = c.peek();
  if (next == '(') {
    out.type = kind::group;
    ok = paren_items(c, false, [&] {  // the key itself is the nesting level
      out.children.emplace_back();
      return search_key_at(c, out.children.back());
    });
  } else if (next && (core::is_digit(*next) || *next == '*' || *next == '$')) {
    out.type = kind::sequence;
    auto s = seq_set(c);
    if (s) out.set = std::move(*s);
    ok = s.has_value();
  } else {
    ok = named_key(c, out);
  }
  c.leave();
  return ok;
}

bool return_options(cursor& c, search_args& out) {
  out.return_options.emplace();
  return paren_list(c, true, [&] {
    for (std::string_view opt : {"MIN", "MAX", "ALL", "COUNT", "SAVE"}) {
      if (c.take_word(opt)) {
        out.return_options->emplace_back(opt);
        return true;
      }
    }
    return c.expected("MIN, MAX, ALL, COUNT or SAVE");
  });
}

}  // namespace

bool parse_search(cursor& c, search_args& out) {
  // search = "SEARCH" [search-return-opts] SP search-program
  if (c.take_word("RETURN")) {
    if (!sp(c) || !return_options(c, out) || !sp(c)) return false;
  }
  if (c.take_word("CHARSET")) {
    if (!sp(c)) return false;
    out.charset = astring(c, "charset");
    if (!out.charset || !sp(c)) return false;
  }
  do {
    out.keys.emplace_back();
    if (!search_key_at(c, out.keys.back())) return false;
  } while (c.take(' '));
  return true;
}

}  // namespace mailsim::imap::detail
