// mailsim::imap commands — the typed form of one client command (RFC 9051 §6, plus
// RFC 3501 §6.4.1 CHECK, RFC 2971 ID, RFC 5161 ENABLE, RFC 4315 UID EXPUNGE, RFC 6851
// MOVE, RFC 7162 CONDSTORE/QRESYNC, RFC 4731 ESEARCH, RFC 5258/5819 LIST-EXTENDED/
// LIST-STATUS, RFC 6154 SPECIAL-USE, RFC 3516 BINARY, RFC 3691 UNSELECT, RFC 4959 SASL-IR).
//
// Contract: plain data, produced by parse_command() (parser.hpp). Keywords the grammar
// defines as case-insensitive are stored upper-case (capabilities, mechanisms, list options);
// flags, header names and strings are kept as the client sent them. Mailbox names are decoded
// (modified UTF-7 to UTF-8 unless UTF8=ACCEPT) and "INBOX" in any case is "INBOX". Whether a
// command is allowed in the current state is the session's business, not this model's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "reference-server/imap/date_time.hpp"
#include "reference-server/imap/sequence_set.hpp"

namespace mailsim::imap {

enum class command_name {
  capability, noop, logout, starttls, authenticate, login, enable, id,
  select, examine, create, delete_mailbox, rename, subscribe, unsubscribe, list, lsub,
  namespace_, status, append, idle, close, unselect, expunge, search, fetch, store, copy, move,
  check,
};

std::string_view command_name_text(command_name name);

struct authenticate_args {
  std::string mechanism;                    // upper-case
  std::optional<std::string> initial_response;  // SASL-IR: base64 text, or "=" for empty
};

struct login_args {
  std::string user;
  std::string password;
};

struct enable_args {
  std::vector<std::string> capabilities;  // upper-case
};

struct id_args {
  // nullopt for "ID NIL"; else field/value pairs in order (value nullopt for NIL).
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> fields;
};

struct qresync_params {
  std::uint32_t uidvalidity = 0;
  std::uint64_t modseq = 0;
  std::optional<sequence_set> known_uids;
  std::optional<std::pair<sequence_set, sequence_set>> seq_match;  // (seqs, uids)
};

// SELECT / EXAMINE.
struct select_args {
  std::string mailbox;
  bool condstore = false;
  std::optional<qresync_params> qresync;
};

// DELETE / SUBSCRIBE / UNSUBSCRIBE, and CREATE with its RFC 6154 USE list.
struct mailbox_args {
  std::string mailbox;
  std::vector<std::string> special_use;  // CREATE ... (USE (\Drafts ...))
};

struct rename_args {
  std::string from;
  std::string to;
};

enum class status_item {
  messages, recent, uidnext, uidvalidity, unseen, deleted, size, highestmodseq, appendlimit,
};

struct list_args {
  bool extended = false;  // selection options, a pattern list or RETURN were used
  // RFC 5258 selection options.
  bool select_subscribed = false;
  bool select_remote = false;
  bool select_recursivematch = false;
  bool select_special_use = false;
  std::string reference;
  std::vector<std::string> patterns;
  // RFC 5258 / 6154 / 5819 return options.
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  std::optional<std::vector<status_item>> return_status;
};

struct status_args {
  std::string mailbox;
  std::vector<status_item> items;
};

struct append_args {
  std::string mailbox;
  std::vector<std::string> flags;
  std::optional<date_time> internal_date;
  std::string message;
  bool binary = false;  // literal8 (RFC 3516)
};

struct search_key {
  enum class kind {
    all, answered, bcc, before, body, cc, deleted, draft, flagged, from, header, keyword,
    larger, new_, not_, old, on, or_, recent, seen, sentbefore, senton, sentsince, since,
    smaller, subject, text, to, uid, unanswered, undeleted, undraft, unflagged, unkeyword,
    unseen, sequence, group, modseq,
  };
  kind type = kind::all;
  std::string text;        // string argument, flag keyword, header field name
  std::string value;       // HEADER value
  date when;               // date keys
  std::uint64_t number = 0;  // LARGER/SMALLER size, MODSEQ value
  sequence_set set;        // UID and sequence keys
  std::vector<search_key> children;  // NOT: 1, OR: 2, group "( ... )": 1 or more
  // MODSEQ entry-name and entry-type-req (RFC 7162 §3.1.5), empty when absent.
  std::string modseq_entry;
  std::string modseq_entry_type;
};

struct search_args {
  std::optional<std::vector<std::string>> return_options;  // upper-case; RETURN ()/absent
  std::optional<std::string> charset;
  std::vector<search_key> keys;  // all must match (AND)
};

struct section_spec {
  enum class text_kind { none, header, header_fields, header_fields_not, text, mime };
  std::vector<std::uint32_t> part;  // "1.2.3"
  text_kind text = text_kind::none;
  std::vector<std::string> fields;  // HEADER.FIELDS (.NOT) names, as sent
  bool operator==(const section_spec&) const = default;
};

struct fetch_att {
  enum class kind {
    envelope, flags, internaldate, rfc822, rfc822_header, rfc822_size, rfc822_text, body,
    bodystructure, uid, body_section, binary, binary_size, modseq,
  };
  kind type = kind::flags;
  bool peek = false;             // BODY.PEEK / BINARY.PEEK
  section_spec section;          // body_section, binary, binary_size
  std::optional<std::pair<std::uint32_t, std::uint32_t>> partial;  // <offset.count>
};

struct fetch_args {
  sequence_set set;
  std::vector<fetch_att> atts;  // macros expanded (RFC 9051 §6.4.5)
  std::optional<std::uint64_t> changed_since;
  bool vanished = false;
};

struct store_args {
  enum class mode { replace, add, remove };
  sequence_set set;
  std::optional<std::uint64_t> unchanged_since;
  mode how = mode::replace;
  bool silent = false;
  std::vector<std::string> flags;
};

// COPY / MOVE.
struct copy_args {
  sequence_set set;
  std::string mailbox;
};

// UID EXPUNGE.
struct expunge_args {
  std::optional<sequence_set> uids;
};

using command_args =
    std::variant<std::monostate, authenticate_args, login_args, enable_args, id_args,
                 select_args, mailbox_args, rename_args, list_args, status_args, append_args,
                 search_args, fetch_args, store_args, copy_args, expunge_args>;

struct command {
  std::string tag;
  command_name name = command_name::noop;
  bool uid = false;  // "UID" prefix (COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE)
  command_args args;
};

}  // namespace mailsim::imap
