// mailsim::auth SPF — check_host() of RFC 7208 for the MAIL FROM and HELO identities, with
// its results, Received-SPF field (§9.1) and Authentication-Results resinfo (RFC 8601).
//
// Contract: two layers, like dkim_verifier.hpp.
// - spf_evaluation is sans-IO. queries() lists the DNS questions it still needs,
//   on_answer() takes one answer (a name compared without regard to case and a final dot;
//   answers to questions not asked are ignored), complete() says when outcome() is ready.
//   It works by replay: it evaluates against the answers it holds, stops at the first one
//   it lacks (gathering, in one step, the sibling lookups it can already name: the address
//   lookups of every MX host, of every PTR name) and, once every listed question has its
//   answer, evaluates again. Same answers, same outcome: the order in which answers arrive
//   never matters. A replay resumes at the mechanism that stopped the last pass (in each
//   include/redirect level on the way to it), with the lookup counts it had there: what came
//   before had every answer, so running it again would only repeat itself.
//   Given an spf_record_cache, records are parsed through it (spf_record.hpp); either way an
//   evaluation parses a record at most once.
// - spf_checker drives it through a core::resolver. check_mail_from()/check_helo() return
//   the outcome at once when no lookup is needed (e.g. a malformed domain); then `done` is
//   never called. Otherwise they return nullopt and call `done` exactly once, from the
//   resolver callback that brings the last answer (never from inside the call). The
//   checker may go away before that; the resolver must not. Its evaluations share one
//   spf_record_cache of options.record_cache_entries records.
// The evaluation (§4, §5, §6):
// - Identity: MAIL FROM checks the domain of the reverse-path (an empty local part reads as
//   "postmaster", §4.3); a null reverse-path checks the HELO name with sender
//   postmaster@helo (§2.4), reported as identity "helo"; the HELO identity checks the HELO
//   name (§2.3). A domain that is malformed (empty label, label over 63 octets, over 253
//   octets, characters outside visible ASCII, an address literal) or single-label gives
//   none without a lookup (§4.3).
// - Records: the TXT records at the domain (§4.4; type SPF is never asked), the one
//   starting "v=spf1" (§4.5): none when there is none (or NXDOMAIN/NODATA), permerror for
//   two or more, temperror on SERVFAIL/timeout, permerror for a syntax error anywhere in
//   it (spf_record.hpp).
// - Mechanisms in order, the first match giving its qualifier's result; then redirect= (a
//   target without a record is permerror, §6.1; ignored when the record has "all"); then
//   neutral. include: pass matches, fail/softfail/neutral do not, temperror/permerror
//   propagate, none is permerror (§5.2). a/mx compare the client with the target's A
//   (IPv4 client) or AAAA (IPv6 client) addresses under the CIDR lengths; mx takes at most
//   mx_names_max MX records (more: permerror, §4.6.4), a null MX has no address. ptr
//   validates up to ptr_names_max PTR names of the client (a name is validated when its
//   addresses include the client) and matches when one is the target or under it; a DNS
//   error on the PTR lookup means no match, and on a name's address lookup skips that
//   name (§5.5). exists matches when the A lookup has an answer (whatever the client
//   family). ip4/ip6 compare with the client of that family only; an IPv4-mapped IPv6
//   client is IPv4 (§5). A target name that cannot be a DNS name after expansion (empty
//   label, label over 63) is treated as nonexistent: no match, no lookup.
// - Errors inside a mechanism's own lookups (SERVFAIL, timeout) give temperror (§5),
//   except for ptr as above.
// - Limits (§4.6.4): include, a, mx, ptr, exists and an executed redirect each count as a
//   DNS-querying term; the (dns_mechanisms_max+1)-th is permerror. A void lookup
//   (NXDOMAIN, or NOERROR without records) of a term's own query — the A/AAAA of a, the
//   MX of mx, the PTR of ptr, the A of exists, the TXT of include/redirect targets — counts;
//   going over void_lookups_max is permerror. The address lookups of MX hosts and of PTR
//   names (and the lookups behind %{p}) are not counted as void: a host without an AAAA
//   record is the usual case, not the abuse the limit guards against. queries_max caps the
//   distinct DNS questions of one evaluation (permerror past it, except that an exp= lookup
//   that would pass it is skipped for the default explanation); nesting_max caps
//   include/redirect depth (the lookup limit stops loops long before, unless raised).
// - Explanation (§6.2): on fail, the exp= of the record that gave the result (the
//   redirect target's, never an included record's): its domain-spec expanded, one TXT
//   record fetched (not counted as a lookup or void), expanded as explain-string with c r t
//   allowed. Any trouble (DNS error, no or several records, non-ASCII, bad macro) falls
//   back to options.default_explanation, expanded the same way.
// Results and what the outcome says:
//   pass/fail/softfail/neutral  mechanism = the matching term as written ("" for the
//                        default neutral); for a match inside include:, the include term
//   none                 problem says why: no record, or the domain is not checkable
//   temperror/permerror  problem says why, naming the term and the name looked up
// Left out: type SPF (99) records (RFC 7208 §3.1 retired them); an overall time limit
// (§4.6.4 SHOULD): each lookup is bounded by the resolver's timeout, and a caller that
// wants a total bound stops waiting for `done` (then treats the check as temperror).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/auth/spf_record.hpp"
#include "reference-server/core/clock.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::auth {

enum class spf_result { none, neutral, pass, fail, softfail, temperror, permerror };

const char* to_string(spf_result r);  // "none", "neutral", "pass", …

struct spf_request {
  core::ip_address ip;               // the SMTP client
  std::string mail_from;             // the reverse-path without <>; "" = null sender
  std::string helo;                  // HELO/EHLO name
  std::string receiver = "unknown";  // %{r}, and the Received-SPF receiver
  core::time_point now;              // %{t}
};

// The default of spf_options::default_explanation.
inline constexpr std::string_view spf_default_explanation =
    "%{o} does not designate %{c} as a permitted sender";

struct spf_options {
  unsigned dns_mechanisms_max = 10;  // §4.6.4 terms that query DNS
  unsigned void_lookups_max = 2;     // §4.6.4 (RECOMMENDED default)
  unsigned mx_names_max = 10;        // §4.6.4: MX records one mx mechanism may use
  unsigned ptr_names_max = 10;       // §4.6.4: PTR names one ptr/%{p} validates
  // Distinct DNS questions in one evaluation. The limits above allow about 140 (10 terms ×
  // 11 for mx, plus records, %{p} and exp); past this, permerror.
  std::size_t queries_max = 200;
  unsigned nesting_max = 20;               // include/redirect depth
  std::size_t record_bytes_max = 8192;     // spf_record_limits
  std::size_t expansion_bytes_max = 8192;  // one macro expansion (domain or explanation)
  // The explanation when exp= gives none (§6.2 allows a locally defined default); an
  // explain-string, so macros (c r t included) are expanded.
  std::string default_explanation = std::string(spf_default_explanation);
  // spf_checker: how many parsed records its evaluations share (0: none, each parses).
  std::size_t record_cache_entries = 256;
};

struct spf_outcome {
  spf_result result = spf_result::none;
  std::string identity;     // "mailfrom" or "helo"
  std::string domain;       // the domain checked (after the null-sender rule)
  std::string sender;       // the <sender> used (postmaster@helo for the null sender)
  std::string mechanism;    // the matching term as written, "" when none ("default")
  std::string explanation;  // fail: the exp= text (or the default); else ""
  std::string problem;      // permerror/temperror (and none): why, naming the term
  unsigned dns_lookups = 0, void_lookups = 0;
};

// RFC 8601 §2.7.2 resinfo: "spf=pass smtp.mailfrom=example.com" (the domain checked), or
// smtp.helo=<name> for the HELO identity; a value that is not a token is quoted.
std::string authres_text(const spf_outcome& o);

// The whole Received-SPF field of §9.1 on one line, without CRLF: result, a comment
// "(<receiver>: <what happened>)", then client-ip, envelope-from (when the reverse-path is
// not null), helo, receiver, identity, mechanism (when one matched) and problem (errors),
// each a dot-atom or a quoted-string.
std::string received_spf(const spf_outcome& o, const spf_request& request);

class spf_engine;  // spf_engine.hpp: one replay pass

class spf_evaluation {
 public:
  struct query {
    std::string name;
    core::rr_type type;
  };

  // helo_identity: check the HELO name (§2.3); otherwise MAIL FROM (null → HELO, §2.4).
  // records: parsed records shared with other evaluations (none: this one parses its own).
  // What the evaluation needs of `request` and `options` is copied: neither need outlive it.
  spf_evaluation(const spf_request& request, bool helo_identity, const spf_options& options = {},
                 std::shared_ptr<spf_record_cache> records = nullptr);
  spf_evaluation(spf_evaluation&&) noexcept = default;
  spf_evaluation& operator=(spf_evaluation&&) noexcept = default;
  spf_evaluation(const spf_evaluation&) = delete;
  spf_evaluation& operator=(const spf_evaluation&) = delete;

  const std::vector<query>& queries() const { return pending_; }
  // `name` may be one of queries()' own names.
  void on_answer(const std::string& name, core::rr_type type, const core::dns_answer& answer);
  void on_answer(const std::string& name, core::rr_type type, core::dns_answer&& answer);
  bool complete() const { return complete_; }
  const spf_outcome& outcome() const { return outcome_; }  // precondition: complete()

 private:
  friend class spf_engine;

  // The texts an evaluation keeps, in one string (texts_): the HELO name and receiver, then
  // the records of every answer, each after its length (one octet below 255, else 255 and
  // four octets). One allocation for them all, rather than one per name and per answer (and
  // per long record) as strings and vectors of strings would make. Only the constructor and
  // on_answer() add to it, never a pass, so views of it stay valid for a whole pass.
  class record_range {  // the records of one answer, read in texts_
   public:
    class iterator {
     public:
      using value_type = std::string_view;
      using difference_type = std::ptrdiff_t;
      using reference = std::string_view;
      using iterator_category = std::input_iterator_tag;
      iterator() = default;
      explicit iterator(const char* at) : at_(at) {}
      std::string_view operator*() const;
      iterator& operator++();
      iterator operator++(int) {
        iterator old = *this;
        ++*this;
        return old;
      }
      bool operator==(const iterator& o) const { return at_ == o.at_; }

     private:
      const char* at_ = nullptr;
    };

    record_range(const char* begin, const char* end, std::size_t count)
        : begin_(begin), end_(end), count_(count) {}
    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    iterator begin() const { return iterator(begin_); }
    iterator end() const { return iterator(end_); }
    std::string_view operator[](std::size_t i) const;
    std::string_view front() const { return *begin(); }

   private:
    const char* begin_;
    const char* end_;
    std::size_t count_;
  };
  // Where an answer's records are in texts_.
  struct record_texts {
    record_texts(const std::vector<std::string>& texts, std::string& store);
    record_range in(const std::string& store) const {
      return record_range(store.data() + offset, store.data() + offset + bytes, count);
    }
    bool empty() const { return count == 0; }

    std::size_t offset, bytes, count;
  };
  // What an evaluation keeps of a core::dns_answer (the same names; records in texts_).
  struct kept_answer {
    kept_answer(const core::dns_answer& a, std::string& store)
        : status(a.status), records(a.records, store), mx(a.mx) {}
    kept_answer(core::dns_answer&& a, std::string& store)
        : status(a.status), records(a.records, store), mx(std::move(a.mx)) {}

    core::dns_status status;
    record_texts records;
    std::vector<core::mx_record> mx;
  };

  struct stored_answer {
    template <class Answer>
    stored_answer(std::string key, core::rr_type t, Answer&& a, std::string& store)
        : name(std::move(key)), type(t), answer(std::forward<Answer>(a), store) {}

    std::string name;  // as spf_name_key() gives it
    core::rr_type type;
    kept_answer answer;
    // TXT, found on first use and kept for the replays: how many records are SPF records,
    // where the first is, and the parse of the one.
    static constexpr std::size_t not_counted = ~std::size_t{0};
    std::size_t spf_records = not_counted;
    std::size_t spf_index = 0;
    std::shared_ptr<const spf_parse_result> record;
    // MX, found on first use: whether the hosts come in preference order, and which of the
    // first 64 are DNS names (a null MX, RFC 7505, is not).
    bool mx_checked = false, mx_sorted = false;
    std::uint64_t mx_names = 0;
  };
  // Where the last pass stopped, at each include/redirect level from the top (level d in
  // points[d]): the index of the mechanism (the record's size for its redirect) and the
  // counts before it. Levels past levels_max start from their first mechanism: as correct,
  // a little slower, and rare (it takes a chain of 8 includes).
  struct resume_point {
    std::size_t index;
    unsigned dns_lookups, void_lookups;
  };
  struct resume_path {
    static constexpr std::size_t levels_max = 8;
    // Only [0, levels) is ever read, so only that is set or copied: clearing the whole
    // array for every evaluation showed in profiles.
    resume_path() {}  // points[] is written before it is read
    resume_path(const resume_path& o) noexcept : levels(o.levels) {
      std::copy_n(o.points.begin(), levels, points.begin());
    }
    resume_path& operator=(const resume_path& o) noexcept {
      levels = o.levels;
      std::copy_n(o.points.begin(), levels, points.begin());
      return *this;
    }

    std::array<resume_point, levels_max> points;
    std::size_t levels = 0;
  };

  // spf_options as an evaluation keeps them (field names as there): the numbers, and the
  // default explanation only when it is not the usual one, since a copy of that string for
  // every evaluation showed in profiles.
  struct settings {
    explicit settings(const spf_options& o);
    std::string_view default_explanation() const {
      return custom ? std::string_view(custom_explanation) : spf_default_explanation;
    }

    unsigned dns_mechanisms_max, void_lookups_max, mx_names_max, ptr_names_max;
    std::size_t queries_max;
    unsigned nesting_max;
    std::size_t record_bytes_max, expansion_bytes_max;
    bool custom;                     // default_explanation is not spf_default_explanation
    std::string custom_explanation;  // then, a copy of it
  };

  std::vector<query>::iterator pending_for(std::string_view name, core::rr_type type);
  template <class Answer>
  void store(std::vector<query>::iterator asked, Answer&& answer);
  void run();  // one replay pass (spf_eval.cpp)

  // %{l} of the <sender>: outcome_.sender is local-part "@" outcome_.domain.
  std::string_view local_part() const {
    return std::string_view(outcome_.sender)
        .substr(0, outcome_.sender.size() - outcome_.domain.size() - 1);
  }

  std::string_view helo() const { return std::string_view(texts_).substr(0, helo_size_); }
  std::string_view receiver() const {
    return std::string_view(texts_).substr(helo_size_, receiver_size_);
  }

  // The request (its reverse-path is kept as outcome_.domain and .sender).
  core::ip_address ip_;
  core::time_point now_;
  std::string texts_;  // see record_texts: the HELO name, the receiver, the answers' records
  std::size_t helo_size_, receiver_size_;
  static constexpr std::size_t texts_reserved = 256;  // a policy's records, usually
  bool helo_identity_;
  settings options_;
  std::shared_ptr<spf_record_cache> records_;
  // A few entries (about 5 for a provider's policy, never over queries_max): a vector beats
  // a map here. Only on_answer() adds to it, never during a pass.
  std::vector<stored_answer> answers_;
  static constexpr std::size_t answers_reserved = 6;  // a provider policy; more grow it
  resume_path resume_;
  // The deepest resume point's target as its macros expanded: the view [offset, +size) of
  // resume_expansion_ (size 0: none), so that the pass resuming there does not expand it again.
  std::string resume_expansion_;
  std::size_t resume_target_offset_ = 0, resume_target_size_ = 0;
  std::vector<query> pending_;
  static constexpr std::size_t pending_reserved = 4;  // the hosts of a usual MX answer
  spf_outcome outcome_;  // identity, domain and sender from the start; the rest at the end
  bool complete_ = false;
};

class spf_checker {
 public:
  using done_fn = std::function<void(spf_outcome)>;

  explicit spf_checker(core::resolver& resolver, spf_options options = {});

  // MAIL FROM identity (null sender → HELO identity, §2.4).
  [[nodiscard]] std::optional<spf_outcome> check_mail_from(const spf_request& request,
                                                           done_fn done);
  [[nodiscard]] std::optional<spf_outcome> check_helo(const spf_request& request, done_fn done);

 private:
  std::optional<spf_outcome> check(const spf_request& request, bool helo, done_fn done);

  core::resolver& resolver_;
  spf_options options_;
  std::shared_ptr<spf_record_cache> records_;  // null when options.record_cache_entries is 0
};

}  // namespace mailsim::auth
