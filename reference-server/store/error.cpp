#include "reference-server/store/error.hpp"

#include <string>

namespace mailsim::store {
namespace {

class store_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.store"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::invalid_user_name:
        return "user name is not local@domain";
      case errc::invalid_folder:
        return "not a valid mailbox folder name";
      case errc::no_recipients:
        return "delivery request names no user";
      case errc::not_open:
        return "mailbox store is not open";
      case errc::name_collision:
        return "unique file names keep colliding";
      case errc::not_found:
        return "no such mailbox, folder or message";
      case errc::locked:
        return "locked by another session";
      case errc::limit_exceeded:
        return "a mailbox size limit was reached";
      case errc::already_exists:
        return "the folder already exists";
      case errc::damaged:
        return "a store file is damaged (cut short)";
    }
    return "unknown store error";
  }
};

}  // namespace

const std::error_category& store_category() noexcept {
  static const store_error_category category;
  return category;
}

}  // namespace mailsim::store
