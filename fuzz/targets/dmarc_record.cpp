// Fuzz target: DMARC policy records (reference-server/auth/dmarc_record.hpp
// parse_dmarc_record) and the discovery test is_dmarc_record(). The input (up to 8 KiB) is
// one TXT record, character-strings already concatenated.
// Checked beyond the sanitizers: an error is one of the dmarc_errc codes; not_dmarc exactly
// when is_dmarc_record() says no (records under the length limit); an accepted record keeps
// pct within 0..100, at most uris_max URIs per list, and its normal form (to_text) parses
// back to the same policy, alignment, pct and URIs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "reference-server/auth/dmarc_record.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 8u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "dmarc_record property violated: %s\n", what);
  std::abort();
}

bool same_uris(const std::vector<auth::dmarc_uri>& a, const std::vector<auth::dmarc_uri>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].uri != b[i].uri || a[i].size_limit_bytes != b[i].size_limit_bytes) return false;
  }
  return true;
}

void check_accepted(const auth::dmarc_record& r, const auth::dmarc_record_limits& limits) {
  require(r.percent <= 100, "pct above 100");
  require(r.aggregate_uris.size() <= limits.uris_max, "too many rua URIs");
  require(r.failure_uris.size() <= limits.uris_max, "too many ruf URIs");
  require(!r.policy_defaulted || !r.aggregate_uris.empty(), "p=none taken without a rua URI");
  // The normal form spells size limits in octets, which may make it longer than the input.
  auth::dmarc_record_limits roomy = limits;
  roomy.record_bytes_max = SIZE_MAX;
  const auth::dmarc_record_result again = auth::parse_dmarc_record(auth::to_text(r), roomy);
  require(again.ok(), "normal form does not parse");
  const auth::dmarc_record& b = again.record;
  require(b.policy == r.policy && b.subdomain_policy == r.subdomain_policy,
          "normal form changes the policy");
  require(b.dkim_alignment == r.dkim_alignment && b.spf_alignment == r.spf_alignment,
          "normal form changes the alignment");
  require(b.percent == r.percent, "normal form changes pct");
  require(
      same_uris(b.aggregate_uris, r.aggregate_uris) && same_uris(b.failure_uris, r.failure_uris),
      "normal form changes the URIs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auth::dmarc_record_limits limits;
  const auth::dmarc_record_result r = auth::parse_dmarc_record(text, limits);
  const bool is_dmarc = auth::is_dmarc_record(text);
  if (!r.ok()) {
    const int code = r.error.value();
    require(&r.error.category() == &auth::dmarc_category(), "foreign error category");
    require(code >= static_cast<int>(auth::dmarc_errc::not_dmarc) &&
                code <= static_cast<int>(auth::dmarc_errc::too_long),
            "undocumented error");
    if (r.error != auth::dmarc_errc::too_long)
      require((r.error == auth::dmarc_errc::not_dmarc) == !is_dmarc, "not_dmarc disagrees");
    (void)r.error.message();
    return 0;
  }
  require(is_dmarc, "accepted a record without v=DMARC1");
  check_accepted(r.record, limits);
  return 0;
}
