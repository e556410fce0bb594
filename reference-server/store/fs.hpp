// mailsim::store file-system helpers — thin POSIX wrappers that return std::error_code.
//
// Contract: shared by the store module (Maildir) and the queue module (file_spool), and by
// no one else: both keep mail durable with the same group-commit barriers, and these are
// the file-system steps they share. Paths are relative to a directory descriptor
// (the store root), so the root may be renamed or have a long path without affecting them.
// Nothing here syncs unless its name says so; errno values come back in
// std::system_category(). EINTR is retried where POSIX allows it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailsim::store::fs {

std::error_code last_error();

// Owns a file descriptor; closes it on destruction.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd();
  unique_fd(unique_fd&& other) noexcept;
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller (e.g. a DIR stream) closes the descriptor.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now and reports the result: some file systems (NFS) report write errors here.
  std::error_code close();

 private:
  int fd_ = -1;
};

unique_fd open_directory(int at, const std::string& path, std::error_code& error);

// Creates a new file (O_EXCL, mode 0600) for writing; `error` is EEXIST when it exists.
unique_fd create_file(int at, const std::string& path, std::error_code& error);

// Writes `first`, `second` and `third` completely, in order (writev, retried on short
// writes).
std::error_code write_all(int fd, std::string_view first, std::string_view second,
                          std::string_view third = {});

std::error_code sync_fd(int fd);
// fdatasync(2): the data and what is needed to read it back, not the timestamps.
std::error_code sync_data(int fd);

// pwrite(2) of all of `data` at `offset` (retried on short writes).
std::error_code write_at(int fd, std::string_view data, std::uint64_t offset);
// pread(2) of `size` bytes at `offset` into `out` (replaced); fewer at the end of the file.
std::error_code read_at(int fd, std::uint64_t offset, std::size_t size, std::string& out);

// fsync(2) of a file or directory given by path: open, fsync, close.
std::error_code sync_path(int at, const std::string& path);

// mkdir with mode 0700. An existing directory is fine (created = false); an existing
// non-directory is ENOTDIR.
struct make_result {
  bool created = false;
  std::error_code error;
};
make_result make_directory(int at, const std::string& path);

// rename(2) that never replaces an existing target: EEXIST instead. Uses renameat2
// RENAME_NOREPLACE, and link + unlink where the file system does not support it.
std::error_code rename_no_replace(int at, const std::string& from, const std::string& to);

// unlink(2); a file that is already gone is not an error.
std::error_code remove_file(int at, const std::string& path);

struct entry {
  std::string name;
  bool directory = false;
  bool regular = false;
};

// The entries of a directory, without "." and "..". ENOENT gives an empty list and an error.
std::vector<entry> list_directory(int at, const std::string& path, std::error_code& error);

// The whole content of a file into `out` (replaced).
std::error_code read_whole(int at, const std::string& path, std::string& out);

std::error_code file_size(int at, const std::string& path, std::uint64_t& size_bytes);

bool is_directory(int at, const std::string& path);

// st_dev of a path: whether two paths are on the same file system (for syncfs scope).
std::error_code device_of(int at, const std::string& path, std::uint64_t& device);

}  // namespace mailsim::store::fs
