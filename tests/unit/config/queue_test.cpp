// The queue: section of the mailsim-server config (config::outbound_config).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference-server/config/config.hpp"

namespace mailsim::config {
namespace {

// Lines 1-4; the queue section starts on line 5.
const std::string head = "server:\n  maildir_root: /m\nlisteners:\n  - role: smtp\n";

TEST(queue_config, defaults_follow_postfix) {
  const auto result = load_string(head, "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const outbound_config& q = result.config().outbound;
  EXPECT_TRUE(q.enabled);
  EXPECT_TRUE(q.spool_dir.empty());  // the server puts it under state_dir
  EXPECT_EQ(q.engine.retry.fallback, queue::postfix_like_profile());
  EXPECT_EQ(q.engine.routing.port, 25);
  EXPECT_EQ(q.engine.default_destination.connections_max, 20u);
  EXPECT_EQ(q.engine.default_destination.starttls, smtp::tls_policy::opportunistic);
  EXPECT_EQ(q.engine.dsn_content.return_bytes_max, 50'000u);
  EXPECT_EQ(q.durability, durability_mode::syncfs);
}

TEST(queue_config, every_key_is_read) {
  const auto result = load_string(head + R"(queue:
  enabled: true
  directory: /var/spool/x
  hostname: Out.Example.TEST
  port: 2525
  retry: "fixed:1m,lifetime=1h"
  address_families: ipv4_first
  mx_hosts_max: 3
  addresses_max: 4
  routes:
    relay.test: "127.0.0.9:2526, [::1]:2527"
    "*": "smarthost.test"
  source_pools:
    - {sender_domain: example.test, addresses: [127.0.0.5, "0:0::1"]}
    - {class: Bulk.News_2-x, addresses: [127.0.0.6]}
  destinations:
    - {domain: big.test, messages_per_minute: 60, starttls: required, tls_verify: hostname, retry: exim}
    - {domain: "*", connections_max: 5, throttle_pause: 10m}
  messages_max: 10
  bytes_max: 1MiB
  connections_total_max: 7
  connect_timeout: 3s
  tls_handshake_timeout: 4s
  idle_keep: 500ms
  command_timeout: 20s
  ca_file: ca.pem
  dsn: {return_bytes_max: 1KiB, delay_reports_without_notify: true}
  durability: fsync_each
)",
                                  "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const outbound_config& q = result.config().outbound;
  EXPECT_EQ(q.spool_dir, "/var/spool/x");
  EXPECT_EQ(q.engine.hostname, "out.example.test");
  EXPECT_EQ(q.engine.routing.port, 2525);
  EXPECT_EQ(q.engine.retry.fallback, queue::fixed_profile(std::chrono::minutes(1), std::chrono::hours(1)));
  EXPECT_EQ(q.engine.retry.per_domain.at("big.test"), queue::exim_like_profile());
  EXPECT_EQ(q.engine.routing.families, queue::address_families::ipv4_first);
  EXPECT_EQ(q.engine.routing.routes.at("relay.test").size(), 2u);
  EXPECT_EQ(q.engine.routing.routes.at("relay.test")[1].port, 2527);
  ASSERT_EQ(q.engine.source_pools.size(), 2u);
  EXPECT_EQ(q.engine.source_pools[0].sender_domain, "example.test");
  EXPECT_EQ(q.engine.source_pools[0].message_class, "");
  EXPECT_EQ(q.engine.source_pools[0].addresses, (std::vector<std::string>{"127.0.0.5", "::1"}));
  EXPECT_EQ(q.engine.source_pools[1].sender_domain, "");
  EXPECT_EQ(q.engine.source_pools[1].message_class, "Bulk.News_2-x");  // case kept
  EXPECT_EQ(q.engine.source_pools[1].addresses, (std::vector<std::string>{"127.0.0.6"}));
  // "*" is read first wherever it stands: big.test starts from its connections_max.
  EXPECT_EQ(q.engine.default_destination.connections_max, 5u);
  const auto& big = q.engine.destinations.at("big.test");
  EXPECT_EQ(big.connections_max, 5u);
  EXPECT_EQ(big.messages_per_minute, 60u);
  EXPECT_EQ(big.starttls, smtp::tls_policy::required);
  EXPECT_EQ(big.tls_verify, core::tls_verify::hostname);
  EXPECT_EQ(q.limits.messages_max, 10u);
  EXPECT_EQ(q.limits.bytes_max, 1024u * 1024u);
  EXPECT_EQ(q.engine.client_limits.data_term_timeout, std::chrono::seconds(20));
  EXPECT_EQ(q.engine.idle_keep, std::chrono::milliseconds(500));
  EXPECT_TRUE(q.ca_file.ends_with("/ca.pem"));
  EXPECT_TRUE(q.engine.dsn.delay_reports_without_notify);
  EXPECT_EQ(q.durability, durability_mode::fsync_each);
}

TEST(queue_config, bad_values_name_the_place) {
  struct bad_case {
    std::string yaml;
    std::string message;  // expected prefix of the error, after "x.yaml:"
  };
  const std::vector<bad_case> cases = {
      {"queue:\n  retry: weekly\n", "6:10: bad retry profile for 'retry'"},
      {"queue:\n  port: 0\n", "6:9: expected a port number"},
      {"queue:\n  routes: {a.test: \"host:99999\"}\n", "6:20: bad route for 'a.test'"},
      {"queue:\n  destinations:\n    - {domain: a.test, starttls: maybe}\n",
       "7:34: expected one of none, opportunistic, required"},
      {"queue:\n  destinations:\n    - {domain: a.test}\n    - {domain: A.test}\n",
       "8:7: duplicate destination 'a.test'"},
      {"queue:\n  source_pools:\n    - {sender_domain: a.test, addresses: [nope]}\n",
       "7:43: expected an IPv4 or IPv6 address"},
      {"queue:\n  source_pools:\n"
       "    - {sender_domain: a.test, class: bulk, addresses: [127.0.0.1]}\n",
       "7:31: a source pool takes 'sender_domain' or 'class', not both"},
      {"queue:\n  source_pools:\n    - {addresses: [127.0.0.1]}\n",
       "7:7: a source pool needs 'sender_domain' or 'class'"},
      {"queue:\n  source_pools:\n    - {class: \"no way\", addresses: [127.0.0.1]}\n",
       "7:15: expected a message class name"},
      {"queue:\n  source_pools:\n    - {class: " + std::string(65, 'a') +
           ", addresses: [127.0.0.1]}\n",
       "7:15: expected a message class name"},
      {"queue:\n  source_pools:\n    - {class: bulk, addresses: [127.0.0.1]}\n"
       "    - {class: Bulk, addresses: [127.0.0.2]}\n",
       "8:7: duplicate source pool for class 'Bulk'"},
      {"queue:\n  source_pools:\n    - {sender_domain: a.test, addresses: [127.0.0.1]}\n"
       "    - {sender_domain: A.test, addresses: [127.0.0.2]}\n",
       "8:7: duplicate source pool for sender domain 'a.test'"},
      {"queue:\n  mx_host_max: 3\n", "6:3: unknown key 'mx_host_max' in 'queue'"},
      {"queue:\n  destinations:\n    - {connections_max: 0, domain: a.test}\n",
       "7:25: 'connections_max' must be at least 1"},
  };
  for (const auto& c : cases) {
    const auto result = load_string(head + c.yaml, "x.yaml");
    ASSERT_FALSE(result.ok()) << c.yaml;
    const std::string text = result.error().to_string();
    EXPECT_EQ(text.rfind("x.yaml:" + c.message, 0), 0u) << c.yaml << "\n  got: " << text;
  }
}

}  // namespace
}  // namespace mailsim::config
