// mailsim::policy greylisting — the triplet greylist (client network, envelope sender,
// recipient) that defers the first delivery attempt and accepts a retry.
//
// Contract: check() decides for one RCPT at `now` and updates the table; nothing else reads
// a clock. The timeline of a triplet (postgrey's model, receiver-behaviour.md §1.6):
//   unknown (or forgotten)           → defer, reason first_seen, retry_after = delay
//   retried before first + delay     → defer, too_early (first sighting kept)
//   retried after first + window     → defer, window_expired: the triplet starts over
//   retried in [first+delay, first+window] → pass, retried: counts one pass for the client
//   passed before, seen within max_age → pass, known (last sighting refreshed)
//   passed before, idle over max_age → treated as unknown
// A client network that earned auto_whitelist_after passes (distinct triplets that passed
// the delay; 0 turns this off) passes at once (whitelisted) until it has been idle for
// max_age. Keys: the client's /24 (IPv6 /64) by default, or the exact address.
// Sender normalization (normalize_sender): lower case; BATV tags removed ("prvs=TAG=user@d",
// "msprvs1=TAG=user@d" → "user@d") and "+extension" removed (RFC 5233 subaddress, which
// VERP-style bounce addresses use), because both change from message to message while the
// triplet should outlive one message. Digits are left alone. The null sender stays empty.
// Recipients are only lower-cased.
// Bounds: entries_max triplets and clients_max client counters, least recently used evicted
// first (counted); with entries_max 0 nothing is remembered, so every RCPT is deferred.
// save()/load() give the table a line-based text form so that the server can keep it
// across restarts; the server does the file I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/policy/common.hpp"
#include "reference-server/policy/lru_table.hpp"

namespace mailsim::policy {

enum class greylist_key_mode { subnet, exact };

struct greylist_options {
  std::chrono::seconds delay{300};                    // postgrey --delay 300 s (§1.6)
  std::chrono::seconds retry_window{2 * 86'400};      // postgrey --retry-window 2 days (§1.6)
  std::chrono::seconds max_age{35 * 86'400};          // postgrey --max-age 35 days (§1.6)
  unsigned auto_whitelist_after = 5;                  // postgrey --auto-whitelist-clients 5
  greylist_key_mode key = greylist_key_mode::subnet;  // postgrey --lookup-by-subnet (/24)
  unsigned ipv4_prefix = 24;                          // postgrey (§1.6)
  unsigned ipv6_prefix = 64;                          // rspamd greylist IPv6 mask (§1.6)
  bool strip_batv = true;
  bool strip_extension = true;
  std::size_t entries_max = 100'000;  // triplets (about 200 bytes each)
  std::size_t clients_max = 10'000;   // auto-whitelist counters
  // postgrey's wire reply: "450 4.2.0 <rcpt>: Recipient address rejected: Greylisted, ..."
  // (§1.6); Barracuda-style receivers answer 451 4.7.1.
  int reply_code = 450;
  std::string reply_enhanced = "4.2.0";
  std::string reply_text = "Greylisted, please try again later";
};

enum class greylist_action { pass, defer };
enum class greylist_reason { first_seen, too_early, window_expired, retried, known, whitelisted };
const char* to_string(greylist_reason r);

struct greylist_verdict {
  greylist_action action = greylist_action::pass;
  greylist_reason reason = greylist_reason::known;
  std::chrono::seconds retry_after{0};  // defer: how long until a retry can pass
  reply_spec reply;                     // defer: "<rcpt>: Recipient address rejected: ..."

  bool passed() const { return action == greylist_action::pass; }
};

struct greylist_load_result {
  std::size_t loaded = 0;   // triplets and client counters
  std::size_t skipped = 0;  // malformed lines
  std::string error;        // the first problem ("line 3: ..."), empty when none
};

std::string normalize_sender(std::string_view sender, bool strip_batv = true,
                             bool strip_extension = true);

class greylist {
 public:
  explicit greylist(greylist_options options = {});

  greylist_verdict check(const core::ip_address& client, std::string_view sender,
                         std::string_view recipient, core::time_point now);

  // Forgets what can no longer matter at `now`: triplets past their retry window that never
  // passed, passed triplets and client counters idle over max_age. Returns how many.
  std::size_t purge(core::time_point now);

  std::size_t size() const { return triplets_.size(); }
  std::size_t clients() const { return clients_.size(); }
  std::size_t evictions() const { return triplets_.evictions() + clients_.evictions(); }
  const greylist_options& options() const { return options_; }

  // Text form, oldest entries first: a header line, then "T <net> <sender> <rcpt> <first_ms>
  // <last_ms> <passed>" and "C <net> <passes> <last_ms>" lines (fields percent-encoded, the
  // empty sender as "<>"). load() adds to the table; it refuses a text without the header.
  void save(std::string& out) const;
  greylist_load_result load(std::string_view text);

 private:
  struct triplet {
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    bool passed = false;
  };
  struct client {
    std::uint32_t passes = 0;
    std::int64_t last_ms = 0;
  };

  greylist_verdict defer(greylist_reason reason, std::chrono::seconds left,
                         std::string_view recipient) const;
  bool whitelisted(const std::string& net, std::int64_t now_ms);
  void count_pass(const std::string& net, std::int64_t now_ms);
  bool load_line(std::string_view line, std::string& error);

  greylist_options options_;
  lru_table<triplet> triplets_;
  lru_table<client> clients_;
};

}  // namespace mailsim::policy
