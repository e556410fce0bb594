#include "tests/support/byte_split.hpp"

#include <cstdio>

namespace mailsim::test {

void for_each_split(std::string_view input, const std::function<void(const pieces&)>& run) {
  run(pieces{input});
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    run(pieces{input.substr(0, cut), input.substr(cut)});
  }
  pieces bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  run(bytes);
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace mailsim::test
