// mailsim::core mailbox_entry — one message as a mailbox lists it (IMAP and POP3 views).
//
// Why here: the store (L2) keeps these and the IMAP session (L1) reads them; one type for
// both lets the server hand the store's view to a session without copying it (a SELECT of
// 10,000 messages would otherwise copy 10,000 entries twice). Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailsim::core {

struct mailbox_entry {
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::uint8_t flags = 0;              // \Draft 1, \Flagged 2, \Answered 4, \Seen 8, \Deleted 16
  std::vector<std::string> keywords;   // IMAP keywords, as the client spelled them, sorted
  std::uint64_t size_bytes = 0;        // the message as stored (CRLF lines)
  std::int64_t internal_date_ms = 0;   // delivery or APPEND time, ms since the epoch
};

}  // namespace mailsim::core
