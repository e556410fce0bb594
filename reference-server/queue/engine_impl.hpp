// mailsim::queue delivery engine internals — shared by delivery_engine.cpp (scheduling,
// destinations, connections) and delivery_outcomes.cpp (recording outcomes, reports).
// Internal to the queue module; the contract is in delivery_engine.hpp.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reference-server/core/fifo.hpp"
#include "reference-server/core/string_hash.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/outbound_connection.hpp"

namespace mailsim::queue {

struct destination {
  std::string domain;
  const destination_settings* settings = nullptr;
  core::fifo<delivery_job> jobs;  // waiting for a connection
  std::vector<std::unique_ptr<outbound_connection>> connections;
  std::optional<route_plan> plan;
  core::time_point plan_at{};
  bool planning = false;
  core::time_point throttled_until{};
  core::fifo<core::time_point> starts;  // transaction starts in the last minute
  core::timer_id pump_timer = 0;
  core::time_point pump_at{};
};

// What an attempt said about one recipient.
struct attempt_outcome {
  enum class kind { delivered, relayed, failed, deferred };
  kind what = kind::deferred;
  std::string status;                // RFC 3463
  std::optional<smtp::reply> reply;  // the server's word, when it spoke
  std::string diagnostic;            // a local reason otherwise
  std::string host;
  std::string address;
  std::string source;  // engine_event::source
};

// An attempt's outcomes, waiting for the turn's spool batch.
struct pending_record {
  delivery_job job;
  std::vector<attempt_outcome> outcomes;  // one per job recipient
};

class delivery_engine::impl final : public connection_owner {
 public:
  impl(engine_settings settings, engine_deps deps);
  ~impl() override;

  // delivery_engine.cpp
  void start();
  void wake();
  void stop();
  engine_stats stats;

  std::size_t jobs_in_progress() const { return in_flight_count_; }

 private:
  // delivery_engine.cpp: scheduling and destinations.
  void schedule_wake(core::time_point at);
  void run_due();
  void add_jobs(const queued_message& m);
  destination& destination_for(const std::string& domain);
  bool forgettable(const destination& d, core::time_point now) const;
  void forget_idle_destinations(core::time_point now);
  const destination_settings& settings_for(const std::string& domain) const;
  void pump(destination& d);
  void pump_later(destination& d, core::time_point at);
  bool rate_allows(destination& d);
  void request_plan(destination& d);
  void on_plan(const std::string& domain, route_plan plan);
  void open_connection(destination& d, int pool);
  bool assign(destination& d, outbound_connection& c);
  std::string source_address(int pool);
  int pool_of(const queued_message& m) const;
  destination* destination_of(outbound_connection& c);
  void retire(destination& d, outbound_connection& c);
  void emit(engine_event ev) const;

  // connection_owner
  void on_connecting(outbound_connection& c, const connection_target& t) override;
  void on_target_failed(outbound_connection& c, const connection_end& why) override;
  void on_ready(outbound_connection& c) override;
  void on_result(outbound_connection& c, delivery_job job,
                 const smtp::transaction_result& result) override;
  void on_finished(outbound_connection& c, const connection_end& end,
                   std::optional<delivery_job> unfinished) override;

  // delivery_outcomes.cpp: what attempts mean, and the spool updates and reports.
  attempt_outcome outcome_of(const smtp::recipient_outcome& r, bool dsn_capable,
                             const connection_target& t) const;
  void record(delivery_job job, std::vector<attempt_outcome> outcomes);
  void flush_records();
  bool settles_quietly(const queued_message& m, const state_update& up) const;
  void after_record(const pending_record& r, const state_update& up,
                    const std::vector<std::string>& recipients, bool removed);
  void record_all(const delivery_job& job, const attempt_outcome& outcome);
  // Takes the outcome's status, reply and texts; leaves `what` and `source` (after_record()
  // reads them).
  recipient_status next_status(const queued_message& m, const queued_recipient& r,
                               attempt_outcome&& o) const;
  void settle(const std::string& id);
  void send_report(const queued_message& m, std::vector<std::size_t> indices,
                   std::vector<dsn_recipient> reports, std::vector<std::size_t> delayed);
  void throttle_if_asked(destination& d, const smtp::reply& r);
  void release(const delivery_job& job);

  engine_settings settings_;
  engine_deps deps_;
  std::map<std::string, destination, std::less<>> destinations_;
  // The destination of each connection in a destination's list (map nodes stay put): every
  // callback of a connection asks, and a scan of all destinations grew with their number.
  std::unordered_map<const outbound_connection*, destination*> owners_;
  core::time_point next_forget_{};  // the earliest time of the next sweep of idle destinations
  // Recipients of a message that are in a job: one flag per recipient index.
  struct flight {
    std::vector<bool> busy;
    std::size_t count = 0;  // flags set
  };
  core::string_map<flight> in_flight_;  // by message id (hashed: every message passes here)
  std::size_t in_flight_count_ = 0;     // flags set in all of in_flight_
  core::string_set reporting_;          // ids with a report at the sink
  std::vector<pending_record> pending_records_;  // outcomes of this turn
  bool records_scheduled_ = false;
  core::string_map<std::shared_ptr<const std::string>> bytes_cache_;
  std::vector<std::unique_ptr<outbound_connection>> graveyard_;
  std::vector<std::size_t> pool_next_;
  core::timer_id wake_timer_ = 0;
  std::optional<core::time_point> wake_at_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mailsim::queue
