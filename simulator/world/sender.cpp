#include "simulator/world/sender.hpp"

#include <cmath>
#include <optional>
#include <span>
#include <stdexcept>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "reference-server/smtp/address.hpp"
#include "simulator/world/outbound_setup.hpp"
#include "simulator/world/world_dns.hpp"

namespace mailsim::sim::world {
namespace {

constexpr std::int64_t day_ms = 24LL * 3600'000;

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

smtp::path path_of(const std::string& address) {
  smtp::address_options options;
  options.allow_utf8 = true;
  return smtp::parse_path("<" + address + ">", options).value.value_or(smtp::path{});
}

}  // namespace

std::optional<auth::private_key> make_dkim_key(const sender_spec& spec,
                                               core::random_source& random) {
  if (!spec.dkim) return std::nullopt;
  const std::string& algorithm = spec.dkim->algorithm;
  if (algorithm != "ed25519-sha256" && algorithm != "rsa-sha256") {
    spec_error(spec.where, "unknown DKIM algorithm '" + algorithm +
                               "' (expected ed25519-sha256 or rsa-sha256)");
  }
  const auto type = algorithm == "rsa-sha256" ? auth::key_type::rsa : auth::key_type::ed25519;
  auth::private_key_result made = auth::generate_key(type, auth::rsa_bits_default, random);
  if (!made.ok()) spec_error(spec.where, "no DKIM key: " + made.error.message());
  return made.key;
}

std::string dkim_record_name(const sender_spec& spec) {
  return spec.dkim ? spec.dkim->selector + "._domainkey." + spec.domain : std::string{};
}

queue::retry_profile retry_profile_of(const retry_spec& spec, const source_ref& where) {
  queue::retry_profile p;
  if (spec.profile == "postfix") {
    p = queue::postfix_like_profile();
  } else if (spec.profile == "exim") {
    p = queue::exim_like_profile();
  } else if (spec.profile == "fixed") {
    if (spec.interval.count() <= 0) spec_error(where, "retry interval must be positive");
    p = queue::fixed_profile(spec.interval);
  } else if (spec.profile == "list") {
    for (std::size_t i = 0; i < spec.offsets.size(); ++i) {
      if (spec.offsets[i].count() <= 0 || (i > 0 && spec.offsets[i] <= spec.offsets[i - 1])) {
        spec_error(where, "retry offsets must be positive and increasing");
      }
    }
    if (spec.offsets.empty()) spec_error(where, "retry profile 'list' needs offsets");
    p = queue::list_profile(spec.offsets);
  } else {
    spec_error(where, "unknown retry profile '" + spec.profile +
                          "' (expected postfix, exim, fixed or list)");
  }
  if (spec.lifetime) p.lifetime = *spec.lifetime;
  return p;
}

sender::sender(const sender_spec& spec, sender_deps deps, prng random)
    : spec_(spec),
      deps_(deps),
      random_(random),
      spool_random_(random.next_u64()) {
  queue::engine_settings settings;
  settings.hostname = spec_.helo;
  settings.routing.port = deps_.port;
  settings.routing.families = families_reaching(spec_.ips);
  settings.routing.local_names = {spec_.helo};
  settings.routing.local_addresses = spec_.ips;
  settings.retry.fallback = retry_profile_of(spec_.retry, spec_.where);
  settings.default_destination.connections_max = spec_.connections_max;
  settings.default_destination.messages_per_connection = spec_.messages_per_connection;
  queue::source_pool pool;
  pool.sender_domain = "*";
  pool.addresses = spec_.ips;
  settings.source_pools.push_back(std::move(pool));

  transport_ = deps_.net->make_transport(spec_.ips);
  // A sender of the virtual world never restarts: its spool keeps no state snapshots.
  spool_ =
      std::make_unique<queue::memory_spool>(queue::spool_limits{0, 0}, deps_.sched->clock(),
                                            spool_random_, queue::memory_spool::states::not_kept);
  queue::engine_deps engine =
      virtual_engine_deps(*deps_.sched, deps_.dns, random_, *transport_, *spool_, alive_);
  engine.events = [this](const queue::engine_event& e) { on_event(e); };
  engine_ = std::make_unique<queue::delivery_engine>(std::move(settings), std::move(engine));
  if (spec_.dkim && deps_.dkim_key) {
    auth::sign_options options;
    options.domain = spec_.domain;
    options.selector = spec_.dkim->selector;
    signer_.emplace(*deps_.dkim_key, options);
    if (signer_->check_options()) spec_error(spec_.where, "DKIM selector or domain is not valid");
  }
}

// The engine goes first, while the maps its events and streams use still exist.
sender::~sender() {
  *alive_ = false;
  alive_.reset();
  if (release_timer_ != 0) deps_.sched->cancel(release_timer_);
  engine_.reset();
}

void sender::start() { engine_->start(); }

void sender::stop() {
  engine_->stop();
  if (release_timer_ != 0) deps_.sched->cancel(release_timer_);
  release_timer_ = 0;
}

std::size_t sender::cap_today() const {
  if (!spec_.warmup || spec_.warmup->start_per_day == 0) return 0;
  const std::int64_t day = (deps_.sched->now() - deps_.run_start).count() / day_ms;
  const double cap = static_cast<double>(spec_.warmup->start_per_day) *
                     std::pow(spec_.warmup->growth_per_day, static_cast<double>(day));
  return cap >= 1e15 ? std::size_t{1'000'000'000'000'000} : static_cast<std::size_t>(cap);
}

void sender::submit(outgoing_message m) {
  ++stats_.submitted;
  tracked t;
  t.number = m.number;
  for (const recipient_pick& r : m.recipients) {
    metrics::message_record rec;
    rec.message = m.number;
    rec.sender = spec_.name;
    rec.from = m.from;
    rec.recipient = r.address;
    rec.domain = r.domain;
    rec.provider = r.provider;
    rec.kind = r.kind;
    rec.queued_at = deps_.sched->now();
    ++stats_.recipients;
    t.records.emplace_back(lower(r.address), deps_.record->add(std::move(rec)));
  }
  pending_.emplace(m.number, std::move(t));
  if (held_.empty()) {
    const std::int64_t day = (deps_.sched->now() - deps_.run_start).count() / day_ms;
    if (day != cap_day_) {
      cap_day_ = day;
      sent_today_ = 0;
    }
    const std::size_t cap = cap_today();
    if (cap == 0 || sent_today_ < cap) {
      ++sent_today_;
      return enqueue(std::move(m));
    }
  }
  held_.push_back(std::move(m));
  ++stats_.held;
  if (release_timer_ != 0) return;
  const std::int64_t day = (deps_.sched->now() - deps_.run_start).count() / day_ms;
  const core::time_point next_day = deps_.run_start + core::duration_ms{(day + 1) * day_ms};
  release_timer_ = deps_.sched->schedule(next_day, [this] {
    release_timer_ = 0;
    release_held();
  });
}

void sender::release_held() {
  cap_day_ = (deps_.sched->now() - deps_.run_start).count() / day_ms;
  sent_today_ = 0;
  const std::size_t cap = cap_today();
  while (!held_.empty() && (cap == 0 || sent_today_ < cap)) {
    outgoing_message m = std::move(held_.front());
    held_.pop_front();
    --stats_.held;
    ++sent_today_;
    enqueue(std::move(m));
  }
  if (held_.empty()) return;
  const core::time_point next_day =
      deps_.run_start + core::duration_ms{(cap_day_ + 1) * day_ms};
  release_timer_ = deps_.sched->schedule(next_day, [this] {
    release_timer_ = 0;
    release_held();
  });
}

void sender::enqueue(outgoing_message m) {
  std::string bytes = build_message(m, spec_.domain);
  if (signer_) {
    // A message that cannot be signed goes out unsigned; receivers judge it as such.
    auth::sign_result signed_field = signer_->sign(bytes, deps_.sched->now());
    if (signed_field.ok()) bytes.insert(0, signed_field.field);
  }
  queue::enqueue_request request;
  request.envelope.reverse_path = path_of(m.from);
  request.envelope.helo_name = spec_.helo;
  for (const recipient_pick& r : m.recipients) {
    smtp::recipient rcpt;
    rcpt.address = path_of(r.address);
    request.envelope.recipients.push_back(std::move(rcpt));
  }
  request.message = bytes;
  request.received_from = "dns; " + spec_.helo;
  const auto results = spool_->enqueue(std::span<const queue::enqueue_request>(&request, 1));
  auto t = pending_.find(m.number);
  if (!results[0].ok()) {
    ++stats_.enqueue_failures;
    note("m" + std::to_string(m.number) + " not queued: " + results[0].error.message());
    if (t != pending_.end()) pending_.erase(t);
    return;
  }
  ++stats_.enqueued;
  if (t != pending_.end()) {
    by_id_.emplace(results[0].id, std::move(t->second));
    pending_.erase(t);
  }
  if (deps_.tr && deps_.tr->enabled()) {
    std::string to;
    for (const recipient_pick& r : m.recipients) to.append(" ").append(r.address);
    deps_.tr->record_parts(spec_.name, "queued m", std::to_string(m.number), " ", results[0].id,
                           " from ", m.from, " to", to);
  }
  engine_->wake();
}

int sender::reply_code(const queue::engine_event& e) const {
  if (const queue::queued_message* m = spool_->find(e.id)) {
    for (const queue::queued_recipient& r : m->recipients) {
      if (!core::iequals(r.rcpt.address.box.to_string(), e.recipient)) continue;
      if (r.status.reply && r.status.reply->code != 0) return r.status.reply->code;
      return 0;
    }
  }
  // The message left the spool with this outcome: only an accepted one does, with no
  // report owed; the engine treats every 2xx alike, so 250 stands for it.
  if (e.what == queue::engine_event::kind::delivered ||
      e.what == queue::engine_event::kind::relayed) {
    return 250;
  }
  return 0;
}

void sender::on_event(const queue::engine_event& e) {
  using kind = queue::engine_event::kind;
  if (e.what == kind::removed) {
    by_id_.erase(e.id);
    return;
  }
  if (e.what != kind::delivered && e.what != kind::relayed && e.what != kind::deferred &&
      e.what != kind::failed) {
    return;
  }
  const auto it = by_id_.find(e.id);
  if (it == by_id_.end()) return;
  for (const auto& [address, id] : it->second.records) {
    // `address` is lower-case already: compared in place, every event of a run passes here.
    if (core::iequals(address, e.recipient)) apply(e, it->second, deps_.record->at(id));
  }
}

void sender::apply(const queue::engine_event& e, tracked& t, metrics::message_record& r) {
  using kind = queue::engine_event::kind;
  ++r.attempts;
  r.code = reply_code(e);
  r.status = e.status;
  if (r.status.empty() && e.detail.size() >= 5 && e.detail[1] == '.') {
    r.status = e.detail.substr(0, e.detail.find(' '));
  }
  if (!e.source.empty()) r.ip = e.source;
  const core::time_point now = deps_.sched->now();
  switch (e.what) {
    case kind::delivered:
    case kind::relayed:
      r.outcome = metrics::fate::delivered;
      r.final_at = now;
      break;
    case kind::failed:
      r.outcome = e.status == queue::expired_status ? metrics::fate::expired
                                                    : metrics::fate::bounced;
      r.final_at = now;
      break;
    default:
      ++r.deferrals;
      break;
  }
  if (deps_.tr && deps_.tr->enabled()) {
    using view = std::string_view;
    const bool via = !e.address.empty();
    const bool from = !r.ip.empty();
    deps_.tr->record_parts(spec_.name, queue::event_name(e.what), " m", std::to_string(t.number),
                           " ", e.recipient, via ? " via " : "", via ? view(e.host) : view(),
                           via ? " " : "", via ? view(e.address) : view(), from ? " from " : "",
                           from ? view(r.ip) : view(), ": ", e.detail);
  }
}

void sender::note(const std::string& text) {
  if (deps_.tr) deps_.tr->record(spec_.name, text);
}

sender_stats sender::stats() const {
  sender_stats s = stats_;
  s.engine = engine_->stats();
  return s;
}

}  // namespace mailsim::sim::world
