// mailsim::store quota — how full a mailbox is, and whether one more message fits.
//
// Contract: decide_quota() is the rule; usage_cache keeps per-user usage in bytes between
// the first scan of a Maildir and later deliveries. The cache is safe to use from several
// threads (the SMTP session asks at RCPT while the delivery worker adds). Usage is advisory,
// as in Dovecot: a message delivered while the first scan of its mailbox runs may be missed,
// and removals by other programs are seen only after forget() (IMAP EXPUNGE, POP3 DELE call
// it). Nothing here reads the file system; the Maildir store does the scanning.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::store {

enum class quota_state {
  ok,              // the message fits (or the user has no quota)
  full,            // usage already at or above quota: 452 4.2.2 at RCPT (RFC 3463 §3.3)
  would_overflow,  // usage + message above quota: 552 5.2.2 after DATA (RFC 3463 §3.3)
};

// quota_bytes 0 means unlimited.
quota_state decide_quota(std::uint64_t usage_bytes, std::uint64_t quota_bytes,
                         std::uint64_t message_bytes);

class usage_cache {
 public:
  // The cached usage, or the result of `scan` (cached from then on) on first use.
  std::uint64_t get(std::string_view user, const std::function<std::uint64_t()>& scan);
  // Adds a delivery to a user whose usage is known; unknown users are scanned later anyway.
  void add(std::string_view user, std::uint64_t bytes);
  void forget(std::string_view user);

 private:
  std::mutex mutex_;
  std::map<std::string, std::uint64_t, std::less<>> bytes_;
};

}  // namespace mailsim::store
