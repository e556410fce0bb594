#include "reference-server/imap/error.hpp"

#include <string>

namespace mailsim::imap {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.imap"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::line_too_long: return "command line too long";
      case errc::command_too_long: return "command too long";
      case errc::literal_too_large: return "literal too large";
      case errc::too_many_literals: return "too many literals in one command";
      case errc::nonsync_literal_refused: return "non-synchronizing literal refused";
      case errc::syntax: return "syntax error";
      case errc::nesting_too_deep: return "nesting too deep";
      case errc::bad_mailbox_name: return "invalid mailbox name encoding";
    }
    return "unknown imap error";
  }
};

}  // namespace

const std::error_category& imap_category() noexcept {
  static const category instance;
  return instance;
}

bool is_recoverable(errc e) noexcept { return e != errc::nonsync_literal_refused; }

}  // namespace mailsim::imap
