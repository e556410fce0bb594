// The parts of maildir_store that walk folders rather than deliver: recover() and the quota
// usage scan.
#include <unistd.h>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/error.hpp"
#include "reference-server/store/maildir.hpp"
#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::store {
namespace {

void keep_first(std::error_code& kept, std::error_code error) {
  if (!kept && error) kept = error;
}

// A Maildir and its Maildir++ sub-folders: ".Name" directories inside it (Courier, Dovecot).
std::vector<std::string> folders_of(int root, const std::string& maildir) {
  std::vector<std::string> out{maildir};
  std::error_code error;
  for (const auto& item : fs::list_directory(root, maildir, error)) {
    if (item.directory && item.name.size() > 1 && item.name[0] == '.') {
      out.push_back(maildir + "/" + item.name);
    }
  }
  return out;
}

// Every <domain>/<local>/Maildir under the root. Symbolic links are followed, as delivery
// follows them: an administrator may place a mailbox on another disk.
std::vector<std::string> all_maildirs(int root, std::error_code& error) {
  std::vector<std::string> out;
  for (const auto& domain : fs::list_directory(root, ".", error)) {
    if (!fs::is_directory(root, domain.name)) continue;
    std::error_code listing;
    for (const auto& local : fs::list_directory(root, domain.name, listing)) {
      const std::string maildir = domain.name + "/" + local.name + "/Maildir";
      if (fs::is_directory(root, maildir)) out.push_back(maildir);
    }
    keep_first(error, listing);
  }
  return out;
}

// A tmp/ file that a finished barrier made durable: its name carries the checksum of its
// bytes and they match. Its rename into new/ is completed; an entry of that name already in
// new/ is the same message (a link made before the crash), so the tmp/ one only goes away.
// Anything else in tmp/ is a cut or unsynced file, or an IMAP APPEND's: nobody was told it
// was stored.
bool recover_complete(int root, const std::string& folder, const std::string& file,
                      recover_report& report) {
  const auto parts = split_checksum(file);
  if (!parts) return false;
  std::string bytes;
  const std::string path = folder + "/tmp/" + file;
  if (fs::read_whole(root, path, bytes) || content_checksum(bytes) != parts->checksum) {
    return false;
  }
  std::error_code error =
      fs::rename_no_replace(root, path, folder + "/new/" + std::string(parts->name));
  if (error == std::errc::file_exists) error = fs::remove_file(root, path);
  if (error) {
    keep_first(report.error, error);
  } else {
    ++report.recovered_files;
  }
  return true;
}

void clean_tmp(int root, const std::string& folder, recover_report& report) {
  std::error_code listing;
  for (const auto& item : fs::list_directory(root, folder + "/tmp", listing)) {
    if (item.directory || recover_complete(root, folder, item.name, report)) continue;
    if (auto error = fs::remove_file(root, folder + "/tmp/" + item.name)) {
      keep_first(report.error, error);
    } else {
      ++report.removed_files;
    }
  }
  // A Maildir sub-folder without tmp/ is not ours to repair here; delivery creates it.
  if (listing != std::errc::no_such_file_or_directory) keep_first(report.error, listing);
}

// Bytes of the messages in one new/ or cur/ folder.
std::uint64_t folder_bytes(int root, const std::string& folder) {
  std::uint64_t total = 0;
  std::error_code listing;
  for (const auto& item : fs::list_directory(root, folder, listing)) {
    if (!item.regular || item.name.starts_with('.')) continue;
    std::uint64_t size = 0;
    if (const auto named = size_from_file_name(item.name)) {
      size = *named;  // the Maildir S= field: no stat(2) per message
    } else if (fs::file_size(root, folder + "/" + item.name, size)) {
      continue;  // moved from new/ to cur/ by a reader meanwhile: counted there or not at all
    }
    total += size;
  }
  return total;
}

}  // namespace

recover_report maildir_store::recover() {
  recover_report report;
  if (!root_fd_.valid()) {
    report.error = errc::not_open;
    return report;
  }
  report.replayed_files = replayed_files_;
  keep_first(report.error, replay_error_);
  const int root = root_fd_.get();
  for (const auto& maildir : all_maildirs(root, report.error)) {
    ++report.maildirs;
    for (const auto& folder : folders_of(root, maildir)) clean_tmp(root, folder, report);
  }
  // The completed renames are durable before anything new is acknowledged. (syncfs(2) does
  // not reach a Maildir on another file system; if the power fails before its own write-back,
  // its file is still in tmp/ and the next recover() moves it again: nothing is lost.)
  if (report.recovered_files > 0 && config_.barrier != barrier_mode::none && ::syncfs(root) != 0) {
    keep_first(report.error, fs::last_error());
  }
  return report;
}

std::uint64_t maildir_store::scan_usage(std::string_view user) const {
  const auto maildir = maildir_relative_path(user);
  if (!maildir || !root_fd_.valid()) return 0;
  const int root = root_fd_.get();
  std::uint64_t total = 0;
  for (const auto& folder : folders_of(root, *maildir)) {
    total += folder_bytes(root, folder + "/new") + folder_bytes(root, folder + "/cur");
  }
  return total;
}

}  // namespace mailsim::store
