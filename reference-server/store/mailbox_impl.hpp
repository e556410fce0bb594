// mailsim::store mailbox internals — the state behind store::mailbox, shared by its source
// files (mailbox.cpp: the operations; mailbox_sync.cpp: index I/O, folder scans and the view;
// mailbox_reuse.cpp: the per-process pool of closed mailboxes). Not a public header: nothing
// outside reference-server/store includes it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reference-server/core/string_hash.hpp"
#include "reference-server/store/folder_lock.hpp"
#include "reference-server/store/fs.hpp"
#include "reference-server/store/mailbox.hpp"
#include "reference-server/store/mailbox_index.hpp"

namespace mailsim::store {

// Whole-file helpers on a folder's descriptor (mailbox_sync.cpp; fs::read_whole() reads one).
// read_prefix: the first bytes of a file, enough for the index header line.
std::error_code read_prefix(int dir, const std::string& name, std::size_t max_bytes,
                            std::string& out);
// Replaces `name` atomically and durably: temporary file, fsync, rename, fsync of the folder.
std::error_code replace_file(int dir, const char* name, const char* temp_name,
                             std::string_view text);

// A message file as the last scan found it.
struct disk_file {
  std::string name;  // in new/ or cur/
  bool in_new = false;
  bool known = false;  // reconcile(): an index record names it
  std::uint64_t size_bytes = 0;
  std::int64_t time_ms = 0;  // from the name, else the mtime
};

using file_map = core::string_map<disk_file>;

// A message to store: append() and copy_to().
struct pending_message {
  std::string_view bytes;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;  // sorted, unique
  std::int64_t internal_date_ms = 0;
  std::string temp_name;  // in tmp/, once written
};

// What set_flags() asks for, and one message it changes (the record and its next state).
struct flag_request {
  flag_op op = flag_op::add;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;  // sorted, unique
};
using flag_change = std::pair<index::record*, index::record>;

// The modification times of new/ and cur/ when they were last scanned. Every file created,
// renamed or removed in a folder changes its mtime, so equal stamps mean nothing to rescan;
// a stamp is trusted only when the scan came clearly after it (stamp_settle_ms), because
// file-system timestamps are coarser than the changes they stamp.
struct dir_stamp {
  std::int64_t new_ns = 0;
  std::int64_t cur_ns = 0;
  bool operator==(const dir_stamp&) const = default;
};
constexpr std::int64_t stamp_settle_ms = 2000;

// The index file as last read or written: inode, size and times.
struct file_identity {
  std::uint64_t inode = 0;
  std::uint64_t size_bytes = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const file_identity&) const = default;
};

struct mailbox::impl {
  impl(std::string path_in, fs::unique_fd dir_in, const core::clock& clock_in)
      : path(std::move(path_in)), dir(std::move(dir_in)), clock(&clock_in) {}

  std::error_code lock(std::unique_ptr<folder_lock>& held) const;
  // `changed` tells whether the index or the folders changed since the last refresh.
  std::error_code refresh_locked(bool& changed);
  std::error_code refresh_locked() {
    bool ignored = false;
    return refresh_locked(ignored);
  }
  std::optional<dir_stamp> read_stamp() const;
  std::error_code load_index(bool& dirty);
  std::optional<file_identity> index_identity() const;
  std::error_code reset_index(std::uint32_t old_uid_validity);
  std::error_code new_uid_validity(std::uint32_t old_uid_validity, std::uint32_t& out);
  std::error_code scan(file_map& found) const;
  disk_file describe(const std::string& name, bool in_new) const;
  bool reconcile(file_map& found, std::error_code& error);
  void move_new_to_cur();
  std::error_code write_index();

  index::record* find(std::uint32_t uid);
  const disk_file* file_of(const index::record& entry) const;
  std::string relative_path(const disk_file& file) const;

  std::error_code write_temp(pending_message& message);
  std::error_code store_messages(std::vector<pending_message>& batch,
                                 std::vector<std::uint32_t>& uids);
  std::error_code add_records(std::vector<pending_message>& batch,
                              std::vector<std::uint32_t>& uids);
  std::error_code plan_flag_changes(std::span<const std::uint32_t> uids,
                                    const flag_request& request, std::uint64_t unchanged_since,
                                    std::vector<std::uint32_t>& modified,
                                    std::vector<flag_change>& changes);
  std::error_code rename_changed(const std::vector<std::pair<std::string, std::string>>& renames);

  message_entry entry_of(const index::record& entry) const;
  void rebuild_view(sync_report& report);
  // After an operation of this object: its view shows the result, as after a sync().
  void adopt_own_changes() {
    sync_report ignored;
    rebuild_view(ignored);
  }

  std::string path;
  fs::unique_fd dir;
  const core::clock* clock;  // a pointer: a reused object gets its new opener's clock
  index::index_data data;  // the index as last read or written
  bool loaded = false;
  std::optional<file_identity> index_seen;  // `data` is this file's content
  std::optional<dir_stamp> scanned;  // the folders as of the last scan, when settled
  file_map files;  // by base name, from the last scan
  std::vector<message_entry> view;
  // False when a refresh changed `data` or `files` and the view was not rebuilt since (an
  // operation that refreshed and then failed, or copy_to's source): the next sync rebuilds.
  bool view_current = true;
  std::uint32_t view_uid_validity = 0;
};

// The pool of closed mailboxes (mailbox_reuse.cpp). A mailbox object, once closed, keeps its
// parsed index, its scan of the folders and its view here, so that the next open of the
// same folder only checks that nothing changed (index generation, folder mtimes) instead of
// reading everything again.
namespace mailbox_pool {
// The pooled state of the folder at `path`, if any and if `path` still names the same
// directory; removed from the pool (one owner at a time).
std::unique_ptr<mailbox::impl> take(const std::string& path);
// Keeps a closed mailbox's state; the least recently kept goes when the pool is full.
void give(std::unique_ptr<mailbox::impl> state);
}  // namespace mailbox_pool

}  // namespace mailsim::store
