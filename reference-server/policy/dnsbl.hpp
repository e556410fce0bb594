// mailsim::policy DNSBL / DNSWL — lists of IP addresses or domains published in the DNS
// (RFC 5782), what their answers mean, and the lookup of one subject on several lists.
//
// Contract: two layers, like auth/dkim_verifier.hpp.
// - dnsbl_lookup is sans-IO. It is built from the lists and the subject (an IP address or
//   a domain); queries() names the DNS queries still unanswered, take_queries() hands out
//   the ones not asked yet, on_answer() takes one answer, outcome() gives one dnsbl_hit per
//   list consulted, in list order. A list whose kind does not fit the subject (an IP list
//   for a domain, a domain list for an address) is not consulted and not in the outcome.
// - dnsbl_checker drives it through a core::resolver. check() returns the outcome at once
//   when nothing has to be asked (no list fits, or every query name is refused); then `done`
//   never runs. Otherwise it returns nullopt and calls `done` exactly once, from the resolver
//   callback that brings the last answer, never from inside check(). The checker may go
//   away before that; the resolver must not.
// Query names: IPv4 octets reversed (RFC 5782 §2.1), IPv6 as 32 nibbles reversed (§2.4; an
// IPv4-mapped address ::ffff:a.b.c.d is asked as IPv4, RFC 4291 §2.5.5.2), domains as
// they are, lower case (§3); a name over 253 octets is never asked (RFC 1035 §2.3.4).
// Answers (A records), per list:
//   - not an IPv4 address in 127.0.0.0/8 → error (RFC 5782 §2.3 keeps answers in 127/8; a
//     real address means a hijacking resolver or a wildcard, never a listing);
//   - codes empty: 127.255.255.0/24 → error (the range Spamhaus answers errors in,
//     receiver-behaviour.md §2.2), any other 127/8 address → listed;
//   - codes given: an address matching a listing code → listed, with its meaning; matching
//     an error code → error; matching none → ignored (unknown code, not a listing).
//   A list is listed when any answer lists, else error when any answer (or the lookup:
//   SERVFAIL, timeout) failed, else not listed (NXDOMAIN, NODATA, ignored codes only).
// TXT: for a listed list with query_txt, the TXT record at the same name is asked once the A
// answer is in (as Postfix does: only when listed); its text is kept printable and bounded
// for the reply. A failed TXT lookup leaves the listing as it is, without a reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/core/resolver.hpp"
#include "reference-server/policy/common.hpp"

namespace mailsim::policy {

enum class dnsbl_kind { ip, domain };

// One return code of a list. Text forms (parse_dnsbl_code): "127.0.0.2" one address,
// "127.0.0.4-127.0.0.7" a range, "127.0.*.3" any value in the starred octets (DNSWL-style
// category.trust codes), "127.0.0.0&12" a bitmask code: any answer in 127.0.0.0/24 whose
// last octet has one of the bits (URIBL/SURBL-style multi lists).
struct dnsbl_code {
  std::uint32_t first = 0;  // IPv4 as a number, most significant octet first
  std::uint32_t last = 0;
  std::uint32_t mask = 0xffffffffu;  // octets cleared here are wildcards
  std::uint8_t bits = 0;             // nonzero: a bitmask code (first's /24, these bits)
  std::string meaning;               // "SBL", "XBL", "query refused", ...
  bool listing = true;               // false: the answer says the query failed
  std::optional<double> score;       // this code's spam score instead of the list's

  bool matches(std::uint32_t answer) const;
};

std::optional<dnsbl_code> parse_dnsbl_code(std::string_view text, std::string meaning = {},
                                           bool listing = true);
std::string to_string(const dnsbl_code& code);

struct dnsbl_list {
  std::string zone;  // "zen.spamhaus.org", lower case, no trailing dot
  dnsbl_kind kind = dnsbl_kind::ip;
  bool allow_list = false;        // a DNSWL: a hit means trusted
  std::vector<dnsbl_code> codes;  // empty: see the contract above
  // Spam-score contribution of a listing (spam_score.hpp); allow lists give negative ones.
  // 3.0: a project choice — one list alone stays below required_score 5.0 (SpamAssassin's
  // default), a second piece of evidence files the mail as Junk.
  double score = 3.0;
  bool query_txt = false;  // fetch the TXT reason for the reply text
  std::string name;        // spam-rule name; empty: derived from the zone
};

// The built-in profiles: "spamhaus-zen", "spamhaus-dbl", "spamcop", "barracuda", "uribl",
// "surbl", "dnswl" (receiver-behaviour.md §2.2-2.3 and the lists' public documentation).
std::optional<dnsbl_list> dnsbl_profile(std::string_view name);
const std::vector<std::string>& dnsbl_profile_names();

// RFC 5782 query names; nullopt for a domain that is not a DNS name or a result over 253
// octets.
std::string dnsbl_query_name(const core::ip_address& ip, std::string_view zone);
std::optional<std::string> dnsbl_query_name(std::string_view domain, std::string_view zone);

enum class dnsbl_status { not_listed, listed, error };
const char* to_string(dnsbl_status s);  // "not-listed", "listed", "error"

// The result for one list.
struct dnsbl_hit {
  std::string zone;
  std::string name;  // the list's spam-rule name (never empty)
  bool allow_list = false;
  dnsbl_kind kind = dnsbl_kind::ip;
  std::string subject;  // canonical IP text, or the domain in lower case
  std::string query;    // the A query name (empty when the name was refused)
  dnsbl_status status = dnsbl_status::not_listed;
  std::vector<std::string> answers;   // the A records, as served
  std::vector<std::string> meanings;  // of the codes matched by listing answers, each once
  std::string error;                  // why, when status is error
  std::string txt;                    // the TXT reason, when fetched
  double score = 0;  // when listed: the strongest matched code's score, else the list's
};

struct dnsbl_outcome {
  std::vector<dnsbl_hit> lists;  // one per list consulted, in list order

  const dnsbl_hit* first_blocking() const;  // the first listed block list
  bool blocked() const { return first_blocking() != nullptr; }
  bool allowed() const;  // some allow list lists the subject
  bool any_error() const;
  // listed when any list (block or allow) lists the subject, else error when any failed,
  // else not_listed: the word `mailsim-server dnsbl check` prints first.
  dnsbl_status summary() const;
};

// 554 5.7.1 "Service unavailable; client [IP] blocked using <zone>" (domain lists: "domain
// [d]"), with "; <TXT>" when fetched: the shape of Postfix's reject_rbl_client reply. The text
// is printable ASCII, at most reply_text_max octets (common.hpp).
std::string dnsbl_reply_text(const dnsbl_hit& hit);
reply_spec dnsbl_reply(const dnsbl_hit& hit);

struct dnsbl_limits {
  std::size_t lists_max = 16;       // lists past this are not consulted
  std::size_t answers_max = 16;     // A records looked at per list
  std::size_t txt_bytes_max = 300;  // of the TXT reason kept
};

struct dnsbl_query {
  std::string name;  // lower case, no trailing dot
  core::rr_type type = core::rr_type::a;
  bool operator==(const dnsbl_query&) const = default;
};

class dnsbl_lookup {
 public:
  // `subject`: an IP address (lists of kind ip) or a domain (lists of kind domain).
  dnsbl_lookup(const std::vector<dnsbl_list>& lists, std::string_view subject,
               dnsbl_limits limits = {});
  ~dnsbl_lookup();
  dnsbl_lookup(dnsbl_lookup&&) noexcept;
  dnsbl_lookup& operator=(dnsbl_lookup&&) noexcept;

  // Unanswered queries, each (name, type) once however many lists wait for it.
  std::vector<dnsbl_query> queries() const;
  // The unanswered queries not handed out before; they count as asked from now on.
  std::vector<dnsbl_query> take_queries();
  // An answer for a query not asked (or already answered) is ignored.
  void on_answer(std::string_view name, core::rr_type type, const core::dns_answer& answer);
  bool complete() const;
  // Lists still waiting for their A answer are reported as error "no answer".
  dnsbl_outcome outcome() const;

 private:
  struct entry;
  struct pending {
    dnsbl_query query;
    bool taken = false;
  };
  void want(dnsbl_query q);
  std::vector<entry> entries_;
  std::vector<pending> pending_;
  dnsbl_limits limits_;
};

class dnsbl_checker {
 public:
  using done_fn = std::function<void(dnsbl_outcome)>;

  dnsbl_checker(core::resolver& resolver, std::vector<dnsbl_list> lists, dnsbl_limits limits = {});

  [[nodiscard]] std::optional<dnsbl_outcome> check(std::string_view subject, done_fn done);
  const std::vector<dnsbl_list>& lists() const { return lists_; }

 private:
  core::resolver& resolver_;
  std::vector<dnsbl_list> lists_;
  dnsbl_limits limits_;
};

}  // namespace mailsim::policy
