#include "reference-server/queue/memory_spool.hpp"

#include <algorithm>
#include <stdexcept>

#include "reference-server/queue/error.hpp"

namespace mailsim::queue {

memory_spool::memory_spool(spool_limits limits, const core::clock& clock,
                           core::random_source& random, states keep)
    : spool(limits, clock, random), keep_states_(keep == states::kept) {
  set_ready(true);
}

std::vector<std::error_code> memory_spool::store_new(std::span<const new_message> batch) {
  std::vector<std::error_code> errors(batch.size(), write_error_);
  if (write_error_) return errors;
  for (const auto& item : batch) {
    auto bytes = std::make_shared<std::string>();
    bytes->reserve(item.trace.size() + item.message.size());
    bytes->append(item.trace).append(item.message);
    bytes_[item.entry->id] = std::move(bytes);
    if (keep_states_) states_[item.entry->id] = *item.entry;
  }
  return errors;
}

std::vector<std::error_code> memory_spool::store_states(
    std::span<const queued_message* const> entries) {
  std::vector<std::error_code> errors(entries.size(), write_error_);
  if (write_error_) return errors;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (bytes_.count(entries[i]->id) == 0) {
      errors[i] = errc::unknown_message;
      continue;
    }
    if (keep_states_) states_[entries[i]->id] = *entries[i];
  }
  return errors;
}

std::error_code memory_spool::erase(const std::string& id) {
  bytes_.erase(id);
  states_.erase(id);
  return {};
}

std::shared_ptr<const std::string> memory_spool::read_message(const queued_message& entry,
                                                              std::error_code& error) {
  const auto found = bytes_.find(entry.id);
  if (found == bytes_.end()) {
    error = errc::unknown_message;
    return nullptr;
  }
  return found->second;
}

void memory_spool::load_all(std::vector<queued_message>& out, recover_report& /*report*/) {
  if (!keep_states_) throw std::logic_error("memory_spool: no states kept, nothing to recover");
  out.reserve(states_.size());
  for (const auto& [id, state] : states_) out.push_back(state);
  // In id (arrival) order, as a spool folder lists them.
  std::sort(out.begin(), out.end(),
            [](const queued_message& a, const queued_message& b) { return a.id < b.id; });
}

}  // namespace mailsim::queue
