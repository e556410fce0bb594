// mailsim::auth DMARC policy records — the TXT record at `_dmarc.<domain>` (RFC 7489 §6.3
// tags, §6.4 grammar).
//
// Contract: parse_dmarc_record() reads one TXT record (the character-strings already
// concatenated) and never throws; it returns the record or a typed error (dmarc_errc):
// - the record must start with the tag v=DMARC1 (§6.4, case-sensitive value); a record that
//   does not is not_dmarc (§6.6.3 step 5: discovery discards it, see is_dmarc_record());
// - the rest is a tag list (RFC 6376 §3.2 syntax, shared with DKIM: tag_list.hpp); tag names
//   are compared without regard to case and named at most once; values of p, sp, adkim,
//   aspf, fo and rf are case-insensitive keywords (RFC 5234 §2.3 quoted strings);
// - p (none / quarantine / reject) is required. §6.6.3 step 6: when p is missing or not
//   valid, or sp is present and not valid, a record whose rua holds at least one valid URI
//   is read as p=none (policy_defaulted is set, sp dropped); without one it is
//   no_valid_policy, which means "no DMARC processing" (dmarc_status::none), not an error of
//   the sender's. np= (DMARCbis) and other unknown tags are ignored (§6.3);
// - adkim, aspf (r / s), pct (0..100), fo (colon list of 0, 1, d, s), rf (colon list of
//   keywords), ri (a 32-bit unsigned number of seconds) must be valid when present:
//   otherwise bad_value, which evaluation reports as permerror (RFC 7489 §11.2
//   "a syntactically incorrect DMARC record");
// - rua and ruf are comma-separated dmarc-uri lists (§6.4: URI with an optional "!" size
//   limit, digits and a k/m/g/t unit). A URI that does not parse is left out (RFC 7489 §6.6.3
//   speaks of "at least one syntactically valid reporting URI", so one bad URI does not spoil
//   the record); at most uris_max are kept per list (§6.2 lets receivers limit them, with
//   at least two).
// Limits: records longer than record_bytes_max are too_long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailsim::auth {

enum class dmarc_policy { none, quarantine, reject };
enum class dmarc_alignment { relaxed, strict };

const char* to_string(dmarc_policy p);     // "none", "quarantine", "reject"
const char* to_string(dmarc_alignment a);  // "r", "s" (the tag values)

enum class dmarc_errc {
  not_dmarc = 1,    // does not start with v=DMARC1
  tag_syntax,       // not a tag list (RFC 6376 §3.2), or a tag named twice
  no_valid_policy,  // p missing or not valid (or sp not valid), and no valid rua URI
  bad_value,        // adkim, aspf, pct, fo, rf or ri with a value outside its grammar
  too_long,         // over dmarc_record_limits::record_bytes_max
};

const std::error_category& dmarc_category() noexcept;

inline std::error_code make_error_code(dmarc_errc e) noexcept {
  return {static_cast<int>(e), dmarc_category()};
}

struct dmarc_uri {
  std::string uri;                     // as written, e.g. "mailto:reports@example.com"
  std::uint64_t size_limit_bytes = 0;  // the "!" limit in octets; 0 when none
};

struct dmarc_record {
  dmarc_policy policy = dmarc_policy::none;                   // p
  std::optional<dmarc_policy> subdomain_policy;               // sp; p applies when absent
  dmarc_alignment dkim_alignment = dmarc_alignment::relaxed;  // adkim
  dmarc_alignment spf_alignment = dmarc_alignment::relaxed;   // aspf
  unsigned percent = 100;                                     // pct
  std::vector<std::string> failure_options{"0"};              // fo, lower case
  std::vector<std::string> report_formats{"afrf"};            // rf, lower case
  std::uint32_t report_interval_s = 86400;                    // ri
  std::vector<dmarc_uri> aggregate_uris;                      // rua
  std::vector<dmarc_uri> failure_uris;                        // ruf
  bool policy_defaulted = false;  // p=none taken under §6.6.3 step 6 (no valid p/sp, rua)
  std::string detail;             // for a bad_value or no_valid_policy: which tag and why
};

struct dmarc_record_result {
  dmarc_record record;
  std::error_code error;  // dmarc_errc; empty when parsed

  bool ok() const { return !error; }
};

struct dmarc_record_limits {
  std::size_t record_bytes_max = 4096;
  std::size_t uris_max = 8;  // per list (rua, ruf)
};

dmarc_record_result parse_dmarc_record(std::string_view txt, const dmarc_record_limits& = {});

// Whether the TXT record starts with the v=DMARC1 tag (RFC 7489 §6.6.3 step 5): "v", white
// space, "=", white space, "DMARC1", then white space, ";" or the end.
bool is_dmarc_record(std::string_view txt);

// The record in a normal form for people and logs: "v=DMARC1; p=reject; sp=none; adkim=s;
// aspf=r; pct=100" followed by rua/ruf when present.
std::string to_text(const dmarc_record& r);

}  // namespace mailsim::auth

template <>
struct std::is_error_code_enum<mailsim::auth::dmarc_errc> : std::true_type {};
