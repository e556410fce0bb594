#include "reference-server/imap/parser.hpp"

#include <array>

#include "reference-server/core/ascii.hpp"
#include "reference-server/imap/grammar.hpp"
#include "reference-server/imap/mutf7.hpp"
#include "reference-server/imap/syntax.hpp"

namespace mailsim::imap {
namespace detail {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& ch : out) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
  }
  return out;
}

bool sp(cursor& c) { return c.take(' ') || c.expected("SP"); }

std::optional<std::string> atom(cursor& c, std::string_view what) {
  const std::string_view a = c.take_while(is_atom_char);
  if (a.empty()) return c.expected(what), std::nullopt;
  return std::string(a);
}

std::optional<std::string> quoted(cursor& c) {
  // quoted = DQUOTE *QUOTED-CHAR DQUOTE; only '"' and '\' may be escaped; no CR, LF or NUL.
  if (!c.take('"')) return c.expected("quoted string"), std::nullopt;
  std::string out;
  for (;;) {
    const std::string_view run =
        c.take_while([](char ch) { return ch != '"' && ch != '\\' && ch != '\r' && ch != '\0'; });
    out += run;
    if (c.take('"')) return out;
    if (!c.take('\\')) return c.expected("closing '\"'"), std::nullopt;
    const std::optional<char> esc = c.peek();
    if (esc != '"' && esc != '\\') return c.expected("'\"' or '\\' after '\\'"), std::nullopt;
    out += *esc;
    c.take(*esc);
  }
}

std::optional<std::string> string_value(cursor& c, bool allow_literal8) {
  if (c.at_literal()) {
    const std::size_t at = c.position();
    const segment* lit = c.take_literal();
    // RFC 9051 CHAR8 excludes NUL; only literal8 (RFC 3516) may carry it, and only where allowed.
    if (lit->literal8 && !allow_literal8) {
      return c.expected_at(at, "literal (not literal8)"), std::nullopt;
    }
    if (!lit->literal8 && lit->bytes.find('\0') != std::string::npos) {
      return c.expected_at(at, "literal without NUL"), std::nullopt;
    }
    return lit->bytes;
  }
  if (c.peek() == '"') return quoted(c);
  return c.expected("string"), std::nullopt;
}

std::optional<std::string> astring(cursor& c, std::string_view what) {
  if (c.at_literal() || c.peek() == '"') return string_value(c);
  const std::string_view a = c.take_while(is_astring_char);
  if (a.empty()) return c.expected(what), std::nullopt;
  return std::string(a);
}

std::optional<std::optional<std::string>> nstring(cursor& c) {
  if (c.take_word("NIL")) return std::optional<std::string>{};
  auto s = string_value(c);
  if (!s) return std::nullopt;
  return std::optional<std::string>(std::move(*s));
}

std::optional<std::uint64_t> number64(cursor& c) {
  const std::string_view digits = c.take_while(core::is_digit);
  // number64 is 0..9223372036854775807 (RFC 9051 §9).
  if (digits.empty() || digits.size() > 19) return c.expected("number"), std::nullopt;
  std::uint64_t value = 0;
  for (char d : digits) value = value * 10 + static_cast<std::uint64_t>(d - '0');
  if (value > 9223372036854775807ULL) return c.expected("number within 63 bits"), std::nullopt;
  return value;
}

std::optional<std::uint64_t> nz_number64(cursor& c) {
  const auto v = number64(c);
  if (v && *v == 0) return c.expected("non-zero number"), std::nullopt;
  return v;
}

std::optional<std::uint32_t> number(cursor& c) {
  const auto v = number64(c);
  if (v && *v > 0xffffffffULL) return c.expected("number within 32 bits"), std::nullopt;
  if (!v) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::optional<std::uint32_t> nz_number(cursor& c) {
  const auto v = number(c);
  if (v && *v == 0) return c.expected("non-zero number"), std::nullopt;
  return v;
}

std::optional<std::string> mailbox(cursor& c) {
  const std::size_t at = c.position();
  const auto raw = astring(c, "mailbox name");
  if (!raw) return std::nullopt;
  auto name = normalize_mailbox(*raw, c.options().utf8_accept);
  if (!name) {
    return c.expected_at(at, c.options().utf8_accept ? "UTF-8 mailbox name"
                                                     : "modified UTF-7 mailbox name",
                         errc::bad_mailbox_name), std::nullopt;
  }
  return name;
}

std::optional<std::string> list_mailbox(cursor& c) {
  // list-mailbox = 1*list-char / string; wildcards survive decoding (they are ASCII).
  const std::size_t at = c.position();
  std::optional<std::string> raw;
  if (c.at_literal() || c.peek() == '"') {
    raw = string_value(c);
  } else {
    const std::string_view run = c.take_while(is_list_char);
    if (run.empty()) return c.expected("mailbox pattern"), std::nullopt;
    raw = std::string(run);
  }
  if (!raw) return std::nullopt;
  auto name = normalize_mailbox(*raw, c.options().utf8_accept);
  if (!name) return c.expected_at(at, "mailbox pattern encoding", errc::bad_mailbox_name), std::nullopt;
  return name;
}

std::optional<std::string> flag(cursor& c) {
  // flag = "\Answered" / ... / flag-keyword / flag-extension ("\" atom).
  const bool system = c.take('\\');
  const std::string_view a = c.take_while(is_atom_char);
  if (a.empty()) return c.expected("flag"), std::nullopt;
  return (system ? "\\" : "") + std::string(a);
}

std::optional<std::vector<std::string>> flag_list(cursor& c) {
  std::vector<std::string> flags;
  const bool ok = paren_list(c, true, [&] {
    auto f = flag(c);
    if (f) flags.push_back(std::move(*f));
    return f.has_value();
  });
  if (!ok) return std::nullopt;
  return flags;
}

std::optional<sequence_set> seq_set(cursor& c) {
  const std::string_view text = c.take_while(
      [](char ch) { return core::is_digit(ch) || ch == ':' || ch == ',' || ch == '*' || ch == '$'; });
  auto set = parse_sequence_set(text);
  if (!set) return c.expected("sequence set"), std::nullopt;
  return set;
}

std::optional<date> search_date(cursor& c) {
  // date = date-text / DQUOTE date-text DQUOTE
  const bool q = c.take('"');
  const std::string_view text =
      c.take_while([](char ch) { return core::is_alnum(ch) || ch == '-'; });
  const auto d = parse_date(text);
  if (!d || (q && !c.take('"'))) return c.expected("date d-Mon-yyyy"), std::nullopt;
  return d;
}

}  // namespace detail

namespace {

using detail::cursor;

bool uid_allowed(command_name n) {
  return n == command_name::copy || n == command_name::move || n == command_name::fetch ||
         n == command_name::search || n == command_name::store || n == command_name::expunge;
}

bool parse_authenticate(cursor& c, authenticate_args& out) {
  auto mech = detail::atom(c, "SASL mechanism");
  if (!mech) return false;
  out.mechanism = detail::upper(*mech);
  if (!c.take(' ')) return true;
  // RFC 4959: initial-resp = base64 / "="
  const std::string_view ir = c.take_while([](char ch) {
    return core::is_alnum(ch) || ch == '+' || ch == '/' || ch == '=';
  });
  if (ir.empty()) return c.expected("base64 initial response or '='");
  out.initial_response = std::string(ir);
  return true;
}

bool parse_login(cursor& c, login_args& out) {
  auto user = detail::astring(c, "user name");
  if (!user || !detail::sp(c)) return false;
  auto pass = detail::astring(c, "password");
  if (!pass) return false;
  out = {std::move(*user), std::move(*pass)};
  return true;
}

bool parse_enable(cursor& c, enable_args& out) {
  // enable = "ENABLE" 1*(SP capability)
  do {
    auto cap = detail::atom(c, "capability");
    if (!cap) return false;
    out.capabilities.push_back(detail::upper(*cap));
  } while (c.take(' '));
  return true;
}

bool parse_id(cursor& c, id_args& out) {
  // RFC 2971: id = "ID" SP id-params-list; id-params-list = "(" *(string SP nstring) ")" / nil
  if (c.take_word("NIL")) return true;
  out.fields.emplace();
  constexpr std::size_t pairs_max = 30;  // RFC 2971 §3.3
  return detail::paren_list(c, true, [&] {
    auto field = detail::string_value(c);
    if (!field || !detail::sp(c)) return false;
    auto value = detail::nstring(c);
    if (!value) return false;
    if (out.fields->size() == pairs_max) return c.expected("at most 30 ID pairs");
    out.fields->emplace_back(std::move(*field), std::move(*value));
    return true;
  });
}

bool parse_rename(cursor& c, rename_args& out) {
  auto from = detail::mailbox(c);
  if (!from || !detail::sp(c)) return false;
  auto to = detail::mailbox(c);
  if (!to) return false;
  out = {std::move(*from), std::move(*to)};
  return true;
}

bool parse_copy(cursor& c, copy_args& out) {
  auto set = detail::seq_set(c);
  if (!set || !detail::sp(c)) return false;
  auto box = detail::mailbox(c);
  if (!box) return false;
  out = {std::move(*set), std::move(*box)};
  return true;
}

bool parse_mailbox_only(cursor& c, mailbox_args& out) {
  auto box = detail::mailbox(c);
  if (box) out.mailbox = std::move(*box);
  return box.has_value();
}

bool parse_uid_set(cursor& c, expunge_args& out) {
  out.uids = detail::seq_set(c);
  return out.uids.has_value();
}

// A command's arguments: SP, then `Fn` fills `Args`, which becomes the command's args.
using args_parser = bool (*)(cursor&, command&);

template <typename Args, bool (*Fn)(cursor&, Args&)>
bool args_after_sp(cursor& c, command& cmd) {
  Args args;
  if (!detail::sp(c) || !Fn(c, args)) return false;
  cmd.args = std::move(args);
  return true;
}

bool no_args(cursor&, command&) { return true; }

// EXPUNGE takes no arguments; UID EXPUNGE takes a UID set (RFC 4315 §2.1).
bool expunge_arguments(cursor& c, command& cmd) {
  return !cmd.uid || args_after_sp<expunge_args, parse_uid_set>(c, cmd);
}

struct name_entry {
  std::string_view text;
  command_name name;
  args_parser arguments;
};

// The command table: name, and how its arguments are read.
constexpr std::array<name_entry, 30> names = {{
    {"CAPABILITY", command_name::capability, no_args},
    {"NOOP", command_name::noop, no_args},
    {"LOGOUT", command_name::logout, no_args},
    {"STARTTLS", command_name::starttls, no_args},
    {"AUTHENTICATE", command_name::authenticate, args_after_sp<authenticate_args, parse_authenticate>},
    {"LOGIN", command_name::login, args_after_sp<login_args, parse_login>},
    {"ENABLE", command_name::enable, args_after_sp<enable_args, parse_enable>},
    {"ID", command_name::id, args_after_sp<id_args, parse_id>},
    {"SELECT", command_name::select, args_after_sp<select_args, detail::parse_select>},
    {"EXAMINE", command_name::examine, args_after_sp<select_args, detail::parse_select>},
    {"CREATE", command_name::create, args_after_sp<mailbox_args, detail::parse_create>},
    {"DELETE", command_name::delete_mailbox, args_after_sp<mailbox_args, parse_mailbox_only>},
    {"RENAME", command_name::rename, args_after_sp<rename_args, parse_rename>},
    {"SUBSCRIBE", command_name::subscribe, args_after_sp<mailbox_args, parse_mailbox_only>},
    {"UNSUBSCRIBE", command_name::unsubscribe, args_after_sp<mailbox_args, parse_mailbox_only>},
    {"LIST", command_name::list, args_after_sp<list_args, detail::parse_list>},
    {"LSUB", command_name::lsub, args_after_sp<list_args, detail::parse_lsub>},
    {"NAMESPACE", command_name::namespace_, no_args},
    {"STATUS", command_name::status, args_after_sp<status_args, detail::parse_status>},
    {"APPEND", command_name::append, args_after_sp<append_args, detail::parse_append>},
    {"IDLE", command_name::idle, no_args},
    {"CLOSE", command_name::close, no_args},
    {"UNSELECT", command_name::unselect, no_args},
    {"EXPUNGE", command_name::expunge, expunge_arguments},
    {"SEARCH", command_name::search, args_after_sp<search_args, detail::parse_search>},
    {"FETCH", command_name::fetch, args_after_sp<fetch_args, detail::parse_fetch>},
    {"STORE", command_name::store, args_after_sp<store_args, detail::parse_store>},
    {"COPY", command_name::copy, args_after_sp<copy_args, parse_copy>},
    {"MOVE", command_name::move, args_after_sp<copy_args, parse_copy>},
    // RFC 3501 §6.4.1: IMAP4rev1 only (RFC 9051 dropped it), but rev1 is advertised.
    {"CHECK", command_name::check, no_args},
}};

const name_entry* lookup(std::string_view word) {
  const std::string up = detail::upper(word);
  for (const name_entry& e : names) {
    if (e.text == up) return &e;
  }
  return nullptr;
}

const name_entry* parse_name(cursor& c, command& cmd) {
  const std::string_view word = c.take_while(core::is_alpha);
  const name_entry* entry = lookup(word);
  if (!entry) return c.expected(word.empty() ? "command name" : "known command name"), nullptr;
  cmd.name = entry->name;
  return entry;
}

}  // namespace

std::optional<std::string> normalize_mailbox(std::string_view raw, bool utf8_accept) {
  std::optional<std::string> name =
      utf8_accept ? (is_valid_utf8(raw) ? std::optional<std::string>(raw) : std::nullopt)
                  : mutf7_to_utf8(raw);
  // RFC 9051 §5.1: INBOX is case-insensitive; other names are not.
  if (name && detail::upper(*name) == "INBOX") *name = "INBOX";
  return name;
}

parse_result parse_command(const command_text& text, const parse_options& options) {
  cursor c(text, options);
  parse_result result;
  command cmd;
  const std::string_view tag = c.take_while(is_tag_char);
  bool ok = !tag.empty() || c.expected("tag");
  // A tag counts as read only when SP ends it; "A1+ NOOP" has no valid tag to answer.
  const bool tag_read = ok && c.peek() == ' ';
  if (ok) cmd.tag = std::string(tag);
  ok = ok && detail::sp(c);
  cmd.uid = ok && c.take_word("UID");
  ok = ok && (!cmd.uid || detail::sp(c));
  const name_entry* entry = ok ? parse_name(c, cmd) : nullptr;
  ok = entry != nullptr &&
       (!cmd.uid || uid_allowed(cmd.name) ||
        c.expected("COPY, MOVE, FETCH, SEARCH, STORE or EXPUNGE after UID"));
  ok = ok && entry->arguments(c, cmd) && (c.at_end() || c.expected("end of command"));
  if (ok) {
    result.value = std::move(cmd);
    return result;
  }
  result.error = c.error().value_or(parse_error{});
  if (tag_read) result.error.tag = std::string(tag);
  return result;
}

std::string_view command_name_text(command_name name) {
  for (const name_entry& e : names) {
    if (e.name == name) return e.text;
  }
  return "?";
}

}  // namespace mailsim::imap
