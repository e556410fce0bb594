// simulator/network: connecting, refusing, timing out, addresses (core/transport.hpp).
#include <gtest/gtest.h>

#include "tests/unit/sim_network/harness.hpp"

namespace mailsim::sim::network::test {
namespace {

using core::duration_ms;

TEST_F(network_test, ConnectTakesOneRoundTripAndTheListenerAcceptsAfterOneLatency) {
  latency(10);
  auto stream = connect();
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+20 connected"}));
  ASSERT_EQ(server.accepted(), 1u);
  EXPECT_EQ(server.handler().events, (ev{"+10 connected"}));
  EXPECT_EQ(server.stream().local(), (core::endpoint{"198.51.100.25", 25}));
  EXPECT_EQ(server.stream().remote(), (core::endpoint{"192.0.2.1", 49152}));
  EXPECT_EQ(net->stats().established, 1u);
}

TEST_F(network_test, NothingIsCalledFromInsideTheStreamsCalls) {
  auto stream = connect();
  stream->write("early");
  EXPECT_TRUE(client.events.empty());
  stream->close();
  EXPECT_TRUE(client.events.empty());
  sched.run_until_idle();
  EXPECT_TRUE(client.events.empty());  // closed before on_connected: abandoned, no calls
}

TEST_F(network_test, NoListenerIsRefusedAfterOneRoundTrip) {
  latency(10);
  auto stream = connect({"198.51.100.26", 25}, duration_ms{30'000});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+20 closed refused"}));
  EXPECT_EQ(net->stats().refused, 1u);
  EXPECT_EQ(net->open_connections(), 0u);
}

TEST_F(network_test, AnotherPortOfAListeningAddressIsRefused) {
  auto stream = connect({"198.51.100.25", 587}, duration_ms{30'000});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 closed refused"}));
}

TEST_F(network_test, BytesWrittenBeforeOnConnectedWaitForIt) {
  latency(10);
  auto stream = connect();
  stream->write("EHLO a\r\n");
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events, (ev{"+10 connected", "+30 data EHLO a\r\n"}));
}

TEST_F(network_test, BlackholeEndsWithTheRequestsTimeout) {
  net->add_fault({"hole", fault_kind::blackhole, "198.51.100.25"}, t0);
  sched.run_until(t0);  // the fault switches on
  auto stream = connect(mx, duration_ms{5'000});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+5000 closed timed_out"}));
  EXPECT_EQ(server.accepted(), 0u);
  EXPECT_EQ(net->stats().timed_out, 1u);
}

TEST_F(network_test, BlackholeWithoutATimeoutWaitsForEver) {
  net->add_fault({"hole", fault_kind::blackhole, "198.51.100.25"}, t0);
  sched.run_until(t0);
  auto stream = connect(mx, duration_ms{0});
  sched.run_until(t0 + duration_ms{24LL * 3'600'000});
  EXPECT_TRUE(client.events.empty());
  EXPECT_EQ(net->open_connections(), 1u);
}

TEST_F(network_test, ATimeoutShorterThanTheHandshakeResetsTheAcceptedSide) {
  latency(100);
  auto stream = connect(mx, duration_ms{150});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+150 closed timed_out"}));
  EXPECT_EQ(server.handler().events, (ev{"+100 connected", "+250 closed reset"}));
}

TEST_F(network_test, IPv6AddressesCompareInCanonicalForm) {
  acceptor v6(sched, t0);
  ASSERT_TRUE(net->listen({"2001:DB8:0:0::25", 25}, v6));
  auto stream = connect({"2001:db8::25", 25}, duration_ms{30'000});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 connected"}));
  ASSERT_EQ(v6.accepted(), 1u);
  EXPECT_EQ(v6.stream().remote().address, "2001:db8::1");  // the host's IPv6 address
  EXPECT_EQ(v6.stream().local().address, "2001:db8::25");
}

TEST_F(network_test, ABoundLocalAddressIsWhatThePeerSees) {
  auto host2 = net->make_transport({"203.0.113.5", "203.0.113.6"});
  core::connect_request request;
  request.remote = mx;
  request.local = {"203.0.113.6", 2525};
  auto stream = host2->connect(request, client);
  sched.run_until_idle();
  ASSERT_EQ(server.accepted(), 1u);
  EXPECT_EQ(server.stream().remote(), (core::endpoint{"203.0.113.6", 2525}));
}

TEST_F(network_test, ALocalAddressNotOnTheHostIsNotAvailable) {
  auto stream = connect(mx, duration_ms{30'000}, {"192.0.2.99", 0});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 closed address_not_available"}));
}

TEST_F(network_test, BadAddressesAreInvalidArguments) {
  recorder a(sched, t0), b(sched, t0), c(sched, t0);
  auto s1 = connect({"mx.example", 25}, duration_ms{1}, {}, &a);
  auto s2 = connect(mx, duration_ms{1}, {"2001:db8::1", 0}, &b);  // family mismatch
  auto s3 = connect({"198.51.100.25", 0}, duration_ms{1}, {}, &c);
  sched.run_until_idle();
  EXPECT_EQ(a.events, (ev{"+0 closed invalid_argument"}));
  EXPECT_EQ(b.events, (ev{"+0 closed invalid_argument"}));
  EXPECT_EQ(c.events, (ev{"+0 closed invalid_argument"}));
}

TEST_F(network_test, AHostWithoutAnAddressOfTheFamilyCannotReachIt) {
  auto v4_only = net->make_transport({"192.0.2.7"});
  core::connect_request request;
  request.remote = {"2001:db8::25", 25};
  auto stream = v4_only->connect(request, client);
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 closed network_unreachable"}));
}

TEST_F(network_test, MakeTransportRefusesANonAddress) {
  EXPECT_EQ(net->make_transport({"192.0.2.1", "not-an-ip"}), nullptr);
}

TEST_F(network_test, EphemeralPortsCountUp) {
  recorder other(sched, t0);
  auto s1 = connect();
  auto s2 = connect(mx, duration_ms{30'000}, {}, &other);
  sched.run_until_idle();
  ASSERT_EQ(server.accepted(), 2u);
  EXPECT_EQ(server.stream(0).remote().port, 49152);
  EXPECT_EQ(server.stream(1).remote().port, 49153);
  EXPECT_EQ(server.stream(1).connection_id(), 2u);
}

TEST_F(network_test, UnlistenRefusesLaterConnectsAndKeepsOpenOnes) {
  auto first = connect();
  sched.run_until_idle();
  net->unlisten(mx);
  recorder late(sched, t0);
  auto second = connect(mx, duration_ms{30'000}, {}, &late);
  first->write("still here");
  sched.run_until_idle();
  EXPECT_EQ(late.events, (ev{"+0 closed refused"}));
  EXPECT_EQ(server.handler().data, "still here");
}

TEST_F(network_test, AListenerThatDropsTheConnectionResetsTheClient) {
  class dropper final : public accept_handler {
   public:
    core::stream_handler* on_accept(std::unique_ptr<link_stream>) override { return nullptr; }
  } drop;
  ASSERT_TRUE(net->listen({"198.51.100.30", 25}, drop));
  latency(10);
  auto stream = connect({"198.51.100.30", 25}, duration_ms{30'000});
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+20 closed reset"}));
}

TEST_F(network_test, ThePerAddressLinkBeatsTheDefault) {
  latency(10);
  ASSERT_TRUE(net->set_link("198.51.100.25", link_profile{duration_ms{200}}));
  auto stream = connect();
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+400 connected"}));
}

TEST_F(network_test, TheTraceTellsTheStory) {
  latency(10);
  auto stream = connect();
  client.on_connect = [&] { stream->write("HELO x\r\n"); };
  sched.run_until_idle();
  stream->close();
  sched.run_until_idle();
  EXPECT_EQ(sink.text(),
            "2023-11-14T22:13:20.000Z net listen 198.51.100.25:25\n"
            "2023-11-14T22:13:20.000Z net c1 connect 192.0.2.1:49152 -> 198.51.100.25:25\n"
            "2023-11-14T22:13:20.010Z net c1 accepted\n"
            "2023-11-14T22:13:20.020Z net c1 connected\n"
            "2023-11-14T22:13:20.030Z net c1 > 8 \"HELO x\\r\\n\"\n"
            "2023-11-14T22:13:20.030Z net c1 close client\n"
            "2023-11-14T22:13:20.040Z net c1 end from client\n"
            "2023-11-14T22:13:20.040Z net c1 closed server eof\n");
}

}  // namespace
}  // namespace mailsim::sim::network::test
