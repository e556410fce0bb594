// The TRANSACTION state's listing and marking commands (RFC 1939 §5): STAT, LIST, UIDL,
// DELE, RSET, NOOP. A message marked deleted is invisible: absent from listings and an
// error when named.
#include <string>

#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {

std::optional<std::size_t> session::impl::message_index(std::string_view arg) {
  std::optional<std::uint64_t> number = parse_decimal(arg);
  if (!number) {
    client_error("invalid message number");
    return std::nullopt;
  }
  if (*number == 0 || *number > deleted.size()) {
    client_error("no such message");
    return std::nullopt;
  }
  auto index = static_cast<std::size_t>(*number - 1);
  if (deleted[index]) {
    client_error("message " + std::to_string(*number) + " already deleted");
    return std::nullopt;
  }
  return index;
}

std::optional<std::size_t> session::impl::single_message_arg(const command_line& cmd) {
  if (!in_state(state::transaction)) return std::nullopt;
  if (!cmd.well_formed || cmd.args.size() != 1) {
    client_error(syntax_text);
    return std::nullopt;
  }
  return message_index(cmd.args[0]);
}

std::size_t session::impl::live_count() const {
  std::size_t n = 0;
  for (bool gone : deleted) n += gone ? 0 : 1;
  return n;
}

std::uint64_t session::impl::live_bytes() const {
  std::uint64_t n = 0;
  const auto& messages = drop->messages();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!deleted[i]) n += messages[i].size_bytes;
  }
  return n;
}

void session::impl::cmd_stat(impl& s, const command_line& cmd) {
  if (!s.in_state(state::transaction)) return;
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
    return;
  }
  s.ok(std::to_string(s.live_count()) + " " + std::to_string(s.live_bytes()));
}

namespace {

std::string size_of(const drop_message& m) {
  return std::to_string(m.size_bytes);
}
std::string uid_of(const drop_message& m) {
  return m.uid;
}

}  // namespace

// LIST and UIDL share their shape: with an argument one line, without a multi-line list of
// every message that is not marked deleted.
void session::impl::listing(impl& s, const command_line& cmd, field_fn field) {
  if (!s.in_state(state::transaction)) return;
  if (!cmd.well_formed || cmd.args.size() > 1) {
    s.client_error(syntax_text);
    return;
  }
  const auto& messages = s.drop->messages();
  if (cmd.args.size() == 1) {
    std::optional<std::size_t> index = s.message_index(cmd.args[0]);
    if (index) s.ok(std::to_string(*index + 1) + " " + field(messages[*index]));
    return;
  }
  s.ok(std::to_string(s.live_count()) + " messages (" + std::to_string(s.live_bytes()) +
       " octets)");
  std::string& out = s.self.output_;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!s.deleted[i]) out += std::to_string(i + 1) + " " + field(messages[i]) + "\r\n";
  }
  out += ".\r\n";
}

void session::impl::cmd_list(impl& s, const command_line& cmd) {
  listing(s, cmd, &size_of);
}
void session::impl::cmd_uidl(impl& s, const command_line& cmd) {
  listing(s, cmd, &uid_of);
}

void session::impl::cmd_dele(impl& s, const command_line& cmd) {
  std::optional<std::size_t> index = s.single_message_arg(cmd);
  if (!index) return;
  s.deleted[*index] = true;
  s.ok("message " + std::to_string(*index + 1) + " deleted");
}

void session::impl::cmd_rset(impl& s, const command_line& cmd) {
  if (!s.in_state(state::transaction)) return;
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
    return;
  }
  s.deleted.assign(s.deleted.size(), false);
  s.ok("maildrop has " + std::to_string(s.live_count()) + " messages (" +
       std::to_string(s.live_bytes()) + " octets)");
}

void session::impl::cmd_noop(impl& s, const command_line& cmd) {
  if (!s.in_state(state::transaction)) return;
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
    return;
  }
  s.ok("");
}

}  // namespace mailsim::pop3
