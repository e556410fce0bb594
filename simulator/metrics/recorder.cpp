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

namespace {
std::string lower(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = core::ascii_lower(c);
  return out;
}
}  // namespace

std::size_t recorder::add(message_record r) {
  const std::size_t id = records_.size();
  index_.emplace(std::make_pair(r.message, lower(r.recipient)), id);
  records_.push_back(std::move(r));
  return id;
}

std::optional<std::size_t> recorder::find(std::uint64_t message,
                                          const std::string& recipient) const {
  const auto it = index_.find({message, lower(recipient)});
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void recorder::count(const std::string& provider, const std::string& ip, core::time_point at,
                     counter what, const std::string& reply) {
  const auto day = std::chrono::floor<std::chrono::days>(at - start_).count();
  auto found = series_.find(series_order::view{provider, ip, day});
  if (found == series_.end()) {
    found = series_.emplace(series_key{provider, ip, day}, series_counts{}).first;
  }
  series_counts& c = found->second;
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
