// The provider's reputation wiring: it tells its reputation_book what it saw (accepted
// messages, unknown recipients, trap hits, complaints) and follows the book's verdict at
// MAIL FROM. A mirror book fed the same history predicts the provider's answer, so the test
// holds for any reputation model that honours reputation.hpp.
#include <gtest/gtest.h>

#include "simulator/world/profiles.hpp"
#include "simulator/world/reputation.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

using core::duration_ms;

// What the provider answered to one message: the MAIL reply's class and whether the
// message was accepted (250 after DATA).
struct attempt {
  std::string mail;
  bool accepted = false;
};

attempt send_one(small_world& w, const std::string& rcpt, std::uint64_t number) {
  const auto r = w.talk(one_message({rcpt}, number), client_ip, duration_ms{10'000});
  attempt a;
  a.mail = r.size() > 2 ? r[2].substr(0, 3) : "none";
  a.accepted = r.size() > 5 && r[5].substr(0, 3) == "250";
  return a;
}

// The provider's MAIL answer must be the mirror's verdict, message after message, while
// the mirror learns exactly what the provider reported.
void expect_follows_mirror(const std::string& profile) {
  provider_spec spec = spec_of(profile, 20);
  spec.mailboxes.unknown.count = 10;
  spec.mailboxes.pristine_traps = 10;
  spec.complaint_rate = 0.0;
  small_world w(spec);
  const resolved_provider settings = resolve_profile(spec);
  ASSERT_TRUE(settings.reputation_enabled);
  reputation_book mirror(settings.reputation, w.record.start());

  std::vector<std::pair<std::string, std::string>> plan;  // (address, kind)
  for (const auto& e : w.receiver->population()) {
    if (e.kind == "unknown") plan.emplace_back(e.address, e.kind);
  }
  for (const auto& e : w.receiver->population()) {
    if (e.kind == "pristine_trap") plan.emplace_back(e.address, e.kind);
  }
  plan.emplace_back(address_of(*w.receiver, "valid"), "valid");
  std::uint64_t number = 1;
  for (const auto& [rcpt, kind] : plan) {
    const reputation_verdict expected = mirror.check(client_ip, "sender.sim", w.sched.now());
    const std::size_t id = w.expect_record(number, rcpt);
    const attempt got = send_one(w, rcpt, number++);
    const core::time_point at = w.sched.now();
    switch (expected.what) {
      case reputation_verdict::action::defer:
        EXPECT_EQ(got.mail.substr(0, 1), "4") << profile << " " << rcpt;
        continue;
      case reputation_verdict::action::reject:
        EXPECT_EQ(got.mail.substr(0, 1), "5") << profile << " " << rcpt;
        continue;
      case reputation_verdict::action::accept:
        EXPECT_EQ(got.mail, "250") << profile << " " << rcpt;
        break;
    }
    if (kind == "unknown") {
      mirror.note_unknown_recipient(client_ip, "sender.sim", at);
      continue;
    }
    ASSERT_TRUE(got.accepted) << profile << " " << rcpt;
    mirror.note_accepted(client_ip, "sender.sim", at);
    if (kind == "pristine_trap") mirror.note_trap_hit(client_ip, "sender.sim", at);
    if (kind == "valid") {
      EXPECT_EQ(w.record.at(id).placed,
                expected.junk ? metrics::placement::junk : metrics::placement::inbox)
          << profile;
    }
  }
  // Ten unknown recipients and ten trap hits in a day must cost this sender something
  // from the next day on (reputation is judged on completed days).
  w.sched.run_for(duration_ms{24 * 3600'000});
  const reputation_verdict next = mirror.check(client_ip, "sender.sim", w.sched.now());
  const std::string rcpt = address_of(*w.receiver, "valid");
  const std::size_t id = w.expect_record(number, rcpt);
  const attempt got = send_one(w, rcpt, number);
  if (next.what == reputation_verdict::action::accept) {
    EXPECT_TRUE(next.junk) << profile;
    EXPECT_EQ(w.record.at(id).placed, metrics::placement::junk) << profile;
  } else {
    EXPECT_NE(got.mail, "250") << profile;
  }
  // A sender with no history, from another network, is not held to that history.
  const auto clean =
      w.talk({"EHLO c.sim\r\n", "MAIL FROM:<b@clean.sim>\r\n", "QUIT\r\n"}, "203.0.113.5");
  ASSERT_GE(clean.size(), 3u);
  EXPECT_EQ(clean[2].substr(0, 3), "250") << profile;
}

TEST(ReceiverReputation, GmailLikeFollowsItsBook) {
  expect_follows_mirror("gmail-like");
}
TEST(ReceiverReputation, YahooLikeFollowsItsBook) {
  expect_follows_mirror("yahoo-like");
}
TEST(ReceiverReputation, OutlookLikeFollowsItsBook) {
  expect_follows_mirror("outlook-like");
}

}  // namespace
}  // namespace mailsim::sim::world::test
