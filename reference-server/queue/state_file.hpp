// mailsim::queue state files — the text form of one queued message's envelope and recipient
// state, as file_spool keeps it in state/<id>.
//
// Contract: encode_state() and decode_state() are pure; decode_state(encode_state(m))
// gives m back (see "What is not kept"). decode_state() never throws and refuses anything
// that is not exactly a complete file of a known version: a truncated file, a flipped bit,
// an unknown or repeated field, a malformed value each give an error naming the line.
//
// Format (version 1): UTF-8 text, one "key value" per line, LF line ends, readable with
// `cat`. The value is the rest of the line after the first space; in it '%', control
// characters (below 0x20, and 0x7F) are written as %XX (upper-case hex), and in addresses
// '@' too, so that a value is always one line and an address splits at its one '@'.
// Times are milliseconds since the Unix epoch; flags are 0 or 1.
//
//   mailsim-queue-state 1          the version; another number is refused
//   id 018bcfe5680000004f3a2b1c    the file's name
//   queued-at 1700000000000
//   size 52341                     bytes of msg/<id>
//   from alice@example.com         the reverse path; "<>" for the null path
//   helo client.example            optional
//   esmtp 1
//   tls 1
//   body 8bitmime                  7bit, 8bitmime or binarymime
//   smtputf8 0
//   ret hdrs                       unspecified, full or hdrs
//   envid QQ314159                 optional, xtext as received
//   declared-size 52000            optional
//   auth-user alice                optional
//   received-from dns; c.example (192.0.2.7)   optional
//   class bulk                     optional: the message class (spool.hpp is_message_class;
//                                  any other value is refused); files without it: none
//   message-sum 3f09c1d2a4b5e6f7   optional: message_checksum() of msg/<id>, 16 hex digits
//   rcpt bob@example.org           a recipient; the keys below, up to the next rcpt, are its
//   notify failure,delay           optional: never, or any of success, failure, delay
//   orcpt rfc822;bob@example.org   optional, as received
//   state pending                  pending, delivered, relayed or failed
//   attempts 2
//   next-attempt 1700000600000
//   last-attempt 1700000300000     optional
//   status 4.7.1                   optional: the last outcome's RFC 3463 code
//   reply-code 451                 optional: the server's last reply …
//   reply-enhanced 4.7.1           … its enhanced code, optional
//   reply-line Greylisted          … and each of its lines, zero or more
//   remote-mta mx.example.org      optional
//   remote-address 192.0.2.25      optional
//   diagnostic connection refused  optional
//   delay-warning-sent 1           optional, written when 1
//   dsn-sent 1                     optional, written when 1
//   end 5b7e03a1c4d2f690           FNV-1a 64 of every byte before this line, 16 hex digits
//
// Why a checksum line rather than a length: it ends the file, so a file cut anywhere has no
// valid one, and it also catches bytes changed in place (a bad sector, an editor); FNV-1a
// is not cryptographic, which is not needed here. Field order is fixed on output; on input
// only the message fields must come before the first rcpt.
//
// What is not kept: a path's source route (dropped on receipt anyway, RFC 5321 §4.1.2) and
// whether its local part was written quoted (smtp::mailbox::to_string() quotes again when
// needed); `utf8` is recomputed from the bytes; a message_class that is not a class name
// (spool::enqueue never stores one) is left out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reference-server/queue/spool.hpp"

namespace mailsim::queue {

std::string encode_state(const queued_message& entry);

struct state_decode {
  std::optional<queued_message> value;
  std::string error;  // "line 7: …" when value is empty
};
state_decode decode_state(std::string_view text);

// FNV-1a 64 of `first` followed by `second` (the trace and the message as stored), the value
// of the "message-sum" field.
std::uint64_t message_checksum(std::string_view first, std::string_view second);

}  // namespace mailsim::queue
