// Fuzz target: the SMTP command line parser (reference-server/smtp/command.hpp).
// Byte 0 bit 0 chooses allow_utf8; the rest is one command line.
#include <cstddef>
#include <cstdint>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/smtp/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  fuzz::input in(data, size);
  smtp::command_options options;
  options.allow_utf8 = (in.byte() & 1) != 0;
  const smtp::command_parse p = smtp::parse_command(in.rest(), options);
  if (p.value) {
    (void)smtp::verb_name(p.value->kind);
    (void)p.value->address.to_string();
    for (const auto& param : p.value->params) (void)p.value->param(param.keyword);
  }
  return 0;
}
