// Fuzz target: SPF macro-strings (reference-server/auth/spf_macro.hpp) — the syntax check,
// the expansion and the query-name step. Input: one header byte, then the string (up to
// 8 KiB). Header bit 0 chooses the context (domain-spec or explanation), bit 1 an IPv6
// client, bits 2-7 the output bound (64 bytes per step, 64..4096).
// Checked beyond the sanitizers:
// - check_spf_macros() and expand_spf_macros() agree on acceptance (expansion may only add
//   too_long), and on a refusal the check points inside the string;
// - an accepted string without "%" expands to itself, and an expansion never exceeds its
//   bound;
// - literal_tail lies within the string and ends_with_macro agrees with it;
// - spf_query_name() is the expansion less one final dot, less whole labels on the left,
//   and is over 253 octets only when it is one label.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/auth/spf_macro.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 8u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "spf_macro property violated: %s\n", what);
  std::abort();
}

auth::spf_macro_values values(bool v6) {
  auth::spf_macro_values v;
  v.sender = "strong-bad@email.example.com";
  v.local_part = "strong-bad";
  v.sender_domain = "email.example.com";
  v.domain = "email.example.com";
  v.ip = *core::parse_ip(v6 ? "2001:db8::cb01" : "192.0.2.3");
  v.validated = "mx.example.org";
  v.helo = "mx.example.org";
  v.receiver = "receiver.example.net";
  v.timestamp_s = 1'700'000'000;
  return v;
}

void check_name(std::string_view expanded) {
  const std::string name = auth::spf_query_name(expanded);
  std::string_view whole = expanded;
  if (!whole.empty() && whole.back() == '.') whole.remove_suffix(1);
  require(whole.size() >= name.size() && whole.substr(whole.size() - name.size()) == name,
          "a query name that is not a suffix of the expansion");
  require(name.size() == whole.size() || whole[whole.size() - name.size() - 1] == '.',
          "truncation that does not remove whole labels");
  require(name.size() <= 253 || name.find('.') == std::string::npos,
          "a query name over 253 octets that still has labels to drop");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max + 1) return 0;
  fuzz::input in(data, size);
  const std::uint8_t header = in.byte();
  const std::string_view text = in.rest();
  const auto context =
      (header & 1) != 0 ? auth::spf_macro_context::explanation : auth::spf_macro_context::domain;
  const std::size_t bound = 64u * (1u + (header >> 2));

  const auth::spf_macro_check c = auth::check_spf_macros(text, context);
  const auth::spf_expansion e = auth::expand_spf_macros(text, context, values(header & 2), bound);
  require(c.literal_tail <= text.size(), "literal tail outside the string");
  require(c.ends_with_macro == (!text.empty() && c.literal_tail == text.size()),
          "ends_with_macro disagrees with literal_tail");
  if (!c.ok()) {
    require(e.error == c.error, "check and expansion disagree on a refusal");
    require(c.error_offset < text.size(), "a refusal points outside the string");
    return 0;
  }
  require(e.ok() || e.error == auth::spf_macro_error::too_long,
          "expansion refuses what the check accepts");
  if (!e.ok()) return 0;
  require(e.text.size() <= bound, "expansion over its bound");
  if (text.find('%') == std::string_view::npos) require(e.text == text, "literal text changed");
  check_name(e.text);
  return 0;
}
