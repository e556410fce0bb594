// mailsim::store mailbox — one Maildir folder opened for reading and changing (IMAP, POP3).
//
// Contract: a mailbox is one Maildir (or Maildir++ sub-folder) plus a crash-safe index
// beside it, "<folder>/mailsim-index", that gives every message a UID and a MODSEQ
// (RFC 9051 §2.3.1.1, RFC 7162) and keeps UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ. Flags
// live in the Maildir file name info (":2," then the letters D F R S T in ASCII order:
// \Draft \Flagged \Answered \Seen \Deleted), so mutt and Dovecot see them; keywords live in
// the index only.
//
// sync() brings the view (messages()) up to date with the disk: files delivered into new/
// move to cur/ (info ":2," added) and get the next UIDs in file-name order (the name starts
// with the delivery time); files gone from disk leave the view (reported as expunged); flags
// changed by another mailbox object or program are picked up. This object's own changes
// (set_flags, expunge, append, and the target of copy_to) leave the view as a sync() would;
// a later sync() reports only what changed after that. Every operation that changes the
// index takes an exclusive flock(2) on "<folder>/mailsim-index.lock", rereads the index if
// another object changed it, applies the change, writes the index to a temporary file,
// fsyncs it, renames it over the old one and fsyncs the folder, then releases the lock: two
// sessions on one mailbox (in one process or two) never lose each other's changes, and
// after a crash UIDs never go backwards (UIDNEXT only grows; a missing or unreadable index
// gets a new UIDVALIDITY greater than any the folder used, from the clock).
//
// append() is durable before it returns success (file and directory entry fsync'd, index
// written): only then may IMAP answer APPEND OK. expunge() removes the files, syncs their
// folders (an acknowledged EXPUNGE stays done after a power loss) and then drops their
// index entries; a crash between the two only leaves entries that the next sync() drops.
// set_flags() writes the index (new MODSEQ) before renaming the file, so a crash may show a
// MODSEQ change without a flag change, never the reverse.
//
// Closed mailboxes are kept for reuse: the destructor hands the object's parsed index, folder
// scan and view to a per-process pool (reuse_capacity_default folders, least recently closed
// dropped first; set_reuse_capacity()), and the next open() of the same folder — the same
// directory, not merely the same path — starts from that state and syncs it as usual, which
// costs one index header read and two stat calls when nothing changed. Reuse never shows
// stale data: the sync checks the index generation and the folders' mtimes, as every sync
// does.
//
// What it must not do: read the OS clock (the injected clock gives UIDVALIDITY and
// INTERNALDATE of appends), start threads, or touch files outside its folder. Not
// thread-safe: one object per session. Errors are std::error_code (store/error.hpp or
// errno), never exceptions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/mailbox_entry.hpp"

namespace mailsim::store {

// System flags as bits; the Maildir info letter of each is in the comment.
enum flag_bits : std::uint8_t {
  flag_draft = 1,     // D
  flag_flagged = 2,   // F
  flag_answered = 4,  // R
  flag_seen = 8,      // S
  flag_deleted = 16,  // T
};

// UID, MODSEQ, flags (flag_bits), keywords, size (the file's), INTERNALDATE. The file of a
// message is file_path(uid).
using message_entry = core::mailbox_entry;

struct sync_report {
  std::vector<std::uint32_t> expunged;  // UIDs that left the view (in the old view's order)
  std::size_t added = 0;                // messages appended to the view's end
  bool flags_changed = false;           // some message's flags, keywords or MODSEQ changed
};

enum class flag_op { replace, add, remove };

class mailbox {
 public:
  // Opens the Maildir at `path` (absolute; created with tmp/ new/ cur/ if `create` is true
  // and it does not exist) and syncs once. errc::not_found when it does not exist and
  // `create` is false.
  static std::unique_ptr<mailbox> open(const std::string& path, bool create,
                                       const core::clock& clock, std::error_code& error);
  ~mailbox();

  // The pool of closed mailboxes (see the contract above); 0 turns reuse off. Thread-safe.
  static constexpr std::size_t reuse_capacity_default = 16;
  static void set_reuse_capacity(std::size_t folders);
  // How many open() calls in this process started from a pooled state.
  static std::uint64_t reused_opens();

  std::error_code sync(sync_report& report);

  // The view: messages in ascending UID order; sequence number n is index n-1.
  const std::vector<message_entry>& messages() const;
  std::uint32_t uid_validity() const;
  std::uint32_t uid_next() const;
  std::uint64_t highest_modseq() const;

  // Reads a message's bytes; errc::not_found when its file is gone.
  std::error_code read(std::uint32_t uid, std::string& out) const;
  // The absolute path of a message's file (for zero-copy senders and tests).
  std::string file_path(std::uint32_t uid) const;

  // Changes flags and keywords of these UIDs (absent ones are skipped); each changed
  // message gets a new MODSEQ. With `unchanged_since` (CONDSTORE), messages whose MODSEQ is
  // greater are left alone and returned in `modified`.
  std::error_code set_flags(std::span<const std::uint32_t> uids, flag_op op, std::uint8_t flags,
                            std::span<const std::string> keywords,
                            std::uint64_t unchanged_since, std::vector<std::uint32_t>& modified);
  // Removes these UIDs for good (files, then index entries).
  std::error_code expunge(std::span<const std::uint32_t> uids);
  // Stores a new message durably; its UID is returned in `uid`. `internal_date_ms` 0 means
  // now (from the clock).
  std::error_code append(std::string_view message, std::uint8_t flags,
                         std::span<const std::string> keywords, std::int64_t internal_date_ms,
                         std::uint32_t& uid);
  // Copies messages into another mailbox (COPY/MOVE); new UIDs in `new_uids`, in order.
  std::error_code copy_to(std::span<const std::uint32_t> uids, mailbox& target,
                          std::vector<std::uint32_t>& new_uids);

  struct impl;  // public so that the store's own sources can name it (mailbox_impl.hpp)

 private:
  explicit mailbox(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::store
