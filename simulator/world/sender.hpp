// mailsim::sim::world sender — one sending organisation of the world: the reference server's
// queue::delivery_engine over a queue::memory_spool, unchanged, on the scheduler, leaving
// from the sender's IPs over the virtual network and routing by the world's DNS (MX).
//
// Contract: engine settings come from the sender spec — EHLO name (helo), one source pool
// rotating over the IPs, the retry profile (postfix, exim, fixed, list; lifetime override),
// connections_max and messages_per_connection per destination; routes ask only for the
// address families the sender has (an IPv4-only sender never asks AAAA). Reports (DSNs) are accepted
// at once by a sink that says done(true) on the next turn. submit() records each (message,
// recipient) in the recorder (kind, provider, queued_at = now) and enqueues the message, or,
// under a warm-up schedule, holds it while today's cap (start_per_day × growth^day, days
// counted from `run_start`) is used up and releases it, in order, at the next day's start.
// The engine's events update the records: attempts, deferrals, the last reply code and
// enhanced status, the sending IP (the engine's event source: the address the attempt's
// connection was bound to; kept from an earlier attempt when one made no connection), and the
// final fate — delivered or relayed → delivered; failed → bounced, or expired when the
// status is 4.4.7 — with final_at. Trace source: the sender's name. No OS clock, no real
// randomness (the engine draws from the prng it is given).
// DKIM: a sender whose spec has dkim signs every message (reference-server/auth's signer,
// relaxed/relaxed, t= from the virtual clock) with a key made by make_dkim_key() from a
// seeded stream, whose record the world publishes at <selector>._domainkey.<domain>.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/core/resolver.hpp"
#include "reference-server/core/string_hash.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/spec.hpp"
#include "simulator/world/workload.hpp"

namespace mailsim::sim::world {

// The retry profile a spec names; std::invalid_argument (naming `where`) when it is unknown
// or malformed.
queue::retry_profile retry_profile_of(const retry_spec& spec, const source_ref& where);

// The sender's DKIM key (Ed25519, or RSA 2048 for "rsa-sha256"), drawn from `random`;
// nullopt when the spec has no dkim. std::invalid_argument for an unknown algorithm.
std::optional<auth::private_key> make_dkim_key(const sender_spec& spec, core::random_source& random);
// "<selector>._domainkey.<domain>" (RFC 6376 §3.6.2.1).
std::string dkim_record_name(const sender_spec& spec);

struct sender_deps {
  scheduler* sched = nullptr;
  trace* tr = nullptr;  // may be null
  network::virtual_network* net = nullptr;
  core::resolver* dns = nullptr;
  metrics::recorder* record = nullptr;
  core::time_point run_start{};
  std::uint16_t port = 25;  // the receivers' port (tests may use another)
  std::optional<auth::private_key> dkim_key;  // signs when set (and the spec has dkim)
};

struct sender_stats {
  std::size_t submitted = 0;  // messages
  std::size_t recipients = 0;  // (message, recipient) records added
  std::size_t enqueued = 0;   // messages handed to the spool
  std::size_t held = 0;       // waiting for a later day's cap now
  std::size_t enqueue_failures = 0;
  queue::engine_stats engine;
};

class sender {
 public:
  // `spec` is filled (fill_defaults): domain, helo and IPs set.
  sender(const sender_spec& spec, sender_deps deps, prng random);
  ~sender();
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  const std::string& name() const { return spec_.name; }
  const std::string& domain() const { return spec_.domain; }
  void start();
  void stop();
  void submit(outgoing_message m);
  // Today's warm-up cap (0: none).
  std::size_t cap_today() const;
  sender_stats stats() const;

 private:
  struct tracked {
    std::vector<std::pair<std::string, std::size_t>> records;  // lower-case recipient → id
    std::uint64_t number = 0;
  };

  void enqueue(outgoing_message m);
  void release_held();
  void on_event(const queue::engine_event& e);
  void apply(const queue::engine_event& e, tracked& t, metrics::message_record& r);
  int reply_code(const queue::engine_event& e) const;
  void note(const std::string& text);

  sender_spec spec_;
  sender_deps deps_;
  prng random_;
  prng spool_random_;
  std::unique_ptr<core::transport> transport_;
  std::unique_ptr<queue::memory_spool> spool_;
  std::unique_ptr<queue::delivery_engine> engine_;
  std::optional<auth::dkim_signer> signer_;
  core::string_map<tracked> by_id_;           // spool id → records; looked up only
  std::map<std::uint64_t, tracked> pending_;  // message number → records, before the spool
  std::deque<outgoing_message> held_;
  std::int64_t cap_day_ = -1;
  std::size_t sent_today_ = 0;
  core::timer_id release_timer_ = 0;
  sender_stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mailsim::sim::world
