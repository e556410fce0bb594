// The sending side of a world without the receivers: the world's DNS from a spec, a sender
// (the reference server's delivery engine) routing by MX over the virtual network to a
// scripted SMTP receiver, the records it writes, retry profiles, warm-up caps, IP rotation
// and faults.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference-server/auth/dkim_verifier.hpp"
#include "simulator/dns/sim_resolver.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/sender.hpp"
#include "simulator/world/world_dns.hpp"
#include "simulator/world/world_faults.hpp"

namespace mailsim::sim::world {
namespace {

using core::duration_ms;
constexpr duration_ms minute{60'000};

// A line-by-line SMTP receiver without PIPELINING or STARTTLS. `rcpt_reply` decides each
// RCPT (by address and how many times it was asked before); everything else succeeds.
class scripted_receiver final : public network::accept_handler {
 public:
  std::function<std::string(const std::string&, int)> rcpt_reply =
      [](const std::string&, int) { return std::string("250 2.1.5 ok"); };
  std::vector<std::string> messages;
  std::vector<std::string> helos;
  std::vector<std::string> clients;  // the client address of each connection
  std::map<std::string, int> asked;

  core::stream_handler* on_accept(std::unique_ptr<network::link_stream> stream) override {
    clients.push_back(stream->remote().address);
    sessions_.push_back(std::make_unique<session>(*this, std::move(stream)));
    return sessions_.back().get();
  }

 private:
  struct session final : core::stream_handler {
    session(scripted_receiver& o, std::unique_ptr<network::link_stream> s)
        : owner(o), stream(std::move(s)) {}
    void on_connected() override { stream->write("220 mx ESMTP\r\n"); }
    void on_data(std::string_view bytes) override {
      buffer += bytes;
      for (auto end = buffer.find("\r\n"); end != std::string::npos; end = buffer.find("\r\n")) {
        const std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        handle(line);
      }
    }
    void on_tls_ready(const core::tls_result&) override {}
    void on_closed(std::error_code) override {}

    void reply(const std::string& text) { stream->write(text + "\r\n"); }
    void handle(const std::string& line) {
      if (in_data) {
        if (line != ".") {
          message += line + "\r\n";
          return;
        }
        in_data = false;
        owner.messages.push_back(message);
        message.clear();
        return reply("250 2.0.0 queued");
      }
      const std::string verb = line.substr(0, 4);
      if (verb == "EHLO" || verb == "HELO") {
        owner.helos.push_back(line.substr(5));
        return reply("250 mx");
      }
      if (verb == "MAIL") {
        accepted = 0;
        return reply("250 2.1.0 ok");
      }
      if (verb == "RCPT") {
        const std::string address = line.substr(9, line.find('>') - 9);
        const std::string answer = owner.rcpt_reply(address, owner.asked[address]++);
        if (answer[0] == '2') ++accepted;
        return reply(answer);
      }
      if (verb == "DATA") {
        if (accepted == 0) return reply("554 5.5.1 no valid recipients");
        in_data = true;
        return reply("354 go on");
      }
      if (verb == "QUIT") {
        reply("221 2.0.0 bye");
        return stream->close();
      }
      reply("250 2.0.0 ok");
    }

    scripted_receiver& owner;
    std::unique_ptr<network::link_stream> stream;
    std::string buffer, message;
    bool in_data = false;
    int accepted = 0;
  };
  std::vector<std::unique_ptr<session>> sessions_;
};

world_spec small_spec() {
  world_spec spec;
  provider_spec p;
  p.name = "dest";
  p.domains = {"dest.sim"};
  spec.providers.push_back(p);
  sender_spec s;
  s.name = "acme";
  s.domain = "sender.sim";
  s.ips = {"192.0.2.10", "192.0.2.11"};
  s.dmarc = "v=DMARC1; p=reject";
  spec.senders.push_back(s);
  return spec;
}

// A world of one sender and scripted receivers on every MX address of the spec.
struct bench {
  explicit bench(world_spec s, std::uint64_t seed = 7) : spec(std::move(s)), streams(seed) {
    tr.add_sink(sink);
    fill_defaults(spec);
    dns::zone_model model = build_zone_model(spec);
    prng key_random = streams.fresh("dkim");
    const std::optional<auth::private_key> key = make_dkim_key(spec.senders[0], key_random);
    if (key) model.add_txt(dkim_record_name(spec.senders[0]), key->dns_record());
    std::string error;
    dns = dns::sim_resolver::create(sched, &tr, std::move(model), {}, error);
    EXPECT_TRUE(dns) << error;
    network::network_options options;
    options.default_link.latency = duration_ms{10};
    net = std::make_unique<network::virtual_network>(sched, streams, &tr, options);
    for (const provider_spec& p : spec.providers) {
      for (const mx_spec& m : p.mx) {
        receivers[m.address] = std::make_unique<scripted_receiver>();
        net->listen({m.address, 25}, *receivers[m.address]);
      }
    }
    sender_deps deps{&sched, &tr, net.get(), dns.get(), &record, sched.now(), 25, key};
    out = std::make_unique<sender>(spec.senders[0], deps, streams.fresh("sender"));
    out->start();
  }
  scripted_receiver& receiver(const std::string& address) { return *receivers.at(address); }

  void send(std::vector<std::string> to) {
    outgoing_message m;
    m.number = next++;
    m.from = "news@" + spec.senders[0].domain;
    m.created_at = sched.now();
    for (const std::string& address : to) {
      const std::string domain = address.substr(address.find('@') + 1);
      m.recipients.push_back({address, domain, domain == "dest.sim" ? "dest" : "", "valid"});
    }
    out->submit(std::move(m));
  }
  void run_for(duration_ms d) { sched.run_until(sched.now() + d); }

  world_spec spec;
  scheduler sched;
  random_streams streams;
  trace tr{sched.clock()};
  memory_sink sink;
  metrics::recorder record{sched.now()};
  std::unique_ptr<dns::sim_resolver> dns;
  std::unique_ptr<network::virtual_network> net;
  std::map<std::string, std::unique_ptr<scripted_receiver>> receivers;
  std::unique_ptr<sender> out;
  std::uint64_t next = 1;
};

core::dns_answer ask(bench& b, const std::string& name, core::rr_type type) {
  core::dns_answer answer;
  b.dns->resolve(name, type, [&answer](const core::dns_answer& a) { answer = a; });
  b.run_for(duration_ms{1000});
  return answer;
}

TEST(WorldDns, FillsMxHostsAndBuildsEveryRecord) {
  bench b(small_spec());
  const mx_spec& mx = b.spec.providers[0].mx.at(0);
  EXPECT_EQ(mx.name, "mx1.dest.sim");
  EXPECT_EQ(mx.address, "10.1.0.1");
  EXPECT_EQ(b.spec.senders[0].helo, "mail.sender.sim");

  const core::dns_answer m = ask(b, "dest.sim", core::rr_type::mx);
  ASSERT_EQ(m.mx.size(), 1u);
  EXPECT_EQ(m.mx[0].exchange, "mx1.dest.sim");
  EXPECT_EQ(ask(b, "mx1.dest.sim", core::rr_type::a).records,
            std::vector<std::string>{"10.1.0.1"});
  EXPECT_EQ(ask(b, "mail.sender.sim", core::rr_type::a).records,
            (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
  EXPECT_EQ(ask(b, "sender.sim", core::rr_type::txt).records,
            std::vector<std::string>{"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all"});
  EXPECT_EQ(ask(b, "_dmarc.sender.sim", core::rr_type::txt).records,
            std::vector<std::string>{"v=DMARC1; p=reject"});
  EXPECT_EQ(ask(b, "11.2.0.192.in-addr.arpa", core::rr_type::ptr).records,
            std::vector<std::string>{"mail.sender.sim"});
  EXPECT_EQ(ask(b, "gmial.sim", core::rr_type::mx).status, core::dns_status::nxdomain);
}

TEST(WorldDns, GeneratedAddressesStepAroundTheSpecsAndNamedHostsKeepTheirs) {
  world_spec spec = small_spec();
  spec.senders[0].ips = {"10.1.0.1"};
  spec.providers[0].mx = {mx_spec{"", 10, ""}, mx_spec{"backup.other.sim", 20, "10.9.9.9"}};
  fill_defaults(spec);
  EXPECT_EQ(spec.providers[0].mx[0].address, "10.1.0.2");
  EXPECT_EQ(spec.providers[0].mx[1].address, "10.9.9.9");
  EXPECT_EQ(target_addresses(spec, "dest.sim"),
            (std::vector<std::string>{"10.1.0.2", "10.9.9.9"}));
  EXPECT_EQ(target_addresses(spec, "backup.other.sim"), std::vector<std::string>{"10.9.9.9"});
  const dns::zone_model model = build_zone_model(spec);
  EXPECT_EQ(model.validate(), std::nullopt);

  world_spec unnamed;
  unnamed.providers.resize(2);
  unnamed.providers[0].domains = {"a.sim"};
  unnamed.providers[1].domains = {"b.sim"};
  unnamed.senders.resize(1);
  unnamed.senders[0].domain = "S.sim";
  fill_defaults(unnamed);
  EXPECT_EQ(unnamed.providers[0].name, "postfix-default");
  EXPECT_EQ(unnamed.providers[1].name, "provider-2");
  EXPECT_EQ(unnamed.providers[1].mx.at(0).name, "mx1.b.sim");
  EXPECT_EQ(unnamed.providers[1].mx.at(0).address, "10.2.0.1");
  EXPECT_EQ(unnamed.senders[0].name, "s.sim");
  EXPECT_EQ(unnamed.senders[0].ips, std::vector<std::string>{"192.0.2.1"});
}

TEST(WorldDns, InconsistentSpecsAreRefusedWithTheirPlace) {
  world_spec twice = small_spec();
  provider_spec other;
  other.name = "other";
  other.domains = {"DEST.sim"};
  other.where = {"w.yaml", 12, 3};
  twice.providers.push_back(other);
  try {
    fill_defaults(twice);
    FAIL() << "a domain at two providers was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("w.yaml:12: domain dest.sim belongs to two", 0), 0u)
        << e.what();
  }
  world_spec clash = small_spec();
  clash.providers[0].mx = {mx_spec{"mx1.dest.sim", 10, "192.0.2.10"}};
  EXPECT_THROW(fill_defaults(clash), std::invalid_argument);
  world_spec bad = small_spec();
  bad.senders[0].ips = {"192.0.2.300"};
  EXPECT_THROW(fill_defaults(bad), std::invalid_argument);
  world_spec fault = small_spec();
  fill_defaults(fault);
  fault_spec f;
  f.what = fault_spec::kind::host_down;
  f.target = "nowhere.sim";
  fault.faults.push_back(f);
  EXPECT_THROW(check_faults(fault), std::invalid_argument);
}

TEST(Sender, DeliversByMxAndRecordsEachRecipient) {
  bench b(small_spec());
  b.send({"ann@dest.sim", "bob@dest.sim"});
  b.run_for(minute);
  ASSERT_EQ(b.receiver("10.1.0.1").messages.size(), 1u);
  const std::string& msg = b.receiver("10.1.0.1").messages[0];
  EXPECT_NE(msg.find("Message-ID: <m1@sender.sim>"), std::string::npos);
  EXPECT_EQ(b.receiver("10.1.0.1").helos.at(0), "mail.sender.sim");
  ASSERT_EQ(b.record.records().size(), 2u);
  for (const metrics::message_record& r : b.record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered) << r.recipient;
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.status, "2.0.0");
    EXPECT_EQ(r.ip, "192.0.2.10");
    EXPECT_EQ(r.attempts, 1u);
    EXPECT_EQ(r.sender, "acme");
    EXPECT_EQ(r.provider, "dest");
    ASSERT_TRUE(r.final_at);
    EXPECT_GT(*r.final_at, r.queued_at);
  }
  EXPECT_EQ(b.out->stats().recipients, 2u);
}

TEST(Sender, ADkimSenderSignsWithTheKeyTheWorldPublishes) {
  for (const std::string algorithm : {"ed25519-sha256", "rsa-sha256"}) {
    world_spec spec = small_spec();
    spec.senders[0].dkim = dkim_spec{"s2024", algorithm};
    bench b(spec);
    b.send({"ann@dest.sim"});
    b.run_for(minute);
    ASSERT_EQ(b.receiver("10.1.0.1").messages.size(), 1u);
    const std::string message = b.receiver("10.1.0.1").messages[0];
    EXPECT_EQ(message.rfind("DKIM-Signature:", 0), 0u);
    auth::dkim_verifier verifier(*b.dns, b.sched.clock());
    std::vector<auth::dkim_result> results;
    auto now = verifier.verify(message, [&results](std::vector<auth::dkim_result> r) {
      results = std::move(r);
    });
    if (now) results = *now;
    b.run_for(minute);
    ASSERT_EQ(results.size(), 1u) << algorithm;
    EXPECT_EQ(results[0].status, auth::dkim_status::pass) << algorithm << results[0].reason;
    EXPECT_EQ(results[0].domain, "sender.sim");
    EXPECT_EQ(results[0].selector, "s2024");
  }
  world_spec bad = small_spec();
  bad.senders[0].dkim = dkim_spec{"s1", "rsa-sha1"};
  prng random(1);
  EXPECT_THROW(make_dkim_key(bad.senders[0], random), std::invalid_argument);
}

TEST(Sender, UnknownRecipientsBounceWithTheirStatus) {
  bench b(small_spec());
  b.receiver("10.1.0.1").rcpt_reply = [](const std::string& a, int) {
    return std::string(a.rfind("ghost", 0) == 0 ? "550 5.1.1 no such user" : "250 2.1.5 ok");
  };
  b.send({"ghost@dest.sim", "ann@dest.sim"});
  b.run_for(minute);
  const auto ghost = b.record.find(1, "ghost@dest.sim");
  ASSERT_TRUE(ghost);
  EXPECT_EQ(b.record.records()[*ghost].outcome, metrics::fate::bounced);
  EXPECT_EQ(b.record.records()[*ghost].code, 550);
  EXPECT_EQ(b.record.records()[*ghost].status, "5.1.1");
  EXPECT_EQ(b.record.records()[*b.record.find(1, "ann@dest.sim")].outcome,
            metrics::fate::delivered);
}

TEST(Sender, DeferralsFollowTheRetryProfileUntilDelivered) {
  world_spec spec = small_spec();
  spec.senders[0].retry.profile = "fixed";
  spec.senders[0].retry.interval = duration_ms{10 * 60'000};
  bench b(spec);
  b.receiver("10.1.0.1").rcpt_reply = [](const std::string&, int asked) {
    return std::string(asked < 2 ? "451 4.7.1 greylisted" : "250 2.1.5 ok");
  };
  b.send({"ann@dest.sim"});
  b.run_for(duration_ms{3600'000});
  const metrics::message_record& r = b.record.records().at(0);
  EXPECT_EQ(r.outcome, metrics::fate::delivered);
  EXPECT_EQ(r.attempts, 3u);
  EXPECT_EQ(r.deferrals, 2u);
  ASSERT_TRUE(r.final_at);
  // Tried at 0, 10 and 20 minutes (the fixed schedule), plus the protocol's round trips.
  EXPECT_GE(*r.final_at - r.queued_at, duration_ms{20 * 60'000});
  EXPECT_LT(*r.final_at - r.queued_at, duration_ms{21 * 60'000});
}

TEST(Sender, APendingRecipientExpiresWith447AtTheLifetime) {
  world_spec spec = small_spec();
  spec.senders[0].retry.profile = "list";
  spec.senders[0].retry.offsets = {minute, 2 * minute};
  bench b(spec);
  b.receiver("10.1.0.1").rcpt_reply = [](const std::string&, int) {
    return std::string("451 4.3.0 try later");
  };
  b.send({"ann@dest.sim"});
  b.run_for(duration_ms{3600'000});
  const metrics::message_record& r = b.record.records().at(0);
  EXPECT_EQ(r.outcome, metrics::fate::expired);
  EXPECT_EQ(r.status, "4.4.7");
  EXPECT_EQ(r.attempts, 3u);
  EXPECT_EQ(r.deferrals, 2u);
}

TEST(Sender, RetryProfilesComeFromTheSpec) {
  retry_spec r;
  EXPECT_EQ(retry_profile_of(r, {}), queue::postfix_like_profile());
  r.profile = "exim";
  r.lifetime = duration_ms{3600'000};
  queue::retry_profile exim = queue::exim_like_profile();
  exim.lifetime = duration_ms{3600'000};
  EXPECT_EQ(retry_profile_of(r, {}), exim);
  r.profile = "hourly";
  EXPECT_THROW(retry_profile_of(r, {"w.yaml", 3, 1}), std::invalid_argument);
  r.profile = "list";
  r.offsets = {2 * minute, minute};
  EXPECT_THROW(retry_profile_of(r, {}), std::invalid_argument);
}

TEST(Sender, MessagesOverTheWarmupCapWaitForTheNextDay) {
  world_spec spec = small_spec();
  spec.senders[0].warmup = warmup_spec{2, 2.0};
  bench b(spec);
  for (int i = 0; i < 7; ++i) b.send({"u" + std::to_string(i) + "@dest.sim"});
  EXPECT_EQ(b.out->stats().held, 5u);
  b.run_for(duration_ms{3 * 24 * 3600'000LL + 60'000});
  const core::time_point start = b.record.start();
  std::vector<std::int64_t> days;
  for (const metrics::message_record& r : b.record.records()) {
    ASSERT_EQ(r.outcome, metrics::fate::delivered);
    days.push_back((*r.final_at - start).count() / (24 * 3600'000LL));
  }
  EXPECT_EQ(days, (std::vector<std::int64_t>{0, 0, 1, 1, 1, 1, 2}));
  EXPECT_EQ(b.out->stats().held, 0u);
}

TEST(Sender, ConnectionsRotateOverTheSendersIps) {
  world_spec spec = small_spec();
  spec.senders[0].messages_per_connection = 1;
  spec.senders[0].connections_max = 1;
  bench b(spec);
  for (int i = 0; i < 4; ++i) b.send({"u" + std::to_string(i) + "@dest.sim"});
  b.run_for(10 * minute);
  std::vector<std::string> ips;
  for (const metrics::message_record& r : b.record.records()) ips.push_back(r.ip);
  EXPECT_EQ(ips, (std::vector<std::string>{"192.0.2.10", "192.0.2.11", "192.0.2.10",
                                           "192.0.2.11"}));
  EXPECT_EQ(b.receiver("10.1.0.1").clients, ips);
}

TEST(Sender, ATypoDomainBouncesOnNxdomain) {
  bench b(small_spec());
  b.send({"ann@gmial.sim"});
  b.run_for(minute);
  const metrics::message_record& r = b.record.records().at(0);
  EXPECT_EQ(r.outcome, metrics::fate::bounced);
  EXPECT_EQ(r.status, "5.1.2");
  EXPECT_EQ(r.code, 0);
}

TEST(Faults, ADnsOutageDefersThenDelivers) {
  world_spec spec = small_spec();
  spec.senders[0].retry.profile = "fixed";
  spec.senders[0].retry.interval = duration_ms{10 * 60'000};
  fault_spec f;
  f.what = fault_spec::kind::dns;
  f.name = "dest.sim";
  f.answer = "servfail";
  f.length = duration_ms{15 * 60'000};
  spec.faults.push_back(f);
  bench b(spec);
  check_faults(b.spec);
  schedule_faults(b.spec, b.sched.now(), *b.dns, *b.net);
  b.send({"ann@dest.sim"});
  b.run_for(duration_ms{3600'000});
  const metrics::message_record& r = b.record.records().at(0);
  EXPECT_EQ(r.outcome, metrics::fate::delivered);
  EXPECT_EQ(r.deferrals, 2u);  // at 0 and 10 minutes; delivered at 20
  EXPECT_GE(*r.final_at - r.queued_at, duration_ms{20 * 60'000});
}

TEST(Faults, AnMxHostDownSendsTheMailToTheBackup) {
  world_spec spec = small_spec();
  spec.providers[0].mx = {mx_spec{"", 10, ""}, mx_spec{"", 20, ""}};
  fault_spec f;
  f.what = fault_spec::kind::host_down;
  f.target = "mx1.dest.sim";
  spec.faults.push_back(f);
  bench b(spec);
  schedule_faults(b.spec, b.sched.now(), *b.dns, *b.net);
  b.send({"ann@dest.sim"});
  b.run_for(minute);
  EXPECT_EQ(b.receiver("10.1.0.1").messages.size(), 0u);
  EXPECT_EQ(b.receiver("10.1.0.2").messages.size(), 1u);
  EXPECT_EQ(b.record.records().at(0).outcome, metrics::fate::delivered);
  EXPECT_NE(b.sink.text().find("fault on f1-10.1.0.1 refuse"), std::string::npos);
}

TEST(Faults, ABlackholedHostTimesOutUntilTheFaultEnds) {
  world_spec spec = small_spec();
  spec.senders[0].retry.profile = "fixed";
  spec.senders[0].retry.interval = duration_ms{5 * 60'000};
  fault_spec f;
  f.what = fault_spec::kind::network;
  f.target = "10.1.0.1";
  f.effect = "blackhole";
  f.at = minute;
  f.length = duration_ms{7 * 60'000};
  spec.faults.push_back(f);
  bench b(spec);
  schedule_faults(b.spec, b.sched.now(), *b.dns, *b.net);
  b.run_for(2 * minute);
  b.send({"ann@dest.sim"});
  b.run_for(duration_ms{3600'000});
  const metrics::message_record& r = b.record.records().at(0);
  EXPECT_EQ(r.outcome, metrics::fate::delivered);
  EXPECT_EQ(r.deferrals, 2u);  // at 2 and 7 minutes (on until 8); delivered at 12
  EXPECT_GE(*r.final_at - r.queued_at, duration_ms{10 * 60'000});
  EXPECT_NE(b.sink.text().find("connect timed out"), std::string::npos);
  EXPECT_NE(b.sink.text().find("fault off f1-10.1.0.1 blackhole"), std::string::npos);
}

std::string transcript(std::uint64_t seed) {
  bench b(small_spec(), seed);
  b.receiver("10.1.0.1").rcpt_reply = [](const std::string& a, int asked) {
    return std::string(a[0] == 'g' && asked == 0 ? "451 4.7.1 later" : "250 2.1.5 ok");
  };
  for (int i = 0; i < 6; ++i) b.send({"u" + std::to_string(i) + "@dest.sim", "g@dest.sim"});
  b.run_for(duration_ms{3600'000});
  for (const metrics::message_record& r : b.record.records()) {
    EXPECT_EQ(r.outcome, metrics::fate::delivered);
    EXPECT_EQ(r.ip, r.message % 2 == 1 ? "192.0.2.10" : "192.0.2.11") << r.recipient;
  }
  return b.sink.text();
}

TEST(Sender, SameSeedSameTranscriptOtherSeedAnother) {
  const std::string one = transcript(11);
  EXPECT_NE(one.find("acme relayed m6 u5@dest.sim"), std::string::npos) << one;
  EXPECT_EQ(one, transcript(11));
  EXPECT_NE(one, transcript(12));
}

}  // namespace
}  // namespace mailsim::sim::world
