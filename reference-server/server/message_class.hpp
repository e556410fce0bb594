// mailsim::server message class — the X-Mailsim-Class header field of mail submitted for
// remote delivery: it names the message class that picks the source-address pool
// (queue/delivery_engine.hpp source_pool), as PowerMTA's X-Virtual-MTA names a VMTA. The
// field is for this server only: it is taken out before the message is signed and stored.
//
// Contract of take_message_class(), a pure function:
// - It looks at the header section only: the lines up to the first empty line (or the whole
//   message when there is none). Lines end in CRLF or in a bare LF; both are handled.
// - A field is an X-Mailsim-Class field when its name, before the ':' (trailing spaces and
//   tabs ignored), equals "X-Mailsim-Class" ignoring case. Every such field is removed with
//   its folded continuation lines (lines that start with a space or tab); every other byte
//   of the message is kept as it is.
// - The class is the first such field's value, unfolded and with surrounding white space
//   trimmed, when it is a class name (queue/spool.hpp is_message_class), case kept. A
//   malformed first value gives no class; a second or later field is never used, even when
//   the first is malformed. Either case is described in `problem`, one text per message,
//   for the caller to log once.
// What it must not do: look into the body, or change anything but the removed lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::server {

// The name of the header field, as documented (docs/configuration.md, queue.source_pools).
inline constexpr std::string_view message_class_field = "X-Mailsim-Class";

struct message_class_scan {
  std::string name;                       // the class, or "" for none
  std::optional<std::string> stripped;    // the message without the fields, when any was found
  std::size_t fields = 0;                 // how many X-Mailsim-Class fields were removed
  std::string problem;                    // why a value was ignored, or ""
};

message_class_scan take_message_class(std::string_view message);

}  // namespace mailsim::server
