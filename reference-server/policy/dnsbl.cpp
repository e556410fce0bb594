#include "reference-server/policy/dnsbl.hpp"

#include <algorithm>
#include <cmath>

namespace mailsim::policy {
namespace {

constexpr std::size_t name_octets_max = 253;  // RFC 1035 §2.3.4, in text form
constexpr std::size_t label_octets_max = 63;

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Letters, digits, '-' and '_' (lists hold names like _dmarc hosts too), labels of 1 to 63
// octets: what a list can hold and a resolver can ask.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > name_octets_max) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (!is_label_char(c) || ++label > label_octets_max) {
      return false;
    }
  }
  return label > 0;
}

std::string normalized_name(std::string_view name) {
  std::string out = to_lower(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// ::ffff:a.b.c.d is an IPv4 client seen through an IPv6 socket (RFC 4291 §2.5.5.2).
core::ip_address unmapped(core::ip_address ip) {
  static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!ip.v6 || !std::equal(prefix, prefix + 12, ip.bytes.begin())) return ip;
  core::ip_address v4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

// What the A records of one list say.
struct reading {
  bool listed = false;
  std::vector<std::string> meanings;
  std::string error;
  std::optional<double> score;  // the strongest matched listing code's
};

void note_listing(reading& r, const dnsbl_code* c, double list_score) {
  r.listed = true;
  double s = c != nullptr && c->score ? *c->score : list_score;
  if (!r.score || std::fabs(s) > std::fabs(*r.score)) r.score = s;
  if (c == nullptr || c->meaning.empty()) return;
  if (std::find(r.meanings.begin(), r.meanings.end(), c->meaning) == r.meanings.end())
    r.meanings.push_back(c->meaning);
}

void read_record(const dnsbl_list& list, const std::string& record, reading& r) {
  std::optional<core::ip_address> ip = core::parse_ip(record);
  if (!ip || ip->v6 || ip->bytes[0] != 127) {
    // RFC 5782 §2.3: answers live in 127.0.0.0/8; anything else is not a listing.
    if (r.error.empty()) r.error = "answer " + record + " is outside 127.0.0.0/8";
    return;
  }
  std::uint32_t v = std::uint32_t{ip->bytes[0]} << 24 | std::uint32_t{ip->bytes[1]} << 16 |
                    std::uint32_t{ip->bytes[2]} << 8 | ip->bytes[3];
  if (list.codes.empty()) {
    if ((v & 0xffffff00u) == 0x7fffff00u) {
      if (r.error.empty()) r.error = "error code " + record;
    } else {
      note_listing(r, nullptr, list.score);
    }
    return;
  }
  for (const dnsbl_code& c : list.codes) {
    if (!c.matches(v)) continue;
    if (c.listing) {
      note_listing(r, &c, list.score);
    } else if (r.error.empty()) {
      r.error = "error code " + record + (c.meaning.empty() ? "" : " (" + c.meaning + ")");
    }
  }
}

std::string txt_text(const core::dns_answer& answer, std::size_t bytes_max) {
  std::string joined;
  for (const std::string& record : answer.records) {
    if (!joined.empty()) joined += ' ';
    joined += record;
    if (joined.size() >= bytes_max) break;
  }
  return printable(joined, bytes_max);
}

}  // namespace

std::string dnsbl_query_name(const core::ip_address& address, std::string_view zone) {
  static constexpr char hex[] = "0123456789abcdef";
  core::ip_address ip = unmapped(address);
  std::string out;
  if (!ip.v6) {
    for (int i = 3; i >= 0; --i) out += std::to_string(ip.bytes[i]) + ".";
  } else {
    for (int i = 15; i >= 0; --i) {
      out += hex[ip.bytes[i] & 0xf];
      out += '.';
      out += hex[ip.bytes[i] >> 4];
      out += '.';
    }
  }
  return out + normalized_name(zone);
}

std::optional<std::string> dnsbl_query_name(std::string_view domain, std::string_view zone) {
  std::string name = normalized_name(domain) + "." + normalized_name(zone);
  if (!is_dns_name(name)) return std::nullopt;
  return name;
}

const char* to_string(dnsbl_status s) {
  switch (s) {
    case dnsbl_status::listed:
      return "listed";
    case dnsbl_status::error:
      return "error";
    case dnsbl_status::not_listed:
      break;
  }
  return "not-listed";
}

const dnsbl_hit* dnsbl_outcome::first_blocking() const {
  for (const dnsbl_hit& h : lists) {
    if (!h.allow_list && h.status == dnsbl_status::listed) return &h;
  }
  return nullptr;
}

bool dnsbl_outcome::allowed() const {
  return std::any_of(lists.begin(), lists.end(), [](const dnsbl_hit& h) {
    return h.allow_list && h.status == dnsbl_status::listed;
  });
}

bool dnsbl_outcome::any_error() const {
  return std::any_of(lists.begin(), lists.end(),
                     [](const dnsbl_hit& h) { return h.status == dnsbl_status::error; });
}

dnsbl_status dnsbl_outcome::summary() const {
  for (const dnsbl_hit& h : lists) {
    if (h.status == dnsbl_status::listed) return dnsbl_status::listed;
  }
  return any_error() ? dnsbl_status::error : dnsbl_status::not_listed;
}

std::string dnsbl_reply_text(const dnsbl_hit& hit) {
  std::string text = "Service unavailable; ";
  text += hit.kind == dnsbl_kind::ip ? "client [" : "domain [";
  text += hit.subject + "] blocked using " + hit.zone;
  if (!hit.txt.empty()) text += "; " + hit.txt;
  return printable(text, reply_text_max);
}

reply_spec dnsbl_reply(const dnsbl_hit& hit) {
  // 554 5.7.1: Postfix's reject_rbl_client answer (maps_rbl_reject_code 554), RFC 3463 §3.8
  // "delivery not authorized, message refused".
  return {554, "5.7.1", dnsbl_reply_text(hit)};
}

// ---- the sans-IO lookup ----

struct dnsbl_lookup::entry {
  dnsbl_list list;
  dnsbl_hit hit;
  bool a_done = false;
  bool txt_pending = false;
};

namespace {

// The A query name for a hit whose zone and subject are set; nullopt with h.error set when
// it cannot be asked.
std::optional<std::string> query_for(const std::optional<core::ip_address>& ip, dnsbl_hit& h) {
  std::optional<std::string> name;
  if (!is_dns_name(h.zone)) {
    h.error = "zone is not a DNS name";
    return std::nullopt;
  }
  if (!ip && !is_dns_name(h.subject)) {
    h.error = "not a domain name";
    return std::nullopt;
  }
  name = ip ? std::optional<std::string>(dnsbl_query_name(*ip, h.zone))
            : dnsbl_query_name(h.subject, h.zone);
  if (!name || name->size() > name_octets_max) {
    h.error = "query name over 253 octets";
    return std::nullopt;
  }
  return name;
}

}  // namespace

dnsbl_lookup::dnsbl_lookup(const std::vector<dnsbl_list>& lists, std::string_view subject,
                           dnsbl_limits limits)
    : limits_(limits) {
  std::optional<core::ip_address> ip = core::parse_ip(subject);
  if (ip) ip = unmapped(*ip);
  std::size_t count = std::min(lists.size(), limits_.lists_max);
  for (std::size_t i = 0; i < count; ++i) {
    const dnsbl_list& list = lists[i];
    if ((list.kind == dnsbl_kind::ip) != ip.has_value()) continue;
    entry& e = entries_.emplace_back();
    e.list = list;
    dnsbl_hit& h = e.hit;
    h.zone = normalized_name(list.zone);
    h.name = list.name.empty() ? h.zone : list.name;
    h.allow_list = list.allow_list;
    h.kind = list.kind;
    h.subject = ip ? core::to_string(*ip) : normalized_name(subject);
    std::optional<std::string> name = query_for(ip, h);
    if (!name) {
      h.status = dnsbl_status::error;
      e.a_done = true;
      continue;
    }
    h.query = *name;
    want({h.query, core::rr_type::a});
  }
}

dnsbl_lookup::~dnsbl_lookup() = default;
dnsbl_lookup::dnsbl_lookup(dnsbl_lookup&&) noexcept = default;
dnsbl_lookup& dnsbl_lookup::operator=(dnsbl_lookup&&) noexcept = default;

void dnsbl_lookup::want(dnsbl_query q) {
  for (const pending& p : pending_) {
    if (p.query == q) return;
  }
  pending_.push_back({std::move(q), false});
}

std::vector<dnsbl_query> dnsbl_lookup::queries() const {
  std::vector<dnsbl_query> out;
  for (const pending& p : pending_) out.push_back(p.query);
  return out;
}

std::vector<dnsbl_query> dnsbl_lookup::take_queries() {
  std::vector<dnsbl_query> out;
  for (pending& p : pending_) {
    if (!p.taken) out.push_back(p.query);
    p.taken = true;
  }
  return out;
}

bool dnsbl_lookup::complete() const {
  return pending_.empty();
}

namespace {

void apply_a(const dnsbl_list& list, dnsbl_hit& h, const core::dns_answer& answer,
             std::size_t answers_max) {
  if (answer.status == core::dns_status::servfail) {
    h.status = dnsbl_status::error;
    h.error = "lookup failed (SERVFAIL)";
    return;
  }
  if (answer.status == core::dns_status::timeout) {
    h.status = dnsbl_status::error;
    h.error = "lookup timed out";
    return;
  }
  if (answer.status != core::dns_status::ok) return;  // NXDOMAIN, NODATA: not listed
  reading r;
  std::size_t n = std::min(answer.records.size(), answers_max);
  for (std::size_t i = 0; i < n; ++i) {
    h.answers.push_back(answer.records[i]);
    read_record(list, answer.records[i], r);
  }
  h.meanings = std::move(r.meanings);
  if (r.listed) {
    h.status = dnsbl_status::listed;
    h.score = r.score.value_or(list.score);
  } else if (!r.error.empty()) {
    h.status = dnsbl_status::error;
    h.error = std::move(r.error);
  }
}

}  // namespace

void dnsbl_lookup::on_answer(std::string_view name, core::rr_type type,
                             const core::dns_answer& answer) {
  dnsbl_query q{normalized_name(name), type};
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&q](const pending& p) { return p.query == q; });
  if (it == pending_.end()) return;
  pending_.erase(it);
  for (entry& e : entries_) {
    if (e.hit.query != q.name) continue;
    if (type == core::rr_type::a && !e.a_done) {
      e.a_done = true;
      apply_a(e.list, e.hit, answer, limits_.answers_max);
      if (e.hit.status == dnsbl_status::listed && e.list.query_txt) {
        e.txt_pending = true;
        want({q.name, core::rr_type::txt});
      }
    } else if (type == core::rr_type::txt && e.txt_pending) {
      e.txt_pending = false;
      if (answer.status == core::dns_status::ok)
        e.hit.txt = txt_text(answer, limits_.txt_bytes_max);
    }
  }
}

dnsbl_outcome dnsbl_lookup::outcome() const {
  dnsbl_outcome out;
  for (const entry& e : entries_) {
    out.lists.push_back(e.hit);
    if (e.a_done) continue;
    out.lists.back().status = dnsbl_status::error;
    out.lists.back().error = "no answer";
  }
  return out;
}

// ---- the driver ----

namespace {

struct run_state {
  dnsbl_lookup lookup;
  dnsbl_checker::done_fn done;
};

// Asks whatever the lookup needs now; each answer may bring a TXT query, asked from its
// callback, and the last answer calls `done`.
void ask(core::resolver* resolver, const std::shared_ptr<run_state>& state) {
  for (const dnsbl_query& q : state->lookup.take_queries()) {
    resolver->resolve(q.name, q.type, [resolver, state, q](const core::dns_answer& answer) {
      state->lookup.on_answer(q.name, q.type, answer);
      ask(resolver, state);
      if (!state->lookup.complete() || !state->done) return;
      dnsbl_checker::done_fn call = std::move(state->done);
      state->done = nullptr;
      call(state->lookup.outcome());
    });
  }
}

}  // namespace

dnsbl_checker::dnsbl_checker(core::resolver& resolver, std::vector<dnsbl_list> lists,
                             dnsbl_limits limits)
    : resolver_(resolver), lists_(std::move(lists)), limits_(limits) {}

std::optional<dnsbl_outcome> dnsbl_checker::check(std::string_view subject, done_fn done) {
  auto state = std::make_shared<run_state>(
      run_state{dnsbl_lookup(lists_, subject, limits_), std::move(done)});
  if (state->lookup.complete()) return state->lookup.outcome();
  ask(&resolver_, state);
  return std::nullopt;
}

}  // namespace mailsim::policy
