// mailsim::imap character classes — RFC 9051 §9 ATOM-CHAR, ASTRING-CHAR, tag, list-char.
//
// Contract: pure and constexpr; bytes >= 0x80 belong to no class (8-bit text only travels in
// quoted strings under UTF8=ACCEPT, or in literals).
#pragma once

namespace mailsim::imap {

// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
constexpr bool is_atom_char(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}
// ASTRING-CHAR = ATOM-CHAR / resp-specials
constexpr bool is_astring_char(char c) { return is_atom_char(c) || c == ']'; }
// tag = 1*<any ASTRING-CHAR except "+">
constexpr bool is_tag_char(char c) { return is_astring_char(c) && c != '+'; }
// list-char = ATOM-CHAR / list-wildcards / resp-specials
constexpr bool is_list_char(char c) { return is_astring_char(c) || c == '%' || c == '*'; }

}  // namespace mailsim::imap
