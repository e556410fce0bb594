#include "reference-server/auth/spf.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/spf_engine.hpp"
#include "reference-server/auth/spf_macro.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

// RFC 5322 §3.2.3 dot-atom-text: atext runs separated by single dots.
bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' ? s[i + 1] == '.' : !core::is_atext(s[i])) return false;
  }
  return true;
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// A Received-SPF value: dot-atom when possible, else a quoted-string. Controls (which
// neither may carry) become "?".
std::string field_value(std::string_view s) {
  if (is_dot_atom(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += is_control(c) ? '?' : c;
  }
  return out + "\"";
}

// Text for inside a comment: "(", ")" and "\" escaped (RFC 5322 §3.2.2 ctext).
std::string comment_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += is_control(c) ? '?' : c;
  }
  return out;
}

std::string comment_for(const spf_outcome& o, const std::string& ip) {
  const std::string& s = o.sender;
  switch (o.result) {
    case spf_result::pass:
      return "domain of " + s + " designates " + ip + " as permitted sender";
    case spf_result::fail:
      return "domain of " + s + " does not designate " + ip + " as permitted sender";
    case spf_result::softfail:
      return "transitioning domain of " + s + " does not designate " + ip + " as permitted sender";
    case spf_result::neutral:
      return ip + " is neither permitted nor denied by domain of " + s;
    case spf_result::none:
      return "domain of " + s + " does not designate permitted sender hosts";
    case spf_result::temperror:
      return "temporary error in processing during lookup of " + s;
    case spf_result::permerror:
      return "permanent error in processing domain of " + s;
  }
  return {};
}

// One check in flight: the evaluation, the questions handed to the resolver, the callback.
struct pending_check {
  spf_evaluation evaluation;
  core::resolver& resolver;
  spf_checker::done_fn done;
  std::set<std::pair<std::string, core::rr_type>> issued;
};

void issue(const std::shared_ptr<pending_check>& check) {
  for (const spf_evaluation::query& q : check->evaluation.queries()) {
    if (!check->issued.insert({q.name, q.type}).second) continue;
    check->resolver.resolve(q.name, q.type, [check, q](const core::dns_answer& answer) {
      check->evaluation.on_answer(q.name, q.type, answer);
      if (!check->evaluation.complete()) {
        issue(check);
        return;
      }
      if (!check->done) return;
      spf_checker::done_fn call = std::move(check->done);
      check->done = nullptr;
      call(check->evaluation.outcome());
    });
  }
}

}  // namespace

const char* to_string(spf_result r) {
  switch (r) {
    case spf_result::none:
      return "none";
    case spf_result::neutral:
      return "neutral";
    case spf_result::pass:
      return "pass";
    case spf_result::fail:
      return "fail";
    case spf_result::softfail:
      return "softfail";
    case spf_result::temperror:
      return "temperror";
    case spf_result::permerror:
      return "permerror";
  }
  return "none";
}

std::string authres_text(const spf_outcome& o) {
  const char* property = o.identity == "helo" ? " smtp.helo=" : " smtp.mailfrom=";
  return std::string("spf=") + to_string(o.result) + property + authres_value(o.domain);
}

std::string received_spf(const spf_outcome& o, const spf_request& request) {
  const std::string ip = core::to_string(request.ip);
  std::string out = std::string("Received-SPF: ") + to_string(o.result) + " (" +
                    comment_text(request.receiver + ": " + comment_for(o, ip)) + ")";
  std::vector<std::pair<const char*, std::string>> pairs{{"client-ip", ip}};
  if (!request.mail_from.empty()) pairs.emplace_back("envelope-from", request.mail_from);
  pairs.emplace_back("helo", request.helo);
  pairs.emplace_back("receiver", request.receiver);
  pairs.emplace_back("identity", o.identity);
  if (!o.mechanism.empty()) pairs.emplace_back("mechanism", o.mechanism);
  const bool error = o.result == spf_result::permerror || o.result == spf_result::temperror;
  if (error && !o.problem.empty()) pairs.emplace_back("problem", o.problem);
  for (std::size_t i = 0; i < pairs.size(); ++i)
    out += std::string(i == 0 ? " " : "; ") + pairs[i].first + "=" + field_value(pairs[i].second);
  return out;
}

spf_evaluation::settings::settings(const spf_options& o)
    : dns_mechanisms_max(o.dns_mechanisms_max),
      void_lookups_max(o.void_lookups_max),
      mx_names_max(o.mx_names_max),
      ptr_names_max(o.ptr_names_max),
      queries_max(o.queries_max),
      nesting_max(o.nesting_max),
      record_bytes_max(o.record_bytes_max),
      expansion_bytes_max(o.expansion_bytes_max),
      custom(o.default_explanation != spf_default_explanation) {
  if (custom) custom_explanation = o.default_explanation;
}

spf_evaluation::spf_evaluation(const spf_request& request, bool helo_identity,
                               const spf_options& options,
                               std::shared_ptr<spf_record_cache> records)
    // What the macros need (§7.2 h, r, t and the client), copied as the members are made; the
    // reverse-path is kept as the outcome's domain and sender.
    : ip_(request.ip),
      now_(request.now),
      helo_size_(request.helo.size()),
      receiver_size_(request.receiver.size()),
      helo_identity_(helo_identity),
      options_(options),
      records_(std::move(records)) {
  texts_.reserve(helo_size_ + receiver_size_ + texts_reserved);
  texts_.append(request.helo).append(request.receiver);
  // §2.3, §2.4: the HELO identity, or MAIL FROM with the null sender read as postmaster@helo.
  const std::string& mail_from = request.mail_from;
  const bool helo = helo_identity_ || mail_from.empty();
  outcome_.identity = helo ? "helo" : "mailfrom";
  std::string_view domain = helo ? request.helo : mail_from;
  std::string_view local_part = "postmaster";  // §4.3: the local part of a sender without one
  if (const std::size_t at = mail_from.rfind('@'); !helo && at != std::string::npos) {
    domain = std::string_view(mail_from).substr(at + 1);
    if (at > 0) local_part = std::string_view(mail_from).substr(0, at);
  }
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  outcome_.domain = domain;
  outcome_.sender.reserve(local_part.size() + 1 + domain.size());
  outcome_.sender.append(local_part).append(1, '@').append(domain);
  if (!spf_engine::first_question(*this)) run();
}

namespace {

constexpr unsigned char long_text = 255;  // a length of 255 or more follows in four octets

}  // namespace

spf_evaluation::record_texts::record_texts(const std::vector<std::string>& texts,
                                           std::string& store)
    : offset(store.size()), bytes(0), count(texts.size()) {
  for (const std::string& t : texts) bytes += t.size() + (t.size() < long_text ? 1 : 5);
  store.resize(offset + bytes);  // then written in place: one append per piece cost more
  char* at = store.data() + offset;
  for (const std::string& t : texts) {
    if (t.size() < long_text) {
      *at++ = static_cast<char>(t.size());
    } else {
      const auto n = static_cast<std::uint32_t>(t.size());  // DNS messages are far smaller
      *at++ = static_cast<char>(long_text);
      std::memcpy(at, &n, sizeof n);
      at += sizeof n;
    }
    std::memcpy(at, t.data(), t.size());
    at += t.size();
  }
}

std::string_view spf_evaluation::record_range::iterator::operator*() const {
  const auto n = static_cast<unsigned char>(*at_);
  if (n < long_text) return std::string_view(at_ + 1, n);
  std::uint32_t length;
  std::memcpy(&length, at_ + 1, sizeof length);
  return std::string_view(at_ + 5, length);
}

spf_evaluation::record_range::iterator& spf_evaluation::record_range::iterator::operator++() {
  const std::string_view text = **this;
  at_ = text.data() + text.size();
  return *this;
}

std::string_view spf_evaluation::record_range::operator[](std::size_t i) const {
  iterator it = begin();
  while (i-- > 0) ++it;
  return *it;
}

std::vector<spf_evaluation::query>::iterator spf_evaluation::pending_for(std::string_view name,
                                                                         core::rr_type type) {
  if (complete_) return pending_.end();
  return std::find_if(pending_.begin(), pending_.end(), [&](const query& q) {
    return q.type == type && spf_name_equals(name, q.name);
  });
}

// The answer is kept under the name as asked (already a key), which leaves the list.
template <class Answer>
void spf_evaluation::store(std::vector<query>::iterator asked, Answer&& answer) {
  if (answers_.empty()) answers_.reserve(answers_reserved);
  answers_.emplace_back(std::move(asked->name), asked->type, std::forward<Answer>(answer), texts_);
  pending_.erase(asked);
  if (pending_.empty()) run();  // replay once everything asked for is here
}

void spf_evaluation::on_answer(const std::string& name, core::rr_type type,
                               const core::dns_answer& answer) {
  if (auto it = pending_for(name, type); it != pending_.end()) store(it, answer);
}

void spf_evaluation::on_answer(const std::string& name, core::rr_type type,
                               core::dns_answer&& answer) {
  if (auto it = pending_for(name, type); it != pending_.end()) store(it, std::move(answer));
}

spf_checker::spf_checker(core::resolver& resolver, spf_options options)
    : resolver_(resolver), options_(std::move(options)) {
  if (options_.record_cache_entries > 0)
    records_ = std::make_shared<spf_record_cache>(options_.record_cache_entries);
}

std::optional<spf_outcome> spf_checker::check_mail_from(const spf_request& request, done_fn done) {
  return check(request, false, std::move(done));
}

std::optional<spf_outcome> spf_checker::check_helo(const spf_request& request, done_fn done) {
  return check(request, true, std::move(done));
}

std::optional<spf_outcome> spf_checker::check(const spf_request& request, bool helo, done_fn done) {
  auto state = std::make_shared<pending_check>(pending_check{
      spf_evaluation(request, helo, options_, records_), resolver_, std::move(done), {}});
  if (state->evaluation.complete()) return state->evaluation.outcome();
  issue(state);
  return std::nullopt;
}

}  // namespace mailsim::auth
