#include "simulator/world/workload.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "reference-server/core/ascii.hpp"
#include "simulator/world/world_dns.hpp"

namespace mailsim::sim::world {
namespace {

constexpr std::int64_t day_ms = 24LL * 3600'000;
constexpr std::int64_t hour_ms = 3600'000;

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The domain of an address as written (empty without '@'), a view into it.
std::string_view domain_part(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::string domain_of(const std::string& address) {
  return lower(std::string(domain_part(address)));
}

// Days since 1970-01-01 (a Thursday) → 0 for Monday ... 6 for Sunday.
int weekday(std::int64_t days) { return static_cast<int>(((days % 7) + 7 + 3) % 7); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// The UTC midnight (epoch ms) of the b-th business day whose 09:00 is not before `from_ms`.
std::int64_t business_day(std::int64_t from_ms, std::uint64_t b) {
  std::int64_t day = floor_div(from_ms, day_ms);
  if (day * day_ms + 9 * hour_ms < from_ms) ++day;
  while (weekday(day) >= 5) ++day;
  day += 7 * static_cast<std::int64_t>(b / 5);
  for (std::uint64_t left = b % 5; left > 0;) {
    ++day;
    if (weekday(day) < 5) --left;
  }
  return day * day_ms;
}

bool is_trap(const std::string& kind) {
  return kind == "pristine_trap" || kind == "recycled_trap";
}

// Civil date from days since 1970-01-01 (proleptic Gregorian), by 400-year eras.
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

std::string crlf_lines(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

struct header_field {
  std::string name;  // lower case
  std::string text;  // the whole field, CRLF-ended, continuation lines included
};

// Splits "headers CRLF CRLF body"; a text whose first line is not a header is all body.
bool split_message(const std::string& text, std::vector<header_field>& fields, std::string& body) {
  const auto first_colon = text.find(':');
  const auto first_end = text.find("\r\n");
  if (first_colon == std::string::npos || first_colon > first_end ||
      text.substr(0, first_colon).find_first_of(" \t") != std::string::npos) {
    body = text;
    return false;
  }
  const auto blank = text.find("\r\n\r\n");
  const std::string head = blank == std::string::npos ? text + "\r\n" : text.substr(0, blank + 2);
  body = blank == std::string::npos ? std::string{} : text.substr(blank + 4);
  for (std::size_t pos = 0; pos < head.size();) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size() - 2;
    const std::string line = head.substr(pos, end + 2 - pos);
    pos = end + 2;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().text += line;
      continue;
    }
    fields.push_back({lower(line.substr(0, line.find(':'))), line});
  }
  return true;
}

// As printf's "%g": six significant digits, the shortest of fixed and exponent form.
void append_score(std::string& out, double score) {
  char buffer[32];
  out.append(
      buffer,
      std::to_chars(buffer, buffer + sizeof buffer, score, std::chars_format::general, 6).ptr);
}

// The built-in body: numbered lines, the last one cut (or filled with x) to the size. Each
// line is written into one buffer after the head it shares with the others.
void fill_body(std::string& out, std::uint64_t number, std::size_t size_bytes) {
  out.reserve(out.size() + size_bytes + 80);
  std::string line = "This is message ";
  core::append_decimal(line, number);
  line += " of the mailsim workload, line ";
  const std::size_t head = line.size();
  line.resize(head + 24);
  std::size_t line_no = 1;
  do {
    char* const digits = line.data() + head;
    char* end = std::to_chars(digits, digits + 20, line_no++).ptr;
    *end++ = '.';
    *end++ = '\r';
    *end++ = '\n';
    const std::string_view text(line.data(), static_cast<std::size_t>(end - line.data()));
    if (out.size() + text.size() > size_bytes && line_no > 2) {
      const std::size_t left = size_bytes > out.size() + 2 ? size_bytes - out.size() - 2 : 0;
      if (left > 0) {
        out.append(std::min<std::size_t>(left, 76), 'x');
        out += "\r\n";
      }
      break;
    }
    out += text;
  } while (out.size() < size_bytes);
}

void append_rfc5322_date(std::string& out, core::time_point t) {
  static const char* const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t ms = t.time_since_epoch().count();
  const std::int64_t day = floor_div(ms, day_ms);
  const std::int64_t secs = (ms - day * day_ms) / 1000;
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  // Written by hand: every message a workload sends carries one (printf showed in profiles).
  out += days[weekday(day)];
  out += ", ";
  core::append_decimal(out, d);
  out += ' ';
  out += months[m - 1];
  out += ' ';
  if (y < 0) out += '-';
  core::append_decimal(out, static_cast<std::uint64_t>(y < 0 ? -static_cast<std::int64_t>(y) : y));
  const std::int64_t parts[3] = {secs / 3600, secs / 60 % 60, secs % 60};
  for (int i = 0; i < 3; ++i) {
    out += i == 0 ? ' ' : ':';
    out += static_cast<char>('0' + parts[i] / 10);
    out += static_cast<char>('0' + parts[i] % 10);
  }
  out += " +0000";
}

}  // namespace

std::optional<core::duration_ms> message_offset(const volume_spec& volume, std::uint64_t index,
                                                core::time_point run_start) {
  const std::int64_t start = volume.start.count();
  if (volume.total > 0) {
    if (index >= volume.total) return std::nullopt;
    // over × index fits in 64 bits for any run shorter than a century of a million messages;
    // the quotient and remainder split keeps larger products exact too.
    const auto over = static_cast<std::uint64_t>(volume.over.count());
    const std::uint64_t step = over / volume.total * index +
                               over % volume.total * index / volume.total;
    return core::duration_ms{start + static_cast<std::int64_t>(step)};
  }
  if (volume.per_day == 0) return std::nullopt;
  const std::uint64_t day = index / volume.per_day;
  const std::uint64_t slot = index % volume.per_day;
  if (volume.shape == "business-hours") {
    const std::int64_t from = run_start.time_since_epoch().count() + start;
    const std::int64_t midnight = business_day(from, day);
    const auto within = static_cast<std::int64_t>(8 * hour_ms * slot / volume.per_day);
    return core::duration_ms{midnight + 9 * hour_ms + within -
                             run_start.time_since_epoch().count()};
  }
  const auto within = static_cast<std::int64_t>(day_ms * slot / volume.per_day);
  return core::duration_ms{start + static_cast<std::int64_t>(day) * day_ms + within};
}

std::string rfc5322_date(core::time_point t) {
  std::string out;
  append_rfc5322_date(out, t);
  return out;
}

std::string typo_of(const std::string& domain) {
  const auto dot = domain.find('.');
  std::string label = domain.substr(0, dot);
  const std::string rest = dot == std::string::npos ? std::string{} : domain.substr(dot);
  if (label.size() >= 3 && label[label.size() - 3] != label[label.size() - 2]) {
    std::swap(label[label.size() - 3], label[label.size() - 2]);
  } else {
    label += label.back();  // "aa.sim" → "aaa.sim": a doubled letter
  }
  return label + rest;
}

// Built into one buffer (a run builds one per message): no temporary strings.
std::string build_message(const outgoing_message& m, const std::string& sender_domain) {
  static const message_spec built_in;
  const message_spec& content = m.content ? *m.content : built_in;
  std::vector<header_field> fields;
  std::string body;
  if (!content.text.empty()) split_message(crlf_lines(content.text), fields, body);
  auto has = [&fields](const char* name) {
    for (const header_field& f : fields) {
      if (f.name == name) return true;
    }
    return false;
  };
  std::string out;
  out.reserve(content.text.empty() ? content.size_bytes + 400 : body.size() + 400);
  if (!has("from")) out.append("From: <").append(m.from).append(">\r\n");
  if (!has("to")) {
    out += "To: ";
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
      if (i > 0) out += ", ";
      out += m.recipients[i].address;
    }
    out += "\r\n";
  }
  if (!has("subject")) {
    out += "Subject: mailsim message ";
    core::append_decimal(out, m.number);
    out += "\r\n";
  }
  if (!has("date")) {
    out += "Date: ";
    append_rfc5322_date(out, m.created_at);
    out += "\r\n";
  }
  out += "Message-ID: <m";
  core::append_decimal(out, m.number);
  out.append("@").append(sender_domain).append(">\r\nX-Mailsim-Score: ");
  append_score(out, content.spam_score);
  out += "\r\n";
  for (const header_field& f : fields) {
    if (f.name != "message-id" && f.name != "x-mailsim-score") out += f.text;
  }
  out += "\r\n";
  if (!content.text.empty()) {
    out += body;
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
  }
  fill_body(out, m.number, content.size_bytes);
  return out;
}

workload::workload(const workload_spec& spec, scheduler& sched, prng random,
                   const std::vector<population_view>& worlds, std::uint64_t& counter, sink out)
    : spec_(spec), sched_(sched), random_(random), counter_(counter), out_(std::move(out)) {
  if (domain_of(spec_.from).empty()) {
    spec_error(spec_.where, "workload 'from' (" + spec_.from + ") is not an address");
  }
  worlds_ = worlds;
  choose();
  const recipient_spec& r = spec_.recipients;
  if (r.invalid < 0 || r.typo_domains < 0 || r.role < 0 ||
      r.invalid + r.typo_domains + r.role > 1) {
    spec_error(spec_.where, "recipient shares invalid + typo_domains + role must lie in [0, 1]");
  }
  if (r.per_message == 0) spec_error(spec_.where, "recipients.per_message must be at least 1");
  if (r.role > 0 && roles_.empty()) {
    spec_error(spec_.where, "recipients.role is set, but no chosen domain has role mailboxes");
  }
  if (domains_.empty() || (list_.empty() && r.invalid + r.typo_domains + r.role <= 0)) {
    spec_error(spec_.where, "the workload has no recipient to send to");
  }
}

workload::~workload() { stop(); }

void workload::choose() {
  const std::vector<population_view>& worlds = worlds_;
  std::vector<std::string> wanted = spec_.recipients.from_world;
  if (wanted.empty()) wanted.push_back("all");
  std::set<std::string> chosen;  // domains
  for (const std::string& w : wanted) {
    const std::string name = lower(w);
    bool found = false;
    for (const population_view& p : worlds) {
      const bool whole = name == "all" || lower(p.provider) == name;
      for (const std::string& d : p.domains) {
        if (!whole && d != name) continue;
        found = true;
        if (!chosen.insert(d).second) continue;
        domains_.push_back(d);
        for (const std::string& role : p.roles) roles_.push_back({role + "@" + d, d, p.provider, "role"});
      }
    }
    if (!found) {
      spec_error(spec_.where, "recipients.from_world names '" + w +
                                  "', which is no provider or domain of the world");
    }
  }
  // A population lists its mailboxes domain by domain: the domain is looked up again only
  // when it changes (a million mailboxes took a million strings and set lookups here).
  std::string_view last_domain;
  bool last_chosen = false;
  for (std::size_t w = 0; w < worlds.size(); ++w) {
    if (!worlds[w].population) continue;
    const std::vector<mailbox_entry>& entries = *worlds[w].population;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string_view domain = domain_part(entries[i].address);
      if (i == 0 || domain != last_domain) {
        last_domain = domain;
        last_chosen = chosen.count(lower(std::string(domain))) != 0;
      }
      if (!last_chosen) continue;
      if (is_trap(entries[i].kind) && !spec_.recipients.include_traps) continue;
      list_.push_back({w, i});
    }
  }
  // Fisher-Yates with the workload's own stream: the order depends on the seed alone.
  for (std::size_t i = list_.size(); i > 1; --i) {
    std::swap(list_[i - 1], list_[random_.next_u64() % i]);
  }
}

void workload::start(core::time_point run_start) {
  run_start_ = run_start;
  running_ = true;
  schedule_next();
}

void workload::stop() {
  running_ = false;
  if (timer_ != 0) sched_.cancel(timer_);
  timer_ = 0;
}

void workload::schedule_next() {
  const auto offset = message_offset(spec_.volume, generated_, run_start_);
  if (!running_ || !offset) return;
  timer_ = sched_.schedule(run_start_ + *offset, [this] {
    timer_ = 0;
    emit();
    schedule_next();
  });
}

void workload::emit() {
  outgoing_message m;
  m.number = counter_++;
  m.from = spec_.from;
  m.created_at = sched_.now();
  m.content = &spec_.message;
  std::set<std::string> seen;
  // Bounded: a list shorter than per_message cannot fill a message with distinct addresses.
  for (std::size_t tries = 0; m.recipients.size() < spec_.recipients.per_message &&
                              tries < 4 * spec_.recipients.per_message + 8;
       ++tries) {
    recipient_pick r = pick();
    if (seen.insert(lower(r.address)).second) m.recipients.push_back(std::move(r));
  }
  ++generated_;
  out_(std::move(m));
}

recipient_pick workload::pick() {
  const double u = random_.next_unit();
  const recipient_spec& r = spec_.recipients;
  if (u < r.invalid) return invalid_address();
  if (u < r.invalid + r.typo_domains) return typo_address();
  if (u < r.invalid + r.typo_domains + r.role) return role_address();
  if (list_.empty()) {  // only the made-up shares are left: the last one that is set
    if (r.role > 0) return role_address();
    return r.typo_domains > 0 ? typo_address() : invalid_address();
  }
  recipient_pick p = at(list_[next_]);
  next_ = (next_ + 1) % list_.size();
  return p;
}

recipient_pick workload::at(const listed& l) const {
  const population_view& w = worlds_[l.world];
  const mailbox_entry& e = (*w.population)[l.entry];
  return {e.address, domain_of(e.address), w.provider, e.kind};
}

std::vector<recipient_pick> workload::recipients() const {
  std::vector<recipient_pick> out;
  out.reserve(list_.size());
  for (const listed& l : list_) out.push_back(at(l));
  return out;
}

recipient_pick workload::invalid_address() {
  const std::string& d = domains_[random_.next_u64() % domains_.size()];
  return classify("nosuch" + std::to_string(++strangers_) + "@" + d, d);
}

recipient_pick workload::typo_address() {
  const std::string d = typo_of(domains_[random_.next_u64() % domains_.size()]);
  return classify("user" + std::to_string(++strangers_) + "@" + d, d);
}

recipient_pick workload::role_address() {
  return roles_[random_.next_u64() % roles_.size()];
}

// The kind of an address outside the list: what its provider says of it when its domain is
// the world's (a catch-all, or a typo domain run as a trap), else invalid or typo.
recipient_pick workload::classify(std::string address, const std::string& domain) {
  for (const population_view& p : worlds_) {
    for (const std::string& d : p.domains) {
      if (d != domain) continue;
      std::optional<std::string> kind = p.kind_of ? p.kind_of(address) : std::nullopt;
      const bool chosen = std::find(domains_.begin(), domains_.end(), domain) != domains_.end();
      std::string k = kind.value_or("invalid");
      // An address made up at a chosen domain is "invalid" unless the domain takes anything
      // (a catch-all, or a typo domain run as a trap, where every address is a trap).
      if (chosen && k != "catch_all" && k != "pristine_trap") k = "invalid";
      return {std::move(address), domain, p.provider, std::move(k)};
    }
  }
  return {std::move(address), domain, {}, "typo"};
}

}  // namespace mailsim::sim::world
