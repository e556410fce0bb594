#include "reference-server/store/folders.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "reference-server/store/error.hpp"
#include "reference-server/store/fs.hpp"

namespace mailsim::store {
namespace {

// The record of the UIDVALIDITY values a folder used, which mailbox_sync.cpp reads when it
// gives a folder a new index: a new value is always greater than the recorded one.
constexpr const char* uid_validity_record_name = "mailsim-uidvalidity";

bool is_inbox(std::string_view name) {
  if (name.size() != 5) return false;
  return std::equal(name.begin(), name.end(), "INBOX", [](char a, char b) {
    return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 'a' + 'A') : a) == b;
  });
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7F;
}

// One hierarchy level: '.' and '%' escaped, everything else as it is.
std::optional<std::string> encode_level(std::string_view level) {
  if (level.empty() || level == "." || level == "..") return std::nullopt;
  std::string out;
  for (const char c : level) {
    if (is_control(c)) return std::nullopt;
    if (c == '.') {
      out += "%2E";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> decode_level(std::string_view level) {
  std::string out;
  for (std::size_t i = 0; i < level.size(); ++i) {
    if (level[i] == '/' || is_control(level[i])) return std::nullopt;
    if (level[i] != '%') {
      out += level[i];
      continue;
    }
    const std::string_view escape = level.substr(i + 1, 2);
    if (escape == "2E") {
      out += '.';
    } else if (escape == "25") {
      out += '%';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (out.empty() || out == "." || out == "..") return std::nullopt;
  return out;
}

// A real directory, not a symbolic link to one.
bool is_real_directory(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

std::optional<std::string> folder_directory_name(std::string_view imap_name) {
  if (imap_name.empty() || imap_name.size() > folder_name_max_bytes) return std::nullopt;
  if (is_inbox(imap_name)) return std::string();
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto slash = imap_name.find(imap_hierarchy_separator, start);
    const auto level = encode_level(imap_name.substr(start, slash - start));
    if (!level) return std::nullopt;
    out += '.';
    out += *level;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (out.size() > folder_name_max_bytes) return std::nullopt;
  return out;
}

std::optional<std::string> folder_imap_name(std::string_view directory_name) {
  if (directory_name.size() < 2 || directory_name.front() != '.') return std::nullopt;
  std::string out;
  std::size_t start = 1;
  while (true) {
    const auto dot = directory_name.find('.', start);
    const auto level = decode_level(directory_name.substr(start, dot - start));
    if (!level) return std::nullopt;
    if (!out.empty()) out += imap_hierarchy_separator;
    out += *level;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // Only names this layout writes: decoding then encoding must give the same directory.
  if (folder_directory_name(out) != directory_name) return std::nullopt;
  return out;
}

std::optional<std::string> folders::path_of(std::string_view imap_name) const {
  const auto directory = folder_directory_name(imap_name);
  if (!directory) return std::nullopt;
  return directory->empty() ? maildir_ : maildir_ + "/" + *directory;
}

std::vector<std::string> folders::list(std::error_code& error) const {
  std::vector<std::string> out;
  const auto entries = fs::list_directory(AT_FDCWD, maildir_, error);
  if (error) return out;
  for (const auto& item : entries) {
    if (!item.directory) continue;  // d_type or lstat: symbolic links are not directories
    if (auto name = folder_imap_name(item.name)) out.push_back(std::move(*name));
  }
  std::sort(out.begin(), out.end());
  out.insert(out.begin(), "INBOX");
  return out;
}

std::error_code folders::make_folder(const std::string& directory, bool& created) const {
  const std::string path = maildir_ + "/" + directory;
  const auto made = fs::make_directory(AT_FDCWD, path);
  created = made.created;
  if (made.error || !made.created) return made.error;
  for (const char* sub : {"/tmp", "/new", "/cur"}) {
    if (const auto sub_made = fs::make_directory(AT_FDCWD, path + sub); sub_made.error) {
      return sub_made.error;
    }
  }
  std::error_code error;
  fs::unique_fd marker = fs::create_file(AT_FDCWD, path + "/maildirfolder", error);
  if (error) return error;
  if ((error = marker.close())) return error;
  return fs::sync_path(AT_FDCWD, path);
}

// RFC 9051 §6.3.4 / §6.3.6: the server SHOULD create the superior levels a name needs.
std::error_code folders::make_superiors(std::string_view imap_name) const {
  for (auto slash = imap_name.find(imap_hierarchy_separator); slash != std::string_view::npos;
       slash = imap_name.find(imap_hierarchy_separator, slash + 1)) {
    const auto directory = folder_directory_name(imap_name.substr(0, slash));
    if (!directory) return errc::invalid_folder;
    if (directory->empty()) continue;  // INBOX always exists
    bool created = false;
    if (const auto error = make_folder(*directory, created)) return error;
  }
  return {};
}

bool folders::has_children(const std::string& directory, std::error_code& error) const {
  for (const auto& item : fs::list_directory(AT_FDCWD, maildir_, error)) {
    if (item.directory && item.name.starts_with(directory + ".") && folder_imap_name(item.name)) {
      return true;
    }
  }
  return false;
}

std::error_code folders::create(std::string_view imap_name) const {
  const auto directory = folder_directory_name(imap_name);
  if (!directory) return errc::invalid_folder;
  if (directory->empty()) return errc::already_exists;  // INBOX always exists
  struct stat info {};
  if (::lstat((maildir_ + "/" + *directory).c_str(), &info) == 0) return errc::already_exists;
  if (const auto error = make_superiors(imap_name)) return error;
  bool created = false;
  if (const auto error = make_folder(*directory, created)) return error;
  if (!created) return errc::already_exists;  // made by another session meanwhile
  return fs::sync_path(AT_FDCWD, maildir_);
}

std::error_code folders::remove(std::string_view imap_name) const {
  const auto directory = folder_directory_name(imap_name);
  if (!directory || directory->empty()) return errc::invalid_folder;
  const std::string path = maildir_ + "/" + *directory;
  if (!is_real_directory(path)) return errc::not_found;
  std::error_code error;
  if (has_children(*directory, error)) return std::make_error_code(std::errc::directory_not_empty);
  if (error) return error;
  // remove_all() deletes symbolic links inside, never what they point to.
  std::filesystem::remove_all(path, error);
  if (error) return error;
  return fs::sync_path(AT_FDCWD, maildir_);
}

std::error_code folders::rename(std::string_view from, std::string_view to) const {
  const auto source = folder_directory_name(from);
  const auto target = folder_directory_name(to);
  if (!source || !target || source->empty() || target->empty()) return errc::invalid_folder;
  if (!is_real_directory(maildir_ + "/" + *source)) return errc::not_found;
  // The folder itself and every folder below it, checked before anything moves.
  std::vector<std::pair<std::string, std::string>> moves = {{*source, *target}};
  std::error_code error;
  for (const auto& item : fs::list_directory(AT_FDCWD, maildir_, error)) {
    if (item.directory && item.name.starts_with(*source + ".")) {
      moves.emplace_back(item.name, *target + item.name.substr(source->size()));
    }
  }
  if (error) return error;
  std::sort(moves.begin(), moves.end());
  for (const auto& [old_name, new_name] : moves) {
    if (new_name.size() > folder_name_max_bytes) return errc::invalid_folder;
    if (new_name.starts_with(*source + ".")) return errc::invalid_folder;  // into itself
    struct stat info {};
    if (::lstat((maildir_ + "/" + new_name).c_str(), &info) == 0) return errc::already_exists;
  }
  if ((error = make_superiors(to))) return error;
  for (const auto& [old_name, new_name] : moves) {
    if ((error = fs::rename_no_replace(AT_FDCWD, maildir_ + "/" + old_name,
                                       maildir_ + "/" + new_name))) {
      return error;
    }
  }
  return fs::sync_path(AT_FDCWD, maildir_);
}

std::error_code folders::move_inbox(std::string_view to, std::uint32_t uid_validity_floor,
                                    std::vector<std::string>& moved) const {
  moved.clear();
  const auto target = folder_directory_name(to);
  if (!target || target->empty()) return errc::invalid_folder;
  if (const auto error = create(to)) return error;
  {
    // Before any index exists in the new folder, so that its first index takes a greater one.
    std::error_code error;
    const std::string record = maildir_ + "/" + *target + "/" + uid_validity_record_name;
    fs::unique_fd fd = fs::create_file(AT_FDCWD, record, error);
    if (!error) error = fs::write_all(fd.get(), std::to_string(uid_validity_floor) + "\n", {});
    if (!error) error = fs::sync_fd(fd.get());
    if (!error) error = fd.close();
    // The record's directory entry too: without it a crash could lose the floor.
    if (!error) error = fs::sync_path(AT_FDCWD, maildir_ + "/" + *target);
    if (error) return error;
  }
  for (const char* sub : {"cur", "new"}) {
    const std::string from_dir = maildir_ + "/" + sub;
    const std::string to_dir = maildir_ + "/" + *target + "/" + sub;
    std::error_code error;
    const auto entries = fs::list_directory(AT_FDCWD, from_dir, error);
    if (error) return error;
    for (const auto& item : entries) {
      if (!item.regular || item.name.empty() || item.name.front() == '.') continue;
      error = fs::rename_no_replace(AT_FDCWD, from_dir + "/" + item.name, to_dir + "/" + item.name);
      if (error == std::errc::no_such_file_or_directory) continue;  // renamed or expunged meanwhile
      if (error) return error;
      moved.push_back(item.name);
    }
    // Both directories are synced before RENAME may answer OK: the move survives a crash.
    if ((error = fs::sync_path(AT_FDCWD, to_dir))) return error;
    if ((error = fs::sync_path(AT_FDCWD, from_dir))) return error;
  }
  return {};
}

}  // namespace mailsim::store
