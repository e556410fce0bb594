// Greylisting: the triplet timeline, auto-whitelisting, subnet keys, sender normalization,
// eviction and the saved text form.
#include "reference-server/policy/greylist.hpp"

#include <gtest/gtest.h>

namespace mailsim::policy {
namespace {

using std::chrono::seconds;

const core::time_point t0 = core::from_epoch_ms(1'700'000'000'000);
constexpr seconds day{86'400};

core::ip_address ip(const char* text) {
  return *core::parse_ip(text);
}

struct timeline {
  greylist list;
  explicit timeline(greylist_options o = {}) : list(std::move(o)) {}
  greylist_verdict at(seconds offset, const char* client = "192.0.2.1",
                      const char* sender = "alice@sender.example",
                      const char* rcpt = "bob@rcpt.example") {
    return list.check(ip(client), sender, rcpt, t0 + offset);
  }
};

TEST(Greylist, FirstSightIsDeferredWithPostgreysReply) {
  timeline g;
  greylist_verdict v = g.at(seconds{0});
  EXPECT_EQ(v.action, greylist_action::defer);
  EXPECT_EQ(v.reason, greylist_reason::first_seen);
  EXPECT_EQ(v.retry_after, seconds{300});
  EXPECT_EQ(v.reply.code, 450);
  EXPECT_EQ(v.reply.enhanced, "4.2.0");
  EXPECT_EQ(v.reply.text,
            "<bob@rcpt.example>: Recipient address rejected: Greylisted, please try again later");
  EXPECT_EQ(g.list.size(), 1u);
}

TEST(Greylist, EarlyRetryIsDeferredWithTheTimeLeft) {
  timeline g;
  g.at(seconds{0});
  greylist_verdict v = g.at(seconds{100});
  EXPECT_EQ(v.action, greylist_action::defer);
  EXPECT_EQ(v.reason, greylist_reason::too_early);
  EXPECT_EQ(v.retry_after, seconds{200});
}

TEST(Greylist, RetryInsideTheWindowPassesAndStaysKnown) {
  timeline g;
  g.at(seconds{0});
  g.at(seconds{100});  // an early retry does not restart the delay
  greylist_verdict v = g.at(seconds{300});
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.reason, greylist_reason::retried);
  EXPECT_EQ(g.at(10 * day).reason, greylist_reason::known);
}

TEST(Greylist, RetryAfterTheWindowStartsOver) {
  timeline g;
  g.at(seconds{0});
  greylist_verdict late = g.at(2 * day + seconds{1});
  EXPECT_EQ(late.action, greylist_action::defer);
  EXPECT_EQ(late.reason, greylist_reason::window_expired);
  EXPECT_EQ(late.retry_after, seconds{300});
  EXPECT_EQ(g.at(2 * day + seconds{200}).reason, greylist_reason::too_early);
  EXPECT_TRUE(g.at(2 * day + seconds{301}).passed());
}

TEST(Greylist, RetryAtTheWindowsLastSecondStillPasses) {
  timeline g;
  g.at(seconds{0});
  EXPECT_TRUE(g.at(2 * day).passed());
}

TEST(Greylist, PassedTripletIsForgottenAfterMaxAgeIdle) {
  timeline g;
  g.at(seconds{0});
  g.at(seconds{300});
  EXPECT_TRUE(g.at(30 * day).passed());
  greylist_verdict v = g.at(30 * day + 35 * day + seconds{1});
  EXPECT_EQ(v.reason, greylist_reason::first_seen);
}

void pass_triplets(timeline& g, int n, const char* client = "192.0.2.1") {
  for (int i = 0; i < n; ++i) {
    std::string rcpt = "user" + std::to_string(i) + "@rcpt.example";
    g.list.check(ip(client), "a@s.example", rcpt, t0);
    EXPECT_TRUE(g.list.check(ip(client), "a@s.example", rcpt, t0 + seconds{400}).passed());
  }
}

TEST(Greylist, ClientIsWhitelistedAfterFivePasses) {
  timeline g;
  pass_triplets(g, 4);
  EXPECT_EQ(g.at(seconds{500}).action, greylist_action::defer);
  pass_triplets(g, 5);  // the fifth distinct triplet passes
  greylist_verdict v = g.at(seconds{500}, "192.0.2.1", "new@other.example", "x@rcpt.example");
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.reason, greylist_reason::whitelisted);
  EXPECT_EQ(g.list.clients(), 1u);
}

TEST(Greylist, RepeatedPassesOfOneTripletCountOnce) {
  timeline g;
  g.at(seconds{0});
  for (int i = 1; i <= 10; ++i) EXPECT_TRUE(g.at(seconds{300 * i}).passed());
  EXPECT_EQ(g.at(seconds{4000}, "192.0.2.1", "a@b.example").reason, greylist_reason::first_seen);
}

TEST(Greylist, WhitelistCanBeTurnedOff) {
  greylist_options o;
  o.auto_whitelist_after = 0;
  timeline g(o);
  pass_triplets(g, 6);
  EXPECT_EQ(g.at(seconds{500}).action, greylist_action::defer);
  EXPECT_EQ(g.list.clients(), 0u);
}

TEST(Greylist, WhitelistExpiresAfterMaxAgeIdle) {
  timeline g;
  pass_triplets(g, 5);
  EXPECT_EQ(g.at(seconds{500}).reason, greylist_reason::whitelisted);
  EXPECT_EQ(g.at(36 * day).reason, greylist_reason::first_seen);
}

TEST(Greylist, RetryFromAnotherAddressOfTheSlash24Passes) {
  timeline g;
  g.at(seconds{0}, "192.0.2.1");
  EXPECT_TRUE(g.at(seconds{300}, "192.0.2.200").passed());
  EXPECT_EQ(g.at(seconds{300}, "192.0.3.1").reason, greylist_reason::first_seen);
}

TEST(Greylist, Ipv6KeysOnTheSlash64) {
  timeline g;
  g.at(seconds{0}, "2001:db8:1:2::1");
  EXPECT_TRUE(g.at(seconds{300}, "2001:db8:1:2:ffff::9").passed());
  EXPECT_EQ(g.at(seconds{300}, "2001:db8:1:3::1").reason, greylist_reason::first_seen);
}

TEST(Greylist, ExactKeysNeedTheSameAddress) {
  greylist_options o;
  o.key = greylist_key_mode::exact;
  timeline g(o);
  g.at(seconds{0}, "192.0.2.1");
  EXPECT_EQ(g.at(seconds{300}, "192.0.2.2").reason, greylist_reason::first_seen);
  EXPECT_TRUE(g.at(seconds{300}, "192.0.2.1").passed());
}

TEST(Greylist, SenderNormalization) {
  EXPECT_EQ(normalize_sender("<Alice@Example.COM>"), "alice@example.com");
  EXPECT_EQ(normalize_sender("prvs=1234abcd=bounce@example.com"), "bounce@example.com");
  EXPECT_EQ(normalize_sender("msprvs1=17abc=bounces-x@example.com"), "bounces-x@example.com");
  EXPECT_EQ(normalize_sender("list+bounce-123=a.example@lists.example"), "list@lists.example");
  EXPECT_EQ(normalize_sender("+odd@example.com"), "+odd@example.com");
  EXPECT_EQ(normalize_sender(""), "");
  EXPECT_EQ(normalize_sender("<>"), "");
  EXPECT_EQ(normalize_sender("prvs=tag=a+b@x.example", false, false), "prvs=tag=a+b@x.example");
  // Only the local part is edited: a '=' or '+' in the domain stays, so does a bare tag.
  EXPECT_EQ(normalize_sender("prvs=tag@x=y.example"), "prvs=tag@x=y.example");
  EXPECT_EQ(normalize_sender("prvs=@example.com"), "prvs=@example.com");
  EXPECT_EQ(normalize_sender("a@b+c.example"), "a@b+c.example");
  EXPECT_EQ(normalize_sender("a+b@c+d@e.example"), "a@e.example");
  EXPECT_EQ(normalize_sender("user+ext"), "user");
  EXPECT_EQ(normalize_sender("prvs=t=a+b@x.example"), "a@x.example");
}

TEST(Greylist, RetryWithANewBatvTagKeepsItsTriplet) {
  timeline g;
  g.at(seconds{0}, "192.0.2.1", "prvs=0001aaaa=news@sender.example");
  EXPECT_TRUE(g.at(seconds{300}, "192.0.2.1", "prvs=0002bbbb=News@Sender.example").passed());
}

TEST(Greylist, RecipientCaseDoesNotMatter) {
  timeline g;
  g.at(seconds{0}, "192.0.2.1", "a@s.example", "Bob@Rcpt.Example");
  EXPECT_TRUE(g.at(seconds{300}, "192.0.2.1", "a@s.example", "<bob@rcpt.example>").passed());
}

TEST(Greylist, OldestTripletIsEvictedWhenFull) {
  greylist_options o;
  o.entries_max = 2;
  timeline g(o);
  g.at(seconds{0}, "192.0.2.1", "a@s.example");
  g.at(seconds{1}, "192.0.2.1", "b@s.example");
  g.at(seconds{2}, "192.0.2.1", "c@s.example");
  EXPECT_EQ(g.list.size(), 2u);
  EXPECT_EQ(g.list.evictions(), 1u);
  EXPECT_EQ(g.at(seconds{400}, "192.0.2.1", "a@s.example").reason, greylist_reason::first_seen);
  EXPECT_TRUE(g.at(seconds{400}, "192.0.2.1", "c@s.example").passed());
}

TEST(Greylist, ConfiguredReplyIsUsed) {
  greylist_options o;
  o.reply_code = 451;
  o.reply_enhanced = "4.7.1";
  o.reply_text = "Greylisted for 5 minutes";
  timeline g(o);
  reply_spec r = g.at(seconds{0}).reply;
  EXPECT_EQ(r.code, 451);
  EXPECT_EQ(r.enhanced, "4.7.1");
  EXPECT_EQ(r.text, "<bob@rcpt.example>: Recipient address rejected: Greylisted for 5 minutes");
}

TEST(Greylist, PurgeForgetsWhatCanNoLongerMatter) {
  timeline g;
  g.at(seconds{0}, "192.0.2.1", "pending@s.example");
  g.at(seconds{0}, "192.0.2.1", "passed@s.example");
  g.at(seconds{300}, "192.0.2.1", "passed@s.example");
  EXPECT_EQ(g.list.purge(t0 + day), 0u);
  EXPECT_EQ(g.list.purge(t0 + 3 * day), 1u);  // the pending one, past its window
  EXPECT_EQ(g.list.size(), 1u);
  EXPECT_EQ(g.list.purge(t0 + 40 * day), 2u);  // the passed triplet and the client counter
  EXPECT_EQ(g.list.size(), 0u);
  EXPECT_EQ(g.list.clients(), 0u);
}

// ---- the saved text form ----

TEST(GreylistSave, RoundTripKeepsEveryStateAndTheText) {
  timeline g;
  pass_triplets(g, 5, "198.51.100.7");                    // a whitelisted client
  g.at(seconds{0}, "192.0.2.1", "", "x y@rcpt.example");  // pending, odd fields
  g.at(seconds{0}, "192.0.2.1", "done@s.example");
  g.at(seconds{300}, "192.0.2.1", "done@s.example");  // passed
  std::string saved;
  g.list.save(saved);
  timeline h;
  greylist_load_result r = h.list.load(saved);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.loaded, g.list.size() + g.list.clients());
  std::string again;
  h.list.save(again);
  EXPECT_EQ(again, saved);
  EXPECT_EQ(h.at(seconds{500}, "198.51.100.9", "z@z.example").reason, greylist_reason::whitelisted);
  EXPECT_EQ(h.at(seconds{100}, "192.0.2.1", "", "x y@rcpt.example").reason,
            greylist_reason::too_early);
  EXPECT_EQ(h.at(seconds{400}, "192.0.2.1", "done@s.example").reason, greylist_reason::known);
}

TEST(GreylistSave, TextWithoutHeaderIsRefused) {
  greylist g;
  greylist_load_result r = g.load("T 192.0.2.0/24 a@b c@d 1 2 0\n");
  EXPECT_EQ(r.loaded, 0u);
  EXPECT_NE(r.error.find("line 1"), std::string::npos);
  EXPECT_EQ(g.size(), 0u);
}

TEST(GreylistSave, BadLinesAreSkippedAndNamed) {
  greylist g;
  greylist_load_result r = g.load(
      "mailsim-greylist 1\r\n"
      "T 192.0.2.0/24 a@b.example c@d.example 1700000000000 1700000000000 0\r\n"
      "T 192.0.2.0/24 a@b.example c@d.example not-a-number 1 0\r\n"
      "X what\r\n"
      "C 192.0.2.0/24 %zz 1\r\n"
      "\r\n"
      "C 198.51.100.0/24 3 1700000000000\r\n");
  EXPECT_EQ(r.loaded, 2u);
  EXPECT_EQ(r.skipped, 3u);
  EXPECT_EQ(r.error.rfind("line 3:", 0), 0u) << r.error;
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ(g.clients(), 1u);
}

TEST(GreylistSave, LoadRespectsTheEntryLimit) {
  timeline g;
  for (int i = 0; i < 5; ++i) {
    std::string sender = "s" + std::to_string(i) + "@x.example";
    g.at(seconds{i}, "192.0.2.1", sender.c_str());
  }
  std::string saved;
  g.list.save(saved);
  greylist_options o;
  o.entries_max = 3;
  timeline h(o);
  h.list.load(saved);
  EXPECT_EQ(h.list.size(), 3u);
  // The most recent three survive.
  EXPECT_EQ(h.at(seconds{100}, "192.0.2.1", "s4@x.example").reason, greylist_reason::too_early);
  EXPECT_EQ(h.at(seconds{100}, "192.0.2.1", "s0@x.example").reason, greylist_reason::first_seen);
}

}  // namespace
}  // namespace mailsim::policy
