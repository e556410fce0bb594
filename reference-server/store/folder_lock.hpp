// mailsim::store folder lock — an exclusive flock(2) on a lock file, held by an object.
//
// Contract: try_acquire() takes an exclusive, non-blocking flock(2) (LOCK_EX | LOCK_NB) on
// the file at `path`, creating it (mode 0600, empty) if it is missing, and returns an
// object that holds the lock until it is destroyed. It serves POP3's maildrop lock
// (RFC 1939 §8) and the mailbox index lock ("<folder>/mailsim-index.lock"). flock(2) locks
// belong to an open file description: a second try_acquire() of the same file fails even
// in the same process, and the lock goes away with the descriptor, also when the process
// dies, so a crash never leaves a stale lock behind. The lock file itself is never removed
// (removing it would let two sessions lock two different files of one name).
//
// Results: a held lock, or nullptr and `error` set: errc::locked when another open holds
// it, an errno value (system_category) when the file cannot be opened or locked.
// acquire() retries try_acquire() up to `tries_max` times with a pause of `pause_ms`
// between tries: the wait is bounded by counting tries, never by reading a clock.
// What it must not do: block without bound, or read the OS clock.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "reference-server/store/fs.hpp"

namespace mailsim::store {

class folder_lock {
 public:
  static std::unique_ptr<folder_lock> try_acquire(const std::string& path, std::error_code& error);
  static std::unique_ptr<folder_lock> acquire(const std::string& path, int tries_max, int pause_ms,
                                              std::error_code& error);
  // Closing the descriptor releases the lock.
  ~folder_lock() = default;
  folder_lock(const folder_lock&) = delete;
  folder_lock& operator=(const folder_lock&) = delete;

  const std::string& path() const { return path_; }

 private:
  folder_lock(std::string path, fs::unique_fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  fs::unique_fd fd_;
};

}  // namespace mailsim::store
