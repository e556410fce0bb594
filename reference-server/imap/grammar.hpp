// mailsim::imap grammar pieces — RFC 9051 §9 tokens shared by the command parsers (internal).
//
// Contract: each function reads one production at the cursor. On a mismatch it records what
// was expected (cursor::expected) and returns nullopt/false; it never throws. Strings come
// back with quoting undone and literal bytes verbatim.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/imap/command.hpp"
#include "reference-server/imap/cursor.hpp"

namespace mailsim::imap::detail {

bool sp(cursor& c);
std::optional<std::string> atom(cursor& c, std::string_view what = "atom");
std::optional<std::string> quoted(cursor& c);
std::optional<std::string> string_value(cursor& c, bool allow_literal8 = false);
std::optional<std::string> astring(cursor& c, std::string_view what = "astring");
// nstring: nullopt value inside a present optional for NIL.
std::optional<std::optional<std::string>> nstring(cursor& c);
std::optional<std::uint32_t> number(cursor& c);
std::optional<std::uint32_t> nz_number(cursor& c);
std::optional<std::uint64_t> number64(cursor& c);
std::optional<std::uint64_t> nz_number64(cursor& c);  // mod-sequence-value
std::optional<std::string> mailbox(cursor& c);
std::optional<std::string> list_mailbox(cursor& c);
std::optional<std::string> flag(cursor& c);
std::optional<std::vector<std::string>> flag_list(cursor& c);
std::optional<sequence_set> seq_set(cursor& c);
std::optional<date> search_date(cursor& c);
std::string upper(std::string_view text);

// Reads "(" item *(SP item) ")" with `item` a callable returning bool; `allow_empty` permits
// "()". paren_items() does not count nesting (for callers that already did).
template <typename Item>
bool paren_items(cursor& c, bool allow_empty, Item item) {
  if (!c.take('(')) return c.expected("'('");
  bool ok = true;
  if (!(allow_empty && c.peek() == ')')) {
    ok = item();
    while (ok && c.take(' ')) ok = item();
  }
  return ok && (c.take(')') || c.expected("')'"));
}

// paren_items() as one nesting level.
template <typename Item>
bool paren_list(cursor& c, bool allow_empty, Item item) {
  if (c.peek() != '(') return c.expected("'('");
  if (!c.enter()) return false;
  const bool ok = paren_items(c, allow_empty, item);
  c.leave();
  return ok;
}

// Per-command parsers (parser.cpp, parse_mailbox.cpp, parse_search.cpp, parse_fetch.cpp).
bool parse_select(cursor& c, select_args& out);
bool parse_create(cursor& c, mailbox_args& out);
bool parse_list(cursor& c, list_args& out);
bool parse_lsub(cursor& c, list_args& out);
bool parse_status(cursor& c, status_args& out);
bool parse_append(cursor& c, append_args& out);
bool parse_search(cursor& c, search_args& out);
bool parse_fetch(cursor& c, fetch_args& out);
bool parse_store(cursor& c, store_args& out);
std::optional<std::vector<status_item>> status_items(cursor& c);

}  // namespace mailsim::imap::detail
