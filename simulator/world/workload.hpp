// mailsim::sim::world workload — the mail a world's senders are asked to send: when each
// message is due, to whom, and its bytes.
//
// Contract: generated lazily. A workload keeps one scheduler event pending at a time (the
// next message), builds each message's recipients when it falls due and hands it to its
// sink; nothing is built ahead, so a 1 M-message run holds neither 1 M events nor 1 M
// messages. Volume:
// - `total` messages spread evenly over `over` from `start` (message i at
//   start + over × i / total);
// - or `per_day` messages a day from `start` until stop(): flat (evenly over 24 h) or
//   business-hours (evenly over 09:00–17:00 UTC, Monday to Friday; other days send none).
// Recipients: the addresses of the chosen populations ("all", provider names or domains;
// traps only with include_traps) in an order shuffled once with the workload's seeded
// stream, taken in turn (and again from the top when exhausted). Each recipient slot is,
// with probability `invalid`, an address that exists at no mailbox of a chosen domain
// (kind "invalid"), with probability `typo_domains` an address at a typo of a chosen domain
// (gmail.sim → gmial.sim; kind "typo" unless the typo is itself a world domain, then that
// domain's kind), with probability `role` one of the chosen domains' role mailboxes
// (postmaster@gmail.sim; kind "role"), else the next address of the list. Randomness comes only from the stream
// given; the message numbers from a counter shared by the world's workloads.
// build_message() writes the bytes: From, To, Subject, Date (virtual time, RFC 5322 §3.3),
// Message-ID <mN@sender-domain> (N: the message number, the recorder's key) and
// X-Mailsim-Score headers, and a body that brings the message to size_bytes; a template
// text keeps its own headers and body, gets the missing headers added, and always gets the
// world's Message-ID and X-Mailsim-Score (the receivers find records by them).
// Errors in the spec (an unknown provider or domain in from_world, nothing to send to)
// throw std::invalid_argument naming the workload's file:line.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/world/receiver.hpp"
#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

// What a workload may send to: one provider's domains and generated addresses.
struct population_view {
  std::string provider;
  std::vector<std::string> domains;
  const std::vector<mailbox_entry>* population = nullptr;  // outlives the workload
  // The kind of any address at one of the domains (catch-all domains answer "catch_all").
  std::function<std::optional<std::string>(const std::string&)> kind_of;
  std::vector<std::string> roles;  // role local parts that exist at every one of the domains
};

struct recipient_pick {
  std::string address;
  std::string domain;
  std::string provider;  // empty outside the world (typo domains)
  std::string kind;
};

// One message the workload wants sent.
struct outgoing_message {
  std::uint64_t number = 0;  // Message-ID <mN@...>
  std::string from;          // the reverse path
  std::vector<recipient_pick> recipients;
  core::time_point created_at{};
  const message_spec* content = nullptr;  // owned by the workload; outlives the message
};

// When message `index` (0-based) of a volume is due, as an offset from the run's start, or
// nullopt when the volume has no such message. `run_start` places business hours in UTC.
std::optional<core::duration_ms> message_offset(const volume_spec& volume, std::uint64_t index,
                                                core::time_point run_start);

// The message's bytes, CRLF line ends.
std::string build_message(const outgoing_message& m, const std::string& sender_domain);
// RFC 5322 §3.3 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string rfc5322_date(core::time_point t);
// A typo of a domain: two letters of its first label swapped (gmail.sim → gmial.sim).
std::string typo_of(const std::string& domain);

class workload {
 public:
  using sink = std::function<void(outgoing_message)>;

  // `worlds`: every provider of the world; `counter`: the next message number, shared.
  workload(const workload_spec& spec, scheduler& sched, prng random,
           const std::vector<population_view>& worlds, std::uint64_t& counter, sink out);
  ~workload();
  workload(const workload&) = delete;
  workload& operator=(const workload&) = delete;

  // Schedules the first message; offsets count from `run_start`.
  void start(core::time_point run_start);
  // No more messages.
  void stop();
  std::uint64_t generated() const { return generated_; }
  // The chosen recipient list, in its shuffled order (for tests).
  std::vector<recipient_pick> recipients() const;

 private:
  // One address of the list: provider (index into worlds_) and entry of its population,
  // so that a list of millions of mailboxes costs 16 bytes each.
  struct listed {
    std::size_t world = 0;
    std::size_t entry = 0;
  };

  void choose();
  recipient_pick at(const listed& l) const;
  void schedule_next();
  void emit();
  recipient_pick pick();
  recipient_pick invalid_address();
  recipient_pick typo_address();
  recipient_pick role_address();
  recipient_pick classify(std::string address, const std::string& domain);

  workload_spec spec_;
  scheduler& sched_;
  prng random_;
  std::uint64_t& counter_;
  sink out_;
  std::vector<listed> list_;
  std::vector<std::string> domains_;  // the chosen domains
  std::vector<recipient_pick> roles_;  // the chosen domains' role mailboxes
  std::vector<population_view> worlds_;  // every provider
  std::size_t next_ = 0;
  std::uint64_t generated_ = 0;
  std::uint64_t strangers_ = 0;  // numbers invalid and typo local parts
  core::time_point run_start_{};
  core::timer_id timer_ = 0;
  bool running_ = false;
};

}  // namespace mailsim::sim::world
