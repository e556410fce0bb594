#include "reference-server/store/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace mailsim::store::fs {

std::error_code last_error() {
  return {errno, std::system_category()};
}

unique_fd::~unique_fd() {
  (void)close();
}

unique_fd::unique_fd(unique_fd&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    (void)close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

std::error_code unique_fd::close() {
  if (fd_ < 0) return {};
  // Never retry close(2) on EINTR: on Linux the descriptor is already released.
  const int result = ::close(fd_);
  fd_ = -1;
  return result == 0 ? std::error_code{} : last_error();
}

unique_fd open_directory(int at, const std::string& path, std::error_code& error) {
  unique_fd fd(::openat(at, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  error = fd.valid() ? std::error_code{} : last_error();
  return fd;
}

unique_fd create_file(int at, const std::string& path, std::error_code& error) {
  unique_fd fd(::openat(at, path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  error = fd.valid() ? std::error_code{} : last_error();
  return fd;
}

std::error_code write_all(int fd, std::string_view first, std::string_view second,
                          std::string_view third) {
  iovec parts[3] = {{const_cast<char*>(first.data()), first.size()},
                    {const_cast<char*>(second.data()), second.size()},
                    {const_cast<char*>(third.data()), third.size()}};
  iovec* next = parts;
  int count = 3;
  while (count > 0) {
    const ssize_t written = ::writev(fd, next, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    // A short write: skip what went out and go on with the rest.
    auto left = static_cast<std::size_t>(written);
    while (count > 0 && left >= next->iov_len) {
      left -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + left;
      next->iov_len -= left;
    }
  }
  return {};
}

std::error_code sync_fd(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return last_error();
  }
  return {};
}

std::error_code sync_data(int fd) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return last_error();
  }
  return {};
}

std::error_code write_at(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t written = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(written));
    offset += static_cast<std::uint64_t>(written);
  }
  return {};
}

std::error_code read_at(int fd, std::uint64_t offset, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (n == 0) break;  // the end of the file
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return {};
}

std::error_code sync_path(int at, const std::string& path) {
  unique_fd fd(::openat(at, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return last_error();
  if (auto error = sync_fd(fd.get())) return error;
  return fd.close();
}

make_result make_directory(int at, const std::string& path) {
  if (::mkdirat(at, path.c_str(), 0700) == 0) return {true, {}};
  if (errno != EEXIST) return {false, last_error()};
  struct stat info {};
  if (::fstatat(at, path.c_str(), &info, 0) != 0) return {false, last_error()};
  if (!S_ISDIR(info.st_mode)) return {false, std::make_error_code(std::errc::not_a_directory)};
  return {false, {}};
}

std::error_code rename_no_replace(int at, const std::string& from, const std::string& to) {
  if (::renameat2(at, from.c_str(), at, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno != EINVAL && errno != ENOSYS) return last_error();
  // The file system has no RENAME_NOREPLACE: link(2) fails with EEXIST in the same case.
  if (::linkat(at, from.c_str(), at, to.c_str(), 0) != 0) return last_error();
  return remove_file(at, from);
}

std::error_code remove_file(int at, const std::string& path) {
  if (::unlinkat(at, path.c_str(), 0) == 0 || errno == ENOENT) return {};
  return last_error();
}

std::error_code read_whole(int at, const std::string& path, std::string& out) {
  unique_fd fd(::openat(at, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return last_error();
  out.clear();
  char buffer[65536];
  while (true) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (got == 0) return {};
    out.append(buffer, static_cast<std::size_t>(got));
  }
}

namespace {

// d_type is a hint some file systems leave DT_UNKNOWN; lstat then tells.
entry make_entry(int dir_fd, const dirent& item) {
  entry out{item.d_name, item.d_type == DT_DIR, item.d_type == DT_REG};
  if (item.d_type == DT_UNKNOWN) {
    struct stat info {};
    if (::fstatat(dir_fd, item.d_name, &info, AT_SYMLINK_NOFOLLOW) == 0) {
      out.directory = S_ISDIR(info.st_mode);
      out.regular = S_ISREG(info.st_mode);
    }
  }
  return out;
}

}  // namespace

std::vector<entry> list_directory(int at, const std::string& path, std::error_code& error) {
  std::vector<entry> out;
  unique_fd fd = open_directory(at, path, error);
  if (error) return out;
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) {
    error = last_error();
    return out;
  }
  const int dir_fd = fd.release();  // the DIR stream owns the descriptor from here on
  while (true) {
    errno = 0;  // readdir(3) tells the end from an error only through errno
    // readdir(3) is safe on a stream no other thread uses (glibc, POSIX.1-2008 TC2).
    const dirent* item = ::readdir(dir);  // NOLINT(concurrency-mt-unsafe)
    if (item == nullptr) {
      if (errno != 0) error = last_error();
      break;
    }
    const std::string_view name = item->d_name;
    if (name != "." && name != "..") out.push_back(make_entry(dir_fd, *item));
  }
  ::closedir(dir);
  return out;
}

std::error_code file_size(int at, const std::string& path, std::uint64_t& size_bytes) {
  struct stat info {};
  if (::fstatat(at, path.c_str(), &info, 0) != 0) return last_error();
  size_bytes = static_cast<std::uint64_t>(info.st_size);
  return {};
}

bool is_directory(int at, const std::string& path) {
  struct stat info {};
  return ::fstatat(at, path.c_str(), &info, 0) == 0 && S_ISDIR(info.st_mode);
}

std::error_code device_of(int at, const std::string& path, std::uint64_t& device) {
  struct stat info {};
  if (::fstatat(at, path.c_str(), &info, 0) != 0) return last_error();
  device = static_cast<std::uint64_t>(info.st_dev);
  return {};
}

}  // namespace mailsim::store::fs
