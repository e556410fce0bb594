// mailsim::store mailbox — index I/O, folder scans and the view (see mailbox.hpp for the
// contract, mailbox_impl.hpp for the state).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "reference-server/store/error.hpp"
#include "reference-server/store/maildir_layout.hpp"
#include "reference-server/store/mailbox_impl.hpp"

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

}  // namespace

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
  const std::optional<file_identity> seen = index_seen;
  if (auto error = load_index(dirty)) return error;
  const bool index_same = !dirty && seen && index_seen == seen &&
                          generation == data.head.generation &&
                          uid_validity == data.head.uid_validity;
  // Stamped before the scan: whatever changes after it changes the stamp.
  const std::optional<dir_stamp> stamp = read_stamp();
  changed = !(index_same && stamp && scanned && *stamp == *scanned);
  if (!changed) return {};
  view_current = false;  // until rebuild_view(): an operation may refresh and then fail
  const std::int64_t now_ns = core::epoch_ms(clock->now()) * 1'000'000;
  const bool settled = stamp && std::max(stamp->new_ns, stamp->cur_ns) <
                                    now_ns - stamp_settle_ms * 1'000'000;
  scanned = settled ? stamp : std::nullopt;
  file_map found;
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

std::optional<file_identity> mailbox::impl::index_identity() const {
  struct stat info {};
  if (::fstatat(dir.get(), index_name, &info, 0) != 0) return std::nullopt;
  return file_identity{static_cast<std::uint64_t>(info.st_ino),
                       static_cast<std::uint64_t>(info.st_size),
                       static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                           info.st_mtim.tv_nsec,
                       static_cast<std::int64_t>(info.st_ctim.tv_sec) * 1'000'000'000 +
                           info.st_ctim.tv_nsec};
}

std::error_code mailbox::impl::load_index(bool& dirty) {
  // Unchanged since we read or wrote it: every writer replaces the file (a new inode), and an
  // edit in place changes its size or times. One stat instead of a read.
  const std::optional<file_identity> identity = index_identity();
  if (loaded && identity && index_seen && *identity == *index_seen) return {};
  std::string text;
  std::error_code error = fs::read_whole(dir.get(), index_name, text);
  if (error == std::errc::no_such_file_or_directory) {
    dirty = true;
    return reset_index(loaded ? data.head.uid_validity : 0);
  }
  if (error) return error;
  auto parsed = index::parse_index(text);
  if (!parsed) {
    dirty = true;
    const auto head = index::parse_header(text);
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
  index_seen = identity;
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
  const std::int64_t now_secs = core::epoch_ms(clock->now()) / 1000;
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
std::error_code mailbox::impl::scan(file_map& found) const {
  for (const bool in_new : {false, true}) {
    std::error_code error;
    const auto entries = fs::list_directory(dir.get(), in_new ? "new" : "cur", error);
    if (error) return error;
    found.reserve(found.size() + entries.size());
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
bool mailbox::impl::reconcile(file_map& found, std::error_code& error) {
  bool changed = false;
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
    file->second.known = true;
    kept.push_back(std::move(entry));
  }
  data.records = std::move(kept);
  std::vector<const disk_file*> fresh;
  fresh.reserve(found.size() - data.records.size());
  for (const auto& [base, file] : found) {
    if (!file.known) fresh.push_back(&file);
  }
  // Names equal to natural_less fall back to byte order: the hash map's order never decides.
  std::sort(fresh.begin(), fresh.end(), [](const disk_file* a, const disk_file* b) {
    if (index::natural_less(a->name, b->name)) return true;
    if (index::natural_less(b->name, a->name)) return false;
    return a->name < b->name;
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
  index_seen.reset();
  if (auto error = replace_file(dir.get(), index_name, index_temp_name, index::format_index(data))) {
    return error;
  }
  index_seen = index_identity();
  return {};
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
  if (const disk_file* file = file_of(entry)) out.size_bytes = file->size_bytes;
  return out;
}

void mailbox::impl::rebuild_view(sync_report& report) {
  report = {};
  view_current = true;
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

}  // namespace mailsim::store
