#include "reference-server/store/mailbox.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "reference-server/store/error.hpp"
#include "reference-server/store/folder_lock.hpp"
#include "reference-server/store/fs.hpp"
#include "reference-server/store/mailbox_index.hpp"
#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::store {
namespace {

constexpr const char* index_name = "mailsim-index";
constexpr const char* index_temp_name = "mailsim-index.tmp";
constexpr const char* lock_name = "mailsim-index.lock";
// The highest UIDVALIDITY the folder ever used: a lost index must get a greater one.
constexpr const char* uid_validity_name = "mailsim-uidvalidity";
constexpr const char* uid_validity_temp_name = "mailsim-uidvalidity.tmp";
// Another session holds the index lock only while it rewrites the index: wait up to
// lock_tries_max * lock_pause_ms (about 4 s) before giving up with errc::locked.
constexpr int lock_tries_max = 2000;
constexpr int lock_pause_ms = 2;
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

std::error_code read_whole(int dir, const std::string& name, std::string& out) {
  fs::unique_fd fd(::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fs::last_error();
  out.clear();
  char buffer[65536];
  while (true) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return fs::last_error();
    }
    if (got == 0) return {};
    out.append(buffer, static_cast<std::size_t>(got));
  }
}

// The first bytes of a file: enough for the index header line.
std::error_code read_prefix(int dir, const std::string& name, std::size_t max_bytes,
                            std::string& out) {
  fs::unique_fd fd(::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fs::last_error();
  out.assign(max_bytes, '\0');
  ssize_t got = 0;
  do {
    got = ::pread(fd.get(), out.data(), max_bytes, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return fs::last_error();
  out.resize(static_cast<std::size_t>(got));
  return {};
}

// Replaces `name` atomically and durably: temporary file, fsync, rename, fsync of the folder.
std::error_code replace_file(int dir, const char* name, const char* temp_name,
                             std::string_view text) {
  if (auto error = fs::remove_file(dir, temp_name)) return error;
  std::error_code error;
  fs::unique_fd fd = fs::create_file(dir, temp_name, error);
  if (error) return error;
  error = fs::write_all(fd.get(), text, {});
  if (!error) error = fs::sync_fd(fd.get());
  const std::error_code closed = fd.close();
  if (!error) error = closed;
  if (!error && ::renameat(dir, temp_name, dir, name) != 0) error = fs::last_error();
  if (error) {
    (void)fs::remove_file(dir, temp_name);
    return error;
  }
  return fs::sync_path(dir, ".");
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

// A message file as the last scan found it.
struct disk_file {
  std::string name;  // in new/ or cur/
  bool in_new = false;
  std::uint64_t size_bytes = 0;
  std::int64_t time_ms = 0;  // from the name, else the mtime
};

// A message to store: append() and copy_to().
struct pending_message {
  std::string_view bytes;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;  // sorted, unique
  std::int64_t internal_date_ms = 0;
  std::string temp_name;  // in tmp/, once written
};

// What set_flags() asks for, and one message it changes (the record and its next state).
struct flag_request {
  flag_op op = flag_op::add;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;  // sorted, unique
};
using flag_change = std::pair<index::record*, index::record>;

// The modification times of new/ and cur/ when they were last scanned. Every file created,
// renamed or removed in a folder changes its mtime, so equal stamps mean nothing to rescan;
// a stamp is trusted only when the scan came clearly after it (stamp_settle_ms), because
// file-system timestamps are coarser than the changes they stamp.
struct dir_stamp {
  std::int64_t new_ns = 0;
  std::int64_t cur_ns = 0;
  bool operator==(const dir_stamp&) const = default;
};
constexpr std::int64_t stamp_settle_ms = 2000;

struct mailbox::impl {
  impl(std::string path_in, fs::unique_fd dir_in, const core::clock& clock_in)
      : path(std::move(path_in)), dir(std::move(dir_in)), clock(clock_in) {}

  std::error_code lock(std::unique_ptr<folder_lock>& held) const;
  // `changed` tells whether the index or the folders changed since the last refresh.
  std::error_code refresh_locked(bool& changed);
  std::error_code refresh_locked() {
    bool ignored = false;
    return refresh_locked(ignored);
  }
  std::optional<dir_stamp> read_stamp() const;
  std::error_code load_index(bool& dirty);
  std::error_code reset_index(std::uint32_t old_uid_validity);
  std::error_code new_uid_validity(std::uint32_t old_uid_validity, std::uint32_t& out);
  std::error_code scan(std::map<std::string, disk_file, std::less<>>& found) const;
  disk_file describe(const std::string& name, bool in_new) const;
  bool reconcile(std::map<std::string, disk_file, std::less<>>& found, std::error_code& error);
  void move_new_to_cur();
  std::error_code write_index();

  index::record* find(std::uint32_t uid);
  const disk_file* file_of(const index::record& entry) const;
  std::string relative_path(const disk_file& file) const;

  std::error_code write_temp(pending_message& message);
  std::error_code store_messages(std::vector<pending_message>& batch,
                                 std::vector<std::uint32_t>& uids);
  std::error_code add_records(std::vector<pending_message>& batch,
                              std::vector<std::uint32_t>& uids);
  std::error_code plan_flag_changes(std::span<const std::uint32_t> uids,
                                    const flag_request& request, std::uint64_t unchanged_since,
                                    std::vector<std::uint32_t>& modified,
                                    std::vector<flag_change>& changes);
  std::error_code rename_changed(const std::vector<std::pair<std::string, std::string>>& renames);

  message_entry entry_of(const index::record& entry) const;
  void rebuild_view(sync_report& report);
  // After an operation of this object: its view shows the result, as after a sync().
  void adopt_own_changes() {
    sync_report ignored;
    rebuild_view(ignored);
  }

  std::string path;
  fs::unique_fd dir;
  const core::clock& clock;
  index::index_data data;  // the index as last read or written
  bool loaded = false;
  std::optional<dir_stamp> scanned;  // the folders as of the last scan, when settled
  std::map<std::string, disk_file, std::less<>> files;  // by base name, from the last scan
  std::vector<message_entry> view;
  std::uint32_t view_uid_validity = 0;
};

std::error_code mailbox::impl::lock(std::unique_ptr<folder_lock>& held) const {
  std::error_code error;
  held = folder_lock::acquire(path + "/" + lock_name, lock_tries_max, lock_pause_ms, error);
  return error;
}

// Under the lock: the index as on disk, reconciled with new/ and cur/, written back if that
// changed it, then new/ emptied into cur/ (index first: a crash between keeps the UIDs).
std::error_code mailbox::impl::refresh_locked(bool& changed) {
  bool dirty = false;
  const std::uint64_t generation = data.head.generation;
  const std::uint32_t uid_validity = data.head.uid_validity;
  if (auto error = load_index(dirty)) return error;
  const bool index_same = !dirty && generation == data.head.generation &&
                          uid_validity == data.head.uid_validity;
  // Stamped before the scan: whatever changes after it changes the stamp.
  const std::optional<dir_stamp> stamp = read_stamp();
  changed = !(index_same && stamp && scanned && *stamp == *scanned);
  if (!changed) return {};
  const std::int64_t now_ns = core::epoch_ms(clock.now()) * 1'000'000;
  const bool settled = stamp && std::max(stamp->new_ns, stamp->cur_ns) <
                                    now_ns - stamp_settle_ms * 1'000'000;
  scanned = settled ? stamp : std::nullopt;
  std::map<std::string, disk_file, std::less<>> found;
  if (auto error = scan(found)) {
    scanned.reset();
    return error;
  }
  std::error_code limit_error;
  dirty = reconcile(found, limit_error) || dirty;
  files = std::move(found);
  if (dirty) {
    if (auto error = write_index()) return error;
  }
  move_new_to_cur();
  return limit_error;
}

std::optional<dir_stamp> mailbox::impl::read_stamp() const {
  dir_stamp stamp;
  for (const bool in_new : {true, false}) {
    struct stat info {};
    if (::fstatat(dir.get(), in_new ? "new" : "cur", &info, 0) != 0) return std::nullopt;
    const std::int64_t ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                            info.st_mtim.tv_nsec;
    (in_new ? stamp.new_ns : stamp.cur_ns) = ns;
  }
  return stamp;
}

std::error_code mailbox::impl::load_index(bool& dirty) {
  std::string text;
  std::error_code error = read_prefix(dir.get(), index_name, 256, text);
  if (error == std::errc::no_such_file_or_directory) {
    dirty = true;
    return reset_index(loaded ? data.head.uid_validity : 0);
  }
  if (error) return error;
  const auto head = index::parse_header(text);
  // Unchanged since we read or wrote it: every writer bumps the generation under the lock.
  if (head && loaded && head->uid_validity == data.head.uid_validity &&
      head->generation == data.head.generation) {
    return {};
  }
  if (auto read_error = read_whole(dir.get(), index_name, text)) return read_error;
  auto parsed = index::parse_index(text);
  if (!parsed) {
    dirty = true;
    const std::uint32_t old =
        std::max(head ? head->uid_validity : 0, loaded ? data.head.uid_validity : 0);
    return reset_index(old);
  }
  // An older copy of the same index (restored by hand or by a file system rollback) must not
  // move UIDNEXT or HIGHESTMODSEQ backwards from what this object already handed out.
  if (loaded && parsed->head.uid_validity == data.head.uid_validity) {
    if (parsed->head.uid_next < data.head.uid_next ||
        parsed->head.highest_modseq < data.head.highest_modseq) {
      parsed->head.uid_next = std::max(parsed->head.uid_next, data.head.uid_next);
      parsed->head.highest_modseq = std::max(parsed->head.highest_modseq, data.head.highest_modseq);
      parsed->head.generation = std::max(parsed->head.generation, data.head.generation);
      dirty = true;
    }
  }
  data = std::move(*parsed);
  loaded = true;
  return {};
}

std::error_code mailbox::impl::reset_index(std::uint32_t old_uid_validity) {
  std::uint32_t uid_validity = 0;
  if (auto error = new_uid_validity(old_uid_validity, uid_validity)) return error;
  const std::uint64_t generation = loaded ? data.head.generation : 0;
  data = {};
  data.head.uid_validity = uid_validity;
  data.head.generation = generation;
  loaded = true;
  return {};
}

// Greater than the old one, than any the folder recorded, and at least the clock's seconds.
std::error_code mailbox::impl::new_uid_validity(std::uint32_t old_uid_validity,
                                                std::uint32_t& out) {
  std::uint64_t candidate = static_cast<std::uint64_t>(old_uid_validity) + 1;
  std::string text;
  if (!read_prefix(dir.get(), uid_validity_name, 32, text)) {
    std::uint32_t recorded = 0;
    const auto end = text.find('\n');
    const std::string digits = text.substr(0, end);
    if (end != std::string::npos && !digits.empty() &&
        digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 10) {
      recorded = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(std::stoull(digits), std::numeric_limits<std::uint32_t>::max()));
    }
    candidate = std::max<std::uint64_t>(candidate, static_cast<std::uint64_t>(recorded) + 1);
  }
  const std::int64_t now_secs = core::epoch_ms(clock.now()) / 1000;
  candidate =
      std::max<std::uint64_t>(candidate, now_secs > 0 ? static_cast<std::uint64_t>(now_secs) : 1);
  if (candidate > std::numeric_limits<std::uint32_t>::max()) return errc::limit_exceeded;
  out = static_cast<std::uint32_t>(candidate);
  return replace_file(dir.get(), uid_validity_name, uid_validity_temp_name,
                      std::to_string(out) + "\n");
}

disk_file mailbox::impl::describe(const std::string& name, bool in_new) const {
  disk_file file{name, in_new, 0, 0};
  const auto size = size_from_file_name(name);
  const auto time = index::time_of_name_ms(name);
  if (size) file.size_bytes = *size;
  if (time) file.time_ms = *time;
  if (size && time) return file;
  struct stat info {};
  const std::string relative = std::string(in_new ? "new/" : "cur/") + name;
  if (::fstatat(dir.get(), relative.c_str(), &info, 0) == 0) {
    if (!size) file.size_bytes = static_cast<std::uint64_t>(info.st_size);
    if (!time) {
      file.time_ms =
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1'000'000;
    }
  }
  return file;
}

// Regular files not starting with '.', by base name; cur/ wins over new/ for one base.
std::error_code mailbox::impl::scan(std::map<std::string, disk_file, std::less<>>& found) const {
  for (const bool in_new : {false, true}) {
    std::error_code error;
    const auto entries = fs::list_directory(dir.get(), in_new ? "new" : "cur", error);
    if (error) return error;
    for (const auto& item : entries) {
      if (!item.regular || item.name.empty() || item.name.front() == '.') continue;
      const std::string base(index::base_of(item.name));
      if (base.empty() || found.contains(base)) continue;
      found.emplace(base, describe(item.name, in_new));
    }
  }
  return {};
}

// Drops records whose file is gone, takes flags changed by other programs (new MODSEQ) and
// gives new files UIDs in file-name order. True when the index changed.
bool mailbox::impl::reconcile(std::map<std::string, disk_file, std::less<>>& found,
                              std::error_code& error) {
  bool changed = false;
  std::set<std::string, std::less<>> known;
  std::vector<index::record> kept;
  kept.reserve(data.records.size());
  for (auto& entry : data.records) {
    const auto file = found.find(entry.base_name);
    if (file == found.end()) {
      changed = true;
      continue;
    }
    const std::uint8_t flags = index::flags_of(file->second.name);
    if (flags != entry.flags) {
      entry.flags = flags;
      entry.modseq = ++data.head.highest_modseq;
      changed = true;
    }
    known.insert(entry.base_name);
    kept.push_back(std::move(entry));
  }
  data.records = std::move(kept);
  std::vector<const disk_file*> fresh;
  for (const auto& [base, file] : found) {
    if (!known.contains(base)) fresh.push_back(&file);
  }
  std::sort(fresh.begin(), fresh.end(), [](const disk_file* a, const disk_file* b) {
    return index::natural_less(a->name, b->name);
  });
  for (const disk_file* file : fresh) {
    if (data.records.size() >= index::messages_max ||
        data.head.uid_next == std::numeric_limits<std::uint32_t>::max()) {
      error = errc::limit_exceeded;
      break;
    }
    index::record entry;
    entry.uid = data.head.uid_next++;
    entry.modseq = ++data.head.highest_modseq;
    entry.internal_date_ms = file->time_ms;
    entry.base_name = std::string(index::base_of(file->name));
    entry.flags = index::flags_of(file->name);
    data.records.push_back(std::move(entry));
    changed = true;
  }
  return changed;
}

// Maildir: a message a reader has seen moves from new/ to cur/ with ":2," added. Not synced:
// lost by a crash, the file is found in new/ again and keeps its UID (same base name).
void mailbox::impl::move_new_to_cur() {
  for (auto& [base, file] : files) {
    if (!file.in_new) continue;
    const std::string target =
        index::file_name_for(base, index::flags_of(file.name), index::other_letters_of(file.name));
    if (!fs::rename_no_replace(dir.get(), "new/" + file.name, "cur/" + target)) {
      file.name = target;
      file.in_new = false;
    }
  }
}

std::error_code mailbox::impl::write_index() {
  ++data.head.generation;
  data.head.count = data.records.size();
  return replace_file(dir.get(), index_name, index_temp_name, index::format_index(data));
}

index::record* mailbox::impl::find(std::uint32_t uid) {
  const auto found = std::lower_bound(
      data.records.begin(), data.records.end(), uid,
      [](const index::record& entry, std::uint32_t value) { return entry.uid < value; });
  return found != data.records.end() && found->uid == uid ? &*found : nullptr;
}

const disk_file* mailbox::impl::file_of(const index::record& entry) const {
  const auto found = files.find(entry.base_name);
  return found == files.end() ? nullptr : &found->second;
}

std::string mailbox::impl::relative_path(const disk_file& file) const {
  return std::string(file.in_new ? "new/" : "cur/") + file.name;
}

message_entry mailbox::impl::entry_of(const index::record& entry) const {
  message_entry out;
  out.uid = entry.uid;
  out.modseq = entry.modseq;
  out.flags = entry.flags;
  out.keywords = entry.keywords;
  out.internal_date_ms = entry.internal_date_ms;
  if (const disk_file* file = file_of(entry)) {
    out.size_bytes = file->size_bytes;
    out.file_name = file->name;
  }
  return out;
}

void mailbox::impl::rebuild_view(sync_report& report) {
  report = {};
  std::vector<message_entry> next;
  next.reserve(data.records.size());
  for (const auto& entry : data.records) next.push_back(entry_of(entry));
  const bool same_validity = view_uid_validity == data.head.uid_validity;
  const std::uint32_t old_last = view.empty() ? 0 : view.back().uid;
  std::size_t j = 0;
  for (const auto& old : view) {
    while (same_validity && j < next.size() && next[j].uid < old.uid) ++j;
    if (!same_validity || j == next.size() || next[j].uid != old.uid) {
      report.expunged.push_back(old.uid);
      continue;
    }
    if (next[j].modseq != old.modseq || next[j].flags != old.flags ||
        next[j].keywords != old.keywords) {
      report.flags_changed = true;
    }
  }
  for (const auto& entry : next) {
    if (!same_validity || entry.uid > old_last) ++report.added;
  }
  view = std::move(next);
  view_uid_validity = data.head.uid_validity;
}

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
    if (message.internal_date_ms == 0) message.internal_date_ms = core::epoch_ms(clock.now());
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
mailbox::~mailbox() = default;

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
  fs::unique_fd dir = fs::open_directory(AT_FDCWD, path, error);
  if (error) return nullptr;
  std::unique_ptr<mailbox> box(new mailbox(std::make_unique<impl>(path, std::move(dir), clock)));
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
  if (changed) {
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
  std::error_code error = read_whole(impl_->dir.get(), impl_->relative_path(*file), out);
  if (error != std::errc::no_such_file_or_directory) return error;
  // Renamed by another session since our scan (a flag change): look for its base name.
  std::error_code list_error;
  for (const auto& item : fs::list_directory(impl_->dir.get(), "cur", list_error)) {
    if (item.regular && index::base_of(item.name) == entry->base_name) {
      return read_whole(impl_->dir.get(), "cur/" + item.name, out);
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
