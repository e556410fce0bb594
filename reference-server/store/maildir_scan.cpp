// The parts of maildir_store that walk folders rather than deliver: recover() and the quota
// usage scan.
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

void clean_tmp(int root, const std::string& tmp, recover_report& report) {
  std::error_code listing;
  for (const auto& item : fs::list_directory(root, tmp, listing)) {
    if (item.directory) continue;
    if (auto error = fs::remove_file(root, tmp + "/" + item.name)) {
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
  const int root = root_fd_.get();
  for (const auto& maildir : all_maildirs(root, report.error)) {
    ++report.maildirs;
    for (const auto& folder : folders_of(root, maildir)) clean_tmp(root, folder + "/tmp", report);
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
