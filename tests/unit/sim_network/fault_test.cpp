// simulator/network: faults switched on and off at virtual times.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/sim_network/harness.hpp"

namespace mailsim::sim::network::test {
namespace {

using core::duration_ms;

TEST_F(network_test, RefuseHoldsBetweenItsTimes) {
  ASSERT_TRUE(net->add_fault({"mx-down", fault_kind::refuse, "198.51.100.25", 25},
                             t0 + duration_ms{1'000}, t0 + duration_ms{2'000}));
  recorder before(sched, t0), during(sched, t0), after(sched, t0);
  auto s1 = connect(mx, duration_ms{30'000}, {}, &before);
  sched.run_until(t0 + duration_ms{1'500});
  EXPECT_TRUE(net->fault_active("mx-down"));
  auto s2 = connect(mx, duration_ms{30'000}, {}, &during);
  sched.run_until(t0 + duration_ms{2'500});
  EXPECT_FALSE(net->fault_active("mx-down"));
  auto s3 = connect(mx, duration_ms{30'000}, {}, &after);
  sched.run_until_idle();
  EXPECT_EQ(before.events, (ev{"+0 connected"}));
  EXPECT_EQ(during.events, (ev{"+1500 closed refused"}));
  EXPECT_EQ(after.events, (ev{"+2500 connected"}));
  EXPECT_NE(sink.text().find(".000Z net fault on mx-down refuse 198.51.100.25:25\n"),
            std::string::npos);
  EXPECT_NE(sink.text().find("22:13:22.000Z net fault off mx-down refuse 198.51.100.25:25\n"),
            std::string::npos);
}

TEST_F(network_test, AFaultOnAnotherPortDoesNotCover) {
  net->add_fault({"submission-down", fault_kind::refuse, "198.51.100.25", 587}, t0);
  sched.run_until(t0);
  auto stream = connect();
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 connected"}));
}

TEST_F(network_test, StallHoldsBytesUntilItEnds) {
  latency(10);
  auto stream = connect();
  sched.run_until_idle();  // +20
  net->add_fault({"stall", fault_kind::stall, "198.51.100.25"}, t0 + duration_ms{100},
                 t0 + duration_ms{5'000});
  sched.run_until(t0 + duration_ms{200});
  stream->write("one");
  stream->write("two");
  server.stream().write("from the server");
  stream->close();
  sched.run_until(t0 + duration_ms{4'999});
  EXPECT_EQ(server.handler().events, (ev{"+10 connected"}));  // nothing got through
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events,
            (ev{"+10 connected", "+5000 data one", "+5000 data two", "+5000 closed eof"}));
}

TEST_F(network_test, SetFaultSwitchesAtOnce) {
  ASSERT_TRUE(net->add_fault({"stall", fault_kind::stall, "192.0.2.1"}, t0 + duration_ms{60'000}));
  auto stream = connect();
  sched.run_until(t0 + duration_ms{1});
  EXPECT_TRUE(net->set_fault("stall", true));  // the client's address is covered too
  stream->write("held");
  sched.run_until(t0 + duration_ms{10});
  EXPECT_EQ(server.handler().data, "");
  EXPECT_TRUE(net->set_fault("stall", false));
  sched.run_until(t0 + duration_ms{20});
  EXPECT_EQ(server.handler().events.back(), "+10 data held");
  EXPECT_FALSE(net->set_fault("no-such-fault", true));
}

TEST_F(network_test, ResetFaultResetsOpenConnectionsAndLaterOnesAtTheirFirstPiece) {
  auto first = connect();
  sched.run_until_idle();
  ASSERT_TRUE(net->add_fault({"rst", fault_kind::reset, "198.51.100.25"}, t0 + duration_ms{50},
                             t0 + duration_ms{1'000}));
  sched.run_until(t0 + duration_ms{60});
  EXPECT_EQ(client.events, (ev{"+0 connected", "+50 closed reset"}));
  EXPECT_EQ(server.handler(0).events.back(), "+50 closed reset");

  recorder second(sched, t0);
  auto stream = connect(mx, duration_ms{30'000}, {}, &second);
  second.on_connect = [&] { stream->write("x"); };
  sched.run_until_idle();
  EXPECT_EQ(second.events, (ev{"+60 connected", "+60 closed reset"}));
}

TEST_F(network_test, LossFaultOverridesTheLink) {
  net->add_fault({"lossy", fault_kind::loss, "198.51.100.25", 0, 1.0}, t0);
  auto stream = connect();
  client.on_connect = [&] { stream->write("x"); };
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 connected", "+0 closed reset"}));
  EXPECT_NE(sink.text().find("reset (loss, fault lossy)"), std::string::npos);
}

TEST_F(network_test, AddFaultRefusesBadFaults) {
  EXPECT_TRUE(net->add_fault({"a", fault_kind::stall, "192.0.2.1"}, t0));
  EXPECT_FALSE(net->add_fault({"a", fault_kind::stall, "192.0.2.2"}, t0));  // name in use
  EXPECT_FALSE(net->add_fault({"", fault_kind::stall, "192.0.2.2"}, t0));
  EXPECT_FALSE(net->add_fault({"b", fault_kind::stall, "mx.example"}, t0));
  EXPECT_FALSE(net->add_fault({"c", fault_kind::stall, "192.0.2.2"}, t0 + duration_ms{2},
                              t0 + duration_ms{1}));
}

TEST(CertificateNames, FollowRfc6125) {
  EXPECT_TRUE(certificate_names_host("mx.example.net", "MX.Example.NET"));
  EXPECT_TRUE(certificate_names_host("mx.example.net", "mx.example.net."));
  EXPECT_TRUE(certificate_names_host("*.example.net", "mx.example.net"));
  EXPECT_FALSE(certificate_names_host("*.example.net", "a.mx.example.net"));
  EXPECT_FALSE(certificate_names_host("*.example.net", "example.net"));
  EXPECT_FALSE(certificate_names_host("mx.example.net", "mx2.example.net"));
  EXPECT_FALSE(certificate_names_host("", "mx.example.net"));
  EXPECT_FALSE(certificate_names_host("m*.example.net", "mx.example.net"));
}

}  // namespace
}  // namespace mailsim::sim::network::test
