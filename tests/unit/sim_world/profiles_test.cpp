// Provider profiles: every profile resolves with parseable replies, overrides apply, and an
// unknown name is refused with the known ones listed.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "simulator/world/profiles.hpp"

namespace mailsim::sim::world {
namespace {

std::vector<std::string> templates_of(const resolved_provider& p) {
  const auto& r = p.replies;
  return {r.accepted,
          r.unknown,
          r.disabled,
          r.full,
          r.full_permanent,
          r.relay_denied,
          r.too_many_recipients,
          r.greylisted,
          r.too_many_connections,
          r.too_many_messages,
          r.dnsbl,
          r.content_rejected,
          r.reputation_deferred,
          r.reputation_rejected,
          r.spf_failed,
          r.spf_temporary,
          r.ptr_missing,
          r.ptr_temporary,
          r.recipient_rate,
          r.recipient_rate_rejected,
          *p.throttle.defer_reply,
          *p.throttle.reject_reply};
}

TEST(Profiles, EveryProfileResolvesWithWellFormedReplies) {
  for (const auto& name : profile_names()) {
    provider_spec spec;
    spec.profile = name;
    const resolved_provider p = resolve_profile(spec);
    EXPECT_EQ(p.profile, name);
    for (const auto& t : templates_of(p)) {
      const smtp::reply r = expand_reply(t, {"192.0.2.1", "u1@d.sim", "d.sim", "bl.sim", "ID"});
      EXPECT_GE(r.code, 200) << name << ": " << t;
      EXPECT_FALSE(r.enhanced.empty()) << name << ": " << t;
      EXPECT_EQ(r.text().find('{'), std::string::npos) << name << ": " << t;
    }
    EXPECT_EQ(expand_reply(p.replies.unknown).enhanced, "5.1.1") << name;
    EXPECT_EQ(expand_reply(p.replies.full).code, 452) << name;
    EXPECT_EQ(expand_reply(p.replies.greylisted).enhanced, "4.7.1") << name;
    EXPECT_LT(p.junk_threshold, p.reject_threshold) << name;
  }
}

TEST(Profiles, ProfilesDiffer) {
  provider_spec spec;
  spec.profile = "gmail-like";
  EXPECT_EQ(expand_reply(*resolve_profile(spec).throttle.defer_reply).enhanced, "4.7.28");
  EXPECT_TRUE(resolve_profile(spec).reputation_enabled);
  spec.profile = "yahoo-like";
  EXPECT_TRUE(resolve_profile(spec).silent_close);
  EXPECT_GT(resolve_profile(spec).messages_per_connection, 0u);
  spec.profile = "outlook-like";
  EXPECT_EQ(resolve_profile(spec).connections_per_ip, 500u);
  spec.profile = "strict-greylist";
  EXPECT_TRUE(resolve_profile(spec).greylist.enabled);
  spec.profile = "postfix-default";
  EXPECT_FALSE(resolve_profile(spec).greylist.enabled);
  EXPECT_FALSE(resolve_profile(spec).reputation_enabled);
}

TEST(Profiles, SpecOverridesWin) {
  provider_spec spec;
  spec.profile = "yahoo-like";
  spec.messages_per_connection = 7;
  spec.silent_close = false;
  spec.junk_threshold = 2.5;
  spec.complaint_rate = 0.5;
  spec.tarpit = core::duration_ms{1'000};
  throttle_spec t;
  t.per_ip.max = 3;
  spec.throttle = t;
  spec.dnsbls = {"bl.sim"};
  const resolved_provider p = resolve_profile(spec);
  EXPECT_EQ(p.messages_per_connection, 7u);
  EXPECT_FALSE(p.silent_close);
  EXPECT_DOUBLE_EQ(p.junk_threshold, 2.5);
  EXPECT_DOUBLE_EQ(p.complaint_rate, 0.5);
  EXPECT_EQ(p.tarpit.count(), 1'000);
  EXPECT_EQ(p.throttle.per_ip.max, 3u);
  ASSERT_TRUE(p.throttle.defer_reply);  // the profile's text fills what the spec left unset
  EXPECT_NE(p.throttle.defer_reply->find("TSS04"), std::string::npos);
  EXPECT_EQ(p.dnsbls, std::vector<std::string>{"bl.sim"});
}

TEST(Profiles, UnknownProfileNamesTheKnownOnes) {
  provider_spec spec;
  spec.profile = "hotmail";
  try {
    resolve_profile(spec);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("hotmail"), std::string::npos);
    for (const auto& n : profile_names()) EXPECT_NE(what.find(n), std::string::npos) << n;
  }
}

TEST(Profiles, ExpandReply) {
  smtp::reply r = expand_reply("421 4.7.28 [{ip}] slow down", {.ip = "192.0.2.1"});
  EXPECT_EQ(r.code, 421);
  EXPECT_EQ(r.enhanced, "4.7.28");
  EXPECT_EQ(r.text(), "4.7.28 [192.0.2.1] slow down");
  EXPECT_EQ(reply_key(r), "421 4.7.28");
  r = expand_reply("421 Max message per connection reached");
  EXPECT_EQ(r.code, 421);
  EXPECT_TRUE(r.enhanced.empty());
  EXPECT_EQ(expand_reply("oops").code, 451);
}

TEST(Profiles, TemplateKeyIsTheKeyOfTheExpandedReply) {
  std::vector<std::string> templates = {"421 4.7.28 [{ip}] slow down",
                                        "421 Max message per connection reached",
                                        "550 5.1.1",
                                        "452 4.2.2. not an enhanced code",
                                        "250 ",
                                        "oops",
                                        "4x1 4.7.1 odd digits",
                                        "600 6.0.0 out of range",
                                        ""};
  for (const auto& name : profile_names()) {
    provider_spec spec;
    spec.profile = name;
    for (const auto& t : templates_of(resolve_profile(spec))) templates.push_back(t);
  }
  for (const std::string& t : templates) {
    EXPECT_EQ(template_key(t), reply_key(expand_reply(t))) << t;
  }
  EXPECT_EQ(template_key("421 4.7.28 [{ip}] slow down"), "421 4.7.28");
  EXPECT_EQ(template_key("421 Max message per connection reached"), "421");
}

}  // namespace
}  // namespace mailsim::sim::world
