#include "reference-server/store/directory.hpp"

#include <gtest/gtest.h>

namespace mailsim::store {
namespace {

directory_config sample_config() {
  directory_config config;
  config.domains = {"example.com", "Example.ORG", "broken.test"};
  config.users = {
      {"alice@example.com", {}},
      {"bob@example.com", {}},
      {"Carol@Example.com", {"Carol@Example.com", "", 0}},
      {"postmaster@example.com", {}},
      {"weird%x@example.com", {}},
      {"jos\xC3\xA9@example.com", {}},  // UTF-8 é: not case-folded
      {"dave@example.org", {}},
  };
  config.aliases = {
      {"sales@example.com", {"alice@example.com", "bob@example.com"}},
      {"team@example.com", {"sales@example.com", "Alice@example.com", "ext@remote.net"}},
      {"fwd@example.com", {"Someone@Remote.NET", "someone@remote.net"}},
      {"bob@example.com", {"bob@example.com", "bob@elsewhere.net"}},  // keep a copy, forward one
      {"loop1@example.com", {"loop2@example.com"}},
      {"loop2@example.com", {"loop1@example.com"}},
      {"loopy@example.com", {"loopy2@example.com", "alice@example.com"}},
      {"loopy2@example.com", {"loopy@example.com"}},
      {"diamond@example.com", {"sales@example.com", "team@example.com"}},
      {"broken@example.com", {"nobody@example.com"}},
      {"notaddress@example.com", {"justaname"}},
  };
  // A chain d0 → d1 → … → d11 → alice: twelve alias levels, more than the default ten.
  for (int i = 0; i < 11; ++i) {
    config.aliases["d" + std::to_string(i) + "@example.com"] = {"d" + std::to_string(i + 1) +
                                                                "@example.com"};
  }
  config.aliases["d11@example.com"] = {"alice@example.com"};
  config.catch_all = {{"example.org", "dave@example.org"}, {"broken.test", "x@broken.test"}};
  return config;
}

struct resolve_case {
  std::string local;
  std::string domain;
  resolve_status status;
  std::vector<std::string> users;
  std::vector<std::string> remote = {};
};

TEST(directory, resolution_table) {
  using enum resolve_status;
  const std::vector<resolve_case> cases = {
      {"alice", "example.com", local, {"alice@example.com"}},
      {"ALICE", "EXAMPLE.COM", local, {"alice@example.com"}},
      {"carol", "example.com", local, {"Carol@Example.com"}},  // the canonical name comes back
      {"PostMaster", "example.com", local, {"postmaster@example.com"}},
      {"nobody", "example.com", unknown_user, {}},
      {"alice", "other.com", not_local_domain, {}},
      {"alice", "example.org", local, {"dave@example.org"}},  // catch-all
      {"anyone", "EXAMPLE.org", local, {"dave@example.org"}},
      // bob is an alias too (a local copy and a forward): the lists follow it.
      {"sales",
       "example.com",
       local,
       {"alice@example.com", "bob@example.com"},
       {"bob@elsewhere.net"}},
      {"team",
       "example.com",
       local,
       {"alice@example.com", "bob@example.com"},
       {"bob@elsewhere.net", "ext@remote.net"}},
      {"diamond",
       "example.com",
       local,
       {"alice@example.com", "bob@example.com"},
       {"bob@elsewhere.net", "ext@remote.net"}},
      {"fwd", "example.com", local, {}, {"Someone@remote.net", "someone@remote.net"}},
      {"bob", "example.com", local, {"bob@example.com"}, {"bob@elsewhere.net"}},
      {"loop1", "example.com", config_error, {}},
      {"loopy", "example.com", local, {"alice@example.com"}},
      {"broken", "example.com", config_error, {}},
      {"notaddress", "example.com", config_error, {}},
      {"d0", "example.com", config_error, {}},              // deeper than alias_depth_max
      {"d2", "example.com", local, {"alice@example.com"}},  // ten levels: within the bound
      {"whoever", "broken.test", config_error, {}},         // catch-all to nobody
      // Relay tricks: never local, never the catch-all, unless configured exactly.
      {"alice%other.com", "example.com", unknown_user, {}},
      {"other.com!alice", "example.com", unknown_user, {}},
      {"alice@other.com", "example.com", unknown_user, {}},
      {"alice%other.com", "example.org", unknown_user, {}},
      {"x!y", "example.org", unknown_user, {}},
      {"weird%x", "example.com", local, {"weird%x@example.com"}},
      {"WEIRD%X", "example.com", local, {"weird%x@example.com"}},
      // Only ASCII folds: "JOSé" matches, "JOSÉ" (a different UTF-8 sequence) does not.
      {"JOS\xC3\xA9", "example.com", local, {"jos\xC3\xA9@example.com"}},
      {"JOS\xC3\x89", "example.com", unknown_user, {}},
      {"alice+tag", "example.com", unknown_user, {}},  // no subaddressing
  };
  const directory dir(sample_config());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.local + "@" + c.domain);
    const resolution r = dir.resolve(c.local, c.domain);
    EXPECT_EQ(r.status, c.status) << r.detail;
    EXPECT_EQ(r.users, c.users);
    EXPECT_EQ(r.remote, c.remote);
    if (c.status == config_error) {
      EXPECT_FALSE(r.detail.empty());
    }
  }
}

TEST(directory, depth_bound_is_configurable) {
  directory_config config = sample_config();
  config.alias_depth_max = 12;
  EXPECT_EQ(directory(config).resolve("d0", "example.com").status, resolve_status::local);
  config.alias_depth_max = 1;
  const directory shallow(config);
  EXPECT_EQ(shallow.resolve("fwd", "example.com").status, resolve_status::local);
  EXPECT_EQ(shallow.resolve("bob", "example.com").status, resolve_status::local);
  EXPECT_EQ(shallow.resolve("sales", "example.com").status, resolve_status::config_error);
}

TEST(directory, find_user_and_local_domains) {
  const directory dir(sample_config());
  ASSERT_NE(dir.find_user("CAROL@example.COM"), nullptr);
  EXPECT_EQ(dir.find_user("CAROL@example.COM")->name, "Carol@Example.com");
  ASSERT_NE(dir.find_user("alice@example.com"), nullptr);
  EXPECT_EQ(dir.find_user("alice@example.com")->name, "alice@example.com");  // key as name
  EXPECT_EQ(dir.find_user("sales@example.com"), nullptr);
  EXPECT_TRUE(dir.is_local_domain("EXAMPLE.org"));
  EXPECT_FALSE(dir.is_local_domain("example.net"));
}

TEST(directory, validate_reports_configuration_problems) {
  directory_config config;
  config.domains = {"example.com", "empty.test"};
  config.users = {{"postmaster@example.com", {}},
                  {"Alice@example.com", {}},
                  {"alice@EXAMPLE.com", {}},
                  {"x@foreign.test", {}},
                  {"y@example.com", {"z@example.com", "", 0}}};
  config.aliases = {{"a@example.com", {"missing@example.com"}}};
  config.catch_all = {{"elsewhere.test", "postmaster@example.com"}};
  const std::vector<std::string> problems = validate(config);
  const auto mentions = [&](const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(mentions("listed twice"));
  EXPECT_TRUE(mentions("user x@foreign.test: domain is not a local domain"));
  EXPECT_TRUE(mentions("name z@example.com is another address"));
  EXPECT_TRUE(mentions("alias a@example.com: alias target missing@example.com"));
  EXPECT_TRUE(mentions("catch-all elsewhere.test"));
  EXPECT_TRUE(mentions("domain empty.test: no postmaster"));
  EXPECT_FALSE(mentions("domain example.com"));
  EXPECT_EQ(problems.size(), 6u) << ::testing::PrintToString(problems);
}

TEST(directory, validate_accepts_the_sample_minus_its_deliberate_faults) {
  directory_config config = sample_config();
  config.domains = {"example.com", "example.org"};
  config.catch_all.erase("broken.test");
  for (const char* bad : {"loop1", "loop2", "broken", "notaddress", "d0", "d1"}) {
    config.aliases.erase(std::string(bad) + "@example.com");
  }
  EXPECT_EQ(validate(config), std::vector<std::string>{});
}

}  // namespace
}  // namespace mailsim::store
