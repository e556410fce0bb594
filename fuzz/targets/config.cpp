// Fuzz target: the server config loader (reference-server/config/config.hpp); the input is
// a YAML file. A loaded config also yields the session options of each listener.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reference-server/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const config::load_result r = config::load_string(yaml, "fuzz.yaml");
  if (r.ok()) {
    for (const auto& l : r.config().listeners) (void)config::session_options(r.config(), l);
  } else {
    (void)r.error().to_string();
  }
  return 0;
}
