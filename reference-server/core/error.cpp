#include "reference-server/core/error.hpp"

#include <string>

namespace mailsim::core {
namespace {

class core_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.core"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::line_too_long: return "line too long";
      case errc::bare_lf: return "line ended in a bare LF";
      case errc::bare_cr: return "bare CR inside a line";
      case errc::limit_exceeded: return "limit exceeded";
      case errc::invalid_argument: return "invalid argument";
    }
    return "unknown core error";
  }
};

}  // namespace

const std::error_category& core_category() noexcept {
  static const core_error_category category;
  return category;
}

bool is_recoverable(errc e) noexcept {
  return e == errc::line_too_long || e == errc::bare_lf || e == errc::bare_cr;
}

}  // namespace mailsim::core
