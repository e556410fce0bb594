// Fuzz target: RFC 5321 paths (reference-server/smtp/address.hpp). Byte 0 chooses the
// address_options; the rest is the text after "MAIL FROM:" or "RCPT TO:".
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/smtp/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  smtp::address_options options;
  options.allow_utf8 = (flags & 1) != 0;
  options.allow_null = (flags & 2) != 0;
  options.allow_postmaster_bare = (flags & 4) != 0;
  options.allow_missing_brackets = (flags & 8) != 0;
  const std::string_view text = in.rest();
  const smtp::path_parse p = smtp::parse_path(text, options);
  if (p.value) {
    if (p.consumed > text.size()) std::abort();
    (void)p.value->to_string();
    (void)p.value->box.has_relay_chars();
    (void)smtp::is_valid_domain(p.value->box.domain, options.allow_utf8);
  }
  (void)smtp::is_valid_domain(text, options.allow_utf8);
  (void)smtp::is_valid_utf8(text);
  return 0;
}
