// mailsim::store errors — what the mailbox store reports besides operating-system errors.
//
// Contract: store operations never throw. A failure of the file system is reported as the
// errno value in std::system_category() (compare with std::errc::no_space_on_device …);
// the codes below are the store's own reasons. All of them concern one request: the store
// and the other requests of the same batch stay usable.
#pragma once

#include <system_error>

namespace mailsim::store {

enum class errc {
  invalid_user_name = 1,  // a user name is not "local@domain" (a caller bug)
  no_recipients,          // a delivery request names no user
  not_open,               // the store root is not open: open() failed or was never called
  name_collision,  // fresh unique file names kept colliding: another writer shares pid and host
  invalid_folder,  // a delivery request names a folder is_folder_name() refuses (a caller bug)
  not_found,       // a mailbox, folder or message that does not exist (or no longer does)
  locked,          // a lock file is held by another session (POP3 maildrop, mailbox index)
  limit_exceeded,  // a named size limit (index line, messages per mailbox, name) was reached
  already_exists,  // a folder to create or rename to exists
  damaged,         // a store file of the wrong shape (a delivery journal cut short)
};

const std::error_category& store_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace mailsim::store

template <>
struct std::is_error_code_enum<mailsim::store::errc> : std::true_type {};
