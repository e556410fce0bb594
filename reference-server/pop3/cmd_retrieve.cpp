// RETR and TOP (RFC 1939 §7 and §8): multi-line answers, byte-stuffed, ending in ".".
#include <string>

#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {

std::optional<std::string> session::impl::read_message(std::size_t index) {
  std::string text;
  if (!drop->read(index, text)) {
    // RFC 3206 §4: the failure is the server's and may pass; the session goes on.
    err("[SYS/TEMP] message " + std::to_string(index + 1) + " cannot be read");
    return std::nullopt;
  }
  return text;
}

void session::impl::cmd_retr(impl& s, const command_line& cmd) {
  std::optional<std::size_t> index = s.single_message_arg(cmd);
  if (!index) return;
  std::optional<std::string> text = s.read_message(*index);
  if (!text) return;
  s.ok(std::to_string(s.drop->messages()[*index].size_bytes) + " octets");
  append_stuffed(s.self.output_, *text);
  s.self.output_ += ".\r\n";
  ++s.self.stats_.messages_retrieved;
}

void session::impl::cmd_top(impl& s, const command_line& cmd) {
  if (!s.in_state(state::transaction)) return;
  if (!cmd.well_formed || cmd.args.size() != 2) {
    s.client_error(syntax_text);
    return;
  }
  // The line count is checked before the message number is used, so that a bad TOP never
  // reads a message. A count beyond the body is fine (the whole body is sent).
  std::optional<std::uint64_t> lines = parse_decimal(cmd.args[1]);
  if (!lines) {
    s.client_error("invalid line count");
    return;
  }
  std::optional<std::size_t> index = s.message_index(cmd.args[0]);
  if (!index) return;
  std::optional<std::string> text = s.read_message(*index);
  if (!text) return;
  s.ok("top of message follows");
  append_stuffed(s.self.output_, top_of(*text, *lines));
  s.self.output_ += ".\r\n";
}

}  // namespace mailsim::pop3
