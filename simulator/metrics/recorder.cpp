#include "simulator/metrics/recorder.hpp"

#include "reference-server/core/ascii.hpp"

namespace mailsim::sim::metrics {

const char* to_string(fate f) {
  switch (f) {
    case fate::pending: return "pending";
    case fate::delivered: return "delivered";
    case fate::bounced: return "bounced";
    case fate::expired: return "expired";
  }
  return "?";
}

const char* to_string(placement p) {
  switch (p) {
    case placement::none: return "none";
    case placement::inbox: return "inbox";
    case placement::junk: return "junk";
    case placement::trap: return "trap";
    case placement::bounce_later: return "bounce_later";
  }
  return "?";
}

std::size_t series_view_hash::operator()(const series_order::view& v) const {
  const auto& [provider, ip, day] = v;
  std::size_t h = std::hash<std::string_view>{}(provider);
  h = h * 31 + std::hash<std::string_view>{}(ip);
  return h * 31 + std::hash<std::int64_t>{}(day);
}

recorder::recorder(const recorder& other)
    : start_(other.start_),
      records_(other.records_),
      index_(other.index_),
      series_(other.series_),
      listings_(other.listings_) {
  for (auto& [key, counts] : series_) series_index_.emplace(series_order::of(key), &counts);
}

recorder& recorder::operator=(const recorder& other) {
  if (this != &other) *this = recorder(other);
  return *this;
}

std::size_t recorder::add(message_record r) {
  const std::size_t id = records_.size();
  index_.emplace(r.message, id);
  records_.push_back(std::move(r));
  return id;
}

// The first record added for (message, recipient), as the ordered index this replaced
// kept it.
std::optional<std::size_t> recorder::find(std::uint64_t message,
                                          const std::string& recipient) const {
  std::optional<std::size_t> first;
  const auto [from, to] = index_.equal_range(message);
  for (auto it = from; it != to; ++it) {
    if (core::iequals(records_[it->second].recipient, recipient) &&
        (!first || it->second < *first)) {
      first = it->second;
    }
  }
  return first;
}

void recorder::count(const std::string& provider, const std::string& ip, core::time_point at,
                     counter what, const std::string& reply) {
  const auto day = std::chrono::floor<std::chrono::days>(at - start_).count();
  auto found = series_index_.find(series_order::view{provider, ip, day});
  if (found == series_index_.end()) {
    auto made = series_.emplace(series_key{provider, ip, day}, series_counts{}).first;
    found = series_index_.emplace(series_order::of(made->first), &made->second).first;
  }
  series_counts& c = *found->second;
  switch (what) {
    case counter::connection: ++c.connections; break;
    case counter::accepted: ++c.accepted; break;
    case counter::deferred: ++c.deferred; break;
    case counter::rejected: ++c.rejected; break;
    case counter::trap_hit: ++c.trap_hits; break;
    case counter::complaint: ++c.complaints; break;
  }
  if (!reply.empty()) ++c.by_reply[reply];
}

void recorder::listed(const std::string& zone, const std::string& subject, core::time_point at,
                      std::string reason) {
  listings_.push_back(listing{zone, subject, at, std::nullopt, std::move(reason)});
}

void recorder::delisted(const std::string& zone, const std::string& subject,
                        core::time_point at) {
  for (auto it = listings_.rbegin(); it != listings_.rend(); ++it) {
    if (it->zone == zone && it->subject == subject && !it->delisted_at) {
      it->delisted_at = at;
      return;
    }
  }
}

bool recorder::ever_listed(const std::string& zone, const std::string& subject) const {
  for (const listing& l : listings_) {
    if (l.zone == zone && l.subject == subject) return true;
  }
  return false;
}

}  // namespace mailsim::sim::metrics
