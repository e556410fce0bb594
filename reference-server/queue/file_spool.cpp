#include "reference-server/queue/file_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>

#include "reference-server/queue/error.hpp"
#include "reference-server/queue/message_file.hpp"
#include "reference-server/queue/state_file.hpp"

namespace mailsim::queue {
namespace fs = store::fs;

namespace {

constexpr std::string_view msg_dir = "msg";
constexpr std::string_view state_dir = "state";
constexpr std::string_view tmp_dir = "tmp";
constexpr std::string_view corrupt_dir = "corrupt";

// "<folder>/<name><suffix>", relative to the root.
std::string in(std::string_view folder, std::string_view name, std::string_view suffix = {}) {
  std::string out;
  out.reserve(folder.size() + 1 + name.size() + suffix.size());
  out.append(folder).append("/").append(name).append(suffix);
  return out;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Ids sort in arrival order: recover() reads and reports in that order.
void sort_by_name(std::vector<fs::entry>& items) {
  std::sort(items.begin(), items.end(),
            [](const fs::entry& a, const fs::entry& b) { return a.name < b.name; });
}

// How many names corrupt/ may try for one file before giving up (x, x.1, x.2 …).
constexpr int aside_attempts_max = 100;

}  // namespace

// One file of a batch: written into tmp/, then renamed to its target; or, for a new
// message, written at its target (renamed from the start).
struct file_spool::written {
  std::size_t item = 0;  // index of the batch item it belongs to
  std::string path;      // where it is now, relative to the root
  std::string target;    // where it goes
  bool renamed = false;
};

file_spool::file_spool(file_spool_config config, spool_limits limits, const core::clock& clock,
                       core::random_source& random)
    : spool(limits, clock, random), config_(std::move(config)), barrier_(config_.barrier) {}

std::error_code file_spool::open() {
  set_ready(false);
  const auto made = fs::make_directory(AT_FDCWD, config_.root);
  if (made.error) return made.error;
  const bool syncing = config_.barrier != barrier_mode::none;
  // A new folder's entry lives in its parent: sync the parent, or a crash may take the
  // folder away with the messages acknowledged in it.
  if (made.created && syncing) {
    if (auto error = fs::sync_path(AT_FDCWD, parent_of(config_.root))) return error;
  }
  std::error_code error;
  root_fd_ = fs::open_directory(AT_FDCWD, config_.root, error);
  if (error) return error;
  bool created = false;
  for (const auto folder : {msg_dir, state_dir, tmp_dir, corrupt_dir}) {
    const auto sub = fs::make_directory(root_fd_.get(), std::string(folder));
    if (sub.error) return sub.error;
    created = created || sub.created;
  }
  if (created && syncing) {
    if (auto sync_error = fs::sync_fd(root_fd_.get())) return sync_error;
  }
  // syncfs(2) covers the root's file system only.
  barrier_ = config_.barrier;
  std::uint64_t root_device = 0;
  if (auto device_error = fs::device_of(root_fd_.get(), ".", root_device)) return device_error;
  for (const auto folder : {msg_dir, state_dir, tmp_dir}) {
    std::uint64_t device = 0;
    if (auto device_error = fs::device_of(root_fd_.get(), std::string(folder), device)) {
      return device_error;
    }
    if (device != root_device && barrier_ == barrier_mode::syncfs) {
      barrier_ = barrier_mode::fsync_each;
    }
  }
  return {};
}

std::error_code file_spool::write_file(const std::string& path, std::string_view first,
                                       std::string_view second) {
  std::error_code error;
  fs::unique_fd fd = fs::create_file(root_fd_.get(), path, error);
  if (error == std::errc::file_exists) {
    // Debris of an earlier write in this process that could not be removed; recover()
    // clears tmp/ at start, so nothing else writes these names.
    (void)fs::remove_file(root_fd_.get(), path);
    fd = fs::create_file(root_fd_.get(), path, error);
  }
  if (error) return error;
  return fill_file(std::move(fd), path, first, second);
}

std::error_code file_spool::write_new(const std::string& path, std::string_view first,
                                      std::string_view second, std::string_view third) {
  std::error_code error;
  fs::unique_fd fd = fs::create_file(root_fd_.get(), path, error);
  // A taken name belongs to another message: never replace it (ids are unique per root).
  if (error == std::errc::file_exists) return errc::name_collision;
  if (error) return error;
  return fill_file(std::move(fd), path, first, second, third);
}

std::error_code file_spool::fill_file(store::fs::unique_fd fd, const std::string& path,
                                      std::string_view first, std::string_view second,
                                      std::string_view third) {
  std::error_code error = fs::write_all(fd.get(), first, second, third);
  if (!error && barrier_ == barrier_mode::fsync_each) error = fs::sync_fd(fd.get());
  const std::error_code closed = fd.close();
  if (!error) error = closed;
  if (error) (void)fs::remove_file(root_fd_.get(), path);
  return error;
}

void file_spool::data_barrier(std::vector<written>& files, std::vector<std::error_code>& errors) {
  if (barrier_ != barrier_mode::syncfs) return;  // fsync_each synced each file; none never
  const bool any =
      std::any_of(files.begin(), files.end(), [&](const written& f) { return !errors[f.item]; });
  if (!any || ::syncfs(root_fd_.get()) == 0) return;
  // A write-back error somewhere on the file system, perhaps not in our files: ask each.
  for (const auto& file : files) {
    if (errors[file.item]) continue;
    if (auto error = fs::sync_path(root_fd_.get(), file.path)) errors[file.item] = error;
  }
}

void file_spool::directory_barrier(std::vector<written>& files,
                                   std::vector<std::error_code>& errors) {
  if (barrier_ == barrier_mode::none) return;
  const auto live = [&](const written& f) { return f.renamed && !errors[f.item]; };
  if (std::none_of(files.begin(), files.end(), live)) return;
  if (barrier_ == barrier_mode::syncfs && ::syncfs(root_fd_.get()) == 0) return;
  sync_folders(files, errors);
}

void file_spool::new_files_barrier(std::vector<written>& files, std::vector<std::error_code>& errors) {
  if (barrier_ == barrier_mode::none) return;
  const auto live = [&](const written& f) { return !errors[f.item]; };
  if (std::none_of(files.begin(), files.end(), live)) return;
  if (barrier_ == barrier_mode::syncfs) {
    if (::syncfs(root_fd_.get()) == 0) return;
    // A write-back error somewhere on the file system, perhaps not in our files: ask each.
    for (const auto& file : files) {
      if (!errors[file.item]) errors[file.item] = fs::sync_path(root_fd_.get(), file.path);
    }
  }
  sync_folders(files, errors);  // fsync_each synced each file as it was written
}

// Each folder whose entries changed (a live file's target folder), once.
void file_spool::sync_folders(std::vector<written>& files, std::vector<std::error_code>& errors) {
  const auto live = [&](const written& f) { return f.renamed && !errors[f.item]; };
  std::map<std::string, std::error_code> folders;
  for (const auto& file : files) {
    if (live(file)) folders.emplace(parent_of(file.target), std::error_code{});
  }
  for (auto& [folder, error] : folders) error = fs::sync_path(root_fd_.get(), folder);
  for (const auto& file : files) {
    if (!live(file)) continue;
    const auto& error = folders[parent_of(file.target)];
    if (error) errors[file.item] = error;
  }
}

// Each message goes straight to its final name, its first state inside it
// (message_file.hpp), and one barrier makes the batch durable: nothing before it is
// acknowledged, and recover() tells a file that was not completely written (see
// file_spool.hpp). One file per message: creating and deleting files is most of what a
// relayed message costs the file system.
std::vector<std::error_code> file_spool::store_new(std::span<const new_message> batch) {
  std::vector<std::error_code> errors(batch.size());
  if (!root_fd_.valid()) {
    std::fill(errors.begin(), errors.end(), errc::not_open);
    return errors;
  }
  std::vector<written> files;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    queued_message& entry = *batch[i].entry;
    entry.message_sum = message_checksum(batch[i].trace, batch[i].message);
    errors[i] = write_new(in(msg_dir, entry.id), batch[i].trace, batch[i].message,
                          embedded_state_tail(entry));
    if (!errors[i]) files.push_back({i, in(msg_dir, entry.id), in(msg_dir, entry.id), true});
  }
  new_files_barrier(files, errors);
  // Nothing of a failed message may stay: the client keeps it and will send it again.
  for (const auto& file : files) {
    if (errors[file.item]) (void)fs::remove_file(root_fd_.get(), file.path);
  }
  return errors;
}

std::vector<std::error_code> file_spool::store_states(
    std::span<const queued_message* const> entries) {
  std::vector<std::error_code> errors(entries.size());
  if (!root_fd_.valid()) {
    std::fill(errors.begin(), errors.end(), errc::not_open);
    return errors;
  }
  std::vector<written> files;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& id = entries[i]->id;
    written state{i, in(tmp_dir, id, ".update"), in(state_dir, id), false};
    errors[i] = write_file(state.path, encode_state(*entries[i]), {});
    if (!errors[i]) files.push_back(state);
  }
  data_barrier(files, errors);
  for (auto& file : files) {
    if (errors[file.item]) continue;
    // rename(2) replaces the old state atomically: a reader sees the old file or the new.
    if (::renameat(root_fd_.get(), file.path.c_str(), root_fd_.get(), file.target.c_str()) != 0) {
      errors[file.item] = fs::last_error();
      continue;
    }
    file.path = file.target;
    file.renamed = true;
  }
  directory_barrier(files, errors);
  // Only unrenamed files go: a state that replaced the old one is the message's only state.
  for (const auto& file : files) {
    if (errors[file.item] && !file.renamed) (void)fs::remove_file(root_fd_.get(), file.path);
  }
  return errors;
}

std::error_code file_spool::erase(const std::string& id) {
  if (!root_fd_.valid()) return errc::not_open;
  // The state first (a message never updated has none: remove_file() takes a missing file
  // as removed): a crash in between leaves the message with the state it was queued with,
  // which recover() loads and delivery sends again (at-least-once), never a state without
  // its message.
  if (auto error = fs::remove_file(root_fd_.get(), in(state_dir, id))) return error;
  return fs::remove_file(root_fd_.get(), in(msg_dir, id));
}

std::error_code file_spool::read_file(const std::string& path, std::uint64_t limit,
                                      std::string& out, read_mode mode) {
  fs::unique_fd fd(::openat(root_fd_.get(), path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fs::last_error();
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fs::last_error();
  auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > limit && mode == read_mode::whole) {
    return std::make_error_code(std::errc::file_too_large);
  }
  size = std::min(size, limit);
  out.resize(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::read(fd.get(), out.data() + done, out.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fs::last_error();
    if (got == 0) break;  // the file shrank meanwhile
    done += static_cast<std::size_t>(got);
  }
  out.resize(done);
  return {};
}

std::shared_ptr<const std::string> file_spool::read_message(const queued_message& entry,
                                                            std::error_code& error) {
  if (!root_fd_.valid()) {
    error = errc::not_open;
    return nullptr;
  }
  auto bytes = std::make_shared<std::string>();
  // Only <trace><message>: a state may follow them (message_file.hpp).
  error = read_file(in(msg_dir, entry.id), entry.size_bytes, *bytes, read_mode::prefix);
  if (error) return nullptr;
  return bytes;
}

// Moves a file into corrupt/ under `name` (or name.1, name.2 … when taken); returns where it
// went, or "" when it could not be moved (the error goes into the report).
std::string file_spool::move_aside(const std::string& path, const std::string& name,
                                   recover_report& report) {
  for (int attempt = 0; attempt < aside_attempts_max; ++attempt) {
    std::string target = in(corrupt_dir, name);
    if (attempt > 0) target += "." + std::to_string(attempt);
    const std::error_code error = fs::rename_no_replace(root_fd_.get(), path, target);
    if (!error) return target;
    if (error != std::errc::file_exists) {
      if (!report.error) report.error = error;
      return {};
    }
  }
  if (!report.error) report.error = std::make_error_code(std::errc::file_exists);
  return {};
}

namespace {

std::string size_problem(std::uint64_t has, std::uint64_t wants) {
  return "its message file has " + std::to_string(has) + " bytes, not " + std::to_string(wants);
}

}  // namespace

// Whether msg/<id> holds the message a state from state/<id> describes: size_bytes of it,
// alone (the older layout) or followed by an embedded state (message_file.hpp), matching the
// checksum the state recorded at enqueue if it has one. A mismatch is a message that a crash
// cut short before its enqueue's barrier, or damage since; a file that cannot be read goes
// into the report and gives `unreadable`.
file_spool::verdict file_spool::check_message(const std::string& msg_path,
                                              std::uint64_t file_size,
                                              const queued_message& state, std::string& problem,
                                              recover_report& report) {
  const std::uint64_t wanted = state.size_bytes;
  if (file_size == wanted && !state.message_sum) return verdict::ok;
  if (file_size < wanted) {
    problem = size_problem(file_size, wanted);
    return verdict::problem;
  }
  std::string bytes;
  if (auto error = read_file(msg_path, UINT64_MAX, bytes)) {
    if (!report.error) report.error = error;
    report.problems.push_back(msg_path + ": cannot read: " + error.message());
    return verdict::unreadable;
  }
  std::string_view message = bytes;
  if (message.size() != wanted) {
    const auto embedded = find_embedded_state(bytes);
    if (!embedded || embedded->message_bytes != wanted) {
      problem = size_problem(bytes.size(), wanted);
      return verdict::problem;
    }
    message = message.substr(0, embedded->message_bytes);
  }
  if (state.message_sum && message_checksum(message, {}) != *state.message_sum) {
    problem = "its message file does not match its checksum (written only in part, or damaged)";
    return verdict::problem;
  }
  return verdict::ok;
}

void file_spool::check_state(const std::string& id, std::vector<queued_message>& out,
                             recover_report& report) {
  const std::string state_path = in(state_dir, id);
  const std::string msg_path = in(msg_dir, id);
  std::string text;
  if (auto error = read_file(state_path, config_.state_bytes_max, text)) {
    if (error != std::errc::file_too_large) {
      // Perhaps a passing I/O error: leave the file for the next start.
      if (!report.error) report.error = error;
      report.problems.push_back(state_path + ": cannot read: " + error.message());
      return;
    }
    text.clear();
  }
  std::string problem;
  auto decoded =
      text.empty() ? state_decode{std::nullopt, "empty or too large"} : decode_state(text);
  std::uint64_t size = 0;
  const std::error_code size_error = fs::file_size(root_fd_.get(), msg_path, size);
  bool orphan = false;
  if (!decoded.value) {
    problem = decoded.error;
  } else if (decoded.value->id != id) {
    problem = "names another id (" + decoded.value->id + ")";
  } else if (size_error == std::errc::no_such_file_or_directory) {
    problem = "its message file is missing";
    orphan = true;
  } else if (size_error) {
    if (!report.error) report.error = size_error;
    report.problems.push_back(msg_path + ": cannot stat: " + size_error.message());
    return;
  } else if (check_message(msg_path, size, *decoded.value, problem, report) ==
             verdict::unreadable) {
    return;  // perhaps passing: left for the next start
  }
  if (problem.empty()) {
    out.push_back(std::move(*decoded.value));
    return;
  }
  (orphan ? report.orphan_states : report.corrupt) += 1;
  const std::string moved = move_aside(state_path, id + ".state", report);
  std::string line =
      state_path + ": " + problem + "; moved to " + (moved.empty() ? "(nowhere)" : moved);
  if (!size_error) {
    // Keep the message beside its state: a human may still rescue it.
    const std::string moved_msg = move_aside(msg_path, id + ".msg", report);
    line += ", " + msg_path + " to " + (moved_msg.empty() ? "(nowhere)" : moved_msg);
  }
  report.problems.push_back(line);
}

// A message file without a state file: loaded with the state embedded in it, when that is
// complete and describes it; deleted when it has none (cut short before its enqueue's
// barrier, so never acknowledged; or, in the older layout, left by a crash between a state
// and its message, never acknowledged or already done); moved to corrupt/ when it has one
// that does not fit (written to its end, so perhaps acknowledged, then damaged).
void file_spool::load_embedded(const std::string& id, std::vector<queued_message>& out,
                               recover_report& report) {
  const std::string msg_path = in(msg_dir, id);
  std::string bytes;
  if (auto error = read_file(msg_path, UINT64_MAX, bytes)) {
    if (!report.error) report.error = error;
    report.problems.push_back(msg_path + ": cannot read: " + error.message());
    return;  // perhaps passing: left for the next start
  }
  const auto embedded = find_embedded_state(bytes);
  if (!embedded) {
    if (auto removed = fs::remove_file(root_fd_.get(), msg_path)) {
      if (!report.error) report.error = removed;
      return;
    }
    ++report.orphan_messages;
    report.problems.push_back(msg_path + ": no state; deleted");
    return;
  }
  auto decoded = decode_state(embedded->state);
  std::string problem;
  if (!decoded.value) {
    problem = "its embedded state: " + decoded.error;
  } else if (decoded.value->id != id) {
    problem = "its embedded state names another id (" + decoded.value->id + ")";
  } else if (decoded.value->size_bytes != embedded->message_bytes) {
    problem = size_problem(embedded->message_bytes, decoded.value->size_bytes);
  } else if (!decoded.value->message_sum ||
             message_checksum(std::string_view(bytes).substr(0, embedded->message_bytes), {}) !=
                 *decoded.value->message_sum) {
    problem = "its message does not match the checksum of its embedded state";
  }
  if (problem.empty()) {
    out.push_back(std::move(*decoded.value));
    return;
  }
  ++report.corrupt;
  const std::string moved = move_aside(msg_path, id + ".msg", report);
  report.problems.push_back(msg_path + ": " + problem + "; moved to " +
                            (moved.empty() ? "(nowhere)" : moved));
}

void file_spool::load_all(std::vector<queued_message>& out, recover_report& report) {
  if (!root_fd_.valid()) {
    report.error = errc::not_open;
    return;
  }
  std::error_code error;
  // 1. Unfinished writes: never acknowledged, or replaced by nothing yet.
  for (const auto& item : fs::list_directory(root_fd_.get(), std::string(tmp_dir), error)) {
    if (!item.regular) continue;
    if (auto removed = fs::remove_file(root_fd_.get(), in(tmp_dir, item.name))) {
      if (!report.error) report.error = removed;
      continue;
    }
    ++report.removed_tmp;
  }
  if (error && !report.error) report.error = error;
  // 2. States, in id order.
  auto states = fs::list_directory(root_fd_.get(), std::string(state_dir), error);
  if (error && !report.error) report.error = error;
  sort_by_name(states);
  for (const auto& item : states) {
    if (!item.regular || !is_message_id(item.name)) {
      ++report.foreign;
      report.problems.push_back(in(state_dir, item.name) + ": not a queue id; left alone");
      continue;
    }
    check_state(item.name, out, report);
  }
  // 3. Messages without a state file: those never updated, with their embedded state.
  std::set<std::string> known;
  for (const auto& entry : out) known.insert(entry.id);
  auto messages = fs::list_directory(root_fd_.get(), std::string(msg_dir), error);
  if (error && !report.error) report.error = error;
  sort_by_name(messages);
  for (const auto& item : messages) {
    if (!item.regular || !is_message_id(item.name)) {
      ++report.foreign;
      report.problems.push_back(in(msg_dir, item.name) + ": not a queue id; left alone");
      continue;
    }
    if (known.contains(item.name)) continue;
    // A state that could not be read this time keeps its message.
    std::uint64_t state_size = 0;
    if (!fs::file_size(root_fd_.get(), in(state_dir, item.name), state_size)) continue;
    load_embedded(item.name, out, report);
  }
  set_ready(true);
}

}  // namespace mailsim::queue
