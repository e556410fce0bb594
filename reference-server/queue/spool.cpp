#include "reference-server/queue/spool.hpp"

#include <algorithm>

#include "reference-server/queue/error.hpp"

namespace mailsim::queue {
namespace {

constexpr std::size_t id_ms_digits = 12;
constexpr std::size_t id_seq_digits = 4;
constexpr std::size_t id_random_digits = 8;
constexpr std::size_t id_digits = id_ms_digits + id_seq_digits + id_random_digits;
constexpr std::int64_t id_ms_max = (std::int64_t{1} << (4 * id_ms_digits)) - 1;
constexpr std::uint32_t id_seq_max = 0xffff;

void append_hex(std::string& out, std::uint64_t value, std::size_t digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = digits; i > 0; --i) out += hex[(value >> (4 * (i - 1))) & 0xf];
}

std::uint64_t read_hex(std::string_view text) {
  std::uint64_t value = 0;
  for (const char c : text) {
    value = value * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return value;
}

}  // namespace

std::string_view state_name(recipient_state state) {
  switch (state) {
    case recipient_state::pending:
      return "pending";
    case recipient_state::delivered:
      return "delivered";
    case recipient_state::relayed:
      return "relayed";
    case recipient_state::failed:
      return "failed";
  }
  return "unknown";
}

bool recipient_status::operator==(const recipient_status& other) const {
  const auto same_reply = [](const std::optional<smtp::reply>& a,
                             const std::optional<smtp::reply>& b) {
    if (!a || !b) return a.has_value() == b.has_value();
    return a->code == b->code && a->enhanced == b->enhanced && a->lines == b->lines;
  };
  return state == other.state && attempts == other.attempts &&
         next_attempt_at == other.next_attempt_at && last_attempt_at == other.last_attempt_at &&
         status == other.status && same_reply(reply, other.reply) &&
         remote_mta == other.remote_mta && remote_address == other.remote_address &&
         diagnostic == other.diagnostic && delay_warning_sent == other.delay_warning_sent &&
         dsn_sent == other.dsn_sent;
}

bool queued_message::has_pending() const {
  return std::any_of(recipients.begin(), recipients.end(), [](const queued_recipient& r) {
    return r.status.state == recipient_state::pending;
  });
}

std::optional<core::time_point> queued_message::next_due() const {
  std::optional<core::time_point> out;
  for (const auto& r : recipients) {
    if (r.status.state != recipient_state::pending) continue;
    if (!out || r.status.next_attempt_at < *out) out = r.status.next_attempt_at;
  }
  return out;
}

std::string make_message_id(std::int64_t epoch_ms, std::uint16_t sequence, std::uint32_t random) {
  std::string out;
  out.reserve(id_digits);
  append_hex(out, static_cast<std::uint64_t>(std::clamp<std::int64_t>(epoch_ms, 0, id_ms_max)),
             id_ms_digits);
  append_hex(out, sequence, id_seq_digits);
  append_hex(out, random, id_random_digits);
  return out;
}

bool is_message_id(std::string_view text) {
  return text.size() == id_digits && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_message_class(std::string_view text) {
  constexpr std::size_t length_max = 64;
  return !text.empty() && text.size() <= length_max &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

spool::spool(spool_limits limits, const core::clock& clock, core::random_source& random)
    : limits_(limits), clock_(clock), random_(random) {}

std::string spool::next_id(core::time_point now) {
  const std::int64_t ms = std::clamp<std::int64_t>(core::epoch_ms(now), 0, id_ms_max);
  if (ms > id_ms_) {
    id_ms_ = ms;
    id_seq_ = 0;
  } else if (++id_seq_ > id_seq_max) {
    // More than 65,536 ids in one millisecond, or a clock that stepped back: borrow the next
    // millisecond so that ids keep increasing.
    ++id_ms_;
    id_seq_ = 0;
  }
  const auto random = static_cast<std::uint32_t>(random_.next_u64() & 0xffffffffU);
  return make_message_id(id_ms_, static_cast<std::uint16_t>(id_seq_), random);
}

void spool::index(queued_message entry) {
  const std::string id = entry.id;
  account(entries_[id] = std::move(entry));
}

void spool::account(const queued_message& entry) {
  bytes_ += entry.size_bytes;
  if (held_.count(entry.id) != 0) return;
  if (const auto due = entry.next_due()) schedule_.emplace(*due, entry.id);
}

void spool::hold(const std::string& id) {
  const auto found = entries_.find(id);
  if (found == entries_.end() || !held_.insert(id).second) return;
  if (const auto due = found->second.next_due()) schedule_.erase({*due, id});
}

void spool::unhold(const std::string& id) {
  if (held_.erase(id) == 0) return;
  const auto found = entries_.find(id);
  if (found == entries_.end()) return;
  if (const auto due = found->second.next_due()) schedule_.emplace(*due, id);
}

void spool::unaccount(const queued_message& entry) {
  bytes_ -= entry.size_bytes;
  if (const auto due = entry.next_due()) schedule_.erase({*due, entry.id});
}

std::vector<enqueue_result> spool::enqueue(std::span<const enqueue_request> batch) {
  std::vector<enqueue_result> results(batch.size());
  if (!ready_) {
    for (auto& result : results) result.error = errc::not_open;
    return results;
  }
  const core::time_point now = clock_.now();
  std::vector<queued_message> fresh;
  fresh.reserve(batch.size());  // new_message points into it: no reallocation below
  std::vector<std::size_t> request_of;
  std::size_t count = entries_.size();
  std::uint64_t bytes = bytes_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const enqueue_request& request = batch[i];
    const std::uint64_t size = request.trace.size() + request.message.size();
    if (request.envelope.recipients.empty()) {
      results[i].error = errc::no_recipients;
    } else if (limits_.messages_max != 0 && count >= limits_.messages_max) {
      results[i].error = errc::queue_full_messages;
    } else if (limits_.bytes_max != 0 &&
               (size > limits_.bytes_max || bytes > limits_.bytes_max - size)) {
      results[i].error = errc::queue_full_bytes;
    }
    if (results[i].error) continue;
    queued_message entry;
    entry.id = next_id(now);
    entry.envelope = request.envelope;
    entry.envelope.recipients.clear();
    entry.received_from = request.received_from;
    if (is_message_class(request.message_class)) entry.message_class = request.message_class;
    entry.queued_at = now;
    entry.size_bytes = size;
    for (const auto& rcpt : request.envelope.recipients) {
      queued_recipient r{rcpt, {}};
      r.status.next_attempt_at = now;
      entry.recipients.push_back(std::move(r));
    }
    ++count;
    bytes += size;
    fresh.push_back(std::move(entry));
    request_of.push_back(i);
  }
  std::vector<new_message> stored;
  stored.reserve(fresh.size());
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    stored.push_back({&fresh[k], batch[request_of[k]].trace, batch[request_of[k]].message});
  }
  const auto errors = stored.empty() ? std::vector<std::error_code>{} : store_new(stored);
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    enqueue_result& result = results[request_of[k]];
    result.error = k < errors.size() ? errors[k] : std::error_code{errc::not_open};
    if (result.error) continue;
    result.id = fresh[k].id;
    index(std::move(fresh[k]));
  }
  return results;
}

std::vector<std::error_code> spool::update(std::span<const state_update> batch) {
  std::vector<std::error_code> results(batch.size());
  if (!ready_) {
    std::fill(results.begin(), results.end(), errc::not_open);
    return results;
  }
  // A working copy per message, in the order first named; the updates that touched it.
  std::map<std::string, queued_message, std::less<>> work;
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>, std::less<>> members;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const state_update& change = batch[i];
    const auto current = entries_.find(change.id);
    if (current == entries_.end()) {
      results[i] = errc::unknown_message;
      continue;
    }
    auto [copy, inserted] = work.try_emplace(change.id, current->second);
    const std::size_t count = copy->second.recipients.size();
    const bool valid = std::all_of(change.changes.begin(), change.changes.end(),
                                   [&](const recipient_change& c) { return c.index < count; });
    if (!valid) {
      results[i] = errc::invalid_update;  // nothing of this update is applied
      if (inserted) work.erase(copy);
      continue;
    }
    if (inserted) order.push_back(change.id);
    for (const auto& c : change.changes) copy->second.recipients[c.index].status = c.status;
    members[change.id].push_back(i);
  }
  std::vector<const queued_message*> entries;
  for (const auto& id : order) entries.push_back(&work.find(id)->second);
  const auto errors = entries.empty() ? std::vector<std::error_code>{} : store_states(entries);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::error_code error = k < errors.size() ? errors[k] : errc::not_open;
    for (const std::size_t i : members[order[k]]) results[i] = error;
    if (error) continue;
    // Only the statuses change, in place: what callers hold of the envelope stays valid.
    queued_message& current = entries_.find(order[k])->second;
    const queued_message& updated = work.find(order[k])->second;
    unaccount(current);
    for (std::size_t r = 0; r < current.recipients.size(); ++r) {
      if (!(current.recipients[r].status == updated.recipients[r].status)) {
        current.recipients[r].status = updated.recipients[r].status;
      }
    }
    account(current);
  }
  return results;
}

std::error_code spool::update(const state_update& one) {
  return update(std::span<const state_update>(&one, 1)).front();
}

std::error_code spool::remove(const std::string& id) {
  if (!ready_) return errc::not_open;
  const auto found = entries_.find(id);
  if (found == entries_.end()) return errc::unknown_message;
  if (found->second.has_pending()) return errc::recipients_pending;
  return remove_settled(id);
}

std::error_code spool::remove_settled(const std::string& id) {
  if (!ready_) return errc::not_open;
  const auto found = entries_.find(id);
  if (found == entries_.end()) return errc::unknown_message;
  if (auto error = erase(id)) return error;
  unaccount(found->second);
  held_.erase(id);
  entries_.erase(found);
  return {};
}

std::shared_ptr<const std::string> spool::load_message(const std::string& id,
                                                       std::error_code& error) {
  error = {};
  if (!ready_) {
    error = errc::not_open;
    return nullptr;
  }
  const auto found = entries_.find(id);
  if (found == entries_.end()) {
    error = errc::unknown_message;
    return nullptr;
  }
  return read_message(found->second, error);
}

recover_report spool::recover() {
  recover_report report;
  std::vector<queued_message> loaded;
  load_all(loaded, report);
  entries_.clear();
  schedule_.clear();
  held_.clear();
  bytes_ = 0;
  for (auto& entry : loaded) {
    // New ids must sort after every id already queued, whatever the clock says now.
    const auto ms = static_cast<std::int64_t>(read_hex(std::string_view(entry.id).substr(0, 12)));
    const auto seq = static_cast<std::uint32_t>(read_hex(std::string_view(entry.id).substr(12, 4)));
    if (ms > id_ms_ || (ms == id_ms_ && seq > id_seq_)) {
      id_ms_ = ms;
      id_seq_ = seq;
    }
    index(std::move(entry));
  }
  report.loaded = entries_.size();
  return report;
}

const queued_message* spool::find(std::string_view id) const {
  const auto found = entries_.find(id);
  return found == entries_.end() ? nullptr : &found->second;
}

std::vector<std::string> spool::due(core::time_point now, std::size_t max) const {
  std::vector<std::string> out;
  out.reserve(std::min(max, schedule_.size()));
  for (const auto& [at, id] : schedule_) {
    if (at > now || out.size() >= max) break;
    out.push_back(id);
  }
  return out;
}

std::optional<core::time_point> spool::next_due() const {
  if (schedule_.empty()) return std::nullopt;
  return schedule_.begin()->first;
}

std::vector<std::string> spool::ids() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mailsim::queue
