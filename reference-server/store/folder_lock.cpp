#include "reference-server/store/folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

#include <cerrno>

#include "reference-server/store/error.hpp"

namespace mailsim::store {
namespace {

// A pause between two tries; nanosleep(2) waits without reading the clock ourselves.
void pause_for(int pause_ms) {
  if (pause_ms <= 0) return;
  timespec left{pause_ms / 1000, static_cast<long>(pause_ms % 1000) * 1'000'000L};
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

}  // namespace

std::unique_ptr<folder_lock> folder_lock::try_acquire(const std::string& path,
                                                      std::error_code& error) {
  fs::unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    error = fs::last_error();
    return nullptr;
  }
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    error = errno == EWOULDBLOCK ? std::error_code(errc::locked) : fs::last_error();
    return nullptr;
  }
  error.clear();
  return std::unique_ptr<folder_lock>(new folder_lock(path, std::move(fd)));
}

std::unique_ptr<folder_lock> folder_lock::acquire(const std::string& path, int tries_max,
                                                  int pause_ms, std::error_code& error) {
  for (int attempt = 0; attempt < tries_max; ++attempt) {
    if (attempt > 0) pause_for(pause_ms);
    auto lock = try_acquire(path, error);
    if (lock || error != errc::locked) return lock;
  }
  if (!error) error = errc::locked;  // tries_max <= 0: not even one try
  return nullptr;
}

}  // namespace mailsim::store
