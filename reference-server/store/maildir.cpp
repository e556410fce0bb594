#include "reference-server/store/maildir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/error.hpp"
#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::store {
namespace {

// Process-wide rather than per store: two stores over one root in one process (tests, the
// IMAP APPEND path next to SMTP delivery) must not make the same name in the same millisecond.
std::atomic<std::uint64_t> name_counter{0};

// A taken name means another writer shares our pid and host name (two containers on one
// volume); a few fresh names get past it, a persistent clash is reported.
constexpr int name_attempts_max = 4;

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

// One copy of one request: a file in tmp/, later in new/.
struct maildir_store::copy {
  std::size_t request = 0;
  std::string user;
  std::string maildir;  // "<domain>/<local>/Maildir" or a sub-folder of it, relative to the root
  std::string path;     // where the file is now, relative to the root
  std::string name;     // its name in new/ (in tmp/ followed by the checksum field)
  std::uint64_t size_bytes = 0;
  bool sync_alone = false;  // fsync'd by itself: fsync_each mode, or not on the root's fs
  bool removed = false;
};

struct maildir_store::batch_state {
  explicit batch_state(std::size_t requests) : errors(requests) {}

  bool failed(const copy& file) const { return static_cast<bool>(errors[file.request]); }
  void fail(std::size_t request, std::error_code error) {
    if (!errors[request]) errors[request] = error;  // the first cause is the useful one
  }
  // Whether some live copy relies on syncfs(2) of the root.
  bool any_shared() const {
    for (const auto& file : copies) {
      if (!failed(file) && !file.sync_alone) return true;
    }
    return false;
  }

  std::vector<copy> copies;
  std::vector<std::error_code> errors;  // per request
  // The data barrier's syncfs(2) succeeded, making the tmp/ entries durable along with the
  // data, or the journal holds the shared copies: they need no second barrier (maildir.hpp).
  bool syncfs_done = false;
};

maildir_store::maildir_store(maildir_config config, const core::clock& clock,
                             core::random_source* random)
    : config_(std::move(config)), clock_(clock), random_(random) {
  if (random_ == nullptr) {
    const auto since_epoch = clock_.now().time_since_epoch().count();
    own_random_ = std::make_unique<core::splitmix_random>(static_cast<std::uint64_t>(since_epoch) ^
                                                          static_cast<std::uint64_t>(config_.pid));
    random_ = own_random_.get();
  }
}

maildir_store::~maildir_store() = default;

std::error_code maildir_store::open() {
  const auto made = fs::make_directory(AT_FDCWD, config_.root);
  if (made.error) return made.error;
  if (made.created && config_.barrier != barrier_mode::none) {
    if (auto error = fs::sync_path(AT_FDCWD, parent_of(config_.root))) return error;
  }
  std::error_code error;
  root_fd_ = fs::open_directory(AT_FDCWD, config_.root, error);
  if (error) return error;
  maildirs_.clear();
  if ((error = fs::device_of(root_fd_.get(), ".", root_device_))) return error;
  return config_.barrier == barrier_mode::journal ? open_journal() : std::error_code{};
}

std::vector<delivery_result> maildir_store::commit_batch(std::span<const delivery_request> batch) {
  batch_state state(batch.size());
  if (!root_fd_.valid()) {
    for (std::size_t i = 0; i < batch.size(); ++i) state.fail(i, errc::not_open);
    return results(batch, state);
  }
  // One time for the whole batch: the counter keeps the names apart.
  const core::time_point now = clock_.now();
  write_phase(batch, now, state);
  data_barrier(batch, state);
  discard_failed(state);
  rename_phase(now, state);
  directory_barrier(state);
  discard_failed(state);
  return results(batch, state);
}

// Creates <maildir>/{tmp,new,cur} and the folders above (and, for a sub-folder, its own
// tmp/new/cur and marker), once per folder and process.
std::error_code maildir_store::ensure_maildir(const std::string& maildir,
                                              std::string_view folder) {
  const std::string path = maildir_folder_path(maildir, folder);
  if (maildirs_.contains(path)) return {};
  std::vector<std::string> levels = {parent_of(parent_of(maildir)), parent_of(maildir), maildir};
  if (!folder.empty()) levels.push_back(path);
  for (const char* sub : {"/tmp", "/new", "/cur"}) {
    levels.push_back(maildir + sub);
    if (!folder.empty()) levels.push_back(path + sub);
  }
  for (const auto& level : levels) {
    const auto made = fs::make_directory(root_fd_.get(), level);
    if (made.error) return made.error;
    // A folder's entry lives in its parent: unless the parent is synced, a crash can take
    // the folder away together with the messages acknowledged in it.
    if (made.created && config_.barrier != barrier_mode::none) {
      if (auto error = fs::sync_path(root_fd_.get(), parent_of(level))) return error;
    }
  }
  if (!folder.empty()) {
    std::error_code error;
    fs::unique_fd marker = fs::create_file(root_fd_.get(), path + "/maildirfolder", error);
    if (error && error != std::errc::file_exists) return error;
  }
  std::uint64_t device = 0;
  if (auto error = fs::device_of(root_fd_.get(), path, device)) return error;
  maildirs_[path] = device == root_device_;
  return {};
}

std::string maildir_store::unique_name(core::time_point now, std::uint64_t size_bytes) const {
  const std::uint64_t counter = name_counter.fetch_add(1, std::memory_order_relaxed);
  return maildir_file_name({now, config_.pid, counter, config_.hostname, size_bytes});
}

fs::unique_fd maildir_store::create_unique(const std::string& folder, core::time_point now,
                                           std::uint64_t checksum, copy& file,
                                           std::error_code& error) {
  for (int attempt = 0; attempt < name_attempts_max; ++attempt) {
    file.name = unique_name(now, file.size_bytes);
    file.path = folder + "/" + with_checksum(file.name, checksum);
    fs::unique_fd fd = fs::create_file(root_fd_.get(), file.path, error);
    if (error != std::errc::file_exists) return fd;
  }
  error = errc::name_collision;
  return {};
}

void maildir_store::write_phase(std::span<const delivery_request> batch, core::time_point now,
                                batch_state& state) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].users.empty()) state.fail(i, errc::no_recipients);
    const std::uint64_t checksum = content_checksum(batch[i].trace, batch[i].message);
    for (const auto& user : batch[i].users) {
      if (auto error = write_copy(batch[i], {i, checksum}, user, now, state)) {
        state.fail(i, error);
        // Ask the file system again next time: the folder may have been removed or repaired.
        if (const auto maildir = maildir_relative_path(user)) {
          maildirs_.erase(maildir_folder_path(*maildir, batch[i].folder));
        }
        break;
      }
    }
  }
}

std::error_code maildir_store::write_copy(const delivery_request& request, request_key key,
                                          const std::string& user, core::time_point now,
                                          batch_state& state) {
  const auto maildir = maildir_relative_path(user);
  if (!maildir) return errc::invalid_user_name;
  if (!request.folder.empty() && !is_folder_name(request.folder)) return errc::invalid_folder;
  if (auto error = ensure_maildir(*maildir, request.folder)) return error;
  copy file;
  file.request = key.index;
  file.user = user;
  file.maildir = maildir_folder_path(*maildir, request.folder);
  file.size_bytes = request.trace.size() + request.message.size();
  const bool same_fs = maildirs_[file.maildir];
  file.sync_alone = config_.barrier == barrier_mode::fsync_each ||
                    (config_.barrier != barrier_mode::none && !same_fs);
  std::error_code error;
  fs::unique_fd fd = create_unique(file.maildir + "/tmp", now, key.checksum, file, error);
  if (error) return error;
  state.copies.push_back(file);  // the file exists from here on: a failure must remove it
  error = fs::write_all(fd.get(), request.trace, request.message);
  if (!error && file.sync_alone) error = fs::sync_fd(fd.get());
  const std::error_code closed = fd.close();
  return error ? error : closed;
}

void maildir_store::data_barrier(std::span<const delivery_request> batch, batch_state& state) {
  // fsync_each synced each file as it was written; none never syncs.
  const bool journal = config_.barrier == barrier_mode::journal;
  if ((config_.barrier != barrier_mode::syncfs && !journal) || !state.any_shared()) return;
  if (journal && journal_append(journal_payload(batch, state))) {
    state.syncfs_done = true;
    return;
  }
  state.syncfs_done = ::syncfs(root_fd_.get()) == 0;
  // Everything before is durable now: the journal may start afresh (and must, after a
  // failed append). An empty one keeps its generation: no header write for nothing.
  if (state.syncfs_done && journal_ && !journal_->empty()) (void)journal_->reset();
  if (state.syncfs_done) return;
  // A write-back error somewhere on the file system, perhaps not in our files: ask each of
  // them. Linux reports a write-back error nobody has seen yet to a descriptor opened later.
  for (const auto& file : state.copies) {
    if (state.failed(file) || file.sync_alone) continue;
    if (auto error = fs::sync_path(root_fd_.get(), file.path)) state.fail(file.request, error);
  }
}

// The journal record of a batch: each request's live copies that syncfs(2) of the root
// would cover (the others were synced alone).
std::string maildir_store::journal_payload(std::span<const delivery_request> batch,
                                           const batch_state& state) {
  std::string payload;
  journal_message message;
  for (std::size_t i = 0, c = 0; i < batch.size(); ++i) {
    message.paths.clear();
    for (; c < state.copies.size() && state.copies[c].request == i; ++c) {
      const copy& file = state.copies[c];
      if (!state.failed(file) && !file.sync_alone) message.paths.push_back(file.path);
    }
    if (message.paths.empty()) continue;
    message.trace = batch[i].trace;
    message.message = batch[i].message;
    append_journal_message(payload, message);
  }
  return payload;
}

void maildir_store::rename_phase(core::time_point now, batch_state& state) {
  for (auto& file : state.copies) {
    if (state.failed(file)) continue;
    if (auto error = rename_into_new(file, now)) state.fail(file.request, error);
  }
}

// Maildir delivery: a message becomes visible by its rename from tmp/ into new/. The name is
// kept; an existing file is never replaced (rename(2) would silently drop another message).
std::error_code maildir_store::rename_into_new(copy& file, core::time_point now) {
  for (int attempt = 0; attempt < name_attempts_max; ++attempt) {
    const std::string target = file.maildir + "/new/" + file.name;
    const std::error_code error = fs::rename_no_replace(root_fd_.get(), file.path, target);
    if (!error) {
      file.path = target;
      return {};
    }
    if (error != std::errc::file_exists) return error;
    file.name = unique_name(now, file.size_bytes);
  }
  return errc::name_collision;
}

void maildir_store::directory_barrier(batch_state& state) {
  if (config_.barrier == barrier_mode::none) return;
  // After a successful data syncfs(2) the shared copies are safe in tmp/ whatever happens to
  // their renames: recover() completes a rename a crash undid. When that syncfs failed and
  // each file was fsync'd instead, their tmp/ entries may not be durable: sync the renames.
  const bool shared_mode =
      config_.barrier == barrier_mode::syncfs || config_.barrier == barrier_mode::journal;
  const bool shared_safe =
      state.syncfs_done || (shared_mode && state.any_shared() && ::syncfs(root_fd_.get()) == 0);
  // The copies synced alone (fsync_each mode, another file system): each distinct new/
  // folder once, as its entries are what the renames changed.
  std::map<std::string, std::error_code> folders;
  for (const auto& file : state.copies) {
    if (!state.failed(file) && (file.sync_alone || !shared_safe)) {
      folders.emplace(file.maildir + "/new", std::error_code{});
    }
  }
  for (auto& [folder, error] : folders) error = fs::sync_path(root_fd_.get(), folder);
  for (const auto& file : state.copies) {
    const auto found = folders.find(file.maildir + "/new");
    if (found != folders.end() && found->second) state.fail(file.request, found->second);
  }
}

// Removes every file of the failed requests, wherever it is now. Best effort: a file that
// cannot be removed from tmp/ is cleaned by recover(); one left in new/ is a duplicate.
void maildir_store::discard_failed(batch_state& state) {
  for (auto& file : state.copies) {
    if (!state.failed(file) || file.removed) continue;
    (void)fs::remove_file(root_fd_.get(), file.path);
    file.removed = true;
  }
}

std::vector<delivery_result> maildir_store::results(std::span<const delivery_request> batch,
                                                    const batch_state& state) {
  std::vector<delivery_result> out(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    out[i].error = state.errors[i];
    out[i].bytes = batch[i].trace.size() + batch[i].message.size();
  }
  for (const auto& file : state.copies) {
    if (state.failed(file)) continue;
    out[file.request].files.push_back(config_.root + "/" + file.path);
    usage_.add(file.user, file.size_bytes);
  }
  return out;
}

quota_state maildir_store::quota_check(const user_account& user, std::uint64_t message_bytes) {
  if (user.quota_bytes == 0) return quota_state::ok;  // unlimited: no need to scan
  return decide_quota(usage_bytes(user.name), user.quota_bytes, message_bytes);
}

std::uint64_t maildir_store::usage_bytes(std::string_view user) {
  return usage_.get(user, [this, user] { return scan_usage(user); });
}

void maildir_store::forget_usage(std::string_view user) {
  usage_.forget(user);
}

}  // namespace mailsim::store
