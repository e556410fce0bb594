// mailsim::store Maildir store — durable delivery into Maildir folders, by group commit.
//
// Contract: commit_batch() writes every copy of every request of a batch into the user's
// Maildir and reports, per request, success only when all its copies are durable: file data
// and directory entry on stable storage (DESIGN.md "Data at rest": nothing is acknowledged
// before). The steps (the Maildir protocol, with the fsyncs grouped):
//   1. write each copy into <maildir>/tmp/<unique name>, no sync yet;
//   2. one data barrier for the whole batch: syncfs(2) on the store root;
//   3. rename each file into <maildir>/new/ (never replacing a file);
//   4. one directory barrier for the whole batch: syncfs(2) again.
// With barrier_mode::fsync_each, each file is fsync'd after it is written and each distinct
// new/ folder once after the renames: the classic per-message cost, kept for comparison and
// used automatically for a Maildir on another file system than the root (syncfs(2) covers
// only the root's). When syncfs(2) fails (a write-back error somewhere on the file system,
// reported since Linux 5.8), the store falls back to fsync(2) of each file or folder, so that
// an error caused by some other file does not fail this batch, and an error of ours is seen.
// barrier_mode::none skips all syncing: for tests and benchmarks only, never for service.
// A request that fails at any step has all its files removed (from tmp/ or new/), so no
// mailbox keeps a copy of a message the sender will retry; the other requests go on. The
// removal is not synced: after a crash a removed copy may come back, which only duplicates a
// message (at-least-once, as DESIGN.md allows), never loses one.
//
// Missing Maildir folders are created on first delivery, and each new folder's parent is
// synced. A request's `folder` goes to the Maildir++ sub-folder (maildir_folder_path(),
// with its "maildirfolder" marker), created the same way. recover() at start-up deletes the debris in every tmp/ (of each Maildir and of its
// Maildir++ sub-folders): files written by a batch that never finished. It assumes no other
// program writes into these Maildirs while it runs.
//
// What it must not do: read the OS clock or real randomness (names come from the injected
// clock, a process-wide counter and the configured pid and host name), start threads, or
// touch anything outside the root. Threads: commit_batch() and recover() run one at a time
// (the driver's delivery worker); quota_check(), usage_bytes() and forget_usage() may be
// called from other threads meanwhile. Files are stored as received (CRLF line ends);
// Dovecot and mutt read such files.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/store/fs.hpp"
#include "reference-server/store/store.hpp"

namespace mailsim::store {

enum class barrier_mode { syncfs, fsync_each, none };

struct maildir_config {
  std::string root;      // the store root; created if missing (its parent must exist)
  std::string hostname;  // part of unique file names
  std::int64_t pid = 0;  // part of unique file names
  barrier_mode barrier = barrier_mode::syncfs;
};

struct recover_report {
  std::size_t removed_files = 0;  // debris deleted from tmp/ folders
  std::size_t maildirs = 0;       // Maildirs visited
  std::error_code error;          // the first error met; the walk goes on after it
};

class maildir_store final : public mailbox_store {
 public:
  maildir_store(maildir_config config, const core::clock& clock);

  // Creates the root if needed and opens it. Deliveries fail with errc::not_open before.
  std::error_code open();

  recover_report recover();

  std::vector<delivery_result> commit_batch(std::span<const delivery_request> batch) override;

  quota_state quota_check(const user_account& user, std::uint64_t message_bytes) override;

  // Bytes in the user's new/ and cur/ folders (sub-folders included), scanned on first use.
  std::uint64_t usage_bytes(std::string_view user);
  // Forgets the cached usage, e.g. after messages were removed; the next use rescans.
  void forget_usage(std::string_view user);

  const std::string& root() const { return config_.root; }

 private:
  struct copy;
  struct batch_state;

  std::error_code ensure_maildir(const std::string& maildir, std::string_view folder);
  std::error_code write_copy(const delivery_request& request, std::size_t index,
                             const std::string& user, core::time_point now, batch_state& state);
  void write_phase(std::span<const delivery_request> batch, core::time_point now,
                   batch_state& state);
  void data_barrier(batch_state& state);
  void rename_phase(core::time_point now, batch_state& state);
  std::error_code rename_into_new(copy& file, core::time_point now);
  void directory_barrier(batch_state& state);
  void discard_failed(batch_state& state);
  std::vector<delivery_result> results(std::span<const delivery_request> batch,
                                       const batch_state& state);
  fs::unique_fd create_unique(const std::string& folder, core::time_point now,
                              std::uint64_t size_bytes, std::string& path, std::error_code& error);
  std::string unique_name(core::time_point now, std::uint64_t size_bytes) const;
  std::uint64_t scan_usage(std::string_view user) const;

  maildir_config config_;
  const core::clock& clock_;
  fs::unique_fd root_fd_;
  std::uint64_t root_device_ = 0;
  // Maildirs and folders known to exist → on the root's file system
  std::map<std::string, bool, std::less<>> maildirs_;
  usage_cache usage_;
};

}  // namespace mailsim::store
