// The inbound: section of the mailsim-server config (config::inbound_config).
#include <gtest/gtest.h>

#include <string>

#include "reference-server/config/config.hpp"

namespace mailsim::config {
namespace {

// Lines 1-4; the inbound section starts on line 5.
const std::string head = "server:\n  maildir_root: /m\nlisteners:\n  - role: smtp\n";

using policy::check_action;

TEST(inbound_config, off_without_the_section) {
  const auto result = load_string(head, "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_FALSE(result.config().inbound.enabled);
}

TEST(inbound_config, the_bare_section_turns_every_check_on_with_defaults) {
  const auto result = load_string(head + "inbound:\n", "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const inbound_config& in = result.config().inbound;
  EXPECT_TRUE(in.enabled);
  EXPECT_EQ(in.public_suffix_list, "/usr/share/publicsuffix/public_suffix_list.dat");
  const policy::inbound_settings& s = in.settings;
  EXPECT_TRUE(s.spf.enabled);
  EXPECT_EQ(s.spf.on_fail, check_action::reject);
  EXPECT_EQ(s.spf.on_softfail, check_action::accept);
  EXPECT_EQ(s.spf.options.dns_mechanisms_max, 10u);
  EXPECT_TRUE(s.dkim && s.arc && s.dmarc.enabled && s.dmarc.enforce);
  EXPECT_EQ(s.dmarc.on_temperror, check_action::defer);
  EXPECT_FALSE(s.greylisting);
  EXPECT_TRUE(s.dnsbl.empty());
  EXPECT_TRUE(s.rate.rules.empty());
  EXPECT_DOUBLE_EQ(s.spam.required_score, 5.0);
  EXPECT_EQ(s.junk_folder, "Junk");
}

TEST(inbound_config, every_key_is_read) {
  const auto result = load_string(head + R"(inbound:
  authserv_id: MX.Example.TEST
  public_suffix_list: /data/psl.dat
  spf: {enabled: true, helo: false, fail: junk, softfail: junk, permerror: reject, temperror: defer,
        dns_mechanisms_max: 5, void_lookups_max: 1}
  dkim: {enabled: true, signatures_max: 3, accept_body_length: false}
  arc: {enabled: false}
  dmarc: {enabled: true, enforce: false, temperror: accept, report_rows_max: 50}
  dnsbl:
    - {profile: spamhaus-zen}
    - {zone: bl.example.test, codes: [127.0.0.2, "127.0.0.4-127.0.0.7"], action: score, score: 2.5, txt: true}
    - {zone: wl.example.test, allow: true, score: -3}
  greylist: {delay: 2m, retry_window: 1d, max_age: 30d, auto_whitelist_after: 3, key: ip,
             entries_max: 1000, reply_code: 451, reply_status: 4.7.1, reply_text: Greylisted}
  rate:
    - {event: connections, per: ip, window: 1m, max: 30}
    - {name: rcpts_per_subnet, event: recipients, per: subnet, window: 1h, max: 500}
  spam:
    required_score: 6.5
    reject_score: 15
    scores: {MISSING_DATE: 0, DKIM_NONE: 0.5}
    rules:
      - {name: SUBJ_LOTTERY, header: Subject, contains: lottery, score: 3}
      - {name: BODY_PRIZE, body: true, regex: "claim (your|the) prize", score: 2}
  junk_folder: Spam
)",
                                  "x.yaml");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const inbound_config& in = result.config().inbound;
  const policy::inbound_settings& s = in.settings;
  EXPECT_EQ(s.authserv_id, "mx.example.test");
  EXPECT_EQ(in.public_suffix_list, "/data/psl.dat");
  EXPECT_FALSE(s.spf.check_helo);
  EXPECT_EQ(s.spf.on_fail, check_action::junk);
  EXPECT_EQ(s.spf.on_permerror, check_action::reject);
  EXPECT_EQ(s.spf.on_temperror, check_action::defer);
  EXPECT_EQ(s.spf.options.dns_mechanisms_max, 5u);
  EXPECT_EQ(s.spf.options.void_lookups_max, 1u);
  EXPECT_EQ(s.dkim_options.signatures_max, 3u);
  EXPECT_FALSE(s.dkim_options.accept_body_length);
  EXPECT_FALSE(s.arc);
  EXPECT_FALSE(s.dmarc.enforce);
  EXPECT_EQ(s.dmarc.on_temperror, check_action::accept);
  EXPECT_EQ(s.dmarc.report_rows_max, 50u);
  ASSERT_EQ(s.dnsbl.size(), 3u);
  EXPECT_EQ(s.dnsbl[0].list.zone, "zen.spamhaus.org");
  EXPECT_EQ(s.dnsbl[0].on_listed, check_action::reject);
  EXPECT_EQ(s.dnsbl[1].list.codes.size(), 2u);
  EXPECT_EQ(s.dnsbl[1].on_listed, check_action::accept);
  EXPECT_DOUBLE_EQ(s.dnsbl[1].list.score, 2.5);
  EXPECT_TRUE(s.dnsbl[1].list.query_txt);
  EXPECT_TRUE(s.dnsbl[2].list.allow_list);
  EXPECT_TRUE(s.greylisting);
  EXPECT_EQ(s.greylist.delay, std::chrono::seconds(120));
  EXPECT_EQ(s.greylist.retry_window, std::chrono::seconds(86'400));
  EXPECT_EQ(s.greylist.key, policy::greylist_key_mode::exact);
  EXPECT_EQ(s.greylist.reply_code, 451);
  ASSERT_EQ(s.rate.rules.size(), 2u);
  EXPECT_EQ(s.rate.rules[0].max, 30u);
  EXPECT_EQ(s.rate.rules[1].name, "rcpts_per_subnet");
  EXPECT_EQ(s.rate.rules[1].scope, policy::rate_scope::subnet);
  EXPECT_DOUBLE_EQ(s.spam.required_score, 6.5);
  ASSERT_TRUE(s.spam.reject_score.has_value());
  EXPECT_DOUBLE_EQ(*s.spam.reject_score, 15);
  EXPECT_DOUBLE_EQ(s.spam.scores.at("DKIM_NONE"), 0.5);
  ASSERT_EQ(s.spam.rules.size(), 2u);
  EXPECT_TRUE(s.spam.rules[1].regex);
  EXPECT_EQ(s.junk_folder, "Spam");
}

struct bad_case {
  std::string yaml;  // after "inbound:\n"
  int line;
  std::string message_part;
};

TEST(inbound_config, errors_name_the_line_and_what_was_expected) {
  const bad_case cases[] = {
      {"  spf: {fail: bounce}\n", 6, "one of accept, junk, reject"},
      {"  spf: {temperror: reject}\n", 6, "one of accept, defer"},
      {"  dnsbl:\n    - {profile: nosuchlist}\n", 7, "spamhaus-zen"},
      {"  dnsbl:\n    - {score: 2}\n", 7, "'zone' or 'profile'"},
      {"  dnsbl:\n    - {zone: bl.test, codes: [10.0.0.1x]}\n", 7, "return code"},
      {"  greylist: {delay: 10m, retry_window: 5m}\n", 6, "longer than 'delay'"},
      {"  greylist: {reply_code: 550}\n", 6, "4xx reply code"},
      {"  rate:\n    - {event: messages, per: planet, window: 1m, max: 3}\n", 7, "one of ip, subnet"},
      {"  rate:\n    - {event: messages, per: ip, window: 1m, max: 0}\n", 7, "at least 1"},
      {"  spam: {required_score: lots}\n", 6, "a number"},
      {"  spam:\n    rules:\n      - {name: X, header: Subject, contains: a, regex: b}\n", 8,
       "exactly one of"},
      {"  spam:\n    rules:\n      - {name: BAD_RE, body: true, regex: \"(unclosed\"}\n", 6,
       "BAD_RE"},
      {"  junk_folder: ../x\n", 6, "folder name"},
      {"  colour: blue\n", 6, "unknown key 'colour'"},
  };
  for (const bad_case& c : cases) {
    const auto result = load_string(head + "inbound:\n" + c.yaml, "x.yaml");
    ASSERT_FALSE(result.ok()) << c.yaml;
    EXPECT_EQ(result.error().line, c.line) << c.yaml << result.error().to_string();
    EXPECT_NE(result.error().message.find(c.message_part), std::string::npos)
        << c.yaml << result.error().to_string();
  }
}

}  // namespace
}  // namespace mailsim::config
