#include "reference-server/store/quota.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "reference-server/store/maildir.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

TEST(quota, decision_table) {
  struct quota_case {
    std::uint64_t usage, quota, message;
    quota_state expected;
  };
  const std::vector<quota_case> cases = {
      {0, 0, 1'000'000, quota_state::ok},  // 0 = unlimited
      {500, 0, 1'000'000, quota_state::ok},
      {0, 100, 100, quota_state::ok},  // exactly fills it
      {0, 100, 101, quota_state::would_overflow},
      {60, 100, 40, quota_state::ok},
      {60, 100, 41, quota_state::would_overflow},
      {99, 100, 0, quota_state::ok},
      {100, 100, 0, quota_state::full},
      {150, 100, 1, quota_state::full},  // already over (quota lowered, or approximate usage)
  };
  for (const auto& c : cases) {
    EXPECT_EQ(decide_quota(c.usage, c.quota, c.message), c.expected)
        << c.usage << "/" << c.quota << " + " << c.message;
  }
}

TEST(quota, usage_cache_scans_once_and_adds) {
  usage_cache cache;
  int scans = 0;
  const auto scan = [&] {
    ++scans;
    return std::uint64_t{10};
  };
  cache.add("a@x", 5);  // unknown yet: ignored, the scan will see the file
  EXPECT_EQ(cache.get("a@x", scan), 10u);
  cache.add("a@x", 5);
  EXPECT_EQ(cache.get("a@x", scan), 15u);
  EXPECT_EQ(scans, 1);
  cache.forget("a@x");
  EXPECT_EQ(cache.get("a@x", scan), 10u);
  EXPECT_EQ(scans, 2);
}

TEST(quota, maildir_usage_scans_new_cur_and_subfolders) {
  test::temp_dir dir;
  core::manual_clock clock;
  maildir_store store({dir.path() + "/store", "mx.test", 1, barrier_mode::none}, clock);
  ASSERT_FALSE(store.open());
  const std::string md = dir.path() + "/store/example.com/alice/Maildir";
  for (const char* sub : {"/new", "/cur", "/tmp", "/.Sent/cur"}) {
    std::filesystem::create_directories(md + sub);
  }
  test::write_file(md + "/cur/1.M1P1Q1.h,S=100:2,S", "short: S= wins");  // 100
  test::write_file(md + "/cur/legacy-name", std::string(50, 'x'));       // 50, by stat
  test::write_file(md + "/new/2.M1P1Q2.h,S=30", "");                     // 30
  test::write_file(md + "/.Sent/cur/3.M1P1Q3.h,S=20:2,", "");            // 20
  test::write_file(md + "/tmp/4.M1P1Q4.h,S=1000", "");                   // tmp: not counted
  test::write_file(md + "/cur/.hidden", std::string(70, 'x'));           // dot files: not counted
  EXPECT_EQ(store.usage_bytes("alice@example.com"), 200u);
  EXPECT_EQ(store.usage_bytes("nobody@example.com"), 0u);  // no Maildir yet

  const user_account alice{"alice@example.com", "", 300};
  EXPECT_EQ(store.quota_check(alice, 100), quota_state::ok);
  EXPECT_EQ(store.quota_check(alice, 101), quota_state::would_overflow);

  // A delivery counts at once, without a rescan.
  const std::string message(60, 'm');
  const std::vector<delivery_request> batch = {{message, "T: 1\r\n", {"alice@example.com"}}};
  ASSERT_TRUE(store.commit_batch(batch)[0].ok());
  EXPECT_EQ(store.usage_bytes("alice@example.com"), 266u);
  EXPECT_EQ(store.quota_check(alice, 34), quota_state::ok);
  EXPECT_EQ(store.quota_check(alice, 35), quota_state::would_overflow);
  ASSERT_TRUE(store.commit_batch(batch)[0].ok());
  EXPECT_EQ(store.quota_check(alice, 0), quota_state::full);
  EXPECT_EQ(store.quota_check(alice, 1), quota_state::full);

  // Removed by a reader: seen after forget_usage().
  std::filesystem::remove(md + "/cur/legacy-name");
  EXPECT_EQ(store.usage_bytes("alice@example.com"), 332u);
  store.forget_usage("alice@example.com");
  EXPECT_EQ(store.usage_bytes("alice@example.com"), 282u);
  EXPECT_EQ(store.quota_check(alice, 18), quota_state::ok);

  const user_account unlimited{"alice@example.com", "", 0};
  EXPECT_EQ(store.quota_check(unlimited, 1'000'000'000), quota_state::ok);
}

}  // namespace
}  // namespace mailsim::store
