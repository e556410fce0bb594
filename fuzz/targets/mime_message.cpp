// Fuzz target: the MIME structure parser and every IMAP view of its tree
// (reference-server/message). Byte 0 chooses small limits (bits 0-1: depth, bits 2-3:
// parts, bit 4: header fields) so that the limit paths are reached too; the rest is the
// message. Invariants: every offset stays inside the input; views never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/message/address.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/date.hpp"
#include "reference-server/message/imap_view.hpp"
#include "reference-server/message/message.hpp"

namespace {

using namespace mailsim::message;

void check_part(const parsed_message& m, const part& p) {
  if (p.header_offset + p.header_bytes > m.bytes.size()) std::abort();
  if (p.body_offset + p.body_bytes > m.bytes.size()) std::abort();
  if (p.body_offset < p.header_offset + p.header_bytes) std::abort();
  for (std::size_t c : p.children) {
    if (c >= m.parts.size()) std::abort();
  }
  if (p.kind == part_kind::message && p.children.size() != 1) std::abort();
  (void)body_structure(m, p, true);
  (void)binary(m, p);
  if (p.message_root) {
    (void)envelope(m, p);
    (void)header_values_decoded(p, "Subject");
    if (const header_field* date = p.field("Date")) (void)parse_date(date->value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mailsim::fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  parse_limits limits;
  if ((flags & 3) != 0) limits.depth_max = flags & 3;
  if ((flags & 12) != 0) limits.parts_max = 1 + ((flags >> 2) & 3) * 3;
  if ((flags & 16) != 0) limits.header_fields_max = 2;
  const parsed_message m = parse(in.rest(), limits);
  if (m.parts.empty() || m.parts.size() > limits.parts_max + 1) std::abort();
  for (const part& p : m.parts) check_part(m, p);
  for (std::uint32_t a = 1; a <= 3; ++a) {
    for (std::uint32_t b = 0; b <= 2; ++b) {
      for (section_kind k : {section_kind::full, section_kind::header, section_kind::text,
                             section_kind::mime, section_kind::header_fields_not}) {
        section_spec spec{{a}, k, {"From"}};
        if (b > 0) spec.part.push_back(b);
        (void)section(m, spec);
      }
    }
  }
  (void)section(m, section_spec{});
  (void)parse_address_list(in.rest().substr(0, 4096));
  (void)decode_encoded_words(in.rest().substr(0, 4096));
  (void)decode_quoted_printable(in.rest().substr(0, 4096));
  return 0;
}
