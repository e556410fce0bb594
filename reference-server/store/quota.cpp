#include "reference-server/store/quota.hpp"

namespace mailsim::store {

quota_state decide_quota(std::uint64_t usage_bytes, std::uint64_t quota_bytes,
                         std::uint64_t message_bytes) {
  if (quota_bytes == 0) return quota_state::ok;
  // RFC 3463 §3.3 X.2.2 "mailbox full": temporary while nothing more fits at all, since the
  // user may make room; permanent for a message that alone would overflow the quota.
  if (usage_bytes >= quota_bytes) return quota_state::full;
  if (message_bytes > quota_bytes - usage_bytes) return quota_state::would_overflow;
  return quota_state::ok;
}

std::uint64_t usage_cache::get(std::string_view user, const std::function<std::uint64_t()>& scan) {
  {
    const std::lock_guard lock(mutex_);
    if (const auto found = bytes_.find(user); found != bytes_.end()) return found->second;
  }
  // Scan without the lock: a slow disk must not stall deliveries to other users.
  const std::uint64_t scanned = scan();
  const std::lock_guard lock(mutex_);
  return bytes_.try_emplace(std::string(user), scanned).first->second;
}

void usage_cache::add(std::string_view user, std::uint64_t bytes) {
  const std::lock_guard lock(mutex_);
  if (const auto found = bytes_.find(user); found != bytes_.end()) found->second += bytes;
}

void usage_cache::forget(std::string_view user) {
  const std::lock_guard lock(mutex_);
  if (const auto found = bytes_.find(user); found != bytes_.end()) bytes_.erase(found);
}

}  // namespace mailsim::store
