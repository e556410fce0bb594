// mailsim::store Maildir store — durable delivery into Maildir folders, by group commit.
//
// Contract: commit_batch() writes every copy of every request of a batch into the user's
// Maildir and reports, per request, success only when all its copies are durable: bytes on
// stable storage under a directory entry that a restart turns into a delivered message
// (DESIGN.md "Data at rest": nothing is acknowledged before). The steps (the Maildir
// protocol, with the fsyncs grouped):
//   1. write each copy into <maildir>/tmp/<unique name>,C=<checksum> (content_checksum() of
//      its bytes; with_checksum()), no sync yet;
//   2. one barrier for the whole batch: syncfs(2) on the store root, which makes the data
//      and the tmp/ entries durable;
//   3. rename each file into <maildir>/new/<unique name> (never replacing a file).
// The renames are not synced: the next batch's barrier does it, and a crash before that
// leaves each file complete in tmp/, where recover() finds it, checks its bytes against the
// checksum in its name and completes the rename. So one barrier per batch suffices where the
// classic protocol pays two (data, then directory), as a queue file's single fsync does in
// an MTA that delivers after acknowledging.
// With barrier_mode::journal (the server's default), step 2 is an append to the delivery
// journal (journal.hpp) instead: a record holding each copy's tmp/ path and bytes, made
// durable by one fdatasync(2) of preallocated space, which commits no file-system metadata
// and so costs a fraction of syncfs(2) (docs/benchmarks.md). The files and renames become
// durable at the next checkpoint(): one syncfs(2), then the journal starts a new generation.
// checkpoint() runs when the journal is full and whenever the driver finds the store idle.
// open() replays the records since the last checkpoint: a copy whose file is neither whole in
// tmp/ nor in new/ or cur/ is written again into tmp/ under its checksum name (one syncfs(2),
// then a new generation), and recover() moves it into new/ like any other. A copy a reader
// deleted before the checkpoint can come back so (at-least-once, as with any unsynced
// unlink). A batch whose record is larger than journal_batch_max, cannot be written or does
// not fit takes the syncfs path (which also empties the journal).
// With barrier_mode::fsync_each, each file is fsync'd after it is written and each distinct
// new/ folder once after the renames: the classic per-message cost, kept for comparison and
// used automatically for a Maildir on another file system than the root (syncfs(2) covers
// only the root's). When syncfs(2) fails (a write-back error somewhere on the file system,
// reported since Linux 5.8), the store falls back to fsync(2) of each file and then syncs
// the renames as well (another syncfs, or each new/ folder), so that an error caused by some
// other file does not fail this batch, and an error of ours is seen.
// barrier_mode::none skips all syncing: for tests and benchmarks only, never for service.
// A request that fails at any step has all its files removed (from tmp/ or new/), so no
// mailbox keeps a copy of a message the sender will retry; the other requests go on. The
// removal is not synced: after a crash a removed copy may come back (and recover() deliver
// it), which only duplicates a message (at-least-once, as DESIGN.md allows), never loses one.
//
// Missing Maildir folders are created on first delivery, and each new folder's parent is
// synced. A request's `folder` goes to the Maildir++ sub-folder (maildir_folder_path(),
// with its "maildirfolder" marker), created the same way. recover() at start-up walks every
// tmp/ (of each Maildir and of its Maildir++ sub-folders): a file whose name carries a
// checksum that its bytes match was written by a barrier that finished and goes into new/
// (then one syncfs(2) makes those renames durable); every other file is debris of a batch
// that never finished (or of an IMAP APPEND) and is deleted. It assumes no other program
// writes into these Maildirs while it runs.
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
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/store/fs.hpp"
#include "reference-server/store/journal.hpp"
#include "reference-server/store/store.hpp"

namespace mailsim::store {

enum class barrier_mode { syncfs, fsync_each, none, journal };

struct maildir_config {
  std::string root;      // the store root; created if missing (its parent must exist)
  std::string hostname;  // part of unique file names
  std::int64_t pid = 0;  // part of unique file names
  barrier_mode barrier = barrier_mode::syncfs;
  // barrier_mode::journal: <root>/.mailsim-journal, made this size when it is created.
  std::uint64_t journal_bytes = std::uint64_t{32} << 20;
  // A batch whose record would be larger takes the syncfs path: its data would be written
  // twice (record, then files) and fill the journal, where the fixed cost of syncfs(2) is
  // small beside writing it once (docs/benchmarks.md, "The delivery journal").
  std::uint64_t journal_batch_max = 256 * 1024;
};

inline constexpr const char* journal_file_name = ".mailsim-journal";

struct recover_report {
  std::size_t removed_files = 0;    // debris deleted from tmp/ folders
  std::size_t recovered_files = 0;  // complete files moved from tmp/ into new/
  std::size_t replayed_files = 0;   // copies open() wrote again from the journal
  std::size_t maildirs = 0;       // Maildirs visited
  std::error_code error;          // the first error met; the walk goes on after it
};

class maildir_store final : public mailbox_store {
 public:
  // `random` draws the journal's salts (journal.hpp); without one, a generator seeded from
  // the clock does, which is enough for tests, not for a server that receives mail.
  maildir_store(maildir_config config, const core::clock& clock,
                core::random_source* random = nullptr);
  ~maildir_store() override;

  // Creates the root if needed and opens it (and the journal, replaying it). Deliveries
  // fail with errc::not_open before.
  std::error_code open();

  recover_report recover();

  std::vector<delivery_result> commit_batch(std::span<const delivery_request> batch) override;

  // Makes every delivery so far durable in its Maildir and empties the journal; nothing to
  // do in the other modes.
  std::error_code checkpoint() override;

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
  struct request_key {
    std::size_t index = 0;       // in the batch
    std::uint64_t checksum = 0;  // content_checksum() of its trace and message
  };
  std::error_code write_copy(const delivery_request& request, request_key key,
                             const std::string& user, core::time_point now, batch_state& state);
  void write_phase(std::span<const delivery_request> batch, core::time_point now,
                   batch_state& state);
  void data_barrier(std::span<const delivery_request> batch, batch_state& state);
  static std::string journal_payload(std::span<const delivery_request> batch,
                                     const batch_state& state);
  bool journal_append(std::string_view payload);
  std::error_code open_journal();
  void replay_copy(std::string_view path, std::string_view trace, std::string_view message,
                   std::map<std::string, std::vector<std::string>>& cur_listings);
  void rename_phase(core::time_point now, batch_state& state);
  std::error_code rename_into_new(copy& file, core::time_point now);
  void directory_barrier(batch_state& state);
  void discard_failed(batch_state& state);
  std::vector<delivery_result> results(std::span<const delivery_request> batch,
                                       const batch_state& state);
  fs::unique_fd create_unique(const std::string& folder, core::time_point now,
                              std::uint64_t checksum, copy& file, std::error_code& error);
  std::string unique_name(core::time_point now, std::uint64_t size_bytes) const;
  std::uint64_t scan_usage(std::string_view user) const;

  maildir_config config_;
  const core::clock& clock_;
  fs::unique_fd root_fd_;
  std::unique_ptr<core::splitmix_random> own_random_;  // when none was given
  core::random_source* random_;
  std::unique_ptr<delivery_journal> journal_;
  std::size_t replayed_files_ = 0;
  std::error_code replay_error_;
  std::uint64_t root_device_ = 0;
  // Maildirs and folders known to exist → on the root's file system
  std::map<std::string, bool, std::less<>> maildirs_;
  usage_cache usage_;
};

}  // namespace mailsim::store
