// A sender's bounce sink: the reference smtp::server_session on the virtual network (the
// provider's session driver, receiver_session), reading what arrives with queue::parse_dsn.
#include "simulator/world/bounce_sink.hpp"

#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "reference-server/policy/common.hpp"
#include "simulator/world/receiver_impl.hpp"

namespace mailsim::sim::world {

class bounce_sink::impl final : public session_owner, public network::accept_handler {
 public:
  impl(std::string domain, std::string hostname, std::vector<std::string> addresses,
       bounce_sink_deps deps)
      : domain_(policy::to_lower(domain)),
        hostname_(std::move(hostname)),
        addresses_(std::move(addresses)),
        deps_(std::move(deps)),
        source_("sink/" + domain_),
        random_(deps_.streams->fresh(source_)) {}

  ~impl() override {
    alive_.reset();
    if (listening_) {
      for (const std::string& a : addresses_) deps_.net->unlisten({a, 25});
    }
  }

  void start() {
    if (listening_) return;
    listening_ = true;
    for (const std::string& a : addresses_) {
      if (!deps_.net->listen({a, 25}, *this)) note("cannot listen on " + a + ":25");
    }
  }

  void stop() {
    if (listening_) {
      for (const std::string& a : addresses_) deps_.net->unlisten({a, 25});
      listening_ = false;
    }
    std::vector<std::uint64_t> ids;
    for (const auto& [id, session] : sessions_) ids.push_back(id);
    for (std::uint64_t id : ids) {
      if (receiver_session* s = find(id)) s->shut_down();
    }
  }

  core::stream_handler* on_accept(std::unique_ptr<network::link_stream> stream) override {
    const std::uint64_t id = next_session_++;
    smtp::server_options options;
    options.hostname = hostname_;
    options.tls_available = false;
    smtp::server_deps deps{&deps_.sched->clock(), &random_, nullptr};
    auto session =
        std::make_unique<receiver_session>(*this, id, std::move(stream), options, smtp::limits{},
                                           deps);
    receiver_session* raw = session.get();
    sessions_.emplace(id, std::move(session));
    return raw;
  }

  // session_owner
  scheduler& sched() override { return *deps_.sched; }
  std::weak_ptr<bool> liveness() const override { return alive_; }
  receiver_session* find(std::uint64_t id) override {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
  }
  void finished(receiver_session& s) override {
    std::weak_ptr<bool> alive = alive_;
    deps_.sched->post([alive, this, id = s.id()] {
      if (!alive.expired()) sessions_.erase(id);
    });
  }
  std::optional<smtp::decision> decide(receiver_session& s, const smtp::server_event& ev) override {
    switch (ev.kind) {
      case smtp::server_event_kind::rcpt:
        return on_rcpt(*ev.cmd);
      case smtp::server_event_kind::message:
        return on_message(s);
      default:
        return smtp::decision::accept();  // connect, HELO/EHLO, MAIL from anyone
    }
  }

  const std::string& domain() const { return domain_; }
  const bounce_sink_stats& stats() const { return stats_; }

 private:
  smtp::decision on_rcpt(const smtp::command& cmd) {
    const std::string domain = policy::to_lower(cmd.address.box.domain);
    if (domain == domain_) return smtp::decision::accept();
    return smtp::decision::refuse(smtp::make_reply(550, "5.7.1", "relay access denied"));
  }

  smtp::decision on_message(receiver_session& s) {
    ++stats_.messages;
    const std::string from = s.smtp().current_envelope().reverse_path.to_string();
    const queue::dsn_parse_result parsed = queue::parse_dsn(s.smtp().message());
    if (!parsed.value) {
      ++stats_.not_reports;
      note("message from " + from + " via " + s.ip() + ": not a report (" + parsed.detail + ")");
    } else {
      ++stats_.reports;
      match(from, *parsed.value);
      if (deps_.on_report) deps_.on_report(from, *parsed.value);
    }
    return smtp::decision::accept_with(smtp::make_reply(250, "2.0.0", "Ok"));
  }

  // Each failed recipient of the report to the record of (original message, recipient).
  void match(const std::string& from, const queue::reported_dsn& report) {
    const std::optional<std::uint64_t> number =
        read_message_facts(report.returned_content).number;
    const std::string about = number ? "m" + std::to_string(*number) : "an unknown message";
    bool any = false;
    for (const queue::reported_recipient& r : report.recipients) {
      if (r.action != queue::dsn_action::failed) continue;
      any = true;
      const std::string& rcpt = r.final_recipient.value;
      std::optional<std::size_t> id;
      if (number && deps_.record != nullptr) id = deps_.record->find(*number, rcpt);
      const std::string text = "dsn from " + from + " (" + report.reporting_mta.value + ") about " +
                               about + " " + rcpt + ": " +
                               std::string(queue::action_name(r.action)) + " " + r.status;
      if (!id) {
        ++stats_.unmatched;
        note(text + ", matches no record");
        continue;
      }
      ++stats_.matched;
      deps_.record->at(*id).bounce_returned = true;
      note(text + ", bounce returned");
    }
    if (!any) {
      ++stats_.unmatched;
      note("dsn from " + from + " (" + report.reporting_mta.value + ") about " + about +
           ": no failed recipient");
    }
  }

  void note(const std::string& text) {
    if (deps_.tr != nullptr && deps_.tr->enabled()) deps_.tr->record(source_, text);
  }

  std::string domain_;
  std::string hostname_;
  std::vector<std::string> addresses_;
  bounce_sink_deps deps_;
  std::string source_;
  prng random_;  // the sessions' core::random_source (unused without AUTH)
  std::map<std::uint64_t, std::unique_ptr<receiver_session>> sessions_;  // by id: ordered
  std::uint64_t next_session_ = 1;
  bool listening_ = false;
  bounce_sink_stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

namespace {

bounce_sink_deps checked(bounce_sink_deps deps, const std::string& domain) {
  if (deps.sched == nullptr || deps.streams == nullptr || deps.net == nullptr) {
    throw std::invalid_argument("bounce sink of " + domain +
                                ": the world must give a scheduler, random streams and a network");
  }
  return deps;
}

}  // namespace

bounce_sink::bounce_sink(std::string domain, std::string hostname,
                         std::vector<std::string> addresses, bounce_sink_deps deps)
    : impl_(std::make_unique<impl>(domain, std::move(hostname), std::move(addresses),
                                   checked(std::move(deps), domain))) {}

bounce_sink::~bounce_sink() = default;

const std::string& bounce_sink::domain() const { return impl_->domain(); }
void bounce_sink::start() { impl_->start(); }
void bounce_sink::stop() { impl_->stop(); }
const bounce_sink_stats& bounce_sink::stats() const { return impl_->stats(); }

}  // namespace mailsim::sim::world
