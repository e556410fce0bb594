#include "reference-server/store/mailbox.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <limits>
#include <set>

#include "reference-server/store/error.hpp"
#include "reference-server/store/maildir_layout.hpp"
#include "reference-server/store/mailbox_impl.hpp"

namespace mailsim::store {
namespace {

// copy_to() reads at most this many source messages into memory per target batch.
constexpr std::size_t copy_batch_max = 64;

std::atomic<std::uint64_t> append_counter{0};

const std::string& host_name() {
  static const std::string name = [] {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0')
      return std::string("localhost");
    return std::string(buffer);
  }();
  return name;
}

std::vector<std::string> sorted_unique(std::span<const std::string> words) {
  std::vector<std::string> out(words.begin(), words.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> apply_keywords(const std::vector<std::string>& current, flag_op op,
                                        const std::vector<std::string>& given) {
  if (op == flag_op::replace) return given;
  std::vector<std::string> out;
  if (op == flag_op::add) {
    std::set_union(current.begin(), current.end(), given.begin(), given.end(),
                   std::back_inserter(out));
  } else {
    std::set_difference(current.begin(), current.end(), given.begin(), given.end(),
                        std::back_inserter(out));
  }
  return out;
}

std::uint8_t apply_flags(std::uint8_t current, flag_op op, std::uint8_t given) {
  switch (op) {
    case flag_op::replace:
      return given;
    case flag_op::add:
      return static_cast<std::uint8_t>(current | given);
    case flag_op::remove:
      return static_cast<std::uint8_t>(current & ~given);
  }
  return current;
}

}  // namespace

// Writes a message into tmp/ under a unique Maildir name, fsync'd.
std::error_code mailbox::impl::write_temp(pending_message& message) {
  std::error_code error;
  fs::unique_fd fd;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint64_t counter = append_counter.fetch_add(1, std::memory_order_relaxed);
    message.temp_name = maildir_file_name({core::from_epoch_ms(message.internal_date_ms),
                                           ::getpid(), counter, host_name(), message.bytes.size()});
    fd = fs::create_file(dir.get(), "tmp/" + message.temp_name, error);
    if (error != std::errc::file_exists) break;
  }
  if (error == std::errc::file_exists) error = errc::name_collision;
  if (error) {
    message.temp_name.clear();
    return error;
  }
  error = fs::write_all(fd.get(), message.bytes, {});
  if (!error) error = fs::sync_fd(fd.get());
  const std::error_code closed = fd.close();
  return error ? error : closed;
}

// Under the lock: UIDs and MODSEQs for the batch, written to the index before the files
// become visible in cur/.
std::error_code mailbox::impl::add_records(std::vector<pending_message>& batch,
                                           std::vector<std::uint32_t>& uids) {
  if (data.records.size() + batch.size() > index::messages_max ||
      data.head.uid_next > std::numeric_limits<std::uint32_t>::max() - batch.size()) {
    return errc::limit_exceeded;
  }
  const index::index_data before = data;
  for (auto& message : batch) {
    index::record entry;
    entry.uid = data.head.uid_next++;
    entry.modseq = ++data.head.highest_modseq;
    entry.internal_date_ms = message.internal_date_ms;
    entry.base_name = message.temp_name;
    entry.flags = message.flags;
    entry.keywords = message.keywords;
    data.records.push_back(std::move(entry));
    uids.push_back(data.records.back().uid);
  }
  if (auto error = write_index()) {
    data = before;  // the disk may hold either; the next load tells
    loaded = false;
    uids.clear();
    return error;
  }
  std::error_code error;
  for (auto& message : batch) {
    const std::string name = index::file_name_for(message.temp_name, message.flags, {});
    if (!error) error = fs::rename_no_replace(dir.get(), "tmp/" + message.temp_name, "cur/" + name);
    if (!error) files[message.temp_name] = describe(name, false);
  }
  if (!error) error = fs::sync_path(dir.get(), "cur");
  return error;
}

std::error_code mailbox::impl::store_messages(std::vector<pending_message>& batch,
                                              std::vector<std::uint32_t>& uids) {
  std::error_code error;
  for (auto& message : batch) {
    if (message.internal_date_ms == 0) message.internal_date_ms = core::epoch_ms(clock->now());
    index::record probe{
        1, 1, message.internal_date_ms, std::string(200, 'x'), message.flags, message.keywords};
    if (index::format_record(probe).size() > index::index_line_max_bytes) {
      error = errc::limit_exceeded;
      break;
    }
    if ((error = write_temp(message))) break;
  }
  if (!error) {
    std::unique_ptr<folder_lock> held;
    error = lock(held);
    if (!error) error = refresh_locked();
    if (!error) error = add_records(batch, uids);
  }
  // Files still in tmp/ (failure before their rename) are removed; a rename done is kept.
  for (const auto& message : batch) {
    if (!message.temp_name.empty()) (void)fs::remove_file(dir.get(), "tmp/" + message.temp_name);
  }
  if (error) uids.clear();
  adopt_own_changes();
  return error;
}

// The messages set_flags() changes: present, not modified since `unchanged_since` (0: no
// condition; the newer ones go to `modified`), and really changed.
std::error_code mailbox::impl::plan_flag_changes(std::span<const std::uint32_t> uids,
                                                 const flag_request& request,
                                                 std::uint64_t unchanged_since,
                                                 std::vector<std::uint32_t>& modified,
                                                 std::vector<flag_change>& changes) {
  for (const std::uint32_t uid : std::set<std::uint32_t>(uids.begin(), uids.end())) {
    index::record* entry = find(uid);
    if (entry == nullptr || file_of(*entry) == nullptr) continue;
    if (unchanged_since != 0 && entry->modseq > unchanged_since) {
      modified.push_back(uid);
      continue;
    }
    index::record next = *entry;
    next.flags = apply_flags(entry->flags, request.op, request.flags);
    next.keywords = apply_keywords(entry->keywords, request.op, request.keywords);
    if (next.flags == entry->flags && next.keywords == entry->keywords) continue;
    if (index::format_record(next).size() > index::index_line_max_bytes) {
      return errc::limit_exceeded;
    }
    changes.emplace_back(entry, std::move(next));
  }
  return {};
}

std::error_code mailbox::impl::rename_changed(
    const std::vector<std::pair<std::string, std::string>>& renames) {
  std::error_code first;
  for (const auto& [from, to] : renames) {
    if (::renameat(dir.get(), ("cur/" + from).c_str(), dir.get(), ("cur/" + to).c_str()) != 0) {
      if (!first) first = fs::last_error();
      continue;
    }
    files[std::string(index::base_of(to))].name = to;
  }
  return first;
}

mailbox::mailbox(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
mailbox::~mailbox() {
  if (impl_ && impl_->loaded) mailbox_pool::give(std::move(impl_));
}

std::unique_ptr<mailbox> mailbox::open(const std::string& path, bool create,
                                       const core::clock& clock, std::error_code& error) {
  if (!fs::is_directory(AT_FDCWD, path + "/cur")) {
    if (!create) {
      error = errc::not_found;
      return nullptr;
    }
    const auto made = fs::make_directory(AT_FDCWD, path);
    if (made.error) {
      error = made.error;
      return nullptr;
    }
    for (const char* sub : {"/tmp", "/new", "/cur"}) {
      if (const auto sub_made = fs::make_directory(AT_FDCWD, path + sub); sub_made.error) {
        error = sub_made.error;
        return nullptr;
      }
    }
    // The folders' entries must survive a crash as the messages in them will.
    error = fs::sync_path(AT_FDCWD, path);
    const auto slash = path.rfind('/');
    if (!error && made.created && slash != std::string::npos) {
      error = fs::sync_path(AT_FDCWD, slash == 0 ? "/" : path.substr(0, slash));
    }
    if (error) return nullptr;
  }
  std::unique_ptr<impl> state = mailbox_pool::take(path);
  if (state) {
    state->clock = &clock;
  } else {
    fs::unique_fd dir = fs::open_directory(AT_FDCWD, path, error);
    if (error) return nullptr;
    state = std::make_unique<impl>(path, std::move(dir), clock);
  }
  std::unique_ptr<mailbox> box(new mailbox(std::move(state)));
  sync_report ignored;
  error = box->sync(ignored);
  if (error) return nullptr;
  return box;
}

std::error_code mailbox::sync(sync_report& report) {
  std::unique_ptr<folder_lock> held;
  if (auto error = impl_->lock(held)) return error;
  bool changed = true;
  const std::error_code error = impl_->refresh_locked(changed);
  held.reset();
  if (changed || !impl_->view_current) {
    impl_->rebuild_view(report);
  } else {
    report = {};  // nothing on disk moved since the view was made
  }
  return error;
}

const std::vector<message_entry>& mailbox::messages() const {
  return impl_->view;
}
std::uint32_t mailbox::uid_validity() const {
  return impl_->data.head.uid_validity;
}
std::uint32_t mailbox::uid_next() const {
  return impl_->data.head.uid_next;
}
std::uint64_t mailbox::highest_modseq() const {
  return impl_->data.head.highest_modseq;
}

std::error_code mailbox::read(std::uint32_t uid, std::string& out) const {
  const index::record* entry = impl_->find(uid);
  const disk_file* file = entry ? impl_->file_of(*entry) : nullptr;
  if (file == nullptr) return errc::not_found;
  std::error_code error = fs::read_whole(impl_->dir.get(), impl_->relative_path(*file), out);
  if (error != std::errc::no_such_file_or_directory) return error;
  // Renamed by another session since our scan (a flag change): look for its base name.
  std::error_code list_error;
  for (const auto& item : fs::list_directory(impl_->dir.get(), "cur", list_error)) {
    if (item.regular && index::base_of(item.name) == entry->base_name) {
      return fs::read_whole(impl_->dir.get(), "cur/" + item.name, out);
    }
  }
  return errc::not_found;
}

std::string mailbox::file_path(std::uint32_t uid) const {
  const index::record* entry = impl_->find(uid);
  const disk_file* file = entry ? impl_->file_of(*entry) : nullptr;
  return file == nullptr ? std::string() : impl_->path + "/" + impl_->relative_path(*file);
}

std::error_code mailbox::set_flags(std::span<const std::uint32_t> uids, flag_op op,
                                   std::uint8_t flags, std::span<const std::string> keywords,
                                   std::uint64_t unchanged_since,
                                   std::vector<std::uint32_t>& modified) {
  modified.clear();
  std::unique_ptr<folder_lock> held;
  if (auto error = impl_->lock(held)) return error;
  if (auto error = impl_->refresh_locked()) return error;
  std::vector<flag_change> changes;
  if (auto error = impl_->plan_flag_changes(uids, {op, flags, sorted_unique(keywords)},
                                            unchanged_since, modified, changes)) {
    return error;
  }
  std::vector<std::pair<std::string, std::string>> renames;
  if (changes.empty()) return {};
  for (auto& [entry, next] : changes) {
    const std::string old_name = impl_->file_of(*entry)->name;
    const std::string new_name =
        index::file_name_for(entry->base_name, next.flags, index::other_letters_of(old_name));
    next.modseq = ++impl_->data.head.highest_modseq;
    *entry = std::move(next);
    if (new_name != old_name) renames.emplace_back(old_name, new_name);
  }
  // The index first: a crash before the renames shows a new MODSEQ, never new flags alone.
  if (auto error = impl_->write_index()) {
    impl_->loaded = false;  // memory is ahead of the disk: reread next time
    return error;
  }
  const std::error_code error = impl_->rename_changed(renames);
  impl_->adopt_own_changes();
  return error;
}

std::error_code mailbox::expunge(std::span<const std::uint32_t> uids) {
  std::unique_ptr<folder_lock> held;
  if (auto error = impl_->lock(held)) return error;
  if (auto error = impl_->refresh_locked()) return error;
  std::set<std::uint32_t> removed;
  std::error_code first;
  for (const std::uint32_t uid : std::set<std::uint32_t>(uids.begin(), uids.end())) {
    const index::record* entry = impl_->find(uid);
    const disk_file* file = entry ? impl_->file_of(*entry) : nullptr;
    if (file == nullptr) continue;
    if (auto error = fs::remove_file(impl_->dir.get(), impl_->relative_path(*file))) {
      if (!first) first = error;
      continue;
    }
    impl_->files.erase(entry->base_name);
    removed.insert(uid);
  }
  if (removed.empty()) return first;
  // An acknowledged EXPUNGE must not come back after a power loss: the unlinks reach the
  // disk before the index forgets the UIDs (a file back in cur/ would get a new UID).
  for (const char* sub : {"cur", "new"}) {
    if (auto error = fs::sync_path(impl_->dir.get(), sub)) return error;
  }
  auto& records = impl_->data.records;
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&](const index::record& e) { return removed.contains(e.uid); }),
                records.end());
  // RFC 7162 §3.2.10: an expunge is a change of the mailbox, so HIGHESTMODSEQ grows.
  ++impl_->data.head.highest_modseq;
  if (auto error = impl_->write_index()) {
    impl_->loaded = false;
    return error;
  }
  impl_->adopt_own_changes();
  return first;
}

std::error_code mailbox::append(std::string_view message, std::uint8_t flags,
                                std::span<const std::string> keywords,
                                std::int64_t internal_date_ms, std::uint32_t& uid) {
  std::vector<pending_message> batch(1);
  batch[0].bytes = message;
  batch[0].flags = flags;
  batch[0].keywords = sorted_unique(keywords);
  batch[0].internal_date_ms = internal_date_ms;
  std::vector<std::uint32_t> uids;
  const std::error_code error = impl_->store_messages(batch, uids);
  uid = error ? 0 : uids.front();
  return error;
}

std::error_code mailbox::copy_to(std::span<const std::uint32_t> uids, mailbox& target,
                                 std::vector<std::uint32_t>& new_uids) {
  new_uids.clear();
  {
    std::unique_ptr<folder_lock> held;
    if (auto error = impl_->lock(held)) return error;
    if (auto error = impl_->refresh_locked()) return error;
  }
  for (std::size_t start = 0; start < uids.size(); start += copy_batch_max) {
    const auto chunk = uids.subspan(start, std::min(copy_batch_max, uids.size() - start));
    std::vector<std::string> bodies;
    bodies.reserve(chunk.size());
    std::vector<pending_message> batch;
    for (const std::uint32_t uid : chunk) {
      const index::record* entry = impl_->find(uid);
      if (entry == nullptr) continue;
      std::string bytes;
      if (read(uid, bytes)) continue;  // expunged meanwhile: nothing to copy
      bodies.push_back(std::move(bytes));
      pending_message message;
      message.flags = entry->flags;
      message.keywords = entry->keywords;
      message.internal_date_ms = entry->internal_date_ms;
      batch.push_back(std::move(message));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].bytes = bodies[i];
    std::vector<std::uint32_t> added;
    if (auto error = target.impl_->store_messages(batch, added)) return error;
    new_uids.insert(new_uids.end(), added.begin(), added.end());
  }
  return {};
}

}  // namespace mailsim::store
