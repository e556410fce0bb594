// net::unbound_resolver against a real unbound daemon on loopback (tests/support's
// unbound_daemon): forwarders mode, every record type, the negative answers and the
// failures as a real server produces them. Skipped when unbound is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "tests/support/unbound_daemon.hpp"

namespace mailsim::net {
namespace {

using core::dns_answer;
using core::dns_status;
using core::rr_type;

// The lab world the daemon serves. Zone lines are unbound.conf server: lines.
const std::vector<std::string> world = {
    R"(local-zone: "example.test." static)",
    R"(local-data: "example.test. 3600 IN SOA ns.example.test. hm.example.test. 1 1 1 1 300")",
    R"(local-data: "example.test. 3600 IN MX 20 mx2.example.test.")",
    R"(local-data: "example.test. 3600 IN MX 10 MX1.Example.Test.")",
    R"(local-data: "example.test. 3600 IN MX 30 mx3.example.test.")",
    R"(local-data: 'example.test. 3600 IN TXT "v=spf1 " "ip4:127.0.0.0/8 " "-all"')",
    R"(local-data: "mx1.example.test. 600 IN A 127.0.0.2")",
    R"(local-data: "mx1.example.test. 600 IN AAAA 2001:db8::25")",
    R"(local-data: "alias.example.test. 600 IN CNAME mx1.example.test.")",
    R"(local-zone: "2.0.0.127.in-addr.arpa." static)",
    R"(local-data: "2.0.0.127.in-addr.arpa. 600 IN PTR mx1.example.test.")",
    R"(local-data-ptr: "192.0.2.25 mx2.example.test.")",
    R"(local-zone: "refused.test." refuse)",
    R"(local-zone: "dropped.test." deny)",
};

class daemon_world : public ::testing::Test {
 protected:
  void SetUp() override {
    MAILSIM_SKIP_WITHOUT_UNBOUND();
    dns_ = std::make_unique<test::unbound_daemon>(world);
    ASSERT_TRUE(dns_->ok()) << dns_->error();
    resolver_ = make(std::chrono::seconds(10));
  }

  std::unique_ptr<unbound_resolver> make(std::chrono::milliseconds timeout) {
    unbound_options o;
    o.forwarders = {dns_->endpoint()};
    o.timeout = timeout;
    std::string error;
    auto r = unbound_resolver::create(io_, o, error);
    EXPECT_TRUE(r) << error;
    return r;
  }

  dns_answer ask(unbound_resolver& r, const std::string& name, rr_type type) {
    int calls = 0;
    dns_answer got;
    r.resolve(name, type, [&](const dns_answer& a) {
      ++calls;
      got = a;
    });
    io_.restart();
    io_.run();
    EXPECT_EQ(calls, 1) << name;
    return got;
  }
  dns_answer ask(const std::string& name, rr_type type) { return ask(*resolver_, name, type); }

  boost::asio::io_context io_;
  std::unique_ptr<test::unbound_daemon> dns_;
  std::unique_ptr<unbound_resolver> resolver_;
};

TEST_F(daemon_world, mx_records_in_the_order_served) {
  const dns_answer a = ask("example.test", rr_type::mx);
  ASSERT_EQ(a.status, dns_status::ok);
  ASSERT_EQ(a.mx.size(), 3u);
  EXPECT_EQ(a.mx[0].preference, 20);
  EXPECT_EQ(a.mx[0].exchange, "mx2.example.test");
  EXPECT_EQ(a.mx[1].preference, 10);
  EXPECT_EQ(a.mx[1].exchange, "mx1.example.test");
  EXPECT_EQ(a.mx[2].exchange, "mx3.example.test");
  EXPECT_GT(a.ttl_s, 3500u);  // 3600, counting down in libunbound's cache
  EXPECT_LE(a.ttl_s, 3600u);
}

TEST_F(daemon_world, addresses_text_and_names) {
  EXPECT_EQ(ask("mx1.example.test", rr_type::a).records, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(ask("MX1.example.test.", rr_type::aaaa).records,
            std::vector<std::string>{"2001:db8::25"});
  EXPECT_EQ(ask("example.test", rr_type::txt).records,
            std::vector<std::string>{"v=spf1 ip4:127.0.0.0/8 -all"});
  EXPECT_EQ(ask("2.0.0.127.in-addr.arpa", rr_type::ptr).records,
            std::vector<std::string>{"mx1.example.test"});
  EXPECT_EQ(ask("25.2.0.192.in-addr.arpa", rr_type::ptr).records,
            std::vector<std::string>{"mx2.example.test"});
  EXPECT_EQ(ask("alias.example.test", rr_type::cname).records,
            std::vector<std::string>{"mx1.example.test"});
}

TEST_F(daemon_world, nxdomain_and_nodata_with_the_soa_negative_ttl) {
  const dns_answer nx = ask("nope.example.test", rr_type::a);
  EXPECT_EQ(nx.status, dns_status::nxdomain);
  EXPECT_GT(nx.ttl_s, 200u);  // min(3600, 300), counting down
  EXPECT_LE(nx.ttl_s, 300u);
  const dns_answer nodata = ask("mx1.example.test", rr_type::mx);
  EXPECT_EQ(nodata.status, dns_status::nodata);
  EXPECT_LE(nodata.ttl_s, 300u);
  EXPECT_EQ(ask("example.test", rr_type::a).status, dns_status::nodata);
}

TEST_F(daemon_world, a_refusing_server_is_servfail) {
  EXPECT_EQ(ask("x.refused.test", rr_type::a).status, dns_status::servfail);
  // Outside every zone of the lab, the daemon refuses too ("." refuse).
  EXPECT_EQ(ask("gmail.com", rr_type::mx).status, dns_status::servfail);
}

TEST_F(daemon_world, a_server_that_drops_the_query_is_a_timeout) {
  auto quick = make(std::chrono::milliseconds(300));
  ASSERT_TRUE(quick);
  const dns_answer a = ask(*quick, "x.dropped.test", rr_type::mx);
  EXPECT_EQ(a.status, dns_status::timeout);
  // The resolver goes on working after a timeout.
  EXPECT_EQ(ask(*quick, "mx1.example.test", rr_type::a).status, dns_status::ok);
}

TEST_F(daemon_world, many_queries_at_once) {
  constexpr int n = 500;
  int answered = 0;
  int wrong = 0;
  for (int i = 0; i < n; ++i) {
    const bool exists = i % 2 == 0;
    resolver_->resolve(exists ? "mx1.example.test" : "n" + std::to_string(i) + ".example.test",
                       rr_type::a, [&, exists](const dns_answer& a) {
                         ++answered;
                         if (a.status != (exists ? dns_status::ok : dns_status::nxdomain)) ++wrong;
                       });
  }
  io_.run();
  EXPECT_EQ(answered, n);
  EXPECT_EQ(wrong, 0);
}

TEST_F(daemon_world, a_stopped_daemon_means_timeouts) {
  auto quick = make(std::chrono::milliseconds(300));
  ASSERT_TRUE(quick);
  dns_->stop();
  EXPECT_EQ(ask(*quick, "mx3.example.test", rr_type::a).status, dns_status::timeout);
}

TEST(unbound_daemon, bare_records_become_local_data_in_their_own_zone) {
  MAILSIM_SKIP_WITHOUT_UNBOUND();
  test::unbound_daemon dns({"dest.example. 60 IN MX 10 mx.dest.example.",
                            "mx.dest.example. 60 IN A 127.0.0.9",
                            R"(dest.example. 60 IN TXT "v=spf1 " "-all")"});
  ASSERT_TRUE(dns.ok()) << dns.error();
  boost::asio::io_context io;
  unbound_options o;
  o.forwarders = {dns.endpoint()};
  std::string error;
  auto r = unbound_resolver::create(io, o, error);
  ASSERT_TRUE(r) << error;
  std::vector<std::string> got;
  const auto note = [&](const dns_answer& a) {
    got.push_back(std::to_string(static_cast<int>(a.status)) + ":" +
                  (a.records.empty() ? "" : a.records[0]));
  };
  r->resolve("mx.dest.example", rr_type::a, note);
  r->resolve("mx.dest.example", rr_type::aaaa, note);  // NODATA, not REFUSED
  r->resolve("_dmarc.dest.example", rr_type::txt, note);
  r->resolve("dest.example", rr_type::txt, note);
  io.run();
  std::sort(got.begin(), got.end());
  const auto status = [](dns_status s) { return std::to_string(static_cast<int>(s)) + ":"; };
  EXPECT_EQ(got, (std::vector<std::string>{
                     status(dns_status::ok) + "127.0.0.9", status(dns_status::ok) + "v=spf1 -all",
                     status(dns_status::nodata), status(dns_status::nxdomain)}));
}

TEST(unbound_daemon, reports_a_bad_config_with_its_log) {
  MAILSIM_SKIP_WITHOUT_UNBOUND();
  test::unbound_daemon broken({"local-zone: \"x.test.\" no_such_type"});
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.error().find("unbound exited during start-up"), std::string::npos)
      << broken.error();
  EXPECT_NE(broken.error().find("local-zone type"), std::string::npos) << broken.error();
}

}  // namespace
}  // namespace mailsim::net
