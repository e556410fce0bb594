// The simulated provider: listeners, decisions, and what it writes to the recorder.
// A bounce_later recipient is accepted, then bounce_later_delay later the provider sends a
// real RFC 3464 report from <> to the original MAIL FROM over the virtual network, with the
// reference delivery engine (receiver_message.cpp); the sender's bounce sink
// (bounce_sink.hpp) receives it and sets record.bounce_returned.
// Not modelled yet: no STARTTLS is offered.
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "reference-server/policy/common.hpp"
#include "simulator/world/receiver_impl.hpp"

namespace mailsim::sim::world {

namespace {

using metrics::counter;
using metrics::placement;

std::string provider_name(const provider_spec& spec) {
  return spec.name.empty() ? spec.profile : spec.name;
}

std::vector<std::string> lower_all(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (const auto& s : in) out.push_back(policy::to_lower(s));
  return out;
}

std::vector<mx_host> mx_hosts_of(const provider_spec& spec,
                                 const std::vector<std::string>& domains) {
  const std::string name = provider_name(spec);
  if (domains.empty()) throw std::invalid_argument("provider " + name + " has no domain");
  if (spec.mx.empty()) {
    throw std::invalid_argument("provider " + name + " has no MX host (the world assigns them)");
  }
  std::vector<mx_host> hosts;
  for (std::size_t i = 0; i < spec.mx.size(); ++i) {
    const mx_spec& m = spec.mx[i];
    if (m.address.empty()) {
      throw std::invalid_argument("provider " + name + ": MX host " + std::to_string(i + 1) +
                                  " has no address (the world assigns one)");
    }
    std::string host = m.name.empty() ? "mx" + std::to_string(i + 1) + "." + domains[0] : m.name;
    hosts.push_back(mx_host{std::move(host), m.preference, m.address});
  }
  return hosts;
}

// The services a provider cannot run without.
world_services checked(world_services services, const std::string& name) {
  if (services.sched == nullptr || services.streams == nullptr || services.net == nullptr) {
    throw std::invalid_argument("provider " + name +
                                ": the world must give a scheduler, random streams and a network");
  }
  return services;
}

policy::greylist_options greylist_options_of(const resolved_provider& cfg) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  policy::greylist_options o;
  o.delay = duration_cast<seconds>(cfg.greylist.delay);
  o.retry_window = duration_cast<seconds>(cfg.greylist.retry_window);
  o.max_age = duration_cast<seconds>(cfg.greylist.pass_lifetime);
  o.auto_whitelist_after = cfg.greylist_auto_whitelist_after;
  o.key = cfg.greylist.key == greylist_spec::key_kind::net24 ? policy::greylist_key_mode::subnet
                                                             : policy::greylist_key_mode::exact;
  // Triplets take about 200 bytes each: half a million is 100 MB at most, and the least
  // recently used go first (a forgotten triplet is greylisted again, as after a restart).
  o.entries_max = 500'000;
  o.clients_max = 100'000;
  return o;
}

// The provider's zones, each with the kind the world's operator of that zone gives it (a
// zone nobody in the world runs is asked as an IP list, the common kind).
std::vector<policy::dnsbl_list> dnsbl_lists_of(const std::vector<std::string>& zones,
                                               const std::vector<policy::dnsbl_list>& known) {
  std::vector<policy::dnsbl_list> lists;
  for (const auto& zone : zones) {
    policy::dnsbl_list l;
    l.zone = policy::to_lower(zone);
    l.kind = policy::dnsbl_kind::ip;
    for (const policy::dnsbl_list& k : known) {
      if (policy::iequals(k.zone, l.zone)) l.kind = k.kind;
    }
    lists.push_back(std::move(l));
  }
  return lists;
}

smtp::server_options options_for(const resolved_provider& cfg, const std::string& hostname) {
  smtp::server_options o;
  o.hostname = hostname;
  o.greeting_text = cfg.replies.greeting;
  o.tls_available = false;  // the simulated receivers offer no STARTTLS yet
  return o;
}

smtp::limits limits_for(const resolved_provider& cfg) {
  smtp::limits l;
  l.errors_max = static_cast<unsigned>(cfg.errors_max);
  // The provider answers recipients_per_message itself with its own text; the session's
  // bound only has to stay out of its way.
  if (cfg.recipients_per_message > l.recipients_max) l.recipients_max = cfg.recipients_per_message;
  return l;
}

bool any_domain_list(const std::vector<policy::dnsbl_list>& lists) {
  return std::any_of(lists.begin(), lists.end(), [](const policy::dnsbl_list& l) {
    return l.kind == policy::dnsbl_kind::domain;
  });
}

}  // namespace

class provider_core::acceptor final : public network::accept_handler {
 public:
  acceptor(provider_core& owner, std::size_t host) : owner_(owner), host_(host) {}
  core::stream_handler* on_accept(std::unique_ptr<network::link_stream> stream) override {
    return owner_.accept(host_, std::move(stream));
  }

 private:
  provider_core& owner_;
  std::size_t host_;
};

provider_core::provider_core(const provider_spec& spec, world_services services)
    : name_(provider_name(spec)),
      domains_(lower_all(spec.domains)),
      mx_(mx_hosts_of(spec, domains_)),
      pop_(spec.domains, spec.mailboxes),
      spec_(spec),
      cfg_(resolve_profile(spec)),
      services_(checked(std::move(services), name_)),
      start_(services_.record != nullptr ? services_.record->start() : services_.sched->now()),
      random_(services_.streams->fresh("provider/" + name_ + "/session")),
      complaints_(services_.streams->fresh("provider/" + name_ + "/complaints")),
      dmarc_random_(services_.streams->fresh("provider/" + name_ + "/dmarc")),
      throttle_(cfg_.throttle),
      dsn_random_(services_.streams->fresh("provider/" + name_ + "/dsn")),
      engine_random_(services_.streams->fresh("provider/" + name_ + "/dsn-engine")) {
  if (cfg_.greylist.enabled) {
    greylist_ = std::make_unique<policy::greylist>(greylist_options_of(cfg_));
  }
  if (cfg_.reputation_enabled) {
    reputation_ = std::make_unique<reputation_book>(cfg_.reputation, start_);
  }
  if (!cfg_.dnsbls.empty() && services_.dns != nullptr) {
    std::vector<policy::dnsbl_list> lists = dnsbl_lists_of(cfg_.dnsbls, services_.dnsbl_lists);
    domain_dnsbls_ = any_domain_list(lists);
    dnsbl_ = std::make_unique<policy::dnsbl_checker>(*services_.dns, std::move(lists));
  }
  if (services_.dns != nullptr) make_auth_checkers();
  for (std::size_t i = 0; i < mx_.size(); ++i) {
    acceptors_.push_back(std::make_unique<acceptor>(*this, i));
  }
}

// SPF feeds DMARC too; DKIM results feed DMARC. Nothing is checked without a resolver.
void provider_core::make_auth_checkers() {
  const auth_requirements& r = cfg_.require;
  if (r.spf_pass || r.dmarc_enforce) spf_ = std::make_unique<auth::spf_checker>(*services_.dns);
  // Reputation needs the verified d= too (the book keys a signed sender by it).
  if (r.dkim_pass || r.dmarc_enforce || reputation_) {
    dkim_ = std::make_unique<auth::dkim_verifier>(*services_.dns, services_.sched->clock());
  }
  if (r.dmarc_enforce) {
    dmarc_ = std::make_unique<auth::dmarc_checker>(*services_.dns, psl_, dmarc_random_);
  }
}

provider_core::~provider_core() {
  alive_.reset();  // pending callbacks find nothing
  bounce_engine_.reset();  // first: its connections use the transport, its events this
  if (listening_) {
    for (const auto& host : mx_) services_.net->unlisten({host.address, 25});
  }
}

void provider_core::start() {
  if (listening_) return;
  listening_ = true;
  for (std::size_t i = 0; i < mx_.size(); ++i) {
    if (!services_.net->listen({mx_[i].address, 25}, *acceptors_[i])) {
      trace_line("cannot listen on " + mx_[i].address + ":25");
    }
  }
}

void provider_core::stop() {
  if (bounce_engine_) bounce_engine_->stop();
  if (listening_) {
    for (const auto& host : mx_) services_.net->unlisten({host.address, 25});
    listening_ = false;
  }
  std::vector<std::uint64_t> ids;
  for (const auto& [id, session] : sessions_) ids.push_back(id);
  for (std::uint64_t id : ids) {
    if (receiver_session* s = find(id)) s->shut_down();
  }
}

core::stream_handler* provider_core::accept(std::size_t host,
                                            std::unique_ptr<network::link_stream> stream) {
  const std::uint64_t id = next_session_++;
  const std::string ip = stream->remote().address;
  if (services_.record != nullptr) services_.record->count(name_, ip, now(), counter::connection);
  smtp::server_deps deps{&services_.sched->clock(), &random_, nullptr};
  auto session = std::make_unique<receiver_session>(
      *this, id, std::move(stream), options_for(cfg_, mx_[host].name), limits_for(cfg_), deps);
  receiver_session* raw = session.get();
  sessions_.emplace(id, std::move(session));
  return raw;
}

receiver_session* provider_core::find(std::uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void provider_core::finished(receiver_session& s) {
  if (s.counted) {
    auto it = open_per_ip_.find(s.ip());
    if (it != open_per_ip_.end() && --it->second == 0) open_per_ip_.erase(it);
  }
  // The session may be on the call stack: it goes on a later turn.
  std::weak_ptr<bool> alive = alive_;
  services_.sched->post([alive, this, id = s.id()] {
    if (!alive.expired()) sessions_.erase(id);
  });
}

void provider_core::trace_line(const std::string& text) {
  if (tracing()) services_.tr->record(name_, text);
}

void provider_core::count_replies(const receiver_session& s, std::string_view output) {
  if (services_.record == nullptr) return;
  std::size_t start = 0;
  for (std::size_t end = output.find("\r\n"); end != std::string_view::npos;
       start = end + 2, end = output.find("\r\n", start)) {
    const std::string_view line = output.substr(start, end - start);
    if (line.size() < 4 || line[3] != ' ' || (line[0] != '4' && line[0] != '5')) continue;
    services_.record->count(name_, s.ip(), now(),
                            line[0] == '4' ? counter::deferred : counter::rejected,
                            template_key(line.substr(0, line.find(' ', 4))));
  }
}

std::optional<smtp::decision> provider_core::decide(receiver_session& s,
                                                    const smtp::server_event& ev) {
  switch (ev.kind) {
    case smtp::server_event_kind::connect:
      return on_connect(s);
    case smtp::server_event_kind::mail:
      return on_mail(s, *ev.cmd);
    case smtp::server_event_kind::rcpt:
      return on_rcpt(s, *ev.cmd);
    case smtp::server_event_kind::message:
      return on_message(s);
    default:
      return smtp::decision::accept();  // HELO/EHLO: any name; VRFY: 252
  }
}

smtp::decision provider_core::refuse(const std::string& stage, const std::string& subject,
                                     const receiver_session& s, const std::string& templ,
                                     const reply_vars& vars, const char* why, bool close) {
  smtp::reply r = expand_reply(templ, vars);
  if (tracing()) {
    trace_parts(stage, subject.empty() ? "" : " ", subject, " from ", s.ip(), ": ", reply_key(r),
                " ", why);
  }
  return close ? smtp::decision::refuse_and_close(std::move(r))
               : smtp::decision::refuse(std::move(r));
}

std::optional<smtp::decision> provider_core::on_connect(receiver_session& s) {
  const reply_vars vars{s.ip(), {}, {}, {}, {}};
  // Connections count from their connect decision: one refused here never counted.
  std::size_t& open = open_per_ip_[s.ip()];
  if (cfg_.connections_per_ip > 0 && open >= cfg_.connections_per_ip) {
    return refuse("connect", "", s, cfg_.replies.too_many_connections, vars, "too many connections",
                  true);
  }
  ++open;
  s.counted = true;
  if (dnsbl_) {
    std::weak_ptr<bool> alive = alive_;
    std::optional<policy::dnsbl_outcome> at_once =
        dnsbl_->check(s.ip(), [alive, this, id = s.id()](policy::dnsbl_outcome outcome) {
          if (alive.expired()) return;
          receiver_session* later = find(id);
          if (later == nullptr) return;
          if (auto d = dnsbl_decision(*later, outcome)) later->resume(*d);
        });
    if (!at_once) return std::nullopt;
    return dnsbl_decision(s, *at_once);
  }
  return ptr_stage(s);
}

std::optional<smtp::decision> provider_core::dnsbl_decision(receiver_session& s,
                                                            const policy::dnsbl_outcome& outcome) {
  if (const policy::dnsbl_hit* hit = outcome.first_blocking()) {
    const reply_vars vars{s.ip(), {}, {}, hit->zone, {}};
    return refuse("connect", "", s, cfg_.replies.dnsbl, vars, ("listed in " + hit->zone).c_str(),
                  true);
  }
  return ptr_stage(s);
}

// require.ptr_required: forward-confirmed reverse DNS, asked after the DNSBLs.
std::optional<smtp::decision> provider_core::ptr_stage(receiver_session& s) {
  if (!cfg_.require.ptr_required || services_.dns == nullptr) {
    trace_line("connect from " + s.ip() + ": 220");
    return smtp::decision::accept();
  }
  std::weak_ptr<bool> alive = alive_;
  check_fcrdns(*services_.dns, s.address(), [alive, this, id = s.id()](fcrdns_result r) {
    if (alive.expired()) return;
    if (receiver_session* later = find(id)) later->resume(ptr_decision(*later, r));
  });
  return std::nullopt;
}

smtp::decision provider_core::ptr_decision(receiver_session& s, fcrdns_result result) {
  if (result == fcrdns_result::pass) {
    trace_line("connect from " + s.ip() + ": 220");
    return smtp::decision::accept();
  }
  const reply_vars vars{s.ip(), {}, {}, {}, {}};
  const std::string why = std::string("fcrdns ") + to_string(result);
  return refuse(
      "connect", "", s,
      result == fcrdns_result::temperror ? cfg_.replies.ptr_temporary : cfg_.replies.ptr_missing,
      vars, why.c_str(), true);
}

}  // namespace mailsim::sim::world

namespace mailsim::sim::world {

std::optional<smtp::decision> provider_core::on_mail(receiver_session& s,
                                                     const smtp::command& cmd) {
  s.accepted.clear();
  s.junk = false;
  s.sender_domain = cmd.address.null ? std::string() : policy::to_lower(cmd.address.box.domain);
  s.signing_domain.clear();
  s.sender = cmd.address.null ? "<>" : cmd.address.box.to_string();
  s.spf_domain.clear();
  s.spf_result = "none";
  const std::string& sender = s.sender;
  const reply_vars vars{s.ip(), {}, s.sender_domain, {}, {}};
  if (cfg_.messages_per_connection > 0 && s.messages >= cfg_.messages_per_connection) {
    if (cfg_.silent_close) {  // Yahoo drops the connection without a word (§1.2)
      trace_line("mail " + sender + " from " + s.ip() + ": silent close after " +
                 std::to_string(s.messages) + " messages");
      s.close_silently();
      return std::nullopt;
    }
    return refuse("mail", sender, s, cfg_.replies.too_many_messages, vars,
                  "messages per connection", true);
  }
  return sender_dnsbl_stage(s);
}

// Domain lists (RFC 5782 §2.3) are asked for the MAIL FROM domain, like Postfix's
// reject_rhsbl_sender; the null sender has no domain to ask about.
std::optional<smtp::decision> provider_core::sender_dnsbl_stage(receiver_session& s) {
  if (!dnsbl_ || !domain_dnsbls_ || s.sender_domain.empty()) return spf_stage(s);
  std::weak_ptr<bool> alive = alive_;
  std::optional<policy::dnsbl_outcome> at_once = dnsbl_->check(
      s.sender_domain, [alive, this, id = s.id()](policy::dnsbl_outcome outcome) {
        if (alive.expired()) return;
        receiver_session* later = find(id);
        if (later == nullptr) return;
        if (auto d = sender_dnsbl_decision(*later, outcome)) later->resume(*d);
      });
  if (!at_once) return std::nullopt;
  return sender_dnsbl_decision(s, *at_once);
}

std::optional<smtp::decision> provider_core::sender_dnsbl_decision(
    receiver_session& s, const policy::dnsbl_outcome& outcome) {
  if (const policy::dnsbl_hit* hit = outcome.first_blocking()) {
    const reply_vars vars{s.ip(), {}, s.sender_domain, hit->zone, {}};
    return refuse("mail", s.sender, s, cfg_.replies.dnsbl, vars,
                  ("domain " + s.sender_domain + " listed in " + hit->zone).c_str());
  }
  return spf_stage(s);
}

std::optional<smtp::decision> provider_core::spf_stage(receiver_session& s) {
  if (spf_) {
    auth::spf_request request;
    request.ip = s.address();
    request.mail_from = s.sender == "<>" ? std::string() : s.sender;
    request.helo = s.smtp().current_envelope().helo_name;
    request.receiver = name_;
    request.now = now();
    std::weak_ptr<bool> alive = alive_;
    std::optional<auth::spf_outcome> at_once =
        spf_->check_mail_from(request, [alive, this, id = s.id()](auth::spf_outcome outcome) {
          if (alive.expired()) return;
          if (receiver_session* later = find(id)) later->resume(after_spf(*later, outcome));
        });
    if (!at_once) return std::nullopt;
    return after_spf(s, *at_once);
  }
  return mail_checks(s);
}

// RFC 7208 §8: only pass is good enough for a receiver that requires SPF; temperror is
// worth a retry, every other result is final.
smtp::decision provider_core::after_spf(receiver_session& s, const auth::spf_outcome& outcome) {
  s.spf_domain = outcome.domain;
  s.spf_result = auth::to_string(outcome.result);
  if (outcome.result == auth::spf_result::pass || !cfg_.require.spf_pass) return mail_checks(s);
  const reply_vars vars{s.ip(), {}, outcome.domain, {}, {}};
  const std::string why = std::string("spf ") + auth::to_string(outcome.result);
  return refuse("mail", s.sender, s,
                outcome.result == auth::spf_result::temperror ? cfg_.replies.spf_temporary
                                                              : cfg_.replies.spf_failed,
                vars, why.c_str());
}

smtp::decision provider_core::mail_checks(receiver_session& s) {
  const reply_vars vars{s.ip(), {}, s.sender_domain, {}, {}};
  if (reputation_) {
    const reputation_verdict v = reputation_->check(s.ip(), s.sender_domain, now());
    if (v.what == reputation_verdict::action::defer) {
      return refuse("mail", s.sender, s, cfg_.replies.reputation_deferred, vars, v.reason.c_str());
    }
    if (v.what == reputation_verdict::action::reject) {
      return refuse("mail", s.sender, s, cfg_.replies.reputation_rejected, vars, v.reason.c_str());
    }
    s.junk = v.junk;
  }
  if (throttle_.enabled()) {
    const throttle_verdict v = throttle_.check_message(s.address(), s.ip(), s.sender_domain, now());
    if (v.what == throttle_verdict::action::defer) {
      return refuse("mail", s.sender, s, *cfg_.throttle.defer_reply, vars, v.rule.c_str());
    }
    if (v.what == throttle_verdict::action::reject) {
      return refuse("mail", s.sender, s, *cfg_.throttle.reject_reply, vars,
                    (v.rule + " after " + std::to_string(v.deferrals) + " deferrals").c_str());
    }
  }
  trace_parts("mail ", s.sender, " from ", s.ip(), ": 250");
  return smtp::decision::accept();
}

bool provider_core::cooling(core::time_point at) const {
  return at < start_ + spec_.mailboxes.recycled_cooling;
}

// The answer a mailbox gives by its state alone, when it refuses.
std::optional<smtp::decision> provider_core::mailbox_refusal(receiver_session& s,
                                                             const std::string& rcpt,
                                                             mailbox_state state,
                                                             const reply_vars& vars) {
  const auto& replies = cfg_.replies;
  switch (state) {
    case mailbox_state::unknown:
      if (reputation_) reputation_->note_unknown_recipient(s.ip(), s.sender_domain, now());
      return refuse("rcpt", rcpt, s, replies.unknown, vars, "no such user");
    case mailbox_state::disabled:
      return refuse("rcpt", rcpt, s, replies.disabled, vars, "mailbox disabled");
    case mailbox_state::full:
      return refuse("rcpt", rcpt, s,
                    spec_.mailboxes.full_permanent ? replies.full_permanent : replies.full, vars,
                    "mailbox full");
    case mailbox_state::recycled_trap:
      if (!cooling(now())) return std::nullopt;
      // §2.5: a recycled trap still bounces as unknown during its cooling period.
      if (reputation_) reputation_->note_unknown_recipient(s.ip(), s.sender_domain, now());
      return refuse("rcpt", rcpt, s, replies.unknown, vars, "no such user (recycled trap cooling)");
    default:
      return std::nullopt;
  }
}

smtp::decision provider_core::on_rcpt(receiver_session& s, const smtp::command& cmd) {
  const std::string rcpt = cmd.address.box.to_string();
  const reply_vars vars{s.ip(), rcpt, cmd.address.box.domain, {}, {}};
  const auto& replies = cfg_.replies;
  if (cfg_.recipients_per_message > 0 &&
      s.smtp().current_envelope().recipients.size() >= cfg_.recipients_per_message) {
    return refuse("rcpt", rcpt, s, replies.too_many_recipients, vars, "too many recipients");
  }
  const std::optional<mailbox_state> state = pop_.lookup(rcpt);
  if (!state) return refuse("rcpt", rcpt, s, replies.relay_denied, vars, "relay denied");
  if (auto refusal = mailbox_refusal(s, rcpt, *state, vars)) return *refusal;
  if (throttle_.enabled()) {
    const throttle_verdict v = throttle_.check_recipient(s.address(), s.ip(), rcpt, now());
    if (v.what == throttle_verdict::action::defer) {
      return refuse("rcpt", rcpt, s, replies.recipient_rate, vars, v.rule.c_str());
    }
    if (v.what == throttle_verdict::action::reject) {
      return refuse("rcpt", rcpt, s, replies.recipient_rate_rejected, vars, v.rule.c_str());
    }
  }
  if (greylist_) {
    const smtp::path& from = s.smtp().current_envelope().reverse_path;
    const std::string sender = from.null ? std::string() : from.box.to_string();
    const policy::greylist_verdict v = greylist_->check(s.address(), sender, rcpt, now());
    if (!v.passed()) {
      return refuse("rcpt", rcpt, s, replies.greylisted, vars,
                    (std::string("greylisted (") + policy::to_string(v.reason) + ")").c_str());
    }
  }
  s.accepted.push_back(*state);
  trace_parts("rcpt ", rcpt, " from ", s.ip(), ": 250 ", to_string(*state));
  return smtp::decision::accept();
}

// --- provider ---

// receiver.hpp keeps its implementation class private; the sessions work with provider_core.
class provider::impl final : public provider_core {
 public:
  using provider_core::provider_core;
};

provider::provider(const provider_spec& spec, world_services services)
    : impl_(std::make_unique<impl>(spec, std::move(services))) {}

provider::~provider() = default;

const std::string& provider::name() const {
  return impl_->name_;
}
const std::vector<std::string>& provider::domains() const {
  return impl_->domains_;
}
const std::vector<mx_host>& provider::mx_hosts() const {
  return impl_->mx_;
}

const std::vector<mailbox_entry>& provider::population() const {
  auto& list = impl_->population_list_;
  const world::population& pop = impl_->pop_;
  if (list.empty() && pop.size() > 0) {
    list.reserve(pop.size() * pop.domains().size());
    for (std::size_t d = 0; d < pop.domains().size(); ++d) {
      for (std::size_t i = 1; i <= pop.size(); ++i) {
        list.push_back(mailbox_entry{pop.address(d, i), to_string(pop.state_at(i))});
      }
    }
  }
  return list;
}

std::optional<std::string> provider::kind_of(const std::string& address) const {
  const std::optional<mailbox_state> s = impl_->pop_.lookup(address);
  if (!s) return std::nullopt;
  return std::string(to_string(*s));
}

void provider::start() {
  impl_->start();
}
void provider::stop() {
  impl_->stop();
}

}  // namespace mailsim::sim::world
