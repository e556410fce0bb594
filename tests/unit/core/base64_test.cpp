#include "reference-server/core/base64.hpp"

#include <gtest/gtest.h>

namespace mailsim::core {
namespace {

TEST(base64, rfc4648_vectors) {
  // RFC 4648 §10 test vectors.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
  }
}

TEST(base64, binary_round_trip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(base64, refuses_malformed_text) {
  for (const char* bad : {"Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Zm 9v", "=Zm9", "Zm=v"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace mailsim::core
