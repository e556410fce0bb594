#include "reference-server/queue/error.hpp"

#include <string>

namespace mailsim::queue {
namespace {

class queue_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.queue"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::not_open:
        return "outbound queue is not open";
      case errc::no_recipients:
        return "message to queue names no recipient";
      case errc::queue_full_messages:
        return "outbound queue holds its maximum number of messages";
      case errc::queue_full_bytes:
        return "outbound queue holds its maximum number of bytes";
      case errc::unknown_message:
        return "no queued message has this id";
      case errc::invalid_update:
        return "update names a recipient the message does not have";
      case errc::recipients_pending:
        return "message still has pending recipients";
      case errc::name_collision:
        return "queue id already taken on disk";
      case errc::corrupt_state:
        return "queue state file is corrupt";
    }
    return "unknown queue error";
  }
};

}  // namespace

const std::error_category& queue_category() noexcept {
  static const queue_error_category category;
  return category;
}

}  // namespace mailsim::queue
