#include "reference-server/server/pop3_maildrop.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "reference-server/store/error.hpp"
#include "reference-server/store/folder_lock.hpp"
#include "reference-server/store/mailbox.hpp"

namespace mailsim::server {

namespace {

std::string uidl_of(std::uint32_t uid, std::uint32_t uid_validity) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08x%08x", uid, uid_validity);
  return buf;
}

class store_maildrop final : public pop3::maildrop {
 public:
  store_maildrop(std::unique_ptr<store::folder_lock> lock, std::unique_ptr<store::mailbox> box,
                 std::string user, const std::function<void(const std::string&)>& on_removed)
      : lock_(std::move(lock)), box_(std::move(box)), user_(std::move(user)), on_removed_(on_removed) {
    for (const store::message_entry& m : box_->messages()) {
      uids_.push_back(m.uid);
      list_.push_back({m.size_bytes, uidl_of(m.uid, box_->uid_validity())});
    }
  }

  const std::vector<pop3::drop_message>& messages() const override { return list_; }

  bool read(std::size_t index, std::string& out) override {
    return index < uids_.size() && !box_->read(uids_[index], out);
  }

  bool commit(const std::vector<std::size_t>& deleted) override {
    if (deleted.empty()) return true;
    std::vector<std::uint32_t> uids;
    for (std::size_t i : deleted) {
      if (i < uids_.size()) uids.push_back(uids_[i]);
    }
    const bool ok = !box_->expunge(uids);
    if (on_removed_) on_removed_(user_);
    return ok;
  }

 private:
  std::unique_ptr<store::folder_lock> lock_;  // released last: after the mailbox closed
  std::unique_ptr<store::mailbox> box_;
  std::string user_;
  const std::function<void(const std::string&)>& on_removed_;
  std::vector<std::uint32_t> uids_;
  std::vector<pop3::drop_message> list_;
};

}  // namespace

pop3::open_result store_maildrops::open(std::string_view login) {
  pop3::open_result result;
  std::optional<user_maildir> where = store_.locate(login);
  if (!where) return result;
  const std::string& path = where->path;
  std::error_code error;
  // A user who never got mail gets an empty maildrop, not an error; the lock file lives in
  // the Maildir, so it must exist first.
  if (!std::filesystem::is_directory(path + "/cur", error) &&
      !store::mailbox::open(path, true, store_.clock, error)) {
    return result;
  }
  std::unique_ptr<store::folder_lock> lock =
      store::folder_lock::try_acquire(path + "/mailsim-pop3.lock", error);
  if (!lock) {
    result.status = error == store::errc::locked ? pop3::open_status::in_use : pop3::open_status::failed;
    return result;
  }
  // Opened (indexed and scanned) once, under the lock: what a session that just finished
  // removed does not show.
  std::unique_ptr<store::mailbox> box = store::mailbox::open(path, false, store_.clock, error);
  if (!box) return result;
  result.status = pop3::open_status::ok;
  result.drop = std::make_unique<store_maildrop>(std::move(lock), std::move(box), where->user,
                                                 store_.on_removed);
  return result;
}

}  // namespace mailsim::server
