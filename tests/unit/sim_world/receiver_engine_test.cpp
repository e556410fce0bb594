// The reference server's delivery engine (reference-server/queue), unchanged, sending into a
// simulated provider over the virtual network: a greylisted first attempt is deferred and
// the engine's retry gets through; an unknown recipient bounces at once.
#include <gtest/gtest.h>

#include <span>

#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "reference-server/smtp/address.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

using core::duration_ms;

class no_dns final : public core::resolver {
 public:
  void resolve(const std::string& name, core::rr_type,
               std::function<void(const core::dns_answer&)>) override {
    ADD_FAILURE() << "unexpected lookup of " << name;
  }
};

smtp::path path_of(const std::string& text) {
  return smtp::parse_path("<" + text + ">", {}).value.value_or(smtp::path{});
}

TEST(ReceiverEngine, TheDeliveryEngineGetsThroughGreylistingOnRetry) {
  provider_spec spec = spec_of("postfix-default");
  spec.mailboxes.unknown.count = 1;
  greylist_spec g;
  g.enabled = true;
  spec.greylist = g;
  small_world w(spec);
  const std::string valid = address_of(*w.receiver, "valid");
  const std::string unknown = address_of(*w.receiver, "unknown");
  const std::size_t valid_id = w.expect_record(1, valid);

  auto transport = w.net.make_transport({client_ip});
  prng& random = w.streams.stream("sender");
  no_dns dns;
  queue::memory_spool spool({}, w.sched.clock(), random);
  queue::engine_settings settings;
  settings.hostname = "out.sender.sim";
  settings.routing.routes["*"] = {queue::route_target{mx_address, 25}};
  std::vector<std::string> events;
  queue::engine_deps deps;
  deps.clock = &w.sched.clock();
  deps.random = &random;
  deps.timers = &w.sched;
  deps.resolver = &dns;
  deps.transport = transport.get();
  deps.queue = &spool;
  deps.reports = [&w](queue::dsn_message, std::function<void(bool)> done) {
    w.sched.post([done] { done(true); });
  };
  deps.events = [&events](const queue::engine_event& e) {
    if (e.what == queue::engine_event::kind::delivered)
      events.push_back("delivered " + e.recipient);
    if (e.what == queue::engine_event::kind::deferred) events.push_back("deferred " + e.recipient);
    if (e.what == queue::engine_event::kind::failed) events.push_back("failed " + e.recipient);
  };
  queue::delivery_engine engine(settings, deps);
  engine.start();

  queue::enqueue_request request;
  request.envelope.reverse_path = path_of("a@sender.sim");
  for (const auto& r : {valid, unknown}) {
    smtp::recipient rcpt;
    rcpt.address = path_of(r);
    request.envelope.recipients.push_back(rcpt);
  }
  request.message =
      "From: a@sender.sim\r\nMessage-ID: <m1@sender.sim>\r\nSubject: hi\r\n\r\nHello.\r\n";
  ASSERT_TRUE(spool.enqueue(std::span<const queue::enqueue_request>(&request, 1))[0].ok());
  engine.wake();
  w.sched.run_for(duration_ms{30 * 60'000});

  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0], "deferred " + valid);
  EXPECT_EQ(events[1], "failed " + unknown);
  EXPECT_EQ(events.back(), "delivered " + valid);
  EXPECT_EQ(w.record.at(valid_id).placed, metrics::placement::inbox);
  EXPECT_EQ(w.count_reply("451 4.7.1"), 1u);
  EXPECT_EQ(w.count_reply("550 5.1.1"), 1u);
  EXPECT_EQ(w.totals().accepted, 1u);
  EXPECT_GE(w.totals().connections, 2u);
}

}  // namespace
}  // namespace mailsim::sim::world::test
