// The parts of maildir_store that use the delivery journal (barrier_mode::journal): the
// barrier of a batch, the checkpoint, and the replay at open().
#include <unistd.h>

#include <optional>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/maildir.hpp"
#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::store {
namespace {

// A path the store itself writes: "<folder>/tmp/<name>,C=<checksum>", relative, with no "."
// or ".." component. The record passed a salted checksum; this keeps a damaged one harmless.
struct tmp_path {
  std::string folder;
  std::string file;  // with the checksum field
};

std::optional<tmp_path> parse_tmp_path(std::string_view path) {
  const auto slash = path.rfind("/tmp/");
  if (path.empty() || path.front() == '/' || slash == std::string_view::npos) return {};
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto end = rest.find('/');
    const auto part = rest.substr(0, end);
    if (part.empty() || part == "." || part == "..") return {};
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
  tmp_path out{std::string(path.substr(0, slash)), std::string(path.substr(slash + 5))};
  if (out.file.find('/') != std::string::npos || !split_checksum(out.file)) return {};
  return out;
}

// Whether the file holds bytes with this checksum. A missing or unreadable one does not.
bool holds(int root, const std::string& path, std::uint64_t checksum) {
  std::string bytes;
  return !fs::read_whole(root, path, bytes) && content_checksum(bytes) == checksum;
}

}  // namespace

std::error_code maildir_store::open_journal() {
  journal_ = std::make_unique<delivery_journal>(*random_);
  if (auto error = journal_->open(root_fd_.get(), journal_file_name, config_.journal_bytes)) {
    journal_.reset();
    return error;
  }
  replayed_files_ = 0;
  replay_error_ = {};
  std::map<std::string, std::vector<std::string>> cur_listings;
  const auto each_record = [&](std::string_view payload) {
    const bool whole = read_journal_messages(payload, [&](const journal_message& message) {
      for (const auto path : message.paths) {
        replay_copy(path, message.trace, message.message, cur_listings);
      }
    });
    if (!whole && !replay_error_) replay_error_ = std::make_error_code(std::errc::bad_message);
  };
  if (auto error = journal_->replay(each_record)) return error;
  // What was written again must be durable before the records that describe it are dropped.
  if (journal_->empty()) return {};
  return checkpoint();
}

// One copy of an acknowledged message, as the journal holds it: left alone when it is whole
// in tmp/ (recover() moves it), in new/ or in cur/ (a reader took it there); otherwise
// written again into tmp/ under its checksum name. A damaged copy found on the way goes.
void maildir_store::replay_copy(std::string_view path, std::string_view trace,
                                std::string_view message,
                                std::map<std::string, std::vector<std::string>>& cur_listings) {
  const auto parsed = parse_tmp_path(path);
  const std::uint64_t checksum = content_checksum(trace, message);
  if (!parsed || split_checksum(parsed->file)->checksum != checksum) {
    if (!replay_error_) replay_error_ = std::make_error_code(std::errc::bad_message);
    return;
  }
  const int root = root_fd_.get();
  const std::string tmp = std::string(path);
  if (holds(root, tmp, checksum)) return;
  const std::string name(split_checksum(parsed->file)->name);
  std::vector<std::string> placed = {parsed->folder + "/new/" + name};
  auto [listing, fresh] = cur_listings.try_emplace(parsed->folder);
  if (fresh) {
    std::error_code ignored;  // no cur/ yet: nothing was moved there
    for (auto& item : fs::list_directory(root, parsed->folder + "/cur", ignored)) {
      listing->second.push_back(std::move(item.name));
    }
  }
  for (const auto& entry : listing->second) {
    if (entry == name || entry.starts_with(name + ":")) {
      placed.push_back(parsed->folder + "/cur/" + entry);
    }
  }
  for (const auto& other : placed) {
    std::uint64_t size = 0;
    if (fs::file_size(root, other, size)) continue;  // not there
    if (holds(root, other, checksum)) return;
    (void)fs::remove_file(root, other);  // its blocks never reached the disk
  }
  std::error_code error = fs::remove_file(root, tmp);
  fs::unique_fd fd;
  if (!error) fd = fs::create_file(root, tmp, error);
  if (!error) error = fs::write_all(fd.get(), trace, message);
  if (const auto closed = fd.close(); !error) error = closed;
  if (error) {
    if (!replay_error_) replay_error_ = error;
    return;
  }
  ++replayed_files_;
}

// One record for a batch, after a checkpoint when the journal is too full for it.
bool maildir_store::journal_append(std::string_view payload) {
  if (!journal_ || payload.size() > config_.journal_batch_max) return false;
  if (!journal_->fits(payload.size()) && journal_->could_fit(payload.size())) {
    (void)checkpoint();
  }
  return journal_->fits(payload.size()) && !journal_->append(payload);
}

std::error_code maildir_store::checkpoint() {
  if (!journal_ || journal_->empty() || !root_fd_.valid()) return {};
  if (::syncfs(root_fd_.get()) != 0) return fs::last_error();
  return journal_->reset();
}

}  // namespace mailsim::store
