// A simulated provider over the virtual network, driven by a scripted SMTP client: the
// dialogue, RCPT answers by mailbox state, placement, traps, bounces, complaints, and
// what goes to the recorder and the trace.
#include <gtest/gtest.h>

#include "simulator/world/receiver_impl.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

provider_spec every_state(const std::string& profile = "postfix-default") {
  provider_spec spec = spec_of(profile, 20);
  spec.mailboxes.unknown.count = 2;
  spec.mailboxes.disabled.count = 2;
  spec.mailboxes.full.count = 2;
  spec.mailboxes.bounce_later.count = 2;
  spec.mailboxes.pristine_traps = 2;
  spec.mailboxes.recycled_traps = 2;
  spec.mailboxes.recycled_cooling = core::duration_ms{3'600'000};
  return spec;
}

TEST(ReceiverMailbox, DeliversToAValidMailboxAndRecordsInboxPlacement) {
  small_world w(spec_of("postfix-default"));
  const std::string rcpt = address_of(*w.receiver, "valid");
  const std::size_t id = w.expect_record(7, rcpt);
  const auto replies = w.talk(one_message({rcpt}, 7));
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(replies[0], "220 mx1.dest.sim ESMTP Postfix");
  EXPECT_EQ(code_of(replies[2]), "250");  // MAIL
  EXPECT_EQ(code_of(replies[3]), "250");  // RCPT
  EXPECT_EQ(code_of(replies[4]), "354");
  EXPECT_EQ(replies[5].substr(0, 10), "250 2.0.0 ");
  EXPECT_EQ(code_of(replies[6]), "221");
  EXPECT_EQ(w.record.at(id).placed, metrics::placement::inbox);
  EXPECT_EQ(w.totals().accepted, 1u);
  EXPECT_EQ(w.totals().connections, 1u);
  EXPECT_TRUE(w.traced("postfix-default deliver " + rcpt + " m7 from 192.0.2.10: inbox"));
}

TEST(ReceiverMailbox, AnswersRcptByMailboxState) {
  provider_spec spec = every_state();
  small_world w(spec);
  const provider& p = *w.receiver;
  const auto rcpt_reply = [&](const std::string& rcpt) {
    auto r = w.talk({"EHLO c.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n", "RCPT TO:<" + rcpt + ">\r\n",
                     "QUIT\r\n"});
    return r.size() >= 4 ? r[3] : std::string("none");
  };
  EXPECT_EQ(rcpt_reply(address_of(p, "valid")).substr(0, 3), "250");
  EXPECT_EQ(rcpt_reply(address_of(p, "unknown")).substr(0, 9), "550 5.1.1");
  EXPECT_EQ(rcpt_reply("nobody@dest.sim").substr(0, 9), "550 5.1.1");
  EXPECT_EQ(rcpt_reply(address_of(p, "disabled")).substr(0, 9), "550 5.2.1");
  EXPECT_EQ(rcpt_reply(address_of(p, "full")).substr(0, 9), "452 4.2.2");
  EXPECT_EQ(rcpt_reply(address_of(p, "recycled_trap")).substr(0, 9), "550 5.1.1");
  EXPECT_EQ(rcpt_reply(address_of(p, "pristine_trap")).substr(0, 3), "250");
  EXPECT_EQ(rcpt_reply(address_of(p, "bounce_later")).substr(0, 3), "250");
  EXPECT_EQ(rcpt_reply("someone@elsewhere.sim").substr(0, 9), "550 5.7.1");
  EXPECT_EQ(w.count_reply("550 5.1.1"), 3u);
  EXPECT_EQ(w.count_reply("452 4.2.2"), 1u);
  EXPECT_EQ(w.totals().rejected, 5u);
  EXPECT_EQ(w.totals().deferred, 1u);
  EXPECT_TRUE(
      w.traced("rcpt " + address_of(p, "full") + " from 192.0.2.10: 452 4.2.2 mailbox full"));
}

TEST(ReceiverMailbox, FullPermanentAndCatchAll) {
  provider_spec spec = every_state("gmail-like");
  spec.mailboxes.full_permanent = true;
  spec.mailboxes.catch_all = true;
  small_world w(spec);
  const auto r1 = w.talk({"EHLO c.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n",
                          "RCPT TO:<" + address_of(*w.receiver, "full") + ">\r\n",
                          "RCPT TO:<anything@dest.sim>\r\n", "QUIT\r\n"});
  ASSERT_GE(r1.size(), 5u);
  EXPECT_EQ(r1[3].substr(0, 9), "552 5.2.2");
  EXPECT_NE(r1[3].find("- gsmtp"), std::string::npos);
  EXPECT_EQ(r1[4].substr(0, 3), "250");
  EXPECT_EQ(w.receiver->kind_of("anything@dest.sim"), "catch_all");
}

TEST(ReceiverMailbox, PristineTrapHitIsRecordedAndReported) {
  small_world w(every_state());
  const std::string trap = address_of(*w.receiver, "pristine_trap");
  const std::size_t id = w.expect_record(3, trap);
  const auto replies = w.talk(one_message({trap}, 3));
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(code_of(replies[5]), "250");
  EXPECT_TRUE(w.record.at(id).trap_hit);
  EXPECT_EQ(w.record.at(id).placed, metrics::placement::trap);
  EXPECT_EQ(w.totals().trap_hits, 1u);
  ASSERT_EQ(w.trap_hits.size(), 1u);
  EXPECT_EQ(w.trap_hits[0], client_ip);
}

TEST(ReceiverMailbox, RecycledTrapBouncesWhileCoolingThenTraps) {
  small_world w(every_state());
  const std::string trap = address_of(*w.receiver, "recycled_trap");
  auto early = w.talk(one_message({trap}, 1));
  ASSERT_GE(early.size(), 4u);
  EXPECT_EQ(early[3].substr(0, 9), "550 5.1.1");
  w.sched.run_for(core::duration_ms{3'600'000});
  const std::size_t id = w.expect_record(2, trap);
  auto late = w.talk(one_message({trap}, 2));
  ASSERT_EQ(late.size(), 7u);
  EXPECT_EQ(code_of(late[5]), "250");
  EXPECT_TRUE(w.record.at(id).trap_hit);
}

// The report itself travels back over the network (bounce_test.cpp); without a resolver
// the provider cannot route it, and says so when the delay is over. Only the sender's
// sink sets bounce_returned, on the report's arrival.
TEST(ReceiverMailbox, BounceLaterIsAcceptedThenReportedWhenRoutable) {
  small_world w(every_state());
  const std::string rcpt = address_of(*w.receiver, "bounce_later");
  const std::size_t id = w.expect_record(4, rcpt);
  const auto replies = w.talk(one_message({rcpt}, 4));
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(code_of(replies[5]), "250");
  EXPECT_EQ(w.record.at(id).placed, metrics::placement::bounce_later);
  EXPECT_FALSE(w.traced("bounce " + rcpt));
  w.sched.run_for(core::duration_ms{10 * 60'000});
  EXPECT_TRUE(w.traced("bounce " + rcpt + " m4: no DSN (the provider has no resolver"));
  EXPECT_FALSE(w.record.at(id).bounce_returned);
}

TEST(ReceiverMailbox, BounceLaterFromTheNullSenderGetsNoReport) {
  small_world w(every_state());
  const std::string rcpt = address_of(*w.receiver, "bounce_later");
  const std::size_t id = w.expect_record(5, rcpt);
  std::vector<std::string> script = one_message({rcpt}, 5);
  script[1] = "MAIL FROM:<>\r\n";
  const auto replies = w.talk(script);
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(code_of(replies[5]), "250");
  EXPECT_EQ(w.record.at(id).placed, metrics::placement::bounce_later);
  EXPECT_TRUE(w.traced("bounce " + rcpt + " m5: no DSN (null reverse-path)"));
  w.sched.run_for(core::duration_ms{60 * 60'000});
  EXPECT_FALSE(w.record.at(id).bounce_returned);
  EXPECT_FALSE(w.traced("dsn "));
}

TEST(ReceiverMailbox, ContentScoreRejectsOrFilesAsJunk) {
  small_world w(spec_of("postfix-default"));
  const std::string rcpt = address_of(*w.receiver, "valid");
  const std::size_t junk_id = w.expect_record(1, rcpt);
  const std::size_t spam_id = w.expect_record(2, rcpt);
  const auto junk = w.talk(one_message({rcpt}, 1, 6.0));
  const auto spam = w.talk(one_message({rcpt}, 2, 20.0));
  ASSERT_EQ(junk.size(), 7u);
  ASSERT_EQ(spam.size(), 7u);
  EXPECT_EQ(code_of(junk[5]), "250");
  EXPECT_EQ(w.record.at(junk_id).placed, metrics::placement::junk);
  EXPECT_EQ(spam[5].substr(0, 9), "550 5.7.1");
  EXPECT_EQ(w.record.at(spam_id).placed, metrics::placement::none);
  EXPECT_TRUE(w.traced("data m2 from 192.0.2.10: 550 5.7.1 score 20.00"));
}

TEST(ReceiverMailbox, ComplaintsAreDrawnForInboxMessages) {
  provider_spec spec = spec_of("postfix-default");
  spec.complaint_rate = 1.0;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  const std::size_t id = w.expect_record(9, rcpt);
  w.talk(one_message({rcpt}, 9));
  EXPECT_FALSE(w.record.at(id).complained);
  w.sched.run_for(core::duration_ms{3'600'000});
  EXPECT_TRUE(w.record.at(id).complained);
  EXPECT_EQ(w.totals().complaints, 1u);
  ASSERT_EQ(w.complaints.size(), 1u);
  EXPECT_EQ(w.complaints[0], client_ip);
}

TEST(ReceiverMailbox, NoComplaintsAtRateZero) {
  provider_spec spec = spec_of("postfix-default");
  spec.complaint_rate = 0.0;
  small_world w(spec);
  const std::string rcpt = address_of(*w.receiver, "valid");
  for (std::uint64_t m = 1; m <= 5; ++m) w.talk(one_message({rcpt}, m));
  w.sched.run_for(core::duration_ms{3'600'000});
  EXPECT_EQ(w.totals().complaints, 0u);
  EXPECT_EQ(w.totals().accepted, 5u);
}

TEST(ReceiverMailbox, AnInconsistentSpecIsRefused) {
  provider_spec no_address = spec_of("postfix-default");
  no_address.mx[0].address.clear();
  EXPECT_THROW(small_world{no_address}, std::invalid_argument);
  provider_spec no_domain = spec_of("postfix-default");
  no_domain.domains.clear();
  EXPECT_THROW(small_world{no_domain}, std::invalid_argument);
  provider_spec bad_profile = spec_of("hotmail-like");
  EXPECT_THROW(small_world{bad_profile}, std::invalid_argument);
}

TEST(ReceiverMailbox, MessageFactsComeFromTheHeader) {
  const message_facts f = read_message_facts(
      "From: a@b\r\nmessage-id:  <m42@sender.sim>\r\nX-Mailsim-Score: 3.5\r\n\r\n"
      "X-Mailsim-Score: 99\r\n");
  ASSERT_TRUE(f.number);
  EXPECT_EQ(*f.number, 42u);
  EXPECT_DOUBLE_EQ(f.score, 3.5);
  const message_facts none = read_message_facts("Subject: x\r\nMessage-ID: <abc@x>\r\n\r\n");
  EXPECT_FALSE(none.number);
  EXPECT_EQ(none.score, 0);
}

}  // namespace
}  // namespace mailsim::sim::world::test
