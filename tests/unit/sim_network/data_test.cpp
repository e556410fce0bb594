// simulator/network: bytes in order and in time, closing and aborting (core/transport.hpp).
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/sim_network/harness.hpp"

namespace mailsim::sim::network::test {
namespace {

using core::duration_ms;

TEST_F(network_test, BytesArriveInOrderOneDataPerWrite) {
  auto stream = connect();
  client.on_connect = [&] {
    stream->write("a");
    stream->write("bc");
    stream->write("def");
  };
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events,
            (ev{"+0 connected", "+0 data a", "+0 data bc", "+0 data def"}));
}

TEST_F(network_test, LatencyDelaysEachDirectionExactly) {
  latency(25);
  auto stream = connect();
  server.setup = [](link_stream& s, recorder& r) {
    r.on_bytes = [&s](std::string_view bytes) { s.write("echo " + std::string(bytes)); };
  };
  client.on_connect = [&] { stream->write("x"); };
  sched.run_until_idle();
  // Connected after one round trip (+50); "x" reaches the server at +75, the echo is back at +100.
  EXPECT_EQ(client.events, (ev{"+50 connected", "+100 data echo x"}));
}

TEST_F(network_test, BandwidthGivesTheTimeOnTheWire) {
  net->set_default_link(link_profile{duration_ms{0}, 1000});
  auto stream = connect();
  client.on_connect = [&] {
    stream->write(std::string(500, 'a'));  // 500 ms on the wire
    stream->write(std::string(250, 'b'));  // queued behind it: 250 ms more
  };
  sched.run_until_idle();
  ASSERT_EQ(server.handler().events.size(), 3u);
  EXPECT_EQ(server.handler().events[1].substr(0, 5), "+500 ");
  EXPECT_EQ(server.handler().events[2].substr(0, 5), "+750 ");
}

TEST_F(network_test, BandwidthRoundsUpToWholeMilliseconds) {
  net->set_default_link(link_profile{duration_ms{10}, 3});
  auto stream = connect();
  client.on_connect = [&] { stream->write("z"); };
  sched.run_until_idle();
  // Connected at +20; one byte at 3 bytes/s is 333.3 ms → 334, plus 10 ms of latency.
  EXPECT_EQ(server.handler().events.back(), "+364 data z");
}

TEST_F(network_test, AnIdleWireDoesNotDelayLaterWrites) {
  net->set_default_link(link_profile{duration_ms{0}, 1000});
  auto stream = connect();
  sched.run_until_idle();
  stream->write(std::string(100, 'a'));
  sched.run_for(duration_ms{5'000});
  stream->write(std::string(100, 'b'));
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events[1].substr(0, 5), "+100 ");
  EXPECT_EQ(server.handler().events[2].substr(0, 6), "+5100 ");  // written at +5000
}

TEST_F(network_test, SegmentsCutAWriteIntoPieces) {
  net->set_default_link(link_profile{duration_ms{0}, 0, 0, 3});
  auto stream = connect();
  client.on_connect = [&] { stream->write("abcdefgh"); };
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events,
            (ev{"+0 connected", "+0 data abc", "+0 data def", "+0 data gh"}));
}

TEST_F(network_test, HundredsOfPiecesInFlightArriveInOrderWhileMoreAreWritten) {
  // A byte per piece and a millisecond per byte: hundreds of pieces wait at once, and each
  // write adds to them while the first ones are being delivered.
  net->set_default_link(link_profile{duration_ms{0}, 1000, 0, 1});
  auto stream = connect();
  sched.run_until_idle();
  std::string sent;
  for (char c = 'a'; c < 'e'; ++c) {
    const std::string chunk(300, c);
    stream->write(chunk);
    sent += chunk;
    sched.run_for(duration_ms{200});
  }
  sched.run_until_idle();
  EXPECT_EQ(server.handler().data, sent);
  EXPECT_EQ(server.handler().events.size(), 1 + sent.size());  // connected, then a byte each
  EXPECT_EQ(server.handler().events.back().substr(0, 6), "+1200 ");
}

TEST_F(network_test, PiecesOfEverySizeArriveExactlyWhileBuffersAreReused) {
  // Long and short writes in turn, each direction: a piece whose buffer held a longer one
  // before carries its own bytes alone, and one beyond the kept buffers' size arrives whole.
  auto stream = connect();
  server.setup = [](link_stream& s, recorder& r) {
    r.on_bytes = [&s](std::string_view bytes) { s.write(std::string(bytes) + "!"); };
  };
  std::string sent;
  std::string expected_back;
  for (std::size_t size : {40, 3, 100, 17, 1, 70'000, 16, 50}) {
    const std::string chunk(size, static_cast<char>('a' + size % 26));
    sent += chunk;
    expected_back += chunk + "!";
    stream->write(chunk);
    sched.run_until_idle();
  }
  EXPECT_EQ(server.handler().data, sent);
  EXPECT_EQ(client.data, expected_back);
  EXPECT_EQ(server.handler().events.size(), 1 + 8u);  // connected, then one data per write
}

TEST_F(network_test, CloseSendsWhatWasWrittenThenAnOrderlyEnd) {
  latency(10);
  auto stream = connect();
  client.on_connect = [&] {
    stream->write("QUIT\r\n");
    stream->close();
  };
  server.setup = [](link_stream& s, recorder&) { s.write("221 bye\r\n"); };
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events, (ev{"+10 connected", "+30 data QUIT\r\n", "+30 closed eof"}));
  // The greeting arrives after the client closed: dropped, no call.
  EXPECT_EQ(client.events, (ev{"+20 connected"}));
}

TEST_F(network_test, TheStreamMayBeDestroyedRightAfterClose) {
  latency(10);
  auto stream = connect();
  client.on_connect = [&] {
    stream->write("last words");
    stream->close();
  };
  sched.run_until(t0 + duration_ms{20});
  stream.reset();  // the flush goes on without it
  sched.run_until_idle();
  EXPECT_EQ(server.handler().data, "last words");
  EXPECT_EQ(server.handler().closed, std::error_code{});
}

TEST_F(network_test, DestroyingAStreamAbortsAndDropsPendingBytes) {
  latency(10);
  auto stream = connect();
  sched.run_until_idle();  // +20: connected
  stream->write("never arrives");
  stream.reset();
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events, (ev{"+10 connected", "+30 closed reset"}));
  EXPECT_EQ(client.events, (ev{"+20 connected"}));  // nothing after the destruction
}

TEST_F(network_test, ResetIsAnAbortThatKeepsTheStream) {
  auto stream = connect();
  sched.run_until_idle();
  server.stream().reset();
  server.stream().write("dropped");
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 connected", "+0 closed reset"}));
  EXPECT_EQ(server.handler().events, (ev{"+0 connected"}));
}

TEST_F(network_test, ThePeersCloseIsAnEmptyReasonAfterItsLastBytes) {
  latency(5);
  auto stream = connect();
  server.setup = [](link_stream& s, recorder&) {
    s.write("421 busy\r\n");
    s.close();
  };
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+10 connected", "+10 data 421 busy\r\n", "+10 closed eof"}));
  stream->write("after the end");  // dropped, no call
  sched.run_until_idle();
  EXPECT_EQ(client.events.size(), 3u);
  EXPECT_EQ(server.handler().data, "");
}

TEST_F(network_test, CloseFromInsideOnDataStopsFurtherCalls) {
  auto stream = connect();
  server.setup = [](link_stream& s, recorder&) {
    s.write("one");
    s.write("two");
  };
  client.on_bytes = [&](std::string_view) { stream->close(); };
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 connected", "+0 data one"}));
  EXPECT_EQ(server.handler().closed, std::error_code{});
}

TEST_F(network_test, BothSidesClosingEndsTheConnection) {
  auto stream = connect();
  sched.run_until_idle();
  EXPECT_EQ(net->open_connections(), 1u);
  stream->close();
  server.stream().close();
  sched.run_until_idle();
  EXPECT_EQ(net->open_connections(), 0u);
  EXPECT_EQ(client.events, (ev{"+0 connected"}));
}

TEST_F(network_test, LossResetsBothSides) {
  net->set_default_link(link_profile{duration_ms{10}, 0, 1.0});
  auto stream = connect();
  client.on_connect = [&] { stream->write("doomed"); };
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+20 connected", "+30 closed reset"}));
  EXPECT_EQ(server.handler().events, (ev{"+10 connected", "+30 closed reset"}));
  EXPECT_EQ(net->stats().resets, 1u);
}

TEST_F(network_test, TheNetworkGoingAwayFirstSilencesEverything) {
  latency(10);
  auto stream = connect();
  sched.run_until(t0 + duration_ms{5});
  net.reset();
  stream->write("x");
  stream->start_tls({});
  sched.run_until_idle();
  stream.reset();
  EXPECT_TRUE(client.events.empty());
  EXPECT_EQ(sched.pending(), 0u);
}

}  // namespace
}  // namespace mailsim::sim::network::test
