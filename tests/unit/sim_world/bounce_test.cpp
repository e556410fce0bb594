// Accept-then-bounce over the wire: a real sender (the reference delivery engine) sends to
// a real provider whose bounce_later recipient is accepted; bounce_later_delay later the
// provider's own delivery engine brings an RFC 3464 report from <> back over the virtual
// network, routed by the world's DNS (MX of the sender domain), to the sender's bounce
// sink, which reads it with the reference DSN parser and marks the record.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simulator/dns/sim_resolver.hpp"
#include "simulator/world/bounce_sink.hpp"
#include "simulator/world/receiver.hpp"
#include "simulator/world/sender.hpp"
#include "simulator/world/world.hpp"
#include "simulator/world/world_dns.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

using core::duration_ms;
constexpr duration_ms minute{60'000};
constexpr duration_ms bounce_delay{10 * 60'000};  // every profile's bounce_later_delay

world_spec bounce_spec() {
  world_spec spec;
  provider_spec p = spec_of("postfix-default", 4);  // MX 198.51.100.25: line_client reaches it
  p.mailboxes.bounce_later.count = 2;
  spec.providers.push_back(p);
  sender_spec s;
  s.name = "acme";
  s.domain = "sender.sim";
  s.ips = {"192.0.2.10"};
  spec.senders.push_back(s);
  return spec;
}

struct seen_report {
  std::string reverse_path;
  queue::reported_dsn report;
  core::time_point at;
};

// The world's parts, assembled by hand so that each can be held back: the DNS from the
// spec, one provider, one sender and the sender domain's bounce sink.
struct bounce_bench {
  explicit bounce_bench(bool sink_listening = true, std::size_t pending_max = 10'000)
      : spec(bounce_spec()), streams(11) {
    tr.add_sink(sink);
    fill_defaults(spec);
    std::string error;
    dns = dns::sim_resolver::create(sched, &tr, build_zone_model(spec), {}, error);
    EXPECT_TRUE(dns) << error;
    network::network_options options;
    options.default_link.latency = duration_ms{10};
    net = std::make_unique<network::virtual_network>(sched, streams, &tr, options);
    world_services services;
    services.sched = &sched;
    services.streams = &streams;
    services.tr = &tr;
    services.net = net.get();
    services.dns = dns.get();
    services.record = &record;
    services.bounces_pending_max = pending_max;
    receiver = std::make_unique<provider>(spec.providers[0], services);
    receiver->start();
    sender_deps deps{&sched, &tr, net.get(), dns.get(), &record, sched.now(), 25, std::nullopt};
    out = std::make_unique<sender>(spec.senders[0], deps, streams.fresh("sender/acme"));
    out->start();
    const std::vector<bounce_route> routes = bounce_routes(spec);
    EXPECT_EQ(routes.size(), 1u);
    bounce_sink_deps sink_deps{&sched, &streams, &tr, net.get(), &record,
                               [this](const std::string& from, const queue::reported_dsn& r) {
                                 reports.push_back({from, r, sched.now()});
                               }};
    back = std::make_unique<bounce_sink>(routes.at(0).domain, routes.at(0).host,
                                         routes.at(0).addresses, sink_deps);
    if (sink_listening) back->start();
  }

  // Submits message `number` from news@sender.sim to `rcpt`; its record's id.
  std::size_t send(std::uint64_t number, const std::string& rcpt) {
    outgoing_message m;
    m.number = number;
    m.from = "news@sender.sim";
    m.created_at = sched.now();
    m.recipients.push_back({rcpt, "dest.sim", "postfix-default",
                            receiver->kind_of(rcpt).value_or("valid")});
    out->submit(std::move(m));
    return *record.find(number, rcpt);
  }
  // Records message `number` to `rcpt` as a raw client (line_client) will send it, sending
  // `mail_from` in place of the script's MAIL command; the client is what drives it.
  std::size_t send_raw(std::uint64_t number, const std::string& rcpt, const std::string& mail_from,
                       std::unique_ptr<line_client>& client) {
    metrics::message_record rec;
    rec.message = number;
    rec.recipient = rcpt;
    const std::size_t id = record.add(rec);
    std::vector<std::string> script = one_message({rcpt}, number);
    script[1] = mail_from + "\r\n";
    client = std::make_unique<line_client>(*net, "192.0.2.99", script);
    return id;
  }
  void run_for(duration_ms d) { sched.run_until(sched.now() + d); }
  bool traced(const std::string& text) const { return sink.text().find(text) != std::string::npos; }

  world_spec spec;
  scheduler sched;
  random_streams streams;
  trace tr{sched.clock()};
  memory_sink sink{1'000'000};
  metrics::recorder record{sched.now()};
  std::unique_ptr<dns::sim_resolver> dns;
  std::unique_ptr<network::virtual_network> net;
  std::unique_ptr<provider> receiver;
  std::unique_ptr<sender> out;
  std::unique_ptr<bounce_sink> back;
  std::vector<seen_report> reports;
};

TEST(BounceLater, TheWorldRoutesSenderDomainsToTheSendersHeloHost) {
  bounce_bench b;
  const std::vector<bounce_route> routes = bounce_routes(b.spec);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].domain, "sender.sim");
  EXPECT_EQ(routes[0].host, "mail.sender.sim");
  EXPECT_EQ(routes[0].addresses, std::vector<std::string>{"192.0.2.10"});
  core::dns_answer answer;
  b.dns->resolve("sender.sim", core::rr_type::mx,
                 [&answer](const core::dns_answer& a) { answer = a; });
  b.run_for(minute);
  ASSERT_EQ(answer.mx.size(), 1u);
  EXPECT_EQ(answer.mx[0].exchange, "mail.sender.sim");
}

TEST(BounceLater, ARealDsnFromTheNullSenderComesBackOverSmtp) {
  bounce_bench b;
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  const std::size_t id = b.send(1, rcpt);
  b.run_for(minute);
  const metrics::message_record& r = b.record.at(id);
  ASSERT_EQ(r.outcome, metrics::fate::delivered);
  EXPECT_EQ(r.placed, metrics::placement::bounce_later);
  const core::time_point accepted = *r.final_at;

  // Nothing comes back before the delay is over.
  b.run_for(bounce_delay - 2 * minute);
  EXPECT_FALSE(b.record.at(id).bounce_returned);
  EXPECT_TRUE(b.reports.empty());
  EXPECT_FALSE(b.traced("dsn " + rcpt));

  b.run_for(5 * minute);
  ASSERT_EQ(b.reports.size(), 1u);
  EXPECT_TRUE(b.record.at(id).bounce_returned);
  const seen_report& seen = b.reports[0];
  // The flag follows the report's delivery over SMTP, which follows the delay.
  EXPECT_GT(seen.at, accepted + bounce_delay);
  EXPECT_EQ(seen.reverse_path, "<>");
  const queue::reported_dsn& dsn = seen.report;
  EXPECT_EQ(dsn.reporting_mta.type, "dns");
  EXPECT_EQ(dsn.reporting_mta.value, "mx1.dest.sim");
  EXPECT_FALSE(dsn.original_envelope_id.has_value());  // the sender gave no ENVID
  ASSERT_EQ(dsn.recipients.size(), 1u);
  EXPECT_EQ(dsn.recipients[0].final_recipient.type, "rfc822");
  EXPECT_EQ(dsn.recipients[0].final_recipient.value, rcpt);
  EXPECT_EQ(dsn.recipients[0].action, queue::dsn_action::failed);
  EXPECT_EQ(dsn.recipients[0].status, "5.1.1");
  EXPECT_EQ(dsn.returned, queue::dsn_returned::headers);
  EXPECT_NE(dsn.returned_content.find("Message-ID: <m1@sender.sim>"), std::string::npos);
  EXPECT_NE(dsn.to.find("news@sender.sim"), std::string::npos);
  EXPECT_EQ(b.back->stats().matched, 1u);
  EXPECT_EQ(b.back->stats().unmatched, 0u);
  EXPECT_TRUE(b.traced("postfix-default dsn " + rcpt + " m1 to news@sender.sim: queued "));
  EXPECT_TRUE(b.traced("postfix-default dsn " + rcpt + " m1 delivered via mail.sender.sim"));
  EXPECT_TRUE(b.traced("sink/sender.sim dsn from <> (mx1.dest.sim) about m1 " + rcpt +
                       ": failed 5.1.1, bounce returned"));
  EXPECT_TRUE(b.traced("MAIL FROM:<>"));
}

TEST(BounceLater, AnUnreachableSenderMxDefersTheDsnUntilItListens) {
  bounce_bench b(false);
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  const std::size_t id = b.send(1, rcpt);
  b.run_for(duration_ms{2 * 3'600'000});
  EXPECT_EQ(b.record.at(id).outcome, metrics::fate::delivered);
  EXPECT_FALSE(b.record.at(id).bounce_returned);
  EXPECT_TRUE(b.traced("postfix-default dsn " + rcpt + " m1 deferred"));
  EXPECT_TRUE(b.reports.empty());

  // The provider's engine keeps the report and tries again on its retry schedule.
  b.back->start();
  b.run_for(duration_ms{3 * 3'600'000});
  ASSERT_EQ(b.reports.size(), 1u);
  EXPECT_TRUE(b.record.at(id).bounce_returned);
  EXPECT_TRUE(b.traced("postfix-default dsn " + rcpt + " m1 delivered"));
}

TEST(BounceLater, ANullSenderOriginalGetsNoDsn) {
  bounce_bench b;
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  std::unique_ptr<line_client> c;
  const std::size_t rid = b.send_raw(5, rcpt, "MAIL FROM:<>", c);
  b.run_for(minute);
  ASSERT_EQ(c->replies.size(), 7u);
  EXPECT_EQ(code_of(c->replies[5]), "250");
  EXPECT_EQ(b.record.at(rid).placed, metrics::placement::bounce_later);
  b.run_for(duration_ms{3'600'000});
  EXPECT_TRUE(b.traced("bounce " + rcpt + " m5: no DSN (null reverse-path)"));
  EXPECT_FALSE(b.traced("dsn " + rcpt));
  EXPECT_TRUE(b.reports.empty());
  EXPECT_EQ(b.back->stats().messages, 0u);
  EXPECT_FALSE(b.record.at(rid).bounce_returned);
}

TEST(BounceLater, EnvidAndRetFullTravelInTheReport) {
  bounce_bench b;
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  std::unique_ptr<line_client> c;
  const std::size_t id = b.send_raw(9, rcpt, "MAIL FROM:<a@sender.sim> RET=FULL ENVID=env-9", c);
  b.run_for(bounce_delay + 5 * minute);
  ASSERT_EQ(b.reports.size(), 1u);
  const queue::reported_dsn& dsn = b.reports[0].report;
  EXPECT_EQ(dsn.original_envelope_id, "env-9");
  EXPECT_EQ(dsn.returned, queue::dsn_returned::full);
  EXPECT_NE(dsn.returned_content.find("Hello."), std::string::npos);
  EXPECT_NE(dsn.to.find("a@sender.sim"), std::string::npos);
  EXPECT_TRUE(b.record.at(id).bounce_returned);
}

TEST(BounceLater, ALargeMessageUnderRetFullComesBackAsHeaders) {
  bounce_bench b;
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  std::vector<std::string> script = one_message({rcpt}, 10);
  script[1] = "MAIL FROM:<a@sender.sim> RET=FULL\r\n";
  std::string text = "From: a@sender.sim\r\nMessage-ID: <m10@sender.sim>\r\n\r\n";
  for (int i = 0; i < 1000; ++i) text += std::string(70, 'x') + "\r\n";  // 72 kB > 50 kB
  script[4] = text + ".\r\n";
  line_client c(*b.net, "192.0.2.99", script);
  b.run_for(bounce_delay + 5 * minute);
  ASSERT_EQ(b.reports.size(), 1u);
  const queue::reported_dsn& dsn = b.reports[0].report;
  EXPECT_EQ(dsn.returned, queue::dsn_returned::headers);
  EXPECT_NE(dsn.returned_content.find("Message-ID: <m10@sender.sim>"), std::string::npos);
  EXPECT_EQ(dsn.returned_content.find("xxxx"), std::string::npos);
}

TEST(BounceLater, AReportAboutNoKnownMessageIsCountedNotFatal) {
  bounce_bench b;
  const std::string rcpt = address_of(*b.receiver, "bounce_later");
  line_client c(*b.net, "192.0.2.99", one_message({rcpt}, 77));  // no record of m77
  b.run_for(bounce_delay + 5 * minute);
  ASSERT_EQ(b.reports.size(), 1u);
  EXPECT_EQ(b.back->stats().reports, 1u);
  EXPECT_EQ(b.back->stats().matched, 0u);
  EXPECT_EQ(b.back->stats().unmatched, 1u);
  EXPECT_TRUE(b.traced("about m77 " + rcpt + ": failed 5.1.1, matches no record"));
}

TEST(BounceLater, ReportsBeyondThePendingLimitAreTracedNotSent) {
  bounce_bench b(false, 1);  // nothing listens: the first report stays in the spool
  std::vector<std::string> later;
  for (const mailbox_entry& e : b.receiver->population()) {
    if (e.kind == "bounce_later") later.push_back(e.address);
  }
  ASSERT_EQ(later.size(), 2u);
  const std::size_t first = b.send(1, later[0]);
  b.run_for(bounce_delay + 5 * minute);
  EXPECT_TRUE(b.traced("postfix-default dsn " + later[0] + " m1 deferred"));
  const std::size_t second = b.send(2, later[1]);
  b.run_for(minute);
  EXPECT_TRUE(b.traced("bounce " + later[1] + " m2: no DSN (1 reports pending, the limit)"));
  b.back->start();
  b.run_for(duration_ms{3 * 3'600'000});
  EXPECT_TRUE(b.record.at(first).bounce_returned);
  EXPECT_FALSE(b.record.at(second).bounce_returned);
  EXPECT_EQ(b.reports.size(), 1u);
  EXPECT_FALSE(b.traced("dsn " + later[1]));
}

// The whole world: MX records for sender domains, sinks built and started by the world.
TEST(BounceLater, AWholeWorldMarksEveryBounceLaterRecordReturned) {
  world_spec spec = bounce_spec();
  spec.providers[0].mx.clear();  // the world assigns them
  workload_spec w;
  w.from = "news@sender.sim";
  w.volume.total = 30;
  w.volume.over = duration_ms{3'600'000};
  spec.workload.push_back(w);
  scheduler sched;
  random_streams streams(3);
  trace tr(sched.clock());
  memory_sink lines(1'000'000);
  tr.add_sink(lines);
  metrics::recorder record(sched.now());
  world everything(spec, sched, streams, &tr, record);
  everything.start();
  sched.run_until(sched.now() + duration_ms{3 * 3'600'000});
  everything.finish();
  sched.run_until(sched.now() + minute);
  std::size_t bounced_later = 0;
  for (const metrics::message_record& r : record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered) << r.recipient;
    if (r.placed != metrics::placement::bounce_later) {
      EXPECT_FALSE(r.bounce_returned) << r.recipient;
      continue;
    }
    ++bounced_later;
    EXPECT_TRUE(r.bounce_returned) << r.recipient << " m" << r.message;
  }
  EXPECT_GT(bounced_later, 0u);
  EXPECT_NE(lines.text().find("sink/sender.sim dsn from <>"), std::string::npos);
}

}  // namespace
}  // namespace mailsim::sim::world::test
