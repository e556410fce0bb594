// check_host() (RFC 7208 §4–§6) as one synchronous replay pass over the answers an
// spf_evaluation holds: the answers, the §4.6.4 limits, the record of a domain and the walk
// through it, redirect= and exp=. The mechanisms are in spf_mechanisms.cpp; spf_engine.hpp
// says how a pass works.
#include <algorithm>

#include "reference-server/auth/spf_engine.hpp"

namespace mailsim::auth {
namespace {

const char* type_name(core::rr_type t) {
  switch (t) {
    case core::rr_type::a:
      return "A";
    case core::rr_type::aaaa:
      return "AAAA";
    case core::rr_type::mx:
      return "MX";
    case core::rr_type::ptr:
      return "PTR";
    case core::rr_type::txt:
      return "TXT";
    case core::rr_type::cname:
      return "CNAME";
  }
  return "?";
}

// §4.3: a domain check_host() can start from — a multi-label DNS name in visible ASCII (so
// no address literal): labels of 1 to 63 octets, at most 253 in all, no final dot.
bool is_checkable(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.front() == '[') return false;
  const char* label = domain.data();  // where the current label starts
  const char* const end = label + domain.size();
  for (const char* p = label; p != end; ++p) {
    // Visible ASCII is 0x21 to 0x7e: one unsigned comparison (it runs for every character).
    if (static_cast<unsigned char>(*p - 0x21) > 0x7e - 0x21) return false;
    if (*p != '.') continue;
    if (p == label || p - label > 63) return false;
    label = p + 1;
  }
  return label != domain.data() && label != end && end - label <= 63;
}

core::ip_address unmapped(core::ip_address ip) {
  const bool mapped =
      ip.v6 && ip.bytes[10] == 0xff && ip.bytes[11] == 0xff &&
      std::all_of(ip.bytes.begin(), ip.bytes.begin() + 10, [](std::uint8_t b) { return b == 0; });
  if (!mapped) return ip;
  core::ip_address v4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

spf_result qualifier_result(spf_qualifier q) {
  switch (q) {
    case spf_qualifier::pass:
      return spf_result::pass;
    case spf_qualifier::fail:
      return spf_result::fail;
    case spf_qualifier::softfail:
      return spf_result::softfail;
    case spf_qualifier::neutral:
      return spf_result::neutral;
  }
  return spf_result::neutral;
}

template <class Questions>
bool asked(const Questions& qs, std::string_view name, core::rr_type type) {
  return std::any_of(qs.begin(), qs.end(), [&](const auto& q) {
    return q.type == type && spf_name_equals(name, q.name);
  });
}

}  // namespace

spf_engine::spf_engine(spf_evaluation& e)
    : e_(e), options_(e.options_), identity_(e.outcome_), ip_(unmapped(e.ip_)) {}

bool spf_engine::first_question(spf_evaluation& e) {
  const std::string& domain = e.outcome_.domain;
  if (!e.answers_.empty() || e.options_.queries_max == 0 || !is_checkable(domain)) return false;
  e.pending_.reserve(spf_evaluation::pending_reserved);
  e.pending_.push_back({spf_name_key(domain), core::rr_type::txt});
  return true;
}

// The stored answer; otherwise the question is listed as missing and the pass is blocked.
spf_engine::stored_answer* spf_engine::lookup(std::string_view name, core::rr_type type) {
  for (stored_answer& a : e_.answers_)
    if (a.type == type && spf_name_equals(name, a.name)) return &a;
  blocked_ = true;
  if (asked(e_.pending_, name, type)) return nullptr;
  if (e_.answers_.size() + e_.pending_.size() >= options_.queries_max) {
    over_cap_ = true;  // §4.6.4 asks for bounded work; past the cap nothing more is asked
    return nullptr;
  }
  e_.pending_.push_back({spf_name_key(name), type});
  return nullptr;
}

// Whether lookup() could ask this question without going over the query cap.
bool spf_engine::room_for(std::string_view name, core::rr_type type) const {
  return asked(e_.answers_, name, type) || asked(e_.pending_, name, type) ||
         e_.answers_.size() + e_.pending_.size() < options_.queries_max;
}

spf_engine::match spf_engine::error(spf_result r, std::string problem) {
  error_result_ = r;
  error_problem_ = std::move(problem);
  return match::error;
}

spf_engine::match spf_engine::dns_error(const kept_answer& a, std::string_view name,
                                        core::rr_type type, std::string_view term) {
  const char* what = a.status == core::dns_status::timeout ? "timeout" : "SERVFAIL";
  const std::string where = term.empty() ? "" : " (in '" + std::string(term) + "')";
  return error(spf_result::temperror, std::string("DNS ") + what + " on " + type_name(type) +
                                          " lookup of " + std::string(name) + where);
}

bool spf_engine::count_term(std::string_view term) {
  if (++lookups_ <= options_.dns_mechanisms_max) return true;
  error(spf_result::permerror, "more than " + std::to_string(options_.dns_mechanisms_max) +
                                   " DNS-querying terms (RFC 7208 §4.6.4) at '" +
                                   std::string(term) + "'");
  return false;
}

bool spf_engine::count_void(std::string_view term, std::string_view name) {
  if (++voids_ <= options_.void_lookups_max) return true;
  error(spf_result::permerror, "more than " + std::to_string(options_.void_lookups_max) +
                                   " void lookups (RFC 7208 §4.6.4), the last of " +
                                   std::string(name) + " in '" + std::string(term) + "'");
  return false;
}

// `via`: the include/redirect term that leads here ("" at the top).
std::optional<spf_engine::host_result> spf_engine::check_host(std::string_view domain,
                                                              unsigned depth,
                                                              std::string_view via) {
  auto done = [](spf_result r, std::string problem) {
    return host_result{r, {}, std::move(problem), nullptr, {}};
  };
  auto at = [domain](const char* before, const char* after = "") {  // a problem naming it
    return before + std::string(domain) + after;
  };
  if (depth > options_.nesting_max)
    return done(spf_result::permerror, at("include/redirect nested too deep at "));
  // A later pass of the evaluation's own domain skips the test: the first pass would have
  // ended with none had it failed.
  const bool known_checkable = depth == 0 && !e_.answers_.empty();
  if (!known_checkable && !is_checkable(domain))
    return done(spf_result::none, at("'", "' is not a multi-label domain name"));
  stored_answer* txt = lookup(domain, core::rr_type::txt);
  if (!txt) return std::nullopt;
  if (failed(txt->answer)) {
    dns_error(txt->answer, domain, core::rr_type::txt, via);
    return done(spf_result::temperror, error_problem_);
  }
  if (is_void(txt->answer) && depth > 0 && !count_void(via, domain))
    return done(spf_result::permerror, error_problem_);
  const std::size_t records = select_record(*txt);
  if (records == 0) return done(spf_result::none, at("no SPF record at "));
  if (records > 1)  // §4.5
    return done(spf_result::permerror, std::to_string(records) + at(" SPF records at "));
  const spf_parse_result& p = parsed(*txt);
  if (!p.ok()) return done(spf_result::permerror, at("SPF record of ", ": ") + p.message());
  return run_record(p.record, domain, depth);
}

// §4.5: how many of a TXT answer's records are SPF records, counted once per evaluation.
std::size_t spf_engine::select_record(stored_answer& txt) {
  if (txt.spf_records != stored_answer::not_counted) return txt.spf_records;
  std::size_t count = 0, i = 0;
  for (const std::string_view record : records(txt.answer)) {
    if (is_spf_record(record) && count++ == 0) txt.spf_index = i;
    ++i;
  }
  txt.spf_records = count;
  return count;
}

// The parse of a TXT answer's one SPF record, made once per evaluation (and, with a record
// cache, once per receiver).
const spf_parse_result& spf_engine::parsed(stored_answer& txt) {
  if (!txt.record) {
    const std::string_view text = records(txt.answer)[txt.spf_index];
    const spf_record_limits limits{options_.record_bytes_max};
    txt.record = e_.records_
                     ? e_.records_->parse(text, limits)
                     : std::make_shared<const spf_parse_result>(parse_spf_record(text, limits));
  }
  return *txt.record;
}

std::optional<spf_engine::host_result> spf_engine::run_record(const spf_record& record,
                                                              std::string_view domain,
                                                              unsigned depth) {
  const spf_modifier* exp = record.exp ? &*record.exp : nullptr;
  const std::size_t count = record.mechanisms.size();
  for (std::size_t i = resume(record, depth); i < count; ++i) {
    const spf_mechanism& m = record.mechanisms[i];
    const unsigned lookups = lookups_, voids = voids_;
    switch (mechanism(m, domain, depth)) {
      case match::no:
        continue;
      case match::yes: {
        const spf_result r = qualifier_result(m.qualifier);
        return host_result{r, m.term, {}, exp, r == spf_result::fail ? std::string(domain) : ""};
      }
      case match::error:
        return host_result{error_result_, {}, error_problem_, nullptr, {}};
      case match::blocked:
        stopped(depth, i, lookups, voids);
        return std::nullopt;
    }
  }
  if (record.redirect && !record.has_all()) {
    const unsigned lookups = lookups_, voids = voids_;
    std::optional<host_result> r = redirect(*record.redirect, domain, depth);
    if (!r) stopped(depth, count, lookups, voids);
    return r;
  }
  return host_result{spf_result::neutral, {}, {}, exp, {}};  // §4.7 default
}

// Where this level starts: at its resume point while the pass still follows them down
// (restoring the counts there), else at the first mechanism.
std::size_t spf_engine::resume(const spf_record& record, unsigned depth) {
  // The levels on the way to the stop are entered in order, 0, 1, 2…, before any other.
  if (!resuming_ || depth != next_resume_ || depth >= e_.resume_.levels) {
    resuming_ = false;
    return 0;
  }
  const spf_evaluation::resume_point& p = e_.resume_.points[depth];
  ++next_resume_;
  lookups_ = p.dns_lookups;
  voids_ = p.void_lookups;
  const bool deepest = next_resume_ == e_.resume_.levels;
  if (deepest && e_.resume_target_size_ > 0 && p.index < record.mechanisms.size()) {
    carried_for_ = &record.mechanisms[p.index];
    carried_ = std::string_view(e_.resume_expansion_)
                   .substr(e_.resume_target_offset_, e_.resume_target_size_);
  }
  return p.index;
}

// A blocked pass unwinds from the deepest level up, noting a point at each: they replace the
// old ones, which a pass reads only on its way down (so no more once it has stopped).
void spf_engine::stopped(unsigned depth, std::size_t index, unsigned lookups, unsigned voids) {
  if (!stopping_) {
    stopping_ = true;
    stop_depth_ = depth;
  }
  if (depth < spf_evaluation::resume_path::levels_max)
    e_.resume_.points[depth] = {index, lookups, voids};
}

// A mechanism stops at a missing answer after making its target: when it is the deepest
// stop (nothing stopped before it), its expansion goes with the resume point.
spf_engine::match spf_engine::blocked_after(std::string& scratch, std::string_view target) {
  if (stopping_) return match::blocked;
  carry_again_ = carried(target);
  if (scratch.empty() && !carry_again_) return match::blocked;  // no macro: nothing to keep
  candidate_size_ = target.size();
  if (carry_again_) return match::blocked;
  candidate_offset_ = static_cast<std::size_t>(target.data() - scratch.data());
  candidate_ = std::move(scratch);
  return match::blocked;
}

// §6.1: the target's result is this record's result, exp= included; none is permerror.
std::optional<spf_engine::host_result> spf_engine::redirect(const spf_modifier& r,
                                                            std::string_view domain,
                                                            unsigned depth) {
  auto error_result = [&] { return host_result{error_result_, {}, error_problem_, nullptr, {}}; };
  if (!count_term(r.term)) return error_result();
  std::string scratch;
  std::string_view name;
  match t = expand(r.value, spf_macro_context::domain, domain, scratch, name);
  if (t == match::blocked) return std::nullopt;
  if (t == match::error) return error_result();
  name = spf_query_name_view(name);
  std::optional<host_result> sub = check_host(name, depth + 1, r.term);
  if (!sub || sub->result != spf_result::none) return sub;
  return host_result{spf_result::permerror,
                     {},
                     "redirect target " + std::string(name) + " has no SPF record (in '" + r.term +
                         "'): " + sub->problem,
                     nullptr,
                     {}};
}

// §6.2: the exp= text, or the default, expanded; nullopt while a lookup is missing.
std::optional<std::string> spf_engine::explanation(const host_result& r) {
  std::string scratch;
  std::string_view text;
  if (r.exp) {
    std::string_view name;
    match t = expand(r.exp->value, spf_macro_context::domain, r.domain, scratch, name);
    if (t == match::blocked) return std::nullopt;
    name = spf_query_name_view(name);
    // An explanation is never worth a permerror: at the query cap it is the default.
    const bool ask = t == match::yes && spf_is_dns_name(name) && room_for(name, core::rr_type::txt);
    const stored_answer* txt = ask ? lookup(name, core::rr_type::txt) : nullptr;
    if (blocked_) return std::nullopt;
    const bool one =
        txt && txt->answer.status == core::dns_status::ok && txt->answer.records.count == 1;
    if (one && expand(records(txt->answer).front(), spf_macro_context::explanation, r.domain,
                      scratch, text) == match::yes)
      return std::string(text);
    if (blocked_) return std::nullopt;
  }
  const std::string_view fallback = options_.default_explanation();
  match d = expand(fallback, spf_macro_context::explanation, r.domain, scratch, text);
  if (d == match::blocked) return std::nullopt;
  return std::string(d == match::yes ? text : fallback);
}

bool spf_engine::evaluate() {
  std::optional<host_result> r = check_host(identity_.domain, 0, {});
  std::optional<std::string> exp;
  if (r && r->result == spf_result::fail) exp = explanation(*r);
  if (over_cap_) {
    r = host_result{spf_result::permerror,
                    {},
                    "more than " + std::to_string(options_.queries_max) + " DNS queries",
                    nullptr,
                    {}};
  } else if (!r || (r->result == spf_result::fail && !exp)) {
    if (stopping_) {
      const std::size_t levels_max = spf_evaluation::resume_path::levels_max;
      const bool whole = stop_depth_ < levels_max;  // the deepest point is kept too
      e_.resume_.levels = whole ? stop_depth_ + 1 : levels_max;
      // Now that no view of it is left: the deepest point's target (the carried one kept).
      if (whole && !carry_again_) {
        e_.resume_expansion_ = std::move(candidate_);
        e_.resume_target_offset_ = candidate_offset_;
      }
      e_.resume_target_size_ = whole ? candidate_size_ : 0;
    }
    return false;
  }
  spf_outcome& o = e_.outcome_;
  o.result = r->result;
  o.mechanism = r->mechanism;
  o.problem = std::move(r->problem);
  if (r->result == spf_result::fail) o.explanation = std::move(exp).value_or("");
  o.dns_lookups = lookups_;
  o.void_lookups = voids_;
  return true;
}

void spf_evaluation::run() {
  pending_.clear();
  if (!spf_engine(*this).evaluate()) return;
  complete_ = true;
  pending_.clear();
}

}  // namespace mailsim::auth
