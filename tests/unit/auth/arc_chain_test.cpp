// ARC chain validation (RFC 8617 §5.2) through the public API: chains made by arc_seal() hop
// by hop, as forwarders make them, then verified as a receiver would; each way a chain must
// fail, with the reason the outcome carries; oldest-pass; the sans-IO contract.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "auth_fixtures.hpp"
#include "reference-server/auth/arc.hpp"

namespace mailsim::auth {
namespace {

using test::fake_resolver;
using test::key_name;

// Two forwarders: a mailing list with an RSA key and a relay with an Ed25519 key.
struct world {
  fake_resolver dns;
  world() {
    dns.add_txt(key_name("rsa", "lists.example"), {test::rsa2048_key().dns_record()});
    dns.add_txt(key_name("ed", "relay.example"), {test::ed25519_key().dns_record()});
  }
};

arc_outcome verify(const std::string& message, fake_resolver& dns,
                   arc_verify_options options = {}) {
  core::manual_clock clock(test::test_now());
  arc_verifier verifier(dns, clock, options);
  std::optional<arc_outcome> result;
  std::optional<arc_outcome> immediate = verifier.verify(message, [&](arc_outcome o) {
    EXPECT_FALSE(result.has_value()) << "done called twice";
    result = std::move(o);
  });
  if (immediate) {
    EXPECT_EQ(dns.pending(), 0u);
    return *immediate;
  }
  EXPECT_FALSE(result.has_value()) << "done ran inside verify()";
  dns.drain();
  EXPECT_TRUE(result.has_value()) << "done never called";
  return result.value_or(arc_outcome{});
}

// Seals `message` as the list (odd hops) or the relay (even hops) would, with `chain` as
// the verdict on it.
std::string seal(const std::string& message, const arc_outcome& chain, bool relay = false) {
  arc_seal_options o;
  o.domain = relay ? "relay.example" : "lists.example";
  o.selector = relay ? "ed" : "rsa";
  o.authserv_id = "mx." + o.domain;
  const private_key& key = relay ? test::ed25519_key() : test::rsa2048_key();
  arc_seal_result r =
      arc_seal(message, key, o, chain, "spf=pass smtp.mailfrom=example.com", test::test_now());
  EXPECT_TRUE(r.ok()) << r.error.message();
  return r.fields + message;
}

// One ARC-enabled hop: verify, then seal with the result.
std::string hop(const std::string& message, world& w, bool relay = false) {
  return seal(message, verify(message, w.dns), relay);
}

std::string chain_of(std::size_t hops, world& w) {
  std::string m = test::sample_message();
  for (std::size_t k = 0; k < hops; ++k) m = hop(m, w, k % 2 == 1);
  return m;
}

arc_outcome passed() {
  arc_outcome o;
  o.status = arc_status::pass;
  return o;
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The extent of the first field starting with `start` (its final CRLF included).
std::pair<std::size_t, std::size_t> field_at(const std::string& m, std::string_view start) {
  std::size_t begin = m.find(start);
  EXPECT_NE(begin, std::string::npos) << start;
  if (begin == std::string::npos) return {0, 0};
  std::size_t end = begin;
  do {
    end = m.find("\r\n", end) + 2;
  } while (end < m.size() && (m[end] == ' ' || m[end] == '\t'));
  return {begin, end};
}

std::string field(const std::string& m, std::string_view start) {
  auto [b, e] = field_at(m, start);
  return m.substr(b, e - b);
}

// Replaces text inside the first field starting with `start`.
std::string edit_field(std::string m, std::string_view start, std::string_view from,
                       std::string_view to) {
  auto [b, e] = field_at(m, start);
  return m.substr(0, b) + replace(m.substr(b, e - b), from, to) + m.substr(e);
}

// ---- none and pass ----

TEST(ArcVerify, UnsealedMessageIsNoneWithoutLookups) {
  world w;
  arc_outcome o = verify(test::sample_message(), w.dns);
  EXPECT_EQ(o.status, arc_status::none);
  EXPECT_EQ(o.instances, 0u);
  EXPECT_TRUE(o.sets.empty());
  EXPECT_TRUE(w.dns.asked().empty());
}

TEST(ArcVerify, ChainsOfOneToFourValidSetsPass) {
  world w;
  std::string m = test::sample_message();
  for (unsigned n = 1; n <= 4; ++n) {
    m = hop(m, w, n % 2 == 0);
    arc_outcome o = verify(m, w.dns);
    EXPECT_EQ(o.status, arc_status::pass) << n << ": " << o.reason;
    EXPECT_EQ(o.instances, n);
    EXPECT_EQ(o.oldest_pass, 0);
    ASSERT_EQ(o.sets.size(), n);
    for (unsigned k = 1; k <= n; ++k) {
      const arc_set_result& s = o.sets[k - 1];
      EXPECT_EQ(s.instance, k);
      EXPECT_EQ(s.cv, k == 1 ? "none" : "pass");
      EXPECT_EQ(s.seal.status, dkim_status::pass) << k;
      EXPECT_EQ(s.ams.status, dkim_status::pass) << k;
      EXPECT_EQ(s.seal.domain, k % 2 == 1 ? "lists.example" : "relay.example");
      EXPECT_EQ(s.ams.selector, k % 2 == 1 ? "rsa" : "ed");
    }
  }
}

TEST(ArcVerify, SetsAreFoundByInstanceWhereverTheFieldsStand) {
  world w;
  std::string m = chain_of(2, w);
  // Move the whole newest set below the other header fields.
  std::string newest = field(m, "ARC-Seal: i=2") + field(m, "ARC-Message-Signature: i=2") +
                       field(m, "ARC-Authentication-Results: i=2");
  m = m.substr(newest.size());
  std::size_t end_of_header = m.find("\r\n\r\n") + 2;
  m.insert(end_of_header, newest);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::pass) << o.reason;
}

// ---- the newest AMS (§5.2 step 4) ----

TEST(ArcVerify, HeaderChangedAfterSealingFailsTheNewestAms) {
  world w;
  std::string m = replace(chain_of(2, w), "Subject: Is dinner ready?", "Subject: Dinner is ready");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=2: ARC-Message-Signature: signature did not verify");
  EXPECT_FALSE(o.temporary);
  EXPECT_EQ(authres_text(o),
            "arc=fail reason=\"i=2: ARC-Message-Signature: signature did not verify\"");
}

TEST(ArcVerify, BodyChangedAfterSealingFailsTheNewestAms) {
  world w;
  std::string m = replace(chain_of(2, w), "We lost the game.", "We won the game.");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=2: ARC-Message-Signature: body hash did not verify");
}

TEST(ArcVerify, NewestAmsSigningArcSealIsRefused) {
  world w;
  std::string m = edit_field(chain_of(1, w), "ARC-Message-Signature: i=1", "h=", "h=arc-seal:");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: ARC-Message-Signature: h= lists ARC-Seal");
  EXPECT_TRUE(w.dns.asked().empty()) << "a chain known to fail asks for no key";
}

// ---- every AS (§5.2 step 8) ----

TEST(ArcVerify, ChangedArcAuthenticationResultsBreaksEverySealAbove) {
  world w;
  std::string m =
      edit_field(chain_of(3, w), "ARC-Authentication-Results: i=1", "spf=pass", "spf=fail");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=3: ARC-Seal: signature did not verify");
  for (unsigned k = 1; k <= 3; ++k) EXPECT_EQ(o.sets[k - 1].seal.status, dkim_status::fail);
}

TEST(ArcVerify, BrokenOldestSealFailsTheChainEvenUnderGoodSeals) {
  // A sealer that trusted a chain whose first seal had been damaged: its own seal covers the
  // damage and verifies, the first one does not.
  world w;
  std::string m = chain_of(1, w);
  auto [b, e] = field_at(m, "ARC-Seal: i=1");
  std::size_t at = m.find_first_not_of(" \r\n", m.find("b=", b) + 2);
  ASSERT_LT(at, e);
  m[at] = m[at] == 'A' ? 'B' : 'A';
  m = seal(m, passed(), true);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: ARC-Seal: signature did not verify");
  EXPECT_EQ(o.sets[1].seal.status, dkim_status::pass);
}

TEST(ArcVerify, SealWithHeaderListFailsWithoutLookups) {
  world w;
  std::string m = edit_field(chain_of(1, w), "ARC-Seal: i=1", "cv=none;", "cv=none; h=from;");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: ARC-Seal: h= not allowed in ARC-Seal");
  EXPECT_TRUE(w.dns.asked().empty());
}

// ---- structure (§5.2 steps 1 to 3) ----

TEST(ArcVerify, GapInInstancesFails) {
  world w;
  std::string m = chain_of(2, w);
  m = edit_field(m, "ARC-Seal: i=2", "i=2", "i=3");
  m = edit_field(m, "ARC-Message-Signature: i=2", "i=2", "i=3");
  m = edit_field(m, "ARC-Authentication-Results: i=2", "i=2", "i=3");
  std::size_t asked = w.dns.asked().size();
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=2: no ARC set (instances must run 1..N)");
  EXPECT_EQ(o.instances, 2u);
  EXPECT_EQ(w.dns.asked().size(), asked);
}

TEST(ArcVerify, RepeatedFieldFails) {
  world w;
  std::string m = chain_of(2, w);
  m = field(m, "ARC-Authentication-Results: i=1") + m;
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: two ARC-Authentication-Results fields");
}

TEST(ArcVerify, MissingFieldFails) {
  world w;
  std::string m = chain_of(2, w);
  auto [b, e] = field_at(m, "ARC-Message-Signature: i=1");
  m.erase(b, e - b);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: no ARC-Message-Signature");
}

TEST(ArcVerify, FirstSetWithCvOtherThanNoneFails) {
  world w;
  std::string m = edit_field(chain_of(1, w), "ARC-Seal: i=1", "cv=none", "cv=pass");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: cv=pass (must be none)");
}

TEST(ArcVerify, LaterSetWithCvNoneFails) {
  world w;
  std::string m = edit_field(chain_of(2, w), "ARC-Seal: i=2", "cv=pass", "cv=none");
  EXPECT_EQ(verify(m, w.dns).reason, "i=2: cv=none (must be pass)");
}

TEST(ArcVerify, ChainSealedAsFailedFailsWithoutLookups) {
  world w;
  std::string m = replace(chain_of(1, w), "We lost", "We won");
  arc_outcome broken = verify(m, w.dns);
  ASSERT_EQ(broken.status, arc_status::fail);
  m = seal(m, broken, true);
  EXPECT_NE(m.find("cv=fail"), std::string::npos);
  std::size_t asked = w.dns.asked().size();
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=2: ARC-Seal has cv=fail");
  EXPECT_EQ(w.dns.asked().size(), asked);
}

TEST(ArcVerify, CvFailBelowTheNewestSetFails) {
  world w;
  std::string m = edit_field(chain_of(3, w), "ARC-Seal: i=2", "cv=pass", "cv=fail");
  EXPECT_EQ(verify(m, w.dns).reason, "i=2: cv=fail (must be pass)");
}

TEST(ArcVerify, FiftySetsPassAndFiftyOneFail) {
  world w;
  std::string m = test::sample_message();
  m = seal(m, arc_outcome{}, true);
  for (int k = 2; k <= 50; ++k) m = seal(m, passed(), true);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::pass) << o.reason;
  EXPECT_EQ(o.instances, 50u);
  // A 51st set, copied from the 50th with its number changed.
  std::string extra = field(m, "ARC-Seal: i=50") + field(m, "ARC-Message-Signature: i=50") +
                      field(m, "ARC-Authentication-Results: i=50");
  for (std::string_view name :
       {"ARC-Seal: i=50", "ARC-Message-Signature: i=50", "ARC-Authentication-Results: i=50"}) {
    std::string renamed = replace(std::string(name), "i=50", "i=51");
    extra = replace(extra, name, renamed);
  }
  std::size_t asked = w.dns.asked().size();
  o = verify(extra + m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "more than 50 ARC sets");
  EXPECT_EQ(w.dns.asked().size(), asked);
}

TEST(ArcVerify, OversizedFieldFails) {
  world w;
  std::string m = edit_field(chain_of(1, w), "ARC-Authentication-Results: i=1", "spf=pass",
                             "spf=pass (" + std::string(20000, 'x') + ")");
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "ARC-Authentication-Results field over the size limit");
}

// ---- oldest-pass (§5.2 steps 5 to 7) ----

// A list that verified the chain, then tagged the Subject and sealed: the first AMS no longer
// verifies, the list's does, and every seal holds.
std::string list_modified_chain(world& w) {
  std::string m = chain_of(1, w);
  arc_outcome o = verify(m, w.dns);
  m = replace(m, "Subject: Is dinner", "Subject: [family] Is dinner");
  m = seal(m, o, true);
  return hop(m, w);
}

TEST(ArcOldestPass, ReportsTheLowestInstanceFromWhichEveryAmsVerifies) {
  world w;
  arc_outcome o = verify(list_modified_chain(w), w.dns);
  EXPECT_EQ(o.status, arc_status::pass) << o.reason;
  EXPECT_EQ(o.oldest_pass, 2);
  EXPECT_EQ(o.sets[0].ams.status, dkim_status::fail);
  EXPECT_EQ(authres_text(o, "192.0.2.1"), "arc=pass header.oldest-pass=2 smtp.remote-ip=192.0.2.1");
}

TEST(ArcOldestPass, CanBeLeftOutAndThenOlderAmsesAreNotChecked) {
  world w;
  arc_verify_options options;
  options.oldest_pass = false;
  arc_outcome o = verify(list_modified_chain(w), w.dns, options);
  EXPECT_EQ(o.status, arc_status::pass);
  EXPECT_EQ(o.oldest_pass, 0);
  EXPECT_EQ(o.sets[0].ams.status, dkim_status::none);
  EXPECT_EQ(o.sets[2].ams.status, dkim_status::pass);
}

// ---- keys and the sans-IO contract ----

TEST(ArcVerify, MissingKeyFailsPermanently) {
  world w;
  std::string m = chain_of(1, w);
  w.dns.set_status(key_name("rsa", "lists.example"), core::dns_status::nxdomain);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_EQ(o.reason, "i=1: ARC-Message-Signature: no key");
  EXPECT_FALSE(o.temporary);
}

TEST(ArcVerify, ServfailIsATemporaryFailure) {
  world w;
  std::string m = chain_of(1, w);
  w.dns.set_status(key_name("rsa", "lists.example"), core::dns_status::servfail);
  arc_outcome o = verify(m, w.dns);
  EXPECT_EQ(o.status, arc_status::fail);
  EXPECT_TRUE(o.temporary);
  EXPECT_EQ(o.reason, "i=1: ARC-Message-Signature: key lookup failed");
}

TEST(ArcVerify, PermanentFailureOutranksATemporaryOne) {
  world w;
  std::string m = chain_of(2, w);
  w.dns.set_status(key_name("ed", "relay.example"), core::dns_status::timeout);
  m = edit_field(m, "ARC-Authentication-Results: i=1", "spf=pass", "spf=fail");
  arc_outcome o = verify(m, w.dns);
  EXPECT_FALSE(o.temporary);
  EXPECT_EQ(o.reason, "i=1: ARC-Seal: signature did not verify");
}

TEST(ArcVerify, SecondKeyRecordIsTried) {
  world w;
  std::string m = chain_of(1, w);
  w.dns.add_txt(key_name("rsa", "lists.example"),
                {"v=DKIM1; p=bm90IGEga2V5", test::rsa2048_key().dns_record()});
  EXPECT_EQ(verify(m, w.dns).status, arc_status::pass);
}

TEST(ArcVerification, ListsEachKeyOnceAndSettlesOnAnswers) {
  world w;
  std::string m = chain_of(3, w);
  arc_verification v(m, test::test_now());
  std::vector<std::string> queries = v.key_queries();
  std::sort(queries.begin(), queries.end());
  EXPECT_EQ(queries, (std::vector<std::string>{"ed._domainkey.relay.example",
                                               "rsa._domainkey.lists.example"}));
  EXPECT_FALSE(v.complete());
  arc_outcome early = v.outcome();
  EXPECT_EQ(early.status, arc_status::fail);
  EXPECT_TRUE(early.temporary);
  EXPECT_EQ(early.reason, "i=3: ARC-Message-Signature: no key answer");

  core::dns_answer rsa{core::dns_status::ok, {test::rsa2048_key().dns_record()}, {}, 300};
  core::dns_answer ed{core::dns_status::ok, {test::ed25519_key().dns_record()}, {}, 300};
  v.on_key_answer("unasked._domainkey.example", rsa);
  EXPECT_EQ(v.key_queries().size(), 2u);
  v.on_key_answer("RSA._domainkey.Lists.Example.", rsa);
  EXPECT_EQ(v.key_queries(), std::vector<std::string>{"ed._domainkey.relay.example"});
  v.on_key_answer("ed._domainkey.relay.example", ed);
  EXPECT_TRUE(v.complete());
  EXPECT_EQ(v.outcome().status, arc_status::pass);
}

TEST(ArcVerification, StructureFailureIsCompleteAtOnce) {
  world w;
  std::string m = edit_field(chain_of(1, w), "ARC-Seal: i=1", "cv=none", "cv=pass");
  arc_verification v(m, test::test_now());
  EXPECT_TRUE(v.complete());
  arc_outcome o = v.outcome();
  EXPECT_EQ(o.status, arc_status::fail);
  ASSERT_EQ(o.sets.size(), 1u);
  EXPECT_EQ(o.sets[0].seal.domain, "lists.example");
  EXPECT_EQ(o.sets[0].cv, "pass");
}

TEST(ArcVerification, AmsDatedInTheFutureFails) {
  world w;
  std::string m = chain_of(1, w);
  arc_verification v(m, test::test_now() - std::chrono::hours(1));
  EXPECT_TRUE(v.complete());
  EXPECT_EQ(v.outcome().reason, "i=1: ARC-Message-Signature: signature in the future");
}

// ---- parse_arc_chain on its own ----

message_parts parts_of(const std::string& header) {
  return split_message(header);
}

TEST(ArcChainParse, ReadsInstancesOfEveryKind) {
  std::string h =
      "ARC-Authentication-Results:  i = 2 ; mx.example; none\r\n"
      "ARC-Message-Signature: a=rsa-sha256;\r\n i=2; d=x\r\n"
      "ARC-Seal: i=2; cv=pass\r\n"
      "arc-seal: i=1; cv=none\r\n"
      "Arc-Message-Signature: i=1\r\n"
      "ARC-Authentication-Results: i=1; mx.example; none\r\n";
  std::string copy = h;
  message_parts parts = parts_of(copy);
  arc_chain c = parse_arc_chain(parts);
  EXPECT_TRUE(c.well_formed()) << c.error;
  EXPECT_EQ(c.fields, 6u);
  EXPECT_EQ(c.highest_instance, 2u);
  EXPECT_EQ(c.newest_cv, "pass");
  ASSERT_EQ(c.sets.size(), 2u);
  EXPECT_EQ(c.sets[0].seal->raw, "arc-seal: i=1; cv=none\r\n");
}

TEST(ArcChainParse, UnreadableInstanceIsAnError) {
  for (std::string h :
       {"ARC-Seal: cv=none\r\n", "ARC-Seal: i=0; cv=none\r\n", "ARC-Seal: i=x; cv=none\r\n",
        "ARC-Authentication-Results: mx; i=1\r\n", "ARC-Message-Signature: i=1; i=1\r\n"}) {
    message_parts parts = parts_of(h);
    arc_chain c = parse_arc_chain(parts);
    EXPECT_FALSE(c.error.empty()) << h;
    EXPECT_EQ(c.fields, 1u);
  }
}

TEST(ArcChainParse, InstanceAboveFiftyIsTooMany) {
  std::string h = "ARC-Seal: i=51; cv=pass\r\n";
  message_parts parts = parts_of(h);
  EXPECT_EQ(parse_arc_chain(parts).error, "more than 50 ARC sets");
}

TEST(ArcChainParse, NoArcFieldIsNoChainAndNoError) {
  std::string m = test::sample_message();
  message_parts parts = parts_of(m);
  arc_chain c = parse_arc_chain(parts);
  EXPECT_EQ(c.fields, 0u);
  EXPECT_TRUE(c.error.empty());
  EXPECT_FALSE(c.well_formed());
}

}  // namespace
}  // namespace mailsim::auth
