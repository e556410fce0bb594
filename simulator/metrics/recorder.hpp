// mailsim::sim::metrics recorder — what happened in a run: one record per (message,
// recipient), per-day counters per receiver and sending IP, and DNSBL listings.
//
// Contract: the world writes facts as they happen (the sender side: attempts, deferrals and
// the final SMTP outcome; the receiver side: where an accepted message was placed, trap hits,
// complaints); expectations (expect.hpp) and reports (report.hpp) read them afterwards.
// Plain data and counting, no I/O, no clock: every fact carries its virtual time. Records
// keep the order they were added in (ids are indexes), so reports are deterministic.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "reference-server/core/clock.hpp"

namespace mailsim::sim::metrics {

// The sender's view: the SMTP outcome.
enum class fate { pending, delivered, bounced, expired };
// The receiver's view: what it did with an accepted message.
enum class placement { none, inbox, junk, trap, bounce_later };

const char* to_string(fate f);
const char* to_string(placement p);

struct message_record {
  std::uint64_t message = 0;  // the workload's message number (Message-ID <mN@domain>)
  std::string sender;         // sender name
  std::string from;           // reverse path
  std::string recipient;
  std::string domain;         // the recipient's domain
  std::string provider;       // the receiving provider; empty for a domain outside the world
  std::string kind;           // valid, unknown, disabled, full, bounce_later, pristine_trap,
                              // recycled_trap, catch_all, invalid, typo
  core::time_point queued_at{};
  std::optional<core::time_point> final_at;  // delivered, bounced or expired
  fate outcome = fate::pending;
  placement placed = placement::none;
  int code = 0;          // last SMTP reply code seen for this recipient (0: none)
  std::string status;    // its enhanced status (or the engine's, e.g. 4.4.7)
  std::string ip;        // sending IP of the last attempt
  std::uint32_t attempts = 0;
  std::uint32_t deferrals = 0;
  bool trap_hit = false;
  bool complained = false;
  bool bounce_returned = false;  // a later DSN (accept-then-bounce) reached the sender
};

// Per day (since the run's start), provider and sending IP.
struct series_key {
  std::string provider;
  std::string ip;
  std::int64_t day = 0;
  auto operator<=>(const series_key&) const = default;
};

// The order of series keys, also between a key and (provider, ip, day) views of one: a count
// finds its series without building a key (counting is on every reply of a run).
struct series_order {
  using is_transparent = void;
  using view = std::tuple<std::string_view, std::string_view, std::int64_t>;
  static view of(const series_key& k) { return {k.provider, k.ip, k.day}; }
  static const view& of(const view& v) { return v; }
  bool operator()(const auto& a, const auto& b) const { return of(a) < of(b); }
};

// Hash of a series_order::view, for the recorder's index of its series.
struct series_view_hash {
  std::size_t operator()(const series_order::view& v) const;
};

struct series_counts {
  std::size_t connections = 0;
  std::size_t accepted = 0;    // messages × recipients accepted
  std::size_t deferred = 0;    // 4xx replies
  std::size_t rejected = 0;    // 5xx replies
  std::size_t trap_hits = 0;
  std::size_t complaints = 0;
  std::map<std::string, std::size_t> by_reply;  // "421 4.7.28" → count
};

struct listing {
  std::string zone;
  std::string subject;  // the listed IP
  core::time_point listed_at{};
  std::optional<core::time_point> delisted_at;
  std::string reason;   // e.g. "3 trap hits in 24h"
};

enum class counter { connection, accepted, deferred, rejected, trap_hit, complaint };

class recorder {
 public:
  explicit recorder(core::time_point start = {}) : start_(start) {}
  // A copy indexes its own series (the index points into the ordered map's nodes); a move
  // keeps the nodes, and so the index.
  recorder(const recorder& other);
  recorder& operator=(const recorder& other);
  recorder(recorder&&) noexcept = default;
  recorder& operator=(recorder&&) noexcept = default;
  ~recorder() = default;

  core::time_point start() const { return start_; }
  // Adds a record; returns its id (index into records()).
  std::size_t add(message_record r);
  message_record& at(std::size_t id) { return records_.at(id); }
  const std::vector<message_record>& records() const { return records_; }
  // The record of (message, recipient), if any; recipients compare case-insensitively.
  std::optional<std::size_t> find(std::uint64_t message, const std::string& recipient) const;

  // Counts one event in the (provider, ip, day of `at`) series; `reply` ("421 4.7.28") is
  // counted in by_reply when not empty.
  void count(const std::string& provider, const std::string& ip, core::time_point at,
             counter what, const std::string& reply = {});
  const std::map<series_key, series_counts, series_order>& series() const { return series_; }

  void listed(const std::string& zone, const std::string& subject, core::time_point at,
              std::string reason);
  void delisted(const std::string& zone, const std::string& subject, core::time_point at);
  const std::vector<listing>& listings() const { return listings_; }
  // Whether `subject` was ever listed in `zone` during the run.
  bool ever_listed(const std::string& zone, const std::string& subject) const;

 private:
  core::time_point start_;
  std::vector<message_record> records_;
  // message number → ids of its records (a message has a record per recipient): find()
  // compares recipients in place instead of building a lower-cased key.
  std::unordered_multimap<std::uint64_t, std::size_t> index_;
  std::map<series_key, series_counts, series_order> series_;
  // The same series by hash (views into series_' keys, which never move): count() is on
  // every reply of a run, and a walk down the ordered map compared strings at every level.
  std::unordered_map<series_order::view, series_counts*, series_view_hash> series_index_;
  std::vector<listing> listings_;
};

}  // namespace mailsim::sim::metrics
