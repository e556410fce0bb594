#include "reference-server/core/ip_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "reference-server/core/random.hpp"

namespace mailsim::core {
namespace {

TEST(ip_address, canonical_forms) {
  const std::pair<std::string, std::string> cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"::1", "::1"},
      {"::", "::"},
      {"0:0::1", "::1"},
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // RFC 5952 §4.2.3: the first run
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // §4.2.2: one zero group stays
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
      {"fe80::0001", "fe80::1"},
  };
  for (const auto& [in, out] : cases) {
    auto ip = parse_ip(in);
    ASSERT_TRUE(ip.has_value()) << in;
    EXPECT_EQ(to_string(*ip), out) << in;
  }
}

TEST(ip_address, refuses_what_is_not_an_address) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
                          ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
                          "::1.2.3", "fe80::1%eth0", "[::1]", "g::1", "1.2.3.4::"}) {
    EXPECT_FALSE(parse_ip(bad).has_value()) << bad;
  }
}

// Differential check against the C library on random addresses (tests may use libc's
// socket helpers; the library may not).
TEST(ip_address, agrees_with_inet_pton_and_inet_ntop) {
  splitmix_random r(5);
  for (int i = 0; i < 20000; ++i) {
    unsigned char bytes[16];
    r.fill(bytes);
    bool v6 = r.uniform(2) == 1;
    if (v6 && r.uniform(3) == 0) {  // many zero runs, the interesting cases
      for (auto& b : bytes) b = r.uniform(3) == 0 ? b : 0;
    }
    // glibc writes the deprecated IPv4-compatible form (::a.b.c.d, RFC 4291 §2.5.5.1) as a
    // dotted quad; RFC 5952 asks that only for IPv4-mapped addresses. Skip that form.
    bool compatible = v6;
    for (int k = 0; k < 12 && compatible; ++k) compatible = bytes[k] == 0;
    if (compatible) continue;
    char text[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof text), nullptr);
    auto ip = parse_ip(text);
    ASSERT_TRUE(ip.has_value()) << text;
    EXPECT_EQ(to_string(*ip), text);
  }
}

}  // namespace
}  // namespace mailsim::core
