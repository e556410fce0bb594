// mailsim::pop3 maildrop — what a POP3 session needs from a mailbox, as an interface.
//
// Contract: the session (session.hpp) opens the authenticated user's maildrop once, after
// AUTHORIZATION succeeds, and sees a fixed list of messages for the whole session (RFC 1939
// §5: message numbers never change within a session). The driver implements this over the
// durable store (reference-server/server); tests implement it in memory. Implementations own
// the maildrop lock (RFC 1939 §8: one POP3 session per maildrop at a time): open() fails with
// status::in_use while another session holds it, and the lock is released when the maildrop
// object is destroyed. Nothing is removed before commit(): DELE only marks, QUIT commits
// (UPDATE state), a dropped connection commits nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::pop3 {

struct drop_message {
  std::uint64_t size_bytes = 0;  // exact octets RETR sends before byte-stuffing (CRLF lines)
  std::string uid;               // UIDL: 1-70 octets 0x21-0x7E, stable across sessions
};

class maildrop {
 public:
  virtual ~maildrop() = default;
  // The messages present when the maildrop was opened, message number i+1 at index i.
  virtual const std::vector<drop_message>& messages() const = 0;
  // The whole message (header and body, CRLF line ends). False when it can no longer be
  // read (e.g. removed by another program): the session answers -ERR and goes on.
  virtual bool read(std::size_t index, std::string& out) = 0;
  // Removes the messages at these indexes (UPDATE state); false when not every removal
  // became durable (the session then answers -ERR to QUIT, RFC 1939 §6).
  virtual bool commit(const std::vector<std::size_t>& deleted) = 0;
};

enum class open_status { ok, in_use, failed };

struct open_result {
  open_status status = open_status::failed;
  std::unique_ptr<maildrop> drop;  // set when status is ok
};

// Opens maildrops by authenticated user name ("local@domain").
class maildrop_opener {
 public:
  virtual ~maildrop_opener() = default;
  virtual open_result open(std::string_view user) = 0;
};

}  // namespace mailsim::pop3
