#include "reference-server/store/maildir_layout.hpp"

#include <gtest/gtest.h>

namespace mailsim::store {
namespace {

TEST(maildir_layout, escape_table) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"alice", "alice"},
      {"Alice.Smith-1_2+3=4~", "Alice.Smith-1_2+3=4~"},
      {"", "%"},
      {".", "%2E"},
      {"..", "%2E."},
      {".hidden", "%2Ehidden"},
      {"a/b", "a%2Fb"},
      {"100%", "100%25"},
      {"a b", "a%20b"},
      {std::string("nul\0byte", 8), "nul%00byte"},
      {"caf\xC3\xA9", "caf%C3%A9"},
      {"x:y,z", "x%3Ay%2Cz"},
      {"[192.0.2.1]", "%5B192.0.2.1%5D"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(escape_path_component(input), expected) << input;
  }
}

TEST(maildir_layout, relative_paths) {
  EXPECT_EQ(maildir_relative_path("alice@Example.COM"), "example.com/alice/Maildir");
  EXPECT_EQ(maildir_relative_path("Bob@example.com"), "example.com/Bob/Maildir");
  EXPECT_EQ(maildir_relative_path("a@b@example.com"), "example.com/a%40b/Maildir");
  EXPECT_EQ(maildir_relative_path("x@[192.0.2.1]"), "%5B192.0.2.1%5D/x/Maildir");
  EXPECT_EQ(maildir_relative_path("no-at-sign"), std::nullopt);
}

TEST(maildir_layout, file_names) {
  EXPECT_EQ(maildir_file_name({core::from_epoch_ms(1'700'000'000'456), 4242, 17, "mx.test", 1234}),
            "1700000000.M456000P4242Q17.mx.test,S=1234");
  EXPECT_EQ(maildir_file_name({core::from_epoch_ms(-1), 1, 0, "h", 0}), "-1.M999000P1Q0.h,S=0");
  EXPECT_EQ(escape_host("a/b:c,d.e"), "a\\057b\\072c\\054d.e");
}

TEST(maildir_layout, sizes_from_names) {
  const std::vector<std::pair<std::string, std::optional<std::uint64_t>>> cases = {
      {"1700000000.M0P1Q1.h,S=1234", 1234},           {"1700000000.M0P1Q1.h,S=1234:2,FS", 1234},
      {"1700000000.M0P1Q1.h,S=1234,W=1300:2,", 1234}, {"1700000000.M0P1Q1.h", std::nullopt},
      {"1700000000.M0P1Q1.h,S=", std::nullopt},       {"1700000000.M0P1Q1.h,S=12x", std::nullopt},
      {"1700000000.M0P1Q1.h:2,S=5", std::nullopt},  // in the info part: a flag list, not a size
  };
  for (const auto& [name, expected] : cases) {
    EXPECT_EQ(size_from_file_name(name), expected) << name;
  }
}

TEST(maildir_layout, checksum_fields) {
  const std::string name = "1700000000.M0P1Q1.h,S=1234";
  const std::string tmp_name = with_checksum(name, 0x0123456789abcdefULL);
  EXPECT_EQ(tmp_name, name + ",C=0123456789abcdef");
  EXPECT_EQ(size_from_file_name(tmp_name), 1234u);  // the S= field still reads
  const auto parts = split_checksum(tmp_name);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->name, name);
  EXPECT_EQ(parts->checksum, 0x0123456789abcdefULL);
  EXPECT_EQ(split_checksum(with_checksum("x", 0))->checksum, 0u);
  for (const std::string& bad : std::vector<std::string>{
           name, ",C=0123456789abcdef", name + ",C=0123456789ABCDEF", name + ",C=0123456789abcde",
           name + ",C=0123456789abcdef0", name + ",X=0123456789abcdef",
           name + ",C=0123456789abcdeg", name + ",C=0123456789abcdef:2,S"}) {
    EXPECT_FALSE(split_checksum(bad)) << bad;
  }
}

}  // namespace
}  // namespace mailsim::store
