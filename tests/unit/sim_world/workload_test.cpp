// Workloads: when messages fall due (total over a span, per day flat or in business hours),
// that they are generated lazily, the recipient mix (shuffled populations, invalid, typo
// and role shares, traps), the checks of from_world, and the bytes of each message.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "simulator/world/workload.hpp"

namespace mailsim::sim::world {
namespace {

using core::duration_ms;
constexpr std::int64_t hour = 3600'000;

std::vector<mailbox_entry> people(const std::string& domain, int valid, int traps) {
  std::vector<mailbox_entry> out;
  for (int i = 0; i < valid; ++i) out.push_back({"user" + std::to_string(i) + "@" + domain, "valid"});
  for (int i = 0; i < traps; ++i) out.push_back({"trap" + std::to_string(i) + "@" + domain, "pristine_trap"});
  return out;
}

population_view view(const std::string& provider, const std::string& domain, int valid,
                     int traps, bool catch_all = false) {
  population_view v;
  v.provider = provider;
  v.domains = {domain};
  // The populations live as long as the test program, as a provider's outlive its world.
  static std::vector<std::unique_ptr<std::vector<mailbox_entry>>> kept;
  kept.push_back(std::make_unique<std::vector<mailbox_entry>>(people(domain, valid, traps)));
  v.population = kept.back().get();
  auto entries = *v.population;
  v.kind_of = [entries, domain, catch_all](const std::string& a) -> std::optional<std::string> {
    if (a.substr(a.find('@') + 1) != domain) return std::nullopt;
    for (const mailbox_entry& e : entries) {
      if (e.address == a) return e.kind;
    }
    return catch_all ? "catch_all" : "unknown";
  };
  return v;
}

std::vector<population_view> two_providers() {
  return {view("gmail", "gmail.sim", 50, 2), view("corp", "corp.sim", 30, 0)};
}

workload_spec basic(std::size_t total) {
  workload_spec w;
  w.from = "news@sender.sim";
  w.volume.total = total;
  w.volume.over = duration_ms{hour};
  w.where = {"w.yaml", 7, 3};
  return w;
}

struct harness {
  explicit harness(workload_spec spec, std::vector<population_view> worlds = two_providers(),
                   std::uint64_t seed = 1)
      : load(spec, sched, prng(seed), worlds, counter,
             [this](outgoing_message m) { sent.push_back(std::move(m)); }) {}
  scheduler sched;
  std::uint64_t counter = 1;
  std::vector<outgoing_message> sent;
  workload load;
};

TEST(Workload, TotalIsSpreadEvenlyOverItsSpan) {
  volume_spec v;
  v.total = 4;
  v.over = duration_ms{hour};
  v.start = duration_ms{10 * 60'000};
  EXPECT_EQ(message_offset(v, 0, default_start), duration_ms{10 * 60'000});
  EXPECT_EQ(message_offset(v, 1, default_start), duration_ms{25 * 60'000});
  EXPECT_EQ(message_offset(v, 3, default_start), duration_ms{55 * 60'000});
  EXPECT_EQ(message_offset(v, 4, default_start), std::nullopt);
}

TEST(Workload, PerDayRunsFlatOrInBusinessHours) {
  volume_spec v;
  v.per_day = 2;
  EXPECT_EQ(message_offset(v, 1, default_start), duration_ms{12 * hour});
  EXPECT_EQ(message_offset(v, 5, default_start), duration_ms{(48 + 12) * hour});
  v.shape = "business-hours";
  // The run starts on Tuesday 2023-11-14 at 22:13:20 UTC: Wednesday is the first business
  // day, then Thursday, Friday and (after the weekend) Monday 20 November.
  const auto at = [&v](std::uint64_t i) { return default_start + *message_offset(v, i, default_start); };
  EXPECT_EQ(rfc5322_date(at(0)), "Wed, 15 Nov 2023 09:00:00 +0000");
  EXPECT_EQ(rfc5322_date(at(1)), "Wed, 15 Nov 2023 13:00:00 +0000");
  EXPECT_EQ(rfc5322_date(at(4)), "Fri, 17 Nov 2023 09:00:00 +0000");
  EXPECT_EQ(rfc5322_date(at(6)), "Mon, 20 Nov 2023 09:00:00 +0000");
  EXPECT_EQ(rfc5322_date(at(17)), "Mon, 27 Nov 2023 13:00:00 +0000");
}

TEST(Workload, DatesAndTypos) {
  EXPECT_EQ(rfc5322_date(default_start), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(rfc5322_date(core::from_epoch_ms(0)), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(core::from_epoch_ms(1'709'251'198'999)),
            "Thu, 29 Feb 2024 23:59:58 +0000");
  EXPECT_EQ(rfc5322_date(core::from_epoch_ms(1'700'010'307'000)),
            "Wed, 15 Nov 2023 01:05:07 +0000");
  EXPECT_EQ(rfc5322_date(core::time_point{duration_ms{951'782'400'000}}),
            "Tue, 29 Feb 2000 00:00:00 +0000");
  EXPECT_EQ(typo_of("gmail.sim"), "gmial.sim");
  EXPECT_EQ(typo_of("aa.sim"), "aaa.sim");
}

TEST(Workload, MessagesAreGeneratedOneEventAtATime) {
  harness h(basic(100'000));
  h.load.start(h.sched.now());
  EXPECT_EQ(h.sched.pending(), 1u);
  h.sched.run_until(h.sched.now() + duration_ms{hour / 2});
  EXPECT_EQ(h.sched.pending(), 1u);
  EXPECT_EQ(h.load.generated(), 50'001u);  // offsets 0 .. 30 min inclusive
  EXPECT_EQ(h.sent.back().number, 50'001u);
  h.load.stop();
  EXPECT_EQ(h.sched.pending(), 0u);
  h.sched.run_until_idle();
  EXPECT_EQ(h.load.generated(), 50'001u);
}

TEST(Workload, RecipientsComeInASeededShuffledOrder) {
  harness a(basic(80));
  harness b(basic(80));
  harness c(basic(80), two_providers(), 2);
  std::vector<std::string> order_a, order_b, order_c;
  for (const recipient_pick& r : a.load.recipients()) order_a.push_back(r.address);
  for (const recipient_pick& r : b.load.recipients()) order_b.push_back(r.address);
  for (const recipient_pick& r : c.load.recipients()) order_c.push_back(r.address);
  EXPECT_EQ(order_a.size(), 82u);  // 50 + 2 traps + 30
  EXPECT_EQ(order_a, order_b);
  EXPECT_NE(order_a, order_c);
  a.load.start(a.sched.now());
  a.sched.run_until_idle();
  ASSERT_EQ(a.sent.size(), 80u);
  for (std::size_t i = 0; i < 80; ++i) {
    ASSERT_EQ(a.sent[i].recipients.size(), 1u);
    EXPECT_EQ(a.sent[i].recipients[0].address, order_a[i]);
  }
}

TEST(Workload, FromWorldChoosesProvidersOrDomainsAndTrapsAreOptional) {
  workload_spec w = basic(10);
  w.recipients.from_world = {"corp"};
  harness corp(w);
  EXPECT_EQ(corp.load.recipients().size(), 30u);
  w.recipients.from_world = {"gmail.sim"};
  w.recipients.include_traps = false;
  harness gmail(w);
  EXPECT_EQ(gmail.load.recipients().size(), 50u);
  for (const recipient_pick& r : gmail.load.recipients()) {
    EXPECT_EQ(r.provider, "gmail");
    EXPECT_EQ(r.kind, "valid");
  }
  w.recipients.from_world = {"yahoo"};
  try {
    harness none(w);
    FAIL() << "an unknown provider was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("w.yaml:7: ", 0), 0u) << e.what();
  }
}

TEST(Workload, InvalidAndTypoSharesAreDrawnPerRecipient) {
  workload_spec w = basic(4000);
  w.recipients.invalid = 0.2;
  w.recipients.typo_domains = 0.1;
  // A typo domain that exists in the world (a trap domain) answers with its own kind.
  std::vector<population_view> worlds = two_providers();
  worlds.push_back(view("typo-traps", "gmial.sim", 0, 0, true));
  w.recipients.from_world = {"gmail", "corp"};
  harness h(w, worlds);
  h.load.start(h.sched.now());
  h.sched.run_until_idle();
  std::map<std::string, int> kinds;
  std::set<std::string> typo_domains;
  for (const outgoing_message& m : h.sent) {
    for (const recipient_pick& r : m.recipients) {
      ++kinds[r.kind];
      if (r.kind == "typo") typo_domains.insert(r.domain);
      if (r.kind == "invalid") {
        EXPECT_EQ(r.address.rfind("nosuch", 0), 0u);
      }
    }
  }
  EXPECT_NEAR(kinds["invalid"], 800, 90);
  EXPECT_NEAR(kinds["typo"] + kinds["catch_all"], 400, 70);
  EXPECT_GT(kinds["catch_all"], 0);  // gmial.sim, run by the trap provider
  EXPECT_EQ(typo_domains, std::set<std::string>{"crop.sim"});
}

TEST(Workload, TheRoleShareDrawsTheChosenDomainsRoleMailboxes) {
  workload_spec w = basic(4000);
  w.recipients.role = 0.25;
  w.recipients.from_world = {"corp"};
  std::vector<population_view> worlds = two_providers();
  worlds[0].roles = {"postmaster", "abuse"};  // gmail.sim: not chosen
  worlds[1].roles = {"postmaster", "info"};
  harness h(w, worlds);
  h.load.start(h.sched.now());
  h.sched.run_until_idle();
  std::map<std::string, int> roles;
  int listed = 0;
  for (const outgoing_message& m : h.sent) {
    for (const recipient_pick& r : m.recipients) {
      if (r.kind != "role") {
        ++listed;
        EXPECT_EQ(r.kind, "valid");
        continue;
      }
      ++roles[r.address];
      EXPECT_EQ(r.provider, "corp");
      EXPECT_EQ(r.domain, "corp.sim");
    }
  }
  ASSERT_EQ(roles.size(), 2u);  // both of corp.sim's, none of gmail.sim's
  EXPECT_EQ(roles.begin()->first, "info@corp.sim");
  EXPECT_EQ(roles.rbegin()->first, "postmaster@corp.sim");
  EXPECT_NEAR(roles["info@corp.sim"] + roles["postmaster@corp.sim"], 1000, 90);
  EXPECT_EQ(listed + roles["info@corp.sim"] + roles["postmaster@corp.sim"], 4000);
}

TEST(Workload, ARoleShareNeedsRoleMailboxesAndFitsBesideTheOtherShares) {
  workload_spec w = basic(10);
  w.recipients.role = 0.1;  // two_providers() have no role mailboxes
  EXPECT_THROW(harness{w}, std::invalid_argument);
  std::vector<population_view> worlds = two_providers();
  worlds[1].roles = {"postmaster"};
  w.recipients.invalid = 0.5;
  w.recipients.typo_domains = 0.45;
  EXPECT_THROW(harness(w, worlds), std::invalid_argument);  // 105 %
  // Only role mailboxes to send to: every recipient is one.
  w.recipients = {};
  w.recipients.role = 1;
  w.recipients.from_world = {"corp.sim"};
  harness h(w, worlds);
  h.load.start(h.sched.now());
  h.sched.run_until_idle();
  ASSERT_EQ(h.sent.size(), 10u);
  for (const outgoing_message& m : h.sent) EXPECT_EQ(m.recipients.at(0).address, "postmaster@corp.sim");
}

TEST(Workload, SeveralRecipientsPerMessageAreDistinct) {
  workload_spec w = basic(20);
  w.recipients.per_message = 3;
  w.recipients.from_world = {"corp.sim"};
  harness h(w);
  h.load.start(h.sched.now());
  h.sched.run_until_idle();
  for (const outgoing_message& m : h.sent) {
    ASSERT_EQ(m.recipients.size(), 3u);
    EXPECT_NE(m.recipients[0].address, m.recipients[1].address);
    EXPECT_NE(m.recipients[1].address, m.recipients[2].address);
  }
}

TEST(Workload, BuiltInMessagesCarryTheWorldsHeadersAndSize) {
  message_spec content;
  content.size_bytes = 2000;
  content.spam_score = 4.5;
  outgoing_message m;
  m.number = 7;
  m.from = "news@sender.sim";
  m.created_at = default_start;
  m.content = &content;
  m.recipients = {{"ann@corp.sim", "corp.sim", "corp", "valid"},
                  {"bob@corp.sim", "corp.sim", "corp", "valid"}};
  const std::string text = build_message(m, "sender.sim");
  EXPECT_EQ(text.rfind("From: <news@sender.sim>\r\nTo: ann@corp.sim, bob@corp.sim\r\n", 0), 0u);
  EXPECT_NE(text.find("\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nMessage-ID: <m7@sender.sim>\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nX-Mailsim-Score: 4.5\r\n\r\n"), std::string::npos);
  EXPECT_LE(text.size(), 2000u);
  EXPECT_GE(text.size(), 1990u);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
}

// Message `number` from a@sender.sim to ann@corp.sim with `content` (which must outlive it).
outgoing_message to_ann(std::uint64_t number, const message_spec& content) {
  outgoing_message m;
  m.number = number;
  m.from = "a@sender.sim";
  m.content = &content;
  m.recipients = {{"ann@corp.sim", "corp.sim", "corp", "valid"}};
  return m;
}

TEST(Workload, TheScoreHeaderIsWrittenAsPrintfGWould) {
  const std::vector<std::pair<double, std::string>> cases = {{0, "0"},
                                                             {2, "2"},
                                                             {4.5, "4.5"},
                                                             {0.1, "0.1"},
                                                             {-3.25, "-3.25"},
                                                             {1e-05, "1e-05"},
                                                             {123456, "123456"},
                                                             {1234567, "1.23457e+06"},
                                                             {0.000123, "0.000123"},
                                                             {99.99999, "100"}};
  for (const auto& [score, text] : cases) {
    message_spec content;
    content.size_bytes = 300;
    content.spam_score = score;
    const std::string message = build_message(to_ann(1, content), "sender.sim");
    EXPECT_NE(message.find("\r\nX-Mailsim-Score: " + text + "\r\n"), std::string::npos)
        << score << " in " << message;
  }
}

TEST(Workload, BuiltInBodiesAreNumberedLinesCutToTheSize) {
  message_spec content;
  const outgoing_message m = to_ann(12, content);
  for (const std::size_t size : {std::size_t{600}, std::size_t{1024}, std::size_t{5000}}) {
    content.size_bytes = size;
    const std::string text = build_message(m, "sender.sim");
    const std::string body = text.substr(text.find("\r\n\r\n") + 4);
    EXPECT_EQ(body.rfind("This is message 12 of the mailsim workload, line 1.\r\n"
                         "This is message 12 of the mailsim workload, line 2.\r\n",
                         0),
              0u);
    EXPECT_LE(text.size(), size);
    EXPECT_GE(text.size() + 80, size);
    EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
    if (size < 1024) continue;
    EXPECT_NE(body.find("line 9.\r\nThis is message 12 of the mailsim workload, line 10.\r\n"),
              std::string::npos);
  }
}

TEST(Workload, ATemplateKeepsItsHeadersAndGetsTheMissingOnes) {
  message_spec content;
  content.text = "Subject: Spring sale\nMessage-ID: <theirs@x>\nX-Mailsim-Score: 9\n\nBuy now.\n";
  content.spam_score = 2;
  outgoing_message m;
  m.number = 3;
  m.from = "news@sender.sim";
  m.content = &content;
  m.recipients = {{"ann@corp.sim", "corp.sim", "corp", "valid"}};
  const std::string text = build_message(m, "sender.sim");
  EXPECT_NE(text.find("Subject: Spring sale\r\n"), std::string::npos);
  EXPECT_EQ(text.find("Subject: mailsim"), std::string::npos);
  EXPECT_EQ(text.find("theirs@x"), std::string::npos);
  EXPECT_NE(text.find("Message-ID: <m3@sender.sim>\r\n"), std::string::npos);
  EXPECT_NE(text.find("X-Mailsim-Score: 2\r\n"), std::string::npos);
  EXPECT_EQ(text.find("X-Mailsim-Score: 9"), std::string::npos);
  EXPECT_NE(text.find("From: <news@sender.sim>\r\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 12), "\r\nBuy now.\r\n");
}

}  // namespace
}  // namespace mailsim::sim::world
