#include "reference-server/server/imap_accounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "reference-server/store/error.hpp"
#include "reference-server/store/folders.hpp"
#include "reference-server/store/fs.hpp"
#include "reference-server/store/mailbox.hpp"

namespace mailsim::server {

namespace {

using imap::backend_status;

// Subscriptions per user (names need not exist, so nothing else bounds them).
constexpr std::size_t subscriptions_max = 1000;

// RFC 6154 special-use folders every account has, by their IMAP names.
constexpr std::pair<std::string_view, std::string_view> special_folders[] = {
    {"Sent", "\\Sent"}, {"Drafts", "\\Drafts"}, {"Junk", "\\Junk"}, {"Trash", "\\Trash"}};

backend_status status_of(std::error_code error) {
  if (!error) return backend_status::ok;
  if (error == store::errc::not_found) return backend_status::not_found;
  if (error == store::errc::already_exists) return backend_status::already_exists;
  if (error == store::errc::invalid_folder) return backend_status::invalid_name;
  // folders::remove() of a folder with folders below it (backend.hpp: refused, not failed).
  if (error == std::errc::directory_not_empty) return backend_status::invalid_name;
  if (error == store::errc::locked) return backend_status::in_use;
  if (error == std::errc::no_space_on_device || error == std::errc::file_too_large) {
    return backend_status::over_quota;
  }
  return backend_status::failed;
}

store::flag_op op_of(imap::flag_op op) {
  switch (op) {
    case imap::flag_op::add: return store::flag_op::add;
    case imap::flag_op::remove: return store::flag_op::remove;
    case imap::flag_op::replace: return store::flag_op::replace;
  }
  return store::flag_op::replace;
}

// Which directory a path names, so that a folder deleted and made again under the same
// name is told apart from the one that was opened; nullopt when the path names no directory.
std::optional<std::pair<dev_t, ino_t>> directory_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  return std::pair{st.st_dev, st.st_ino};
}

class store_mailbox final : public imap::mailbox_backend {
 public:
  store_mailbox(std::unique_ptr<store::mailbox> box, std::string path,
                std::function<void()> on_removed)
      : box_(std::move(box)), path_(std::move(path)), identity_(directory_identity(path_)),
        on_removed_(std::move(on_removed)) {}

  store::mailbox& store_box() { return *box_; }

  // A folder deleted or renamed away by another session (or program) is not_found, which
  // makes the session end with BYE (cmd_select.cpp); the store itself only fails to take
  // the lock in the missing folder (ENOENT), which status_of() makes `failed`, an error the
  // session passes over. An ENOENT while the folder still stands (a file removed by another
  // session mid-scan) stays `failed`: the next sync tries again.
  backend_status sync(imap::sync_report& report) override {
    if (folder_gone()) return backend_status::not_found;
    store::sync_report r;
    const std::error_code error = box_->sync(r);
    if (error && folder_gone()) return backend_status::not_found;  // gone during the sync
    report.expunged = std::move(r.expunged);
    report.added = r.added;
    report.flags_changed = r.flags_changed;
    return status_of(error);
  }

  // The store's view is the session's (one entry type, backend.hpp): no copy.
  const std::vector<imap::message_entry>& messages() const override { return box_->messages(); }
  std::uint32_t uid_validity() const override { return box_->uid_validity(); }
  std::uint32_t uid_next() const override { return box_->uid_next(); }
  std::uint64_t highest_modseq() const override { return box_->highest_modseq(); }

  backend_status read(std::uint32_t uid, std::string& out) const override {
    return status_of(box_->read(uid, out));
  }

  backend_status set_flags(std::span<const std::uint32_t> uids, imap::flag_op op,
                           std::uint8_t flags, std::span<const std::string> keywords,
                           std::uint64_t unchanged_since,
                           std::vector<std::uint32_t>& modified) override {
    const std::error_code error =
        box_->set_flags(uids, op_of(op), flags, keywords, unchanged_since, modified);
    return status_of(error);
  }

  backend_status expunge(std::span<const std::uint32_t> uids) override {
    const std::error_code error = box_->expunge(uids);
    if (on_removed_) on_removed_();
    return status_of(error);
  }

  backend_status append(std::string_view message, std::uint8_t flags,
                        std::span<const std::string> keywords, std::int64_t internal_date_ms,
                        std::uint32_t& uid) override {
    const std::error_code error = box_->append(message, flags, keywords, internal_date_ms, uid);
    return status_of(error);
  }

  backend_status copy_to(std::span<const std::uint32_t> uids, imap::mailbox_backend& target,
                         std::vector<std::uint32_t>& new_uids) override {
    auto* other = dynamic_cast<store_mailbox*>(&target);
    if (other == nullptr) return backend_status::failed;
    const std::error_code error = box_->copy_to(uids, other->store_box(), new_uids);
    return status_of(error);
  }

 private:
  // The path names no directory now, or another one than at open (deleted and made again).
  bool folder_gone() const {
    const auto now = directory_identity(path_);
    return !now || (identity_ && *now != *identity_);
  }

  std::unique_ptr<store::mailbox> box_;
  std::string path_;
  std::optional<std::pair<dev_t, ino_t>> identity_;  // the folder's directory at open
  std::function<void()> on_removed_;
};

class store_account final : public imap::account_backend {
 public:
  store_account(std::string maildir, std::string user, const core::clock& clock,
                const std::function<void(const std::string&)>& on_removed)
      : maildir_(std::move(maildir)), user_(std::move(user)), folders_(maildir_), clock_(clock),
        on_removed_(on_removed) {}

  // The folders and the subscribed names merged (a subscription need not name a folder,
  // RFC 9051 §6.3.7), INBOX first, then byte order, as folders::list() orders them.
  std::vector<imap::mailbox_info> list(backend_status& status) override {
    std::error_code error;
    const std::vector<std::string> existing = folders_.list(error);
    status = status_of(error);
    if (status != backend_status::ok) return {};
    const std::set<std::string> folders(existing.begin(), existing.end());
    const std::set<std::string> subscribed = read_subscriptions();
    std::set<std::string> names = folders;
    names.insert(subscribed.begin(), subscribed.end());
    std::vector<imap::mailbox_info> out;
    for (const std::string& name : names) {
      imap::mailbox_info info;
      info.name = name;
      info.exists = folders.count(name) != 0;
      if (info.exists) info.special_use = special_use_of(name);
      const std::string prefix = name + "/";
      auto below = folders.lower_bound(prefix);
      info.has_children = below != folders.end() && below->compare(0, prefix.size(), prefix) == 0;
      info.subscribed = subscribed.count(name) != 0;
      if (name == "INBOX") {
        out.insert(out.begin(), std::move(info));
      } else {
        out.push_back(std::move(info));
      }
    }
    return out;
  }

  backend_status create(std::string_view name) override { return status_of(folders_.create(name)); }
  backend_status remove(std::string_view name) override {
    const backend_status s = status_of(folders_.remove(name));
    if (s == backend_status::ok && on_removed_) on_removed_(user_);
    return s;
  }
  backend_status rename(std::string_view from, std::string_view to) override {
    if (from == "INBOX") return rename_inbox(to);
    return status_of(folders_.rename(from, to));
  }

  backend_status subscribe(std::string_view name, bool subscribed) override {
    std::set<std::string> names = read_subscriptions();
    if (subscribed) {
      // A bound on what one user can make the server store and list (LSUB, LIST SUBSCRIBED).
      if (names.size() >= subscriptions_max && !names.contains(std::string(name))) {
        return backend_status::over_quota;
      }
      names.insert(std::string(name));
    } else {
      names.erase(std::string(name));
    }
    return write_subscriptions(names);
  }

  std::unique_ptr<imap::mailbox_backend> open(std::string_view name, bool /*read_only*/,
                                              backend_status& status) override {
    std::optional<std::string> path = folders_.path_of(name);
    if (!path) {
      status = backend_status::invalid_name;
      return nullptr;
    }
    std::error_code error;
    // Only INBOX is made on demand (a user who never got mail); other folders must exist.
    std::unique_ptr<store::mailbox> box = store::mailbox::open(*path, name == "INBOX", clock_, error);
    status = status_of(error);
    if (!box) return nullptr;
    auto removed = [this] {
      if (on_removed_) on_removed_(user_);
    };
    return std::make_unique<store_mailbox>(std::move(box), *path, removed);
  }

  // Creates the special-use folders the first time the account is opened.
  backend_status ensure_special_folders() {
    for (const auto& [name, use] : special_folders) {
      const std::error_code error = folders_.create(name);
      if (error && error != store::errc::already_exists) return status_of(error);
    }
    return backend_status::ok;
  }

 private:
  static std::string special_use_of(std::string_view name) {
    for (const auto& [folder, use] : special_folders) {
      if (name == folder) return std::string(use);
    }
    return {};
  }

  // The Maildir file name of a message without its ":2,FLAGS" info: what stays when it
  // moves from new/ to cur/ or changes flags.
  static std::string base_name(const store::mailbox& box, std::uint32_t uid) {
    std::string name = box.file_path(uid);
    name.erase(0, name.rfind('/') + 1);
    return name.substr(0, name.find(':'));
  }

  // RFC 9051 §6.3.6: the inbox's message files move into a new folder (folders::move_inbox,
  // which never loses one); keywords, kept only in the inbox's index, are read before the
  // move and set again in the new folder's index after it. A crash between the two loses
  // keywords, never messages.
  backend_status rename_inbox(std::string_view to) {
    std::map<std::string, std::vector<std::string>> keywords;  // by base file name
    std::error_code error;
    std::uint32_t inbox_uid_validity = 0;
    {
      std::unique_ptr<store::mailbox> inbox = store::mailbox::open(maildir_, true, clock_, error);
      if (!inbox) return status_of(error);
      inbox_uid_validity = inbox->uid_validity();
      for (const store::message_entry& m : inbox->messages()) {
        if (!m.keywords.empty()) keywords[base_name(*inbox, m.uid)] = m.keywords;
      }
    }
    std::vector<std::string> moved;
    if ((error = folders_.move_inbox(to, inbox_uid_validity, moved))) return status_of(error);
    return keywords.empty() ? backend_status::ok : restore_keywords(to, keywords);
  }

  backend_status restore_keywords(std::string_view name,
                                  const std::map<std::string, std::vector<std::string>>& keywords) {
    std::error_code error;
    std::unique_ptr<store::mailbox> box =
        store::mailbox::open(*folders_.path_of(name), false, clock_, error);
    if (!box) return status_of(error);
    // One index write per distinct keyword set, not one per message.
    std::map<std::vector<std::string>, std::vector<std::uint32_t>> uids_by_set;
    for (const store::message_entry& m : box->messages()) {
      auto found = keywords.find(base_name(*box, m.uid));
      if (found != keywords.end()) uids_by_set[found->second].push_back(m.uid);
    }
    for (const auto& [set, uids] : uids_by_set) {
      std::vector<std::uint32_t> modified;
      error = box->set_flags(uids, store::flag_op::add, 0, set, 0, modified);
      if (error) return status_of(error);
    }
    return backend_status::ok;
  }

  std::string subscriptions_path() const { return maildir_ + "/mailsim-subscriptions"; }

  std::set<std::string> read_subscriptions() const {
    std::set<std::string> names;
    std::ifstream in(subscriptions_path(), std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) names.insert(line);
    }
    return names;
  }

  // Written whole to a temporary file, synced, then renamed over the old list.
  backend_status write_subscriptions(const std::set<std::string>& names) const {
    std::string text;
    for (const std::string& n : names) {
      if (n.find('\n') != std::string::npos) return backend_status::invalid_name;
      text += n + "\n";
    }
    const std::string path = subscriptions_path();
    std::error_code error;
    (void)store::fs::remove_file(AT_FDCWD, path + ".tmp");  // debris of a crashed write
    {
      store::fs::unique_fd fd = store::fs::create_file(AT_FDCWD, path + ".tmp", error);
      if (!error) error = store::fs::write_all(fd.get(), text, {});
      if (!error) error = store::fs::sync_fd(fd.get());
    }
    if (!error) std::filesystem::rename(path + ".tmp", path, error);
    if (!error) error = store::fs::sync_path(AT_FDCWD, maildir_);
    return status_of(error);
  }

  std::string maildir_;
  std::string user_;
  store::folders folders_;
  const core::clock& clock_;
  const std::function<void(const std::string&)>& on_removed_;
};

}  // namespace

std::unique_ptr<imap::account_backend> store_accounts::open(std::string_view login) {
  std::optional<user_maildir> where = store_.locate(login);
  if (!where) return nullptr;
  std::error_code error;
  // The Maildir itself must exist before its folders can; opening it (a full index read
  // and folder scan) only for that would make every login pay for the inbox's size.
  if (!std::filesystem::is_directory(where->path + "/cur", error) &&
      !store::mailbox::open(where->path, true, store_.clock, error)) {
    return nullptr;
  }
  auto account =
      std::make_unique<store_account>(where->path, where->user, store_.clock, store_.on_removed);
  if (account->ensure_special_folders() != backend_status::ok) return nullptr;
  return account;
}

}  // namespace mailsim::server
