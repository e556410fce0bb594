// A small hand-built recorder whose every total is known, shared by the metrics tests.
//
// Records (provider, sender, outcome, placement, delay, attempts, deferrals):
//   0 gmail-like a delivered inbox 60s    1 0   code 250 2.0.0 ip .10 valid
//   1 gmail-like a delivered inbox 120s   1 0
//   2 gmail-like a delivered junk  750s   2 1
//   3 gmail-like a bounced 5.1.1 (550)    1 0   kind unknown
//   4 yahoo-like b delivered inbox 3600s  3 2   ip .11
//   5 yahoo-like b delivered trap  30s    1 0   kind pristine_trap, trap hit
//   6 yahoo-like b bounced 5.7.1 (554)    1 0   ip .11
//   7 yahoo-like b expired 4.4.7 (421)    5 5   ip .11
//   8 (none)     a pending                0 0   other.example
//   9 gmail-like b delivered inbox 10s    1 0   complained
// Series: gmail-like/.10 3 connections day 0, 4 accepted "250 2.0.0", 2 deferred
// "421 4.7.28" day 0, 1 deferred "451 4.7.1" day 1; yahoo-like/.11 2 connections, 2 rejected
// "550 5.7.1", 1 rejected "550 5.1.1". Listing: 198.51.100.11 in zen.dnsbl.sim after 3d4h.
#pragma once

#include <chrono>
#include <string>

#include "simulator/metrics/recorder.hpp"

namespace mailsim::sim::metrics::testing {

inline core::time_point sample_start() {
  return core::time_point{std::chrono::seconds{1'700'000'000}};
}

struct record_spec {
  const char* provider;
  const char* domain;
  const char* sender;
  fate outcome;
  placement placed;
  long long delay_s;
  unsigned attempts;
  unsigned deferrals;
  int code;
  const char* status;
  const char* ip;
  const char* kind;
};

inline message_record make_record(std::uint64_t n, const record_spec& s) {
  message_record r;
  r.message = n;
  r.provider = s.provider;
  r.domain = s.domain;
  r.sender = s.sender;
  r.from = std::string(s.sender) + "@sender.example";
  r.recipient = "user" + std::to_string(n) + "@" + s.domain;
  r.kind = s.kind;
  r.queued_at = sample_start() + std::chrono::hours(n);
  if (s.outcome != fate::pending) r.final_at = r.queued_at + std::chrono::seconds(s.delay_s);
  r.outcome = s.outcome;
  r.placed = s.placed;
  r.code = s.code;
  r.status = s.status;
  r.ip = s.ip;
  r.attempts = s.attempts;
  r.deferrals = s.deferrals;
  r.trap_hit = s.placed == placement::trap;
  return r;
}

inline recorder sample_recorder() {
  constexpr const char* ip10 = "198.51.100.10";
  constexpr const char* ip11 = "198.51.100.11";
  const record_spec specs[] = {
      {"gmail-like", "gmail.test", "a", fate::delivered, placement::inbox, 60, 1, 0, 250, "2.0.0",
       ip10, "valid"},
      {"gmail-like", "gmail.test", "a", fate::delivered, placement::inbox, 120, 1, 0, 250, "2.0.0",
       ip10, "valid"},
      {"gmail-like", "gmail.test", "a", fate::delivered, placement::junk, 750, 2, 1, 250, "2.0.0",
       ip10, "valid"},
      {"gmail-like", "gmail.test", "a", fate::bounced, placement::none, 5, 1, 0, 550, "5.1.1", ip10,
       "unknown"},
      {"yahoo-like", "yahoo.test", "b", fate::delivered, placement::inbox, 3600, 3, 2, 250, "2.0.0",
       ip11, "valid"},
      {"yahoo-like", "yahoo.test", "b", fate::delivered, placement::trap, 30, 1, 0, 250, "2.0.0",
       ip11, "pristine_trap"},
      {"yahoo-like", "yahoo.test", "b", fate::bounced, placement::none, 7, 1, 0, 554, "5.7.1", ip11,
       "valid"},
      {"yahoo-like", "yahoo.test", "b", fate::expired, placement::none, 432000, 5, 5, 421, "4.4.7",
       ip11, "valid"},
      {"", "other.example", "a", fate::pending, placement::none, 0, 0, 0, 0, "", "", "valid"},
      {"gmail-like", "gmail.test", "b", fate::delivered, placement::inbox, 10, 1, 0, 250, "2.0.0",
       ip10, "valid"},
  };
  recorder rec(sample_start());
  std::uint64_t n = 0;
  for (const record_spec& s : specs) rec.add(make_record(n++, s));
  rec.at(9).complained = true;

  const core::time_point day0 = sample_start() + std::chrono::hours(2);
  const core::time_point day1 = sample_start() + std::chrono::hours(30);
  for (int i = 0; i < 3; ++i) rec.count("gmail-like", ip10, day0, counter::connection);
  for (int i = 0; i < 4; ++i) rec.count("gmail-like", ip10, day0, counter::accepted, "250 2.0.0");
  for (int i = 0; i < 2; ++i) rec.count("gmail-like", ip10, day0, counter::deferred, "421 4.7.28");
  rec.count("gmail-like", ip10, day1, counter::deferred, "451 4.7.1");
  for (int i = 0; i < 2; ++i) rec.count("yahoo-like", ip11, day0, counter::connection);
  for (int i = 0; i < 2; ++i) rec.count("yahoo-like", ip11, day0, counter::rejected, "550 5.7.1");
  rec.count("yahoo-like", ip11, day1, counter::rejected, "550 5.1.1");
  rec.listed("zen.dnsbl.sim", ip11, sample_start() + std::chrono::hours(76), "3 trap hits in 24h");
  return rec;
}

}  // namespace mailsim::sim::metrics::testing
