// mailsim::queue file spool — the durable outbound queue on disk.
//
// Contract: the spool interface (spool.hpp) over a folder:
//   <root>/msg/<id>       the message bytes (trace + message) followed by the state it was
//                         queued with (message_file.hpp), written once, never changed
//   <root>/state/<id>     the envelope and recipient state (state_file.hpp) from the first
//                         update on, replaced whole; it overrides the embedded state
//   <root>/tmp/           files being written; debris after a crash
//   <root>/corrupt/       files that failed their checks, kept for a human to look at
// A message delivered at its first attempt thus costs one file, as in Postfix: creating and
// deleting files is most of what a relayed message costs the file system.
// Durability follows the Maildir store's group commit (reference-server/store/maildir.hpp)
// and shares its file-system helpers (store/fs.hpp):
// - enqueue: write msg/<id> for every message of the batch, created new (never replacing a
//   file), its embedded state carrying a checksum of the message ("message-sum") and
//   announced by the file's last line; then one barrier, syncfs(2) on the root, which makes
//   both the bytes and the folder entries durable. Success is reported only after it. Until
//   then a crash may leave anything: a file without its last line (deleted by recover(), as
//   it was never acknowledged), or one whose embedded state or message does not match
//   (moved to corrupt/: nothing is deleted that might have been acknowledged). A kill -9,
//   which keeps what was written, leaves at most a file cut short. (Postfix, likewise,
//   fsyncs one new queue file before its 250.)
// - update: write tmp/<id>.update for each message; data barrier; rename(2) over
//   state/<id> (atomic replacement); directory barrier. A crash leaves the old state or the
//   new one, never a mixture. When a barrier fails, the update is reported failed and the
//   spool keeps the old state in memory, though the new file may be on disk: the next
//   update of the message writes the whole state again.
// - remove: unlink state/<id> (if any), then msg/<id>; not synced (see spool.hpp). A crash
//   in between leaves the message with its embedded state: sent again, never lost.
// - recover: deletes everything in tmp/; loads each state/<id> whose checks pass (checksum,
//   id, msg/<id> present with the recorded size and, when the state has one, the recorded
//   message-sum); loads each msg/<id> without a state file whose embedded state passes the
//   same checks (so every message is read once at start); moves a failing file (a state and
//   its message, or a message alone) into corrupt/ and reports it; deletes msg/<id> files
//   without a state file or a complete embedded one; leaves files whose names are not ids
//   alone, and reports them. It never stops at a bad file. Spools written before messages
//   carried their state (msg/<id> the message alone, state/<id> from enqueue) load as
//   they are. Operations other than recover() fail with errc::not_open until it has run.
// barrier_mode::fsync_each fsyncs each file after writing it and each changed folder after
// the renames (used automatically when a spool folder is on another file system than the
// root, which syncfs(2) would not cover); when syncfs(2) fails (a write-back error somewhere
// on the file system), each file or folder is fsync'd instead, so that an error of ours is
// seen and one of another program is not taken for ours. barrier_mode::none never syncs:
// for tests and benchmarks, never for service.
// What it must not do: read the OS clock or real randomness (ids come from the injected
// clock and random source), start threads, touch anything outside the root, or read a
// state file larger than state_bytes_max (it is taken as corrupt). Not thread-safe; assumes one
// process per root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include "reference-server/queue/spool.hpp"
#include "reference-server/store/fs.hpp"

namespace mailsim::queue {

enum class barrier_mode { syncfs, fsync_each, none };

struct file_spool_config {
  std::string root;  // created if missing (its parent must exist)
  barrier_mode barrier = barrier_mode::syncfs;
  // A bigger state file is taken as corrupt: 64 MiB is ~300,000 recipients.
  std::uint64_t state_bytes_max = std::uint64_t{64} << 20;
};

class file_spool final : public spool {
 public:
  file_spool(file_spool_config config, spool_limits limits, const core::clock& clock,
             core::random_source& random);

  // Creates the root and its folders if needed and opens it; recover() comes next.
  std::error_code open();

  const std::string& root() const { return config_.root; }

 protected:
  std::vector<std::error_code> store_new(std::span<const new_message> batch) override;
  std::vector<std::error_code> store_states(
      std::span<const queued_message* const> entries) override;
  std::error_code erase(const std::string& id) override;
  std::shared_ptr<const std::string> read_message(const queued_message& entry,
                                                  std::error_code& error) override;
  void load_all(std::vector<queued_message>& out, recover_report& report) override;

 private:
  struct written;
  // write_file replaces debris at `path` (tmp/ names); write_new never replaces a file.
  std::error_code write_file(const std::string& path, std::string_view first,
                             std::string_view second);
  std::error_code write_new(const std::string& path, std::string_view first,
                            std::string_view second, std::string_view third);
  std::error_code fill_file(store::fs::unique_fd fd, const std::string& path,
                            std::string_view first, std::string_view second,
                            std::string_view third = {});
  void data_barrier(std::vector<written>& files, std::vector<std::error_code>& errors);
  void directory_barrier(std::vector<written>& files, std::vector<std::error_code>& errors);
  void new_files_barrier(std::vector<written>& files, std::vector<std::error_code>& errors);
  void sync_folders(std::vector<written>& files, std::vector<std::error_code>& errors);
  // whole: the file, refused when bigger than `limit`; prefix: its first `limit` bytes.
  enum class read_mode { whole, prefix };
  std::error_code read_file(const std::string& path, std::uint64_t limit, std::string& out,
                            read_mode mode = read_mode::whole);
  std::string move_aside(const std::string& path, const std::string& name, recover_report& report);
  enum class verdict { ok, problem, unreadable };
  verdict check_message(const std::string& msg_path, std::uint64_t file_size,
                        const queued_message& state, std::string& problem,
                        recover_report& report);
  void check_state(const std::string& id, std::vector<queued_message>& out, recover_report& report);
  void load_embedded(const std::string& id, std::vector<queued_message>& out,
                     recover_report& report);

  file_spool_config config_;
  barrier_mode barrier_;  // config_.barrier, or fsync_each across file systems
  store::fs::unique_fd root_fd_;
};

}  // namespace mailsim::queue
