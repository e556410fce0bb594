// mailsim::queue errors — what the outbound queue reports besides operating-system errors.
//
// Contract: queue operations never throw. A failure of the file system is reported as the
// errno value in std::system_category() (compare with std::errc::no_space_on_device …); the
// codes below are the queue's own reasons. Each concerns one request of a batch: the spool
// and the other requests stay usable. queue_full_messages and queue_full_bytes are what the
// SMTP server turns into "452 4.3.1 Insufficient system storage" (RFC 5321 §4.5.3.1.10,
// RFC 3463 X.3.1): the client keeps the message and retries later.
#pragma once

#include <system_error>

namespace mailsim::queue {

enum class errc {
  not_open = 1,         // the spool is not open and recovered yet (file_spool::open, recover)
  no_recipients,        // a message to enqueue names no recipient
  queue_full_messages,  // spool_limits::messages_max would be passed
  queue_full_bytes,     // spool_limits::bytes_max would be passed
  unknown_message,      // no queued message has this id
  invalid_update,       // an update names a recipient index the message does not have
  recipients_pending,   // remove() of a message that still has pending recipients
  name_collision,       // a fresh message id is already taken on disk (another writer?)
  corrupt_state,        // a state file failed its checks (moved aside by recover())
};

const std::error_category& queue_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), queue_category()};
}

}  // namespace mailsim::queue

template <>
struct std::is_error_code_enum<mailsim::queue::errc> : std::true_type {};
