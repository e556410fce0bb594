// mailsim::sim::world reputation — what one receiving provider thinks of its senders:
// per sending IP, per /24 and per DKIM (or MAIL FROM) domain, from the history it has seen.
//
// Contract: pure bookkeeping on virtual time (`now` passed in), no I/O, no randomness.
// History counts per day: messages accepted, unknown-recipient attempts, trap hits,
// complaints. From it:
// - a daily cap per IP (warm-up): a new IP may send `new_ip_daily_cap` messages on its first
//   day; each later day with a good history multiplies yesterday's cap by `cap_growth`
//   (bad days do not grow it; 0 cap: no cap);
// - a score in [0, 1] per key (1: spotless) from bounce rate, trap hits and complaint rate
//   over the last `history_days` (completed days only, by default), the worst of IP, /24 and domain deciding;
// - a verdict: over today's cap → defer; score below reject_below → reject; below
//   junk_below → accept into Junk; else accept.
// Receivers ask check() before each message and report what happened with the note_*()
// calls. Defaults are documented beside each setting; provider profiles override them.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "reference-server/core/clock.hpp"

namespace mailsim::sim::world {

struct reputation_settings {
  std::size_t new_ip_daily_cap = 0;   // messages on an IP's first day; 0: no cap
  double cap_growth = 2.0;            // × per good day
  std::size_t history_days = 30;
  double bounce_rate_bad = 0.05;      // unknown-recipient share that makes a day bad
  double complaint_rate_bad = 0.003;  // complaints per accepted message (0.3 %: Gmail's line)
  std::size_t trap_hits_bad = 1;      // trap hits in a day that make it bad
  double junk_below = 0.6;     // one signal at about 0.8× its line
  double reject_below = 0.1;   // one signal at 3× its line
  // Judge the score on completed days only (true), as providers recompute reputation once
  // a day, or on today's traffic as well (false: a bad sender is caught within the day).
  bool completed_days_only = true;
};

struct reputation_verdict {
  enum class action { accept, defer, reject };
  action what = action::accept;
  bool junk = false;
  double score = 1.0;
  std::string reason;  // why it is not a plain accept ("daily cap 500 reached", "score 0.2")
};

class reputation_book {
 public:
  reputation_book(reputation_settings settings, core::time_point start);
  ~reputation_book();
  reputation_book(const reputation_book&) = delete;
  reputation_book& operator=(const reputation_book&) = delete;

  // Before a message from `ip` (whose authenticated domain is `domain`, may be empty).
  reputation_verdict check(const std::string& ip, const std::string& domain,
                           core::time_point now) const;
  void note_accepted(const std::string& ip, const std::string& domain, core::time_point now);
  void note_unknown_recipient(const std::string& ip, const std::string& domain,
                              core::time_point now);
  void note_trap_hit(const std::string& ip, const std::string& domain, core::time_point now);
  void note_complaint(const std::string& ip, const std::string& domain, core::time_point now);

  // Today's cap for `ip` (0: none) and its score.
  std::size_t daily_cap(const std::string& ip, core::time_point now) const;
  double score(const std::string& key, core::time_point now) const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mailsim::sim::world
