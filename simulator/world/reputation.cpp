// The reputation book (reputation.hpp): per-day counters per key, running window totals,
// and a warm-up cap per IP that moves one day at a time.
//
// Model choices (receiver-behaviour.md; the settings' defaults are in reputation.hpp):
// - Days are whole 24-hour steps of virtual time since `start`, so a run's first day is day 0
//   whatever time of day it starts.
// - Each key (IP, its network, the domain) keeps one counter set per day it saw traffic and
//   a running total of the days inside the window; a day leaves the total when it falls out
//   of the window. Every call is a few map lookups, never a pass over the history.
// - Score: each signal is turned into a ratio against its line (1: exactly at the line), and
//   score = 1 / (1 + Σ ratio²). One signal at its line gives 0.5 (below the default
//   junk_below 0.6: Junk); at 3× its line 0.1 (reject_below). Small samples are
//   judged as if they had at least twice the volume needed to cross the line once
//   (1 unknown recipient of 3 messages is not yet a 33 % bounce rate). Trap hits are an
//   average per day with traffic in the window, against the daily line, over at least two
//   days: one mistake lowers the score, only repeated ones cost delivery, and a big sender
//   that hits a trap now and then is not held to one bad day for the whole window.
// - Warm-up: the cap starts at new_ip_daily_cap on the IP's first day; a day the IP sent mail
//   and was not bad multiplies the next day's cap by cap_growth (SendGrid's automated ramp is
//   about 1.4 a day, Mailtrap's 1.3, receiver-behaviour.md §3); idle and bad days keep it. An
//   IP whose last active day has left the window (history_days) starts over as new ("IP needs
//   re-warm after 30 days idle", Twilio; "most reputation systems only store data for 30
//   days", SendGrid blog; both §3).
// - Keys: IPv4 addresses share a /24; IPv6 addresses their /64 (the smallest network a
//   provider hands out, so the IPv6 analogue of "the same neighbourhood").
#include "simulator/world/reputation.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/core/string_hash.hpp"

namespace mailsim::sim::world {
namespace {

constexpr std::int64_t day_ms = 24LL * 3600'000LL;

struct counts {
  std::uint64_t accepted = 0;
  std::uint64_t unknown = 0;
  std::uint64_t traps = 0;
  std::uint64_t complaints = 0;

  counts& operator+=(const counts& o) {
    accepted += o.accepted;
    unknown += o.unknown;
    traps += o.traps;
    complaints += o.complaints;
    return *this;
  }
  counts& operator-=(const counts& o) {
    accepted -= o.accepted;
    unknown -= o.unknown;
    traps -= o.traps;
    complaints -= o.complaints;
    return *this;
  }
};

enum class signal { accepted, unknown, trap, complaint };

counts one(signal s) {
  counts c;
  switch (s) {
    case signal::accepted:
      c.accepted = 1;
      break;
    case signal::unknown:
      c.unknown = 1;
      break;
    case signal::trap:
      c.traps = 1;
      break;
    case signal::complaint:
      c.complaints = 1;
      break;
  }
  return c;
}

// A day is bad when a rate is over its line or the trap hits reach theirs (reputation.hpp).
bool is_bad(const counts& c, const reputation_settings& s) {
  const std::uint64_t attempts = c.accepted + c.unknown;
  if (attempts > 0 &&
      static_cast<double>(c.unknown) / static_cast<double>(attempts) > s.bounce_rate_bad) {
    return true;
  }
  if (c.complaints > 0) {
    // A complaint about a message accepted on an earlier day still counts against this one.
    const double base = static_cast<double>(std::max<std::uint64_t>(c.accepted, 1));
    if (static_cast<double>(c.complaints) / base > s.complaint_rate_bad) return true;
  }
  return s.trap_hits_bad > 0 && c.traps >= s.trap_hits_bad;
}

// The ratio of a rate to its line, on at least twice the volume that crosses it once.
double rate_ratio(std::uint64_t events, std::uint64_t volume, double line) {
  if (events == 0) return 0.0;
  if (line <= 0.0) return std::numeric_limits<double>::infinity();
  const double floor = 2.0 / line;
  const double base = std::max(static_cast<double>(volume), floor);
  return static_cast<double>(events) / base / line;
}

// `days`: the days of the window with traffic; trap hits are judged per such day.
double score_of(const counts& c, std::size_t days, const reputation_settings& s) {
  const double bounce = rate_ratio(c.unknown, c.accepted + c.unknown, s.bounce_rate_bad);
  const double complaint = rate_ratio(c.complaints, c.accepted, s.complaint_rate_bad);
  const double line = static_cast<double>(std::max<std::size_t>(s.trap_hits_bad, 1));
  const double trap =
      static_cast<double>(c.traps) / (line * static_cast<double>(std::max<std::size_t>(days, 2)));
  return 1.0 / (1.0 + bounce * bounce + complaint * complaint + trap * trap);
}

// One key's history: counters per day and their running total over the window. The days
// are a short vector in day order (at most the window's, and new days come last on virtual
// time): every check reads today's entry of three keys, and map nodes scattered over a large
// run's memory made each read a few cache misses.
struct history {
  using day_counts = std::vector<std::pair<std::int64_t, counts>>;
  day_counts days;
  counts window;

  void add(std::int64_t day, const counts& c) {
    if (days.empty() || days.back().first < day) {
      days.emplace_back(day, c);
    } else {
      auto it = days.begin() + static_cast<std::ptrdiff_t>(first_from(day));
      if (it == days.end() || it->first != day) it = days.emplace(it, day, counts{});
      it->second += c;
    }
    window += c;
  }
  // Drops the days that are no longer inside (today - history_days, today].
  void forget_before(std::int64_t first_kept_day) {
    const std::size_t gone = first_from(first_kept_day);
    for (std::size_t i = 0; i < gone; ++i) window -= days[i].second;
    days.erase(days.begin(), days.begin() + static_cast<std::ptrdiff_t>(gone));
  }
  const counts* on(std::int64_t day) const {
    const std::size_t i = first_from(day);
    return i == days.size() || days[i].first != day ? nullptr : &days[i].second;
  }

 private:
  // The index of the first entry at or after `day`.
  std::size_t first_from(std::int64_t day) const {
    const auto it = std::lower_bound(days.begin(), days.end(), day,
                                     [](const std::pair<std::int64_t, counts>& entry,
                                        std::int64_t d) { return entry.first < d; });
    return static_cast<std::size_t>(it - days.begin());
  }
};

// The warm-up state of one IP: the cap of `day` (advanced lazily, one step per call).
struct warmup {
  std::int64_t day = 0;          // the day `cap` applies to
  std::int64_t last_active = 0;  // the last day a message was accepted
  double cap = 0.0;
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The network an address belongs to, as text: "192.0.2.0/24", "2001:db8:1:2::/64".
std::string network_of(const core::ip_address& ip) {
  core::ip_address net = ip;
  if (!ip.v6) {
    net.bytes[3] = 0;
    return core::to_string(net) + "/24";
  }
  std::fill(net.bytes.begin() + 8, net.bytes.end(), std::uint8_t{0});
  return core::to_string(net) + "/64";
}

std::string two_decimals(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", x);
  return buffer;
}

}  // namespace

class reputation_book::impl {
 public:
  impl(reputation_settings settings, core::time_point start) : settings_(settings), start_(start) {}

  void note(const std::string& ip, const std::string& domain, core::time_point now, signal s) {
    trim_memos();
    const std::int64_t today = day_of(now);
    const counts c = one(s);
    const ip_keys& k = keys_of_ip(ip);
    if (k.parsed && s == signal::accepted) advance_warmup(k, today, true);
    touch(k.ip_key, today).add(today, c);
    if (k.parsed) touch(k.net_key, today).add(today, c);
    if (!domain.empty()) touch(keys_of_domain(domain).key, today).add(today, c);
  }

  reputation_verdict check(const std::string& ip, const std::string& domain, core::time_point now) {
    trim_memos();
    reputation_verdict v;
    const std::int64_t today = day_of(now);
    const std::size_t cap = cap_of(ip, today);
    if (cap > 0 && accepted_today(keys_of_ip(ip), today) >= cap) {
      v.what = reputation_verdict::action::defer;
      v.reason = "daily cap " + std::to_string(cap) + " reached";
      return v;
    }
    std::string_view worst_key;
    v.score = worst(ip, domain, today, worst_key);
    if (v.score < settings_.reject_below) {
      v.what = reputation_verdict::action::reject;
    } else if (v.score < settings_.junk_below) {
      v.junk = true;
    } else {
      return v;
    }
    v.reason = "score " + two_decimals(v.score) + " of " + std::string(worst_key);
    return v;
  }

  std::size_t cap_of(const std::string& ip, std::int64_t today) {
    if (settings_.new_ip_daily_cap == 0) return 0;
    trim_memos();  // daily_cap() comes here directly
    const warmup* w = advance_warmup(keys_of_ip(ip), today, false);
    const double cap = w == nullptr ? static_cast<double>(settings_.new_ip_daily_cap) : w->cap;
    // A cap grown past any count a run can reach is as good as none; keep it representable.
    constexpr double huge = 1e15;
    return static_cast<std::size_t>(std::min(cap, huge));
  }

  double score_of_key(const std::string& key, std::int64_t today) {
    if (const auto slash = key.find('/'); slash != std::string::npos) {
      // A network by any of its addresses: "192.0.2.77/24" is 192.0.2.0/24.
      const auto addr = core::parse_ip(key.substr(0, slash));
      return key_score("net " + (addr ? network_of(*addr) : lower(key)), today);
    }
    if (auto addr = core::parse_ip(key)) return key_score("ip " + core::to_string(*addr), today);
    return key_score("domain " + lower(key), today);
  }

  std::int64_t day_of(core::time_point now) const {
    const std::int64_t ms = (now - start_).count();
    // Floor division: a time before `start` belongs to day -1, not day 0.
    return ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
  }

 private:
  // The book's keys of an IP as callers write it. Parsing and printing the address on every
  // check and note (every reply of a run) cost more than the lookups themselves.
  struct ip_keys {
    bool parsed = false;    // an address: it also counts towards its network
    std::string canonical;  // "203.0.113.5"; the text as given when it is no address
    std::string ip_key;     // "ip 203.0.113.5"
    std::string net;        // "203.0.113.0/24", when parsed
    std::string net_key;    // "net 203.0.113.0/24"
  };
  struct domain_keys {
    std::string name;  // lower-case
    std::string key;   // "domain example.com"
  };
  // Names a run passes are few (its senders' IPs and domains); the memos are emptied when
  // they outgrow this anyway, at the start of a call so that no reference into them dangles.
  static constexpr std::size_t memo_entries_max = 4096;

  void trim_memos() {
    if (ip_memo_.size() > memo_entries_max) ip_memo_.clear();
    if (domain_memo_.size() > memo_entries_max) domain_memo_.clear();
  }

  const ip_keys& keys_of_ip(const std::string& ip) {
    if (const auto it = ip_memo_.find(ip); it != ip_memo_.end()) return it->second;
    ip_keys k;
    if (const auto addr = core::parse_ip(ip)) {
      k.parsed = true;
      k.canonical = core::to_string(*addr);
      k.net = network_of(*addr);
      k.net_key = "net " + k.net;
    } else {
      k.canonical = ip;
    }
    k.ip_key = "ip " + k.canonical;
    return ip_memo_.emplace(ip, std::move(k)).first->second;
  }

  const domain_keys& keys_of_domain(const std::string& domain) {
    if (const auto it = domain_memo_.find(domain); it != domain_memo_.end()) return it->second;
    domain_keys k{lower(domain), {}};
    k.key = "domain " + k.name;
    return domain_memo_.emplace(domain, std::move(k)).first->second;
  }

  // The first day inside the window; the window holds today at least, so a book that
  // keeps no history still counts today's messages against today's cap.
  std::int64_t first_kept(std::int64_t today) const {
    return today - static_cast<std::int64_t>(std::max<std::size_t>(settings_.history_days, 1)) + 1;
  }

  history& touch(const std::string& key, std::int64_t today) {
    history& h = book_[key];
    h.forget_before(first_kept(today));
    return h;
  }

  history* find(const std::string& key, std::int64_t today) {
    auto it = book_.find(key);
    if (it == book_.end()) return nullptr;
    it->second.forget_before(first_kept(today));
    return &it->second;
  }

  // Judged on the completed days of the window when settings_.completed_days_only: a
  // provider recomputes reputation once a day (Gmail's Postmaster Tools publish it daily),
  // so what a sender does today counts from tomorrow on.
  double key_score(const std::string& key, std::int64_t today) {
    const history* h = find(key, today);
    if (h == nullptr) return 1.0;
    counts judged = h->window;
    std::size_t days = h->days.size();
    const counts* now = h->on(today);
    if (settings_.completed_days_only && now != nullptr) {
      judged -= *now;
      --days;
    }
    return score_of(judged, days, settings_);
  }

  // The lowest score of the IP, its network and the domain, and the name of the first key
  // that has it (a view into the memos, valid until the next call of the book).
  double worst(const std::string& ip, const std::string& domain, std::int64_t today,
               std::string_view& which) {
    double low = 1.0;
    const auto consider = [&](const std::string& key, std::string_view name) {
      const double s = key_score(key, today);
      if (s < low) {
        low = s;
        which = name;
      }
    };
    const ip_keys& k = keys_of_ip(ip);
    consider(k.ip_key, k.canonical);
    if (k.parsed) consider(k.net_key, k.net);
    if (!domain.empty()) {
      const domain_keys& d = keys_of_domain(domain);
      consider(d.key, d.name);
    }
    return low;
  }

  std::uint64_t accepted_today(const ip_keys& ip, std::int64_t today) {
    const history* h = find(ip.ip_key, today);
    const counts* c = h == nullptr ? nullptr : h->on(today);
    return c == nullptr ? 0 : c->accepted;
  }

  // Moves the IP's cap to `today`: the last day it was advanced to grows it once if that day
  // was active and good; the days after it were idle. An IP whose last active day has left
  // the window starts over. `active`: a message accepted today (it starts a new IP).
  const warmup* advance_warmup(const ip_keys& ip, std::int64_t today, bool active) {
    auto it = warmups_.find(ip.canonical);
    const bool stale = it != warmups_.end() && it->second.last_active < first_kept(today);
    if (it == warmups_.end() || stale) {
      if (stale) warmups_.erase(it);
      if (!active) return nullptr;
      const warmup fresh{today, today, static_cast<double>(settings_.new_ip_daily_cap)};
      return &warmups_.emplace(ip.canonical, fresh).first->second;
    }
    warmup& w = it->second;
    if (today > w.day) {
      const history* h = find(ip.ip_key, today);
      const counts* last = h == nullptr ? nullptr : h->on(w.day);
      if (last != nullptr && last->accepted > 0 && !is_bad(*last, settings_)) {
        w.cap *= settings_.cap_growth;
      }
      w.day = today;
    }
    if (active) w.last_active = today;
    return &w;
  }

  reputation_settings settings_;
  core::time_point start_;
  // Hashed: looked up on every check and note, never walked.
  core::string_map<history> book_;
  core::string_map<warmup> warmups_;  // by canonical IP
  core::string_map<ip_keys> ip_memo_;
  core::string_map<domain_keys> domain_memo_;
};

reputation_book::reputation_book(reputation_settings settings, core::time_point start)
    : impl_(std::make_unique<impl>(settings, start)) {}

reputation_book::~reputation_book() = default;

// The queries below are const to their callers but forget expired days as they read: that
// is what keeps every call a few map lookups instead of a pass over the window.
reputation_verdict reputation_book::check(const std::string& ip, const std::string& domain,
                                          core::time_point now) const {
  return impl_->check(ip, domain, now);
}

void reputation_book::note_accepted(const std::string& ip, const std::string& domain,
                                    core::time_point now) {
  impl_->note(ip, domain, now, signal::accepted);
}

void reputation_book::note_unknown_recipient(const std::string& ip, const std::string& domain,
                                             core::time_point now) {
  impl_->note(ip, domain, now, signal::unknown);
}

void reputation_book::note_trap_hit(const std::string& ip, const std::string& domain,
                                    core::time_point now) {
  impl_->note(ip, domain, now, signal::trap);
}

void reputation_book::note_complaint(const std::string& ip, const std::string& domain,
                                     core::time_point now) {
  impl_->note(ip, domain, now, signal::complaint);
}

std::size_t reputation_book::daily_cap(const std::string& ip, core::time_point now) const {
  return impl_->cap_of(ip, impl_->day_of(now));
}

double reputation_book::score(const std::string& key, core::time_point now) const {
  return impl_->score_of_key(key, impl_->day_of(now));
}

}  // namespace mailsim::sim::world
