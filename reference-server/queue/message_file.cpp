#include "reference-server/queue/message_file.hpp"

#include <algorithm>
#include <charconv>

#include "reference-server/queue/state_file.hpp"

namespace mailsim::queue {
namespace {

constexpr std::string_view marker = "mailsim-embedded-state ";
// The marker, up to 20 digits and the LF: the last line is looked for only this far back,
// so that a file of the older layout costs no scan of its message.
constexpr std::size_t last_line_max = 23 + 20 + 1;

}  // namespace

std::string embedded_state_tail(const queued_message& entry) {
  std::string tail = encode_state(entry);
  const std::size_t state_bytes = tail.size();
  tail.append(marker).append(std::to_string(state_bytes)).append("\n");
  return tail;
}

std::optional<embedded_state> find_embedded_state(std::string_view file) {
  if (file.empty() || file.back() != '\n') return std::nullopt;
  const std::size_t window = std::min(file.size(), last_line_max);
  const std::string_view tail = file.substr(file.size() - window, window - 1);
  const std::size_t newline = tail.rfind('\n');
  // The line must start after an LF (the state's last line), never at the file's start.
  if (newline == std::string_view::npos) return std::nullopt;
  const std::string_view line = tail.substr(newline + 1);
  if (!line.starts_with(marker)) return std::nullopt;
  const std::string_view digits = line.substr(marker.size());
  std::size_t state_bytes = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), state_bytes);
  if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // one spelling only
  const std::size_t state_end = file.size() - window + newline + 1;
  if (state_bytes > state_end) return std::nullopt;
  return embedded_state{state_end - state_bytes, file.substr(state_end - state_bytes, state_bytes)};
}

}  // namespace mailsim::queue
