// mailsim::imap backend — what an IMAP session needs from a user's mail store, as interfaces.
//
// Contract: the session (session.hpp) opens the authenticated user's account through the
// injected backend_opener right after LOGIN/AUTHENTICATE succeeds, and a mailbox of it at
// SELECT/EXAMINE (and briefly for STATUS, APPEND, COPY/MOVE targets). The shapes mirror
// reference-server/store (mailbox.hpp, folders.hpp) so that the server's adapter only
// forwards: this layer (L1) must not include store headers. The driver implements these
// over the durable store; tests implement them in memory (tests/unit/imap_session).
//
// A mailbox_backend is one session's view of one mailbox: messages() changes only in
// sync() and in this object's own operations (which behave as if followed by a sync()), so
// the session decides when the client hears about changes (RFC 9051 §7.5.1). Every
// account has INBOX, Sent, Drafts, Junk and Trash (RFC 6154 SPECIAL-USE); the backend
// creates them when the account is first opened. Results are backend_status values, never
// exceptions; append() must be durable before it returns ok (APPEND OK means stored).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/mailbox_entry.hpp"

namespace mailsim::imap {

// System flags as bits, the same values as store::flag_bits.
enum flag_bits : std::uint8_t {
  flag_draft = 1,
  flag_flagged = 2,
  flag_answered = 4,
  flag_seen = 8,
  flag_deleted = 16,
};

enum class backend_status {
  ok,
  not_found,       // no such mailbox or message
  already_exists,  // create or rename onto an existing mailbox
  invalid_name,    // refused: a bad name or level, INBOX deleted, a mailbox with children
                   // deleted, a mailbox renamed into itself
  in_use,          // locked by another session (the session answers NO [INUSE])
  over_quota,      // NO [OVERQUOTA]
  failed,          // a storage error (NO [SERVERBUG] / [UNAVAILABLE])
};

// UID, MODSEQ, flags (flag_bits), keywords, size, INTERNALDATE; the store's own type, so
// that the server passes its view through without a copy.
using message_entry = core::mailbox_entry;

struct sync_report {
  std::vector<std::uint32_t> expunged;  // UIDs that left the view
  std::size_t added = 0;                // messages appended to the view's end
  bool flags_changed = false;           // some message's flags, keywords or MODSEQ changed
};

enum class flag_op { replace, add, remove };

class mailbox_backend {
 public:
  virtual ~mailbox_backend() = default;

  virtual backend_status sync(sync_report& report) = 0;
  // Ascending UID order; sequence number n is index n-1 of the last sync.
  virtual const std::vector<message_entry>& messages() const = 0;
  virtual std::uint32_t uid_validity() const = 0;
  virtual std::uint32_t uid_next() const = 0;
  virtual std::uint64_t highest_modseq() const = 0;

  virtual backend_status read(std::uint32_t uid, std::string& out) const = 0;
  // UIDs not in the view are skipped. With unchanged_since > 0 (CONDSTORE) messages whose
  // MODSEQ is greater are left alone and listed in `modified`.
  virtual backend_status set_flags(std::span<const std::uint32_t> uids, flag_op op,
                                   std::uint8_t flags, std::span<const std::string> keywords,
                                   std::uint64_t unchanged_since,
                                   std::vector<std::uint32_t>& modified) = 0;
  virtual backend_status expunge(std::span<const std::uint32_t> uids) = 0;
  // internal_date_ms 0 means now. The new UID is returned in `uid`.
  virtual backend_status append(std::string_view message, std::uint8_t flags,
                                std::span<const std::string> keywords,
                                std::int64_t internal_date_ms, std::uint32_t& uid) = 0;
  // New UIDs in `new_uids`, in the order of `uids`.
  virtual backend_status copy_to(std::span<const std::uint32_t> uids, mailbox_backend& target,
                                 std::vector<std::uint32_t>& new_uids) = 0;
};

struct mailbox_info {
  std::string name;         // UTF-8, '/' as the hierarchy separator, "INBOX" for the inbox
  std::string special_use;  // "\Sent", "\Drafts", "\Junk", "\Trash", or empty
  bool has_children = false;  // some existing mailbox is below this name
  bool subscribed = false;
  // False for a subscribed name with no mailbox (RFC 9051 §6.3.7: subscriptions are names
  // only); such an entry has subscribed = true and no special use.
  bool exists = true;
};

// The hierarchy (RFC 9051 §6.3.4-§6.3.6): '/' separates levels; the session refuses "."
// and ".." levels itself and never passes them on. No operation here leaves a level without
// a mailbox above an existing one, though another program may (Maildir++ ".A.B" with no
// ".A"); list() does not make such levels up, the session derives them from the names.
class account_backend {
 public:
  virtual ~account_backend() = default;
  // Every mailbox, and every subscribed name that names no mailbox (exists = false), INBOX
  // first, then the others in byte order of their names, each name once.
  virtual std::vector<mailbox_info> list(backend_status& status) = 0;
  // Creates the mailbox and every missing superior level as a mailbox of its own
  // ("Archive" for "Archive/2023"); already_exists when the mailbox itself exists.
  virtual backend_status create(std::string_view name) = 0;
  // invalid_name for INBOX and for a mailbox that has mailboxes below it (refused, as
  // Dovecot does, rather than kept as \Noselect: RFC 9051 §6.3.5 allows either).
  virtual backend_status remove(std::string_view name) = 0;
  // Renames the mailbox and those below it, after making the missing superior levels of
  // `to`. RENAME INBOX (RFC 9051 §6.3.6) instead creates `to` with a UIDVALIDITY of its own
  // and moves every message of INBOX into it (flags, keywords and internal dates kept, new
  // UIDs); INBOX stays, empty, with its UIDVALIDITY and UIDNEXT, and so do the mailboxes
  // below INBOX. A crash during it may leave a message in both, never in neither.
  virtual backend_status rename(std::string_view from, std::string_view to) = 0;
  // Subscriptions are names only: a name need not exist (RFC 9051 §6.3.7).
  virtual backend_status subscribe(std::string_view name, bool subscribed) = 0;
  // nullptr with `status` set when the mailbox cannot be opened.
  virtual std::unique_ptr<mailbox_backend> open(std::string_view name, bool read_only,
                                                backend_status& status) = 0;
};

class backend_opener {
 public:
  virtual ~backend_opener() = default;
  // The account of an authenticated user ("local@domain"); nullptr when it cannot be opened.
  virtual std::unique_ptr<account_backend> open(std::string_view user) = 0;
};

}  // namespace mailsim::imap
