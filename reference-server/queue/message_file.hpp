// mailsim::queue message files — the layout of file_spool's msg/<id>, which carries the
// message's first state after its bytes so that a message delivered at its first attempt
// costs one file, as a Postfix queue file does.
//
// Layout (written once, at enqueue, never changed):
//   <trace><message>            size_bytes of the state: what delivery sends
//   <state>                     encode_state() of the message as it was queued
//   mailsim-embedded-state N\n  N = bytes of <state>; always the file's last line
// Files written before this layout existed hold <trace><message> alone; their state is in
// state/<id>. A state file, once written (the first update), overrides the embedded state.
//
// Contract: pure functions over bytes in memory. find_embedded_state() finds the last line
// and the state it announces, without decoding the state (decode_state() checks it, its
// checksum line included). A file cut anywhere before its last byte has no valid last line,
// which is how recover() tells a write that never finished from one that did.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/queue/spool.hpp"

namespace mailsim::queue {

// What follows the message in a new msg/<id>: the state and the announcing last line.
std::string embedded_state_tail(const queued_message& entry);

struct embedded_state {
  std::size_t message_bytes = 0;  // <trace><message> come first, this many bytes
  std::string_view state;         // the state text, a view into the file's bytes
};

// The embedded state of a file's bytes, or nullopt when its last line is not one (a file
// of the older layout, or one cut short).
std::optional<embedded_state> find_embedded_state(std::string_view file);

}  // namespace mailsim::queue
