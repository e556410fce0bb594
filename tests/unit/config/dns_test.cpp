// The dns: section of the mailsim-server config (config::dns_config).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference-server/config/config.hpp"

namespace mailsim::config {
namespace {

// Lines 1-4; the dns section starts on line 5.
const std::string head = "server:\n  maildir_root: /m\nlisteners:\n  - role: smtp\n";

TEST(dns_config, defaults_to_the_system_resolver_with_a_10s_timeout) {
  const auto result = load_string(head, "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const dns_config& dns = result.config().dns;
  EXPECT_TRUE(dns.uses_system_resolver());
  EXPECT_TRUE(dns.forwarders.empty());
  EXPECT_TRUE(dns.local_zones.empty());
  EXPECT_TRUE(dns.local_data.empty());
  EXPECT_EQ(dns.timeout, std::chrono::seconds(10));
  EXPECT_TRUE(load_string(head + "dns:\n", "x.yaml").config().dns.uses_system_resolver());
}

TEST(dns_config, every_key_is_read_and_normalized) {
  const auto result = load_string(head + R"(dns:
  forwarders: [127.0.0.1@5353, 192.0.2.1, "::1@53", "0:0:0:0:0:0:0:2"]
  local_zones: ["Example.TEST static", ". refuse", "blocked.test. deny"]
  local_data:
    - "example.test. 300 IN MX 10 mx.example.test."
    - 'example.test. IN 300 TXT "v=spf1 " "-all"'
    - "_dmarc.example.test. TXT v=DMARC1;p=none"
    - "2.0.0.127.in-addr.arpa. 60 PTR mx.example.test."
    - "x.example.test. 60 IN TYPE65534 \\# 0"
  timeout: 1500ms
)",
                                  "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const dns_config& dns = result.config().dns;
  EXPECT_FALSE(dns.uses_system_resolver());
  EXPECT_EQ(dns.forwarders,
            (std::vector<std::string>{"127.0.0.1@5353", "192.0.2.1@53", "::1@53", "::2@53"}));
  EXPECT_EQ(dns.local_zones,
            (std::vector<std::string>{"example.test. static", ". refuse", "blocked.test. deny"}));
  ASSERT_EQ(dns.local_data.size(), 5u);
  EXPECT_EQ(dns.local_data[1], "example.test. IN 300 TXT \"v=spf1 \" \"-all\"");  // as written
  EXPECT_EQ(dns.timeout, std::chrono::milliseconds(1500));
}

TEST(dns_config, local_data_alone_is_not_the_system_resolver) {
  const auto result = load_string(head + "dns: {local_data: ['a.test. 1 IN A 192.0.2.1']}\n", "x");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_FALSE(result.config().dns.uses_system_resolver());
}

TEST(dns_config, bad_values_name_the_place) {
  struct bad_case {
    std::string name;
    std::string yaml;  // after `head`
    std::string error;
  };
  const std::vector<bad_case> cases = {
      {"unknown_key", "dns:\n  forwarder: [127.0.0.1]\n",
       "bad.yaml:6:3: unknown key 'forwarder' in 'dns'; expected one of: forwarders, "
       "local_zones, local_data, timeout"},
      {"not_a_list", "dns:\n  forwarders: 127.0.0.1@5353\n",
       "bad.yaml:6:15: expected a list of forwarders for 'forwarders', got '127.0.0.1@5353'"},
      {"host_name_forwarder", "dns:\n  forwarders: [127.0.0.1, localhost]\n",
       "bad.yaml:6:27: expected an IP address with an optional @port, like 127.0.0.1@5353 for "
       "'forwarders', got 'localhost'"},
      {"bad_port", "dns:\n  forwarders: [127.0.0.1@70000]\n",
       "bad.yaml:6:16: expected an IP address with an optional @port, like 127.0.0.1@5353 for "
       "'forwarders', got '127.0.0.1@70000'"},
      {"empty_port", "dns:\n  forwarders: [127.0.0.1@]\n",
       "bad.yaml:6:16: expected an IP address with an optional @port, like 127.0.0.1@5353 for "
       "'forwarders', got '127.0.0.1@'"},
      {"colon_port", "dns:\n  forwarders: ['127.0.0.1:5353']\n",
       "bad.yaml:6:16: expected an IP address with an optional @port, like 127.0.0.1@5353 for "
       "'forwarders', got '127.0.0.1:5353'"},
      {"duplicate_forwarder", "dns:\n  forwarders: [192.0.2.1, 192.0.2.1@53]\n",
       "bad.yaml:6:27: duplicate forwarder '192.0.2.1@53'"},
      {"zone_without_type", "dns:\n  local_zones: [example.test.]\n",
       "bad.yaml:6:17: expected a zone and its type, like 'example.test. static' for "
       "'local_zones', got 'example.test.'"},
      {"unknown_zone_type", "dns:\n  local_zones:\n    - example.test. nodefault\n",
       "bad.yaml:7:7: unknown zone type 'nodefault' in 'local_zones'; expected one of: static, "
       "transparent, typetransparent, redirect, refuse, deny, always_transparent, "
       "always_refuse, always_nxdomain, always_nodata, always_deny, always_null"},
      {"duplicate_zone", "dns:\n  local_zones: [a.test static, A.TEST. refuse]\n",
       "bad.yaml:6:32: zone 'a.test.' is declared twice in 'local_zones'"},
      {"record_without_rdata", "dns:\n  local_data:\n    - mx.example.test. 300 IN A\n",
       "bad.yaml:7:7: expected a record like 'mx.example.test. 300 IN A 192.0.2.1' for "
       "'local_data', got 'mx.example.test. 300 IN A'"},
      {"record_without_type", "dns:\n  local_data: ['mx.example.test. 300 IN 192.0.2.1']\n",
       "bad.yaml:6:16: expected a record like 'mx.example.test. 300 IN A 192.0.2.1' for "
       "'local_data', got 'mx.example.test. 300 IN 192.0.2.1'"},
      {"record_with_bad_owner", "dns:\n  local_data: ['a..test. 300 IN A 192.0.2.1']\n",
       "bad.yaml:6:16: expected a record like 'mx.example.test. 300 IN A 192.0.2.1' for "
       "'local_data', got 'a..test. 300 IN A 192.0.2.1'"},
      {"record_on_two_lines", "dns:\n  local_data: [\"a.test. 1 IN A\\n192.0.2.1\"]\n",
       "bad.yaml:6:16: expected a record like 'mx.example.test. 300 IN A 192.0.2.1' for "
       "'local_data', got 'a.test. 1 IN A?192.0.2.1'"},
      {"bad_timeout", "dns:\n  timeout: 10\n",
       "bad.yaml:6:12: expected a duration like 5m for 'timeout', got '10'"},
      {"zero_timeout", "dns:\n  timeout: 0s\n", "bad.yaml:6:12: 'timeout' must be longer than 0s"},
  };
  for (const auto& c : cases) {
    const load_result result = load_string(head + c.yaml, "bad.yaml");
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.error().to_string(), c.error) << c.name;
  }
}

}  // namespace
}  // namespace mailsim::config
