// Internal to simulator/world: the provider's implementation (receiver.hpp) and one SMTP
// session of it on the virtual network. Not a public header.
//
// A receiver_session mirrors reference-server/server/connection.cpp on the scheduler: it
// feeds the link's bytes to smtp::server_session, asks its owner (a session_owner: the
// provider, or a sender's bounce sink, bounce_sink.hpp) for each decision,
// writes the session's output (after the tarpit delay, if any), keeps one scheduler timer
// on the session's next deadline, and closes the link when the session says close.
// Every scheduled callback finds its session again by id, so a session that went away in
// the meantime is simply not found.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/dmarc.hpp"
#include "reference-server/auth/public_suffix.hpp"
#include "reference-server/auth/spf.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/policy/dnsbl.hpp"
#include "reference-server/policy/greylist.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "reference-server/smtp/server_session.hpp"
#include "simulator/world/population.hpp"
#include "simulator/world/profiles.hpp"
#include "simulator/world/receiver.hpp"
#include "simulator/world/receiver_fcrdns.hpp"
#include "simulator/world/reputation.hpp"
#include "simulator/world/throttle.hpp"

namespace mailsim::sim::world {

class receiver_session;

// Whoever runs receiver_sessions: decides each SMTP event and owns the sessions, which it
// finds again by id (scheduled callbacks hold ids, never pointers). liveness() expires when
// the owner goes away, so that pending callbacks find nothing.
class session_owner {
 public:
  virtual ~session_owner() = default;
  virtual scheduler& sched() = 0;
  // The answer to one event of `s`; nullopt: it comes later through resume().
  virtual std::optional<smtp::decision> decide(receiver_session& s,
                                               const smtp::server_event& ev) = 0;
  // The session ended and may be destroyed (on a later turn: it may be on the call stack).
  virtual void finished(receiver_session& s) = 0;
  virtual receiver_session* find(std::uint64_t id) = 0;
  virtual std::weak_ptr<bool> liveness() const = 0;
  // Sees every reply the session writes (for counters).
  virtual void count_replies(const receiver_session&, std::string_view) {}
  // How long each answer is held before it is written (a tarpit).
  virtual core::duration_ms tarpit() const { return core::duration_ms{0}; }
};

// What the provider reads in a message: the workload's number from Message-ID <mN@...>
// and the content score from X-Mailsim-Score (0 when absent or unreadable). Only the
// header block is looked at, and only unfolded first lines of fields.
struct message_facts {
  std::optional<std::uint64_t> number;
  double score = 0;
};
message_facts read_message_facts(std::string_view message);

// One accept-then-bounce report waiting for its delay (receiver_message.cpp): what
// build_dsn() needs of the original transaction.
struct pending_bounce {
  std::uint64_t message = 0;  // Message-ID number, 0 when unknown (for the trace)
  std::string rcpt;
  smtp::path reverse_path;
  std::optional<std::string> envid;
  smtp::dsn_ret ret = smtp::dsn_ret::unspecified;
  bool smtputf8 = false;
  core::time_point arrival;
  std::string content;  // the header section, or the whole message under RET=FULL
};

// The provider's implementation; provider::impl (receiver.cpp) is this class.
class provider_core : public session_owner {
 public:
  provider_core(const provider_spec& spec, world_services services);
  ~provider_core();
  provider_core(const provider_core&) = delete;
  provider_core& operator=(const provider_core&) = delete;

  void start();
  void stop();

  // What the provider answers to one event of `s`; nullopt: the answer comes later
  // through receiver_session::resume().
  std::optional<smtp::decision> decide(receiver_session& s, const smtp::server_event& ev) override;
  // The session ended and may be destroyed (on a later turn).
  void finished(receiver_session& s) override;
  // Counts the 4xx/5xx final replies in `output` for the session's client.
  void count_replies(const receiver_session& s, std::string_view output) override;
  void trace_line(const std::string& text);
  // trace::record_parts() under the provider's name.
  template <class... Parts>
  void trace_parts(const Parts&... parts) {
    if (services_.tr != nullptr) services_.tr->record_parts(name_, parts...);
  }
  bool tracing() const { return services_.tr != nullptr && services_.tr->enabled(); }
  scheduler& sched() override { return *services_.sched; }
  receiver_session* find(std::uint64_t id) override;
  std::weak_ptr<bool> liveness() const override { return alive_; }
  core::duration_ms tarpit() const override { return cfg_.tarpit; }
  const resolved_provider& settings() const { return cfg_; }

  std::string name_;
  std::vector<std::string> domains_;
  std::vector<mx_host> mx_;
  population pop_;
  mutable std::vector<mailbox_entry> population_list_;  // built on first request

 private:
  class acceptor;

  void make_auth_checkers();
  core::stream_handler* accept(std::size_t host, std::unique_ptr<network::link_stream> stream);
  std::optional<smtp::decision> on_connect(receiver_session& s);
  std::optional<smtp::decision> dnsbl_decision(receiver_session& s,
                                               const policy::dnsbl_outcome& outcome);
  std::optional<smtp::decision> ptr_stage(receiver_session& s);
  smtp::decision ptr_decision(receiver_session& s, fcrdns_result result);
  std::optional<smtp::decision> on_mail(receiver_session& s, const smtp::command& cmd);
  std::optional<smtp::decision> sender_dnsbl_stage(receiver_session& s);
  std::optional<smtp::decision> sender_dnsbl_decision(receiver_session& s,
                                                      const policy::dnsbl_outcome& outcome);
  std::optional<smtp::decision> spf_stage(receiver_session& s);
  smtp::decision after_spf(receiver_session& s, const auth::spf_outcome& outcome);
  smtp::decision mail_checks(receiver_session& s);
  smtp::decision on_rcpt(receiver_session& s, const smtp::command& cmd);
  std::optional<smtp::decision> mailbox_refusal(receiver_session& s, const std::string& rcpt,
                                                mailbox_state state, const reply_vars& vars);
  std::optional<smtp::decision> on_message(receiver_session& s);
  std::optional<smtp::decision> after_dkim(receiver_session& s,
                                           std::vector<auth::dkim_result> results);
  smtp::decision after_dmarc(receiver_session& s, const auth::dmarc_outcome& outcome);
  smtp::decision deliver_message(receiver_session& s, bool auth_junk);
  std::optional<smtp::decision> signer_reputation(receiver_session& s, bool& junk);
  smtp::decision refuse(const std::string& stage, const std::string& subject,
                        const receiver_session& s, const std::string& templ, const reply_vars& vars,
                        const char* why, bool close = false);
  // `index`: the recipient's place in the session's current envelope.
  void place(receiver_session& s, std::uint64_t message, std::size_t index,
             mailbox_state state, bool junk, double score);
  void schedule_complaint(std::optional<std::size_t> record, const std::string& ip,
                          const std::string& domain, const std::string& reputed,
                          const std::string& rcpt);
  // Accept-then-bounce (receiver_message.cpp): the DSN for `rcpt`, due after
  // bounce_later_delay, sent by the provider's own delivery engine.
  void schedule_bounce(receiver_session& s, std::uint64_t message, std::size_t index);
  void send_bounce(const pending_bounce& b);
  void make_bounce_engine();
  void on_bounce_event(const queue::engine_event& e);
  std::size_t bounces_pending() const { return bounces_waiting_ + bounces_queued_.size(); }
  bool cooling(core::time_point now) const;
  core::time_point now() const { return services_.sched->now(); }

  provider_spec spec_;
  resolved_provider cfg_;
  world_services services_;
  core::time_point start_;
  prng random_;                   // the sessions' core::random_source (unused without AUTH)
  prng complaints_;               // "provider/<name>/complaints"
  prng dmarc_random_;             // "provider/<name>/dmarc": DMARC pct= sampling
  auth::public_suffix_list psl_;  // empty: every name's last two labels are its org domain
  std::unique_ptr<policy::greylist> greylist_;
  throttle throttle_;
  std::unique_ptr<reputation_book> reputation_;
  std::unique_ptr<policy::dnsbl_checker> dnsbl_;
  bool domain_dnsbls_ = false;  // some consulted zone lists domains: asked at MAIL
  std::unique_ptr<auth::spf_checker> spf_;      // when require.spf_pass or dmarc_enforce
  // When require.dkim_pass or dmarc_enforce, or reputation (keyed by the verified d=).
  std::unique_ptr<auth::dkim_verifier> dkim_;
  std::unique_ptr<auth::dmarc_checker> dmarc_;  // when require.dmarc_enforce
  std::vector<std::unique_ptr<acceptor>> acceptors_;
  std::map<std::uint64_t, std::unique_ptr<receiver_session>> sessions_;  // by id: ordered
  std::unordered_map<std::string, std::size_t> open_per_ip_;  // looked up, never iterated
  std::uint64_t next_session_ = 1;
  std::uint64_t next_queue_id_ = 1;
  bool listening_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // The outbound side, made at the first bounce: a transport from the MX addresses, a
  // memory spool and the reference delivery engine (declared last: destroyed first).
  prng dsn_random_;     // "provider/<name>/dsn": report tokens
  prng engine_random_;  // "provider/<name>/dsn-engine": the engine's and the spool's draws
  std::size_t bounces_waiting_ = 0;              // scheduled, not built yet
  std::set<std::string> bounces_queued_;         // spool ids of reports not yet removed
  std::map<std::string, std::string> bounce_labels_;  // spool id → "rcpt m4" for the trace
  std::unique_ptr<core::transport> bounce_transport_;
  std::unique_ptr<queue::memory_spool> bounce_spool_;
  std::unique_ptr<queue::delivery_engine> bounce_engine_;
};

class receiver_session final : public core::stream_handler {
 public:
  receiver_session(session_owner& owner, std::uint64_t id,
                   std::unique_ptr<network::link_stream> stream, smtp::server_options options,
                   smtp::limits limits, smtp::server_deps deps);
  ~receiver_session() override;

  void on_connected() override { drive(); }
  void on_data(std::string_view bytes) override;
  void on_tls_ready(const core::tls_result&) override {}
  void on_closed(std::error_code reason) override;

  // The answer to the event the provider decided later.
  void resume(const smtp::decision& d);
  // Close now without a reply (a silent close, or the end of the run).
  void close_silently();
  // End of run: 421 when idle, else just close.
  void shut_down();

  std::uint64_t id() const { return id_; }
  const std::string& ip() const { return ip_; }
  const core::ip_address& address() const { return address_; }
  const smtp::server_session& smtp() const { return smtp_; }

  // Per-connection and per-transaction facts the provider keeps here.
  bool counted = false;                 // in the provider's open connections per IP
  std::size_t messages = 0;             // accepted in this connection
  bool junk = false;                    // reputation said Junk for this transaction
  std::vector<mailbox_state> accepted;  // state of each accepted RCPT, in order
  std::string sender;                   // MAIL FROM as text, "<>" for the null sender
  std::string spf_domain;               // what SPF checked, for DMARC
  std::string spf_result = "none";      // its result word
  message_facts facts;                  // of the message being decided
  std::string sender_domain;             // MAIL FROM domain (empty: null sender)
  std::string signing_domain;            // d= of the first DKIM signature that verified
  // The domain reputation is noted against at the end of DATA: the verified d=, else the
  // MAIL FROM domain.
  const std::string& reputation_domain() const {
    return signing_domain.empty() ? sender_domain : signing_domain;
  }

 private:
  void drive();
  void flush();
  void write_out(std::string bytes);
  void finish();
  void arm_deadline();

  session_owner& owner_;
  std::uint64_t id_;
  std::unique_ptr<network::link_stream> stream_;
  std::string ip_;
  core::ip_address address_;
  smtp::server_session smtp_;
  bool driving_ = false;
  bool paused_ = false;   // a tarpit delay holds the next write
  bool closing_ = false;  // close once the held output is written
  bool finished_ = false;
  std::optional<core::timer_id> timer_;
  std::optional<core::time_point> armed_;
};

}  // namespace mailsim::sim::world
