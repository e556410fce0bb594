// The mailbox index text format (mailbox_index.hpp): writing and reading back, what the
// reader refuses, and the Maildir file-name helpers (flags, base names, natural order).
#include "reference-server/store/mailbox_index.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference-server/store/mailbox.hpp"

namespace mailsim::store {
namespace {

TEST(mailbox_index, round_trips_and_escapes) {
  index::index_data data;
  data.head = {7, 5, 9, 3, 0};
  data.records.push_back({1, 2, -5, "name with space%", flag_seen | flag_draft, {"$a", "b\x01"}});
  data.records.push_back({4, 9, 1'700'000'000'000, "1700.M0P1Q1.mx,S=3", 0, {}});
  const std::string text = index::format_index(data);
  EXPECT_EQ(text,
            "mailsim-index 1 7 5 9 3 2\n"
            "1 2 -5 name%20with%20space%25 DS $a b%01\n"
            "4 9 1700000000000 1700.M0P1Q1.mx,S=3 -\n");
  const auto parsed = index::parse_index(text);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->records.size(), 2U);
  EXPECT_EQ(parsed->records[0].base_name, "name with space%");
  EXPECT_EQ(parsed->records[0].keywords, (std::vector<std::string>{"$a", "b\x01"}));
  EXPECT_EQ(parsed->records[0].internal_date_ms, -5);
  EXPECT_EQ(parsed->records[1].flags, 0);
  EXPECT_EQ(parsed->head.generation, 3U);
}

TEST(mailbox_index, rejects_what_it_would_not_write) {
  const std::string head = "mailsim-index 1 7 5 9 3 1\n";
  EXPECT_FALSE(index::parse_index("mailsim-index 2 7 5 9 3 0\n"));  // unknown version
  EXPECT_FALSE(index::parse_index("mailsim-index 1 0 5 9 3 0\n"));  // UIDVALIDITY 0
  EXPECT_FALSE(index::parse_index("mailsim-index 1 7 5 9 3 0"));    // no newline
  EXPECT_FALSE(index::parse_index(head + "5 1 0 n -\n"));           // UID not below UIDNEXT
  EXPECT_FALSE(index::parse_index(head + "1 10 0 n -\n"));          // MODSEQ above highest
  EXPECT_FALSE(index::parse_index(head + "1 1 0 n SD\n"));          // letters out of order
  EXPECT_FALSE(index::parse_index(head + "1 1 0 n:2,S -\n"));       // info in the base name
  EXPECT_FALSE(index::parse_index(head + "1 1 0 n - b a\n"));       // keywords not sorted
  EXPECT_FALSE(index::parse_index(head + "01 1 0 n -\n"));          // leading zero
  EXPECT_FALSE(index::parse_index(head + "1 1 0 n%2 -\n"));         // torn escape
  EXPECT_FALSE(index::parse_index(head + "1 1 0 n%41 -\n"));        // needless escape
  EXPECT_FALSE(index::parse_index(head));                           // count mismatch
  EXPECT_FALSE(index::parse_index("mailsim-index 1 7 5 9 3 2\n1 1 0 n -\n2 1 0 n -\n"));
  EXPECT_TRUE(index::parse_index(head + "1 1 0 n -\n"));
  const std::string long_line = "1 1 0 " + std::string(index::index_line_max_bytes, 'x') + " -\n";
  EXPECT_FALSE(index::parse_index(head + long_line));
}

TEST(mailbox_index, names_flags_and_order) {
  EXPECT_EQ(index::base_of("123.M1P2:2,FS"), "123.M1P2");
  EXPECT_EQ(index::flags_of("x:2,DFRST"),
            flag_draft | flag_flagged | flag_answered | flag_seen | flag_deleted);
  EXPECT_EQ(index::flags_of("x:1,S"), 0);  // experimental info: no flags
  EXPECT_EQ(index::other_letters_of("x:2,Sab"), "ab");
  EXPECT_EQ(index::file_name_for("x", flag_seen | flag_draft, "a"), "x:2,DSa");
  EXPECT_EQ(index::time_of_name_ms("1700000000.M5P1"), 1'700'000'000'000);
  EXPECT_FALSE(index::time_of_name_ms("foreign"));
  EXPECT_TRUE(index::natural_less("9.M1", "10.M1"));
  EXPECT_TRUE(index::natural_less("1.M0P1Q9.h", "1.M0P1Q10.h"));
  EXPECT_FALSE(index::natural_less("1.M0P1Q10.h", "1.M0P1Q9.h"));
  EXPECT_TRUE(index::natural_less("a", "b"));
  EXPECT_FALSE(index::natural_less("a", "a"));
}

}  // namespace
}  // namespace mailsim::store
