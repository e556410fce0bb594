// mailsim::store mailbox — the per-process pool of closed mailboxes (mailbox_impl.hpp).
//
// Why: opening a folder reads and parses its whole index and lists cur/ (tens of ms for
// 10,000 messages), while a session that already holds the folder checks in microseconds
// that nothing changed. IMAP SELECT and POP3 logins open the same few folders again and
// again; keeping the state of the last closed object per folder turns those opens into the
// cheap check. A kept state is only a starting point: open() syncs it as any other.
#include <sys/stat.h>

#include <algorithm>
#include <list>
#include <mutex>

#include "reference-server/store/mailbox_impl.hpp"

namespace mailsim::store {
namespace {

struct pool {
  std::mutex lock;
  std::size_t capacity = mailbox::reuse_capacity_default;
  std::list<std::unique_ptr<mailbox::impl>> kept;  // most recently closed first
  std::uint64_t reused = 0;
};

// Never destroyed: a mailbox closed during exit (a global's, a fixture's) still finds it.
pool& the_pool() {
  static pool* instance = new pool;
  return *instance;
}

// True when `path` still names the directory the descriptor was opened on: a folder deleted,
// renamed away or replaced since must not lend its old state to the new one.
bool same_directory(const mailbox::impl& state, const std::string& path) {
  struct stat held {};
  struct stat named {};
  if (::fstat(state.dir.get(), &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino && held.st_nlink > 0;
}

}  // namespace

namespace mailbox_pool {

std::unique_ptr<mailbox::impl> take(const std::string& path) {
  std::unique_ptr<mailbox::impl> found;
  {
    pool& p = the_pool();
    std::lock_guard guard(p.lock);
    auto it = std::find_if(p.kept.begin(), p.kept.end(),
                           [&path](const auto& state) { return state->path == path; });
    if (it == p.kept.end()) return nullptr;
    found = std::move(*it);
    p.kept.erase(it);
  }
  if (!same_directory(*found, path)) return nullptr;  // destroyed outside the pool's lock
  std::lock_guard guard(the_pool().lock);
  ++the_pool().reused;
  return found;
}

void give(std::unique_ptr<mailbox::impl> state) {
  std::unique_ptr<mailbox::impl> dropped;  // destroyed after the lock is released
  std::list<std::unique_ptr<mailbox::impl>> evicted;
  pool& p = the_pool();
  std::lock_guard guard(p.lock);
  if (p.capacity == 0) return;
  // One state per folder: the one closed last is the most recent.
  auto same = std::find_if(p.kept.begin(), p.kept.end(),
                           [&state](const auto& kept) { return kept->path == state->path; });
  if (same != p.kept.end()) {
    dropped = std::move(*same);
    p.kept.erase(same);
  }
  p.kept.push_front(std::move(state));
  while (p.kept.size() > p.capacity) {
    evicted.splice(evicted.end(), p.kept, std::prev(p.kept.end()));
  }
}

}  // namespace mailbox_pool

void mailbox::set_reuse_capacity(std::size_t folders) {
  std::list<std::unique_ptr<impl>> evicted;
  pool& p = the_pool();
  std::lock_guard guard(p.lock);
  p.capacity = folders;
  while (p.kept.size() > p.capacity) {
    evicted.splice(evicted.end(), p.kept, std::prev(p.kept.end()));
  }
}

std::uint64_t mailbox::reused_opens() {
  std::lock_guard guard(the_pool().lock);
  return the_pool().reused;
}

}  // namespace mailsim::store
