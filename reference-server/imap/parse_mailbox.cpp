// Mailbox commands: SELECT/EXAMINE, CREATE, LIST, LSUB, STATUS, APPEND.
#include <array>

#include "reference-server/imap/grammar.hpp"

namespace mailsim::imap::detail {
namespace {

bool has_star_or_saved(const sequence_set& set) {
  for (const seq_range& r : set.ranges) {
    if (r.first == seq_star || r.last == seq_star) return true;
  }
  return set.saved;
}

// RFC 7162 §3.2.5: "(" "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
//   [SP known-uids] [SP seq-match-data] ")" ")"
bool parse_qresync(cursor& c, qresync_params& out) {
  if (!c.take('(')) return c.expected("'(' after QRESYNC");
  if (!c.enter()) return false;
  auto validity = nz_number(c);
  std::optional<std::uint64_t> modseq;
  bool ok = validity && sp(c) && (modseq = nz_number64(c)).has_value();
  if (ok) {
    out.uidvalidity = *validity;
    out.modseq = *modseq;
  }
  if (ok && c.take(' ') && c.peek() != '(') {
    out.known_uids = seq_set(c);
    // RFC 7162 §3.2.5: known-uids is a set of UIDs: neither "$" nor "*".
    ok = out.known_uids.has_value() && (!has_star_or_saved(*out.known_uids) || c.expected("UID set without * or $"));
    if (ok && !c.take(' ')) {
      c.leave();
      return c.take(')') || c.expected("')'");
    }
  }
  if (ok && c.peek() == '(') {
    // seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    c.take('(');
    auto seqs = seq_set(c);
    std::optional<sequence_set> uids;
    ok = seqs && sp(c) && (uids = seq_set(c)).has_value() && (c.take(')') || c.expected("')'"));
    if (ok) out.seq_match.emplace(std::move(*seqs), std::move(*uids));
  }
  c.leave();
  return ok && (c.take(')') || c.expected("')'"));
}

constexpr std::array<std::pair<std::string_view, status_item>, 9> status_names = {{
    {"MESSAGES", status_item::messages}, {"RECENT", status_item::recent},
    {"UIDNEXT", status_item::uidnext}, {"UIDVALIDITY", status_item::uidvalidity},
    {"UNSEEN", status_item::unseen}, {"DELETED", status_item::deleted},
    {"SIZE", status_item::size}, {"HIGHESTMODSEQ", status_item::highestmodseq},
    {"APPENDLIMIT", status_item::appendlimit},
}};

}  // namespace

bool parse_select(cursor& c, select_args& out) {
  auto box = mailbox(c);
  if (!box) return false;
  out.mailbox = std::move(*box);
  if (!c.take(' ')) return true;
  // select-params = "(" select-param *(SP select-param) ")" (RFC 4466, RFC 7162)
  return paren_list(c, false, [&] {
    if (c.take_word("CONDSTORE")) return out.condstore = true;
    if (c.take_word("QRESYNC")) {
      if (out.qresync) return c.expected("one QRESYNC parameter");
      out.qresync.emplace();
      return sp(c) && parse_qresync(c, *out.qresync);
    }
    return c.expected("CONDSTORE or QRESYNC");
  });
}

bool parse_create(cursor& c, mailbox_args& out) {
  auto box = mailbox(c);
  if (!box) return false;
  out.mailbox = std::move(*box);
  if (!c.take(' ')) return true;
  // RFC 6154 §3: create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"
  return paren_list(c, false, [&] {
    if (!c.take_word("USE")) return c.expected("USE");
    if (!sp(c)) return false;
    return paren_list(c, true, [&] {
      if (c.peek() != '\\') return c.expected("special-use attribute");
      auto attr = flag(c);
      if (attr) out.special_use.push_back(std::move(*attr));
      return attr.has_value();
    });
  });
}

std::optional<std::vector<status_item>> status_items(cursor& c) {
  std::vector<status_item> items;
  const bool ok = paren_list(c, false, [&] {
    const auto word = atom(c, "status item");
    if (!word) return false;
    const std::string up = upper(*word);
    for (const auto& [text, item] : status_names) {
      if (text == up) {
        items.push_back(item);
        return true;
      }
    }
    return c.expected("status item");
  });
  if (!ok) return std::nullopt;
  return items;
}

bool parse_status(cursor& c, status_args& out) {
  auto box = mailbox(c);
  if (!box || !sp(c)) return false;
  out.mailbox = std::move(*box);
  auto items = status_items(c);
  if (items) out.items = std::move(*items);
  return items.has_value();
}

namespace {

// RFC 5258 list-select-opts
bool list_selection(cursor& c, list_args& out) {
  const bool ok = paren_list(c, true, [&] {
    if (c.take_word("SUBSCRIBED")) return out.select_subscribed = true;
    if (c.take_word("REMOTE")) return out.select_remote = true;
    if (c.take_word("RECURSIVEMATCH")) return out.select_recursivematch = true;
    if (c.take_word("SPECIAL-USE")) return out.select_special_use = true;
    return c.expected("list selection option");
  });
  // RFC 5258 §3.1: RECURSIVEMATCH alone is an error; it only modifies another option.
  if (ok && out.select_recursivematch && !out.select_subscribed && !out.select_special_use) {
    return c.expected("a selection option besides RECURSIVEMATCH");
  }
  return ok;
}

// RFC 5258 list-return-opts, RFC 6154, RFC 5819 STATUS.
bool list_return(cursor& c, list_args& out) {
  return paren_list(c, true, [&] {
    if (c.take_word("SUBSCRIBED")) return out.return_subscribed = true;
    if (c.take_word("CHILDREN")) return out.return_children = true;
    if (c.take_word("SPECIAL-USE")) return out.return_special_use = true;
    if (c.take_word("STATUS")) {
      if (!sp(c)) return false;
      out.return_status = status_items(c);
      return out.return_status.has_value();
    }
    return c.expected("list return option");
  });
}

}  // namespace

bool parse_list(cursor& c, list_args& out) {
  if (c.peek() == '(') {
    out.extended = true;
    if (!list_selection(c, out) || !sp(c)) return false;
  }
  auto ref = mailbox(c);
  if (!ref || !sp(c)) return false;
  out.reference = std::move(*ref);
  if (c.peek() == '(') {
    out.extended = true;
    const bool ok = paren_list(c, false, [&] {
      auto p = list_mailbox(c);
      if (p) out.patterns.push_back(std::move(*p));
      return p.has_value();
    });
    if (!ok) return false;
  } else {
    auto p = list_mailbox(c);
    if (!p) return false;
    out.patterns.push_back(std::move(*p));
  }
  if (!c.take(' ')) return true;
  out.extended = true;
  return (c.take_word("RETURN") || c.expected("RETURN")) && sp(c) && list_return(c, out);
}

bool parse_lsub(cursor& c, list_args& out) {
  auto ref = mailbox(c);
  if (!ref || !sp(c)) return false;
  out.reference = std::move(*ref);
  auto p = list_mailbox(c);
  if (p) out.patterns.push_back(std::move(*p));
  return p.has_value();
}

bool parse_append(cursor& c, append_args& out) {
  // append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal / literal8
  auto box = mailbox(c);
  if (!box || !sp(c)) return false;
  out.mailbox = std::move(*box);
  if (c.peek() == '(') {
    auto flags = flag_list(c);
    if (!flags || !sp(c)) return false;
    out.flags = std::move(*flags);
  }
  if (c.peek() == '"') {
    auto text = quoted(c);
    if (!text) return false;
    out.internal_date = parse_date_time(*text);
    if (!out.internal_date) return c.expected("date-time \"dd-Mon-yyyy hh:mm:ss +zzzz\"");
    if (!sp(c)) return false;
  }
  if (!c.at_literal()) return c.expected("message literal");
  const segment* lit = c.take_literal();
  // RFC 3516 §4.2: only literal8 may carry NUL; a plain literal is CHAR8.
  if (!lit->literal8 && lit->bytes.find('\0') != std::string::npos) {
    return c.expected("message without NUL (or literal8)");
  }
  out.message = lit->bytes;
  out.binary = lit->literal8;
  return true;
}

}  // namespace mailsim::imap::detail
