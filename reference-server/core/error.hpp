// mailsim::core errors — error codes shared by the protocol layers.
//
// Contract: parsers and sessions never throw; they return std::error_code values from a
// per-module category. Each module's category says which of its codes are recoverable
// (the session goes on, after an error reply) and which are fatal (the session closes).
#pragma once

#include <system_error>

namespace mailsim::core {

enum class errc {
  line_too_long = 1,  // a line passed line_bytes_max; the rest of it was skipped (recoverable)
  bare_lf,            // a line ended in LF without CR (recoverable; caller decides)
  bare_cr,            // a CR not followed by LF inside a line (recoverable; caller decides)
  limit_exceeded,     // a configured bound on something that grows was hit
  invalid_argument,   // a caller passed a value outside the contract
};

const std::error_category& core_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), core_category()};
}

// True when the session may go on after the error has been answered.
bool is_recoverable(errc e) noexcept;

}  // namespace mailsim::core

template <>
struct std::is_error_code_enum<mailsim::core::errc> : std::true_type {};
