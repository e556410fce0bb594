// Test helper: one readable line for a parsed IMAP command, so that parser tables stay short.
#pragma once

#include <string>

#include "reference-server/imap/command.hpp"
#include "reference-server/imap/command_reader.hpp"

namespace mailsim::imap::test {

std::string describe(const command& cmd);
// A command from its wire form: "{N}\r\n" markers become literal segments (no limits).
command_text frame(std::string_view wire);

}  // namespace mailsim::imap::test
