#include "reference-server/store/folders.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "reference-server/store/error.hpp"
#include "reference-server/store/mailbox.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

using test::names_in;

TEST(folder_names, map_imap_names_to_maildir_plus_plus) {
  EXPECT_EQ(folder_directory_name("INBOX"), "");
  EXPECT_EQ(folder_directory_name("inbox"), "");
  EXPECT_EQ(folder_directory_name("Junk"), ".Junk");
  EXPECT_EQ(folder_directory_name("Work/2024"), ".Work.2024");
  EXPECT_EQ(folder_directory_name("v1.2"), ".v1%2E2");
  EXPECT_EQ(folder_directory_name("100%"), ".100%25");
  EXPECT_EQ(folder_directory_name("Sent Items"), ".Sent Items");
  EXPECT_EQ(folder_imap_name(".Work.2024"), "Work/2024");
  EXPECT_EQ(folder_imap_name(".v1%2E2"), "v1.2");
  EXPECT_EQ(folder_imap_name(".100%25"), "100%");
}

TEST(folder_names, refuse_names_that_could_escape_or_confuse) {
  for (const std::string_view bad :
       {"", "/Junk", "Junk/", "a//b", "..", ".", "a/../b", "a/./b", "tab\there", "del\x7f"}) {
    EXPECT_FALSE(folder_directory_name(bad)) << bad;
  }
  EXPECT_FALSE(folder_directory_name(std::string_view("nul\0x", 5)));
  EXPECT_TRUE(folder_directory_name(std::string(254, 'a')));
  EXPECT_FALSE(folder_directory_name(std::string(255, 'a')));  // ".aaa…" is 256 octets
  EXPECT_FALSE(folder_directory_name(std::string(256, 'a')));
  EXPECT_FALSE(folder_directory_name(std::string(100, '.')));  // 300 octets once escaped
  // Directory names this layout never writes are not folders.
  for (const std::string_view odd : {".", "..", "new", ".a..b", ".a%41", ".a%", ".x.", ".a/b"}) {
    EXPECT_FALSE(folder_imap_name(odd)) << odd;
  }
}

class folders_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(maildir_ + "/cur");
    std::filesystem::create_directories(maildir_ + "/new");
    std::filesystem::create_directories(maildir_ + "/tmp");
  }

  test::temp_dir dir_;
  std::string maildir_ = dir_.path() + "/Maildir";
  folders folders_{maildir_};
};

TEST_F(folders_fixture, create_makes_a_maildir_with_its_marker_and_lists_it) {
  ASSERT_FALSE(folders_.create("Work/2024"));
  ASSERT_FALSE(folders_.create("v1.2"));
  ASSERT_FALSE(folders_.create("Junk"));
  EXPECT_EQ(names_in(maildir_ + "/.Work.2024"),
            (std::vector<std::string>{"cur", "maildirfolder", "new", "tmp"}));
  std::filesystem::create_directory(maildir_ + "/.bad%99");  // not of this layout
  std::filesystem::create_directory_symlink("/tmp", maildir_ + "/.Link");
  std::error_code error;
  // "Work" was made as the superior level of "Work/2024".
  EXPECT_EQ(folders_.list(error),
            (std::vector<std::string>{"INBOX", "Junk", "Work", "Work/2024", "v1.2"}));
  EXPECT_FALSE(error);
  EXPECT_EQ(folders_.create("Junk"), errc::already_exists);
  EXPECT_EQ(folders_.create("INBOX"), errc::already_exists);
  EXPECT_EQ(folders_.create("../escape"), errc::invalid_folder);
  EXPECT_EQ(folders_.path_of("Junk"), maildir_ + "/.Junk");
  EXPECT_EQ(folders_.path_of("INBOX"), maildir_);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/escape"));
}

TEST_F(folders_fixture, a_created_folder_opens_as_a_mailbox) {
  ASSERT_FALSE(folders_.create("Archive"));
  core::manual_clock clock;
  std::error_code error;
  auto box = mailbox::open(*folders_.path_of("Archive"), false, clock, error);
  ASSERT_TRUE(box) << error.message();
  std::uint32_t uid = 0;
  EXPECT_FALSE(box->append("x\r\n", 0, {}, 0, uid));
}

TEST_F(folders_fixture, remove_deletes_the_folder_and_its_messages_only) {
  ASSERT_FALSE(folders_.create("A"));
  ASSERT_FALSE(folders_.create("AB"));
  test::write_file(maildir_ + "/.A/cur/msg:2,S", "x");
  ASSERT_FALSE(folders_.remove("A"));
  EXPECT_FALSE(std::filesystem::exists(maildir_ + "/.A"));
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.AB/cur"));
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/cur"));
  EXPECT_EQ(folders_.remove("A"), errc::not_found);
  EXPECT_EQ(folders_.remove("INBOX"), errc::invalid_folder);
  EXPECT_EQ(folders_.remove(".."), errc::invalid_folder);
  EXPECT_TRUE(std::filesystem::exists(maildir_));
}

// RFC 9051 §6.3.5 allows refusing; refusing leaves no level without a folder.
TEST_F(folders_fixture, remove_refuses_a_folder_with_folders_below_it) {
  ASSERT_FALSE(folders_.create("A/B"));
  EXPECT_EQ(folders_.remove("A"), std::errc::directory_not_empty);
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.A/cur"));
  // Directories this layout never writes are not children.
  std::filesystem::create_directory(maildir_ + "/.A.bad%99");
  ASSERT_FALSE(folders_.remove("A/B"));
  EXPECT_FALSE(folders_.remove("A"));
  EXPECT_FALSE(std::filesystem::exists(maildir_ + "/.A"));
}

// RFC 9051 §6.3.4: CREATE makes the superior levels it needs, each a real folder.
TEST_F(folders_fixture, create_makes_missing_superior_levels_as_folders) {
  ASSERT_FALSE(folders_.create("Archive/2023/Q1"));
  for (const char* dir : {"/.Archive", "/.Archive.2023", "/.Archive.2023.Q1"}) {
    EXPECT_EQ(names_in(maildir_ + dir),
              (std::vector<std::string>{"cur", "maildirfolder", "new", "tmp"}))
        << dir;
  }
  std::error_code error;
  EXPECT_EQ(folders_.list(error),
            (std::vector<std::string>{"INBOX", "Archive", "Archive/2023", "Archive/2023/Q1"}));
  // Existing superiors are kept as they are; INBOX is never made.
  test::write_file(maildir_ + "/.Archive/cur/keep:2,S", "x");
  ASSERT_FALSE(folders_.create("Archive/2024"));
  EXPECT_EQ(test::read_file(maildir_ + "/.Archive/cur/keep:2,S"), "x");
  ASSERT_FALSE(folders_.create("INBOX/Sub"));
  EXPECT_FALSE(std::filesystem::exists(maildir_ + "/.INBOX"));
  // An existing folder is reported and nothing is made above it (a hole left by another
  // program stays a hole).
  std::filesystem::create_directories(maildir_ + "/.Hole.Child/cur");
  EXPECT_EQ(folders_.create("Hole/Child"), errc::already_exists);
  EXPECT_FALSE(std::filesystem::exists(maildir_ + "/.Hole"));
}

// Levels "." and ".." are refused by every operation, so no name reaches outside.
TEST_F(folders_fixture, dot_levels_are_refused_everywhere) {
  ASSERT_FALSE(folders_.create("Work"));
  EXPECT_EQ(folders_.create("../escape"), errc::invalid_folder);
  EXPECT_EQ(folders_.create("Projects/../../x"), errc::invalid_folder);
  EXPECT_EQ(folders_.create("Projects/./x"), errc::invalid_folder);
  EXPECT_EQ(folders_.rename("Work", "../Work"), errc::invalid_folder);
  EXPECT_EQ(folders_.rename("Work", "A/.."), errc::invalid_folder);
  EXPECT_EQ(folders_.remove("Work/.."), errc::invalid_folder);
  std::vector<std::string> moved;
  EXPECT_EQ(folders_.move_inbox("../Old", 1, moved), errc::invalid_folder);
  EXPECT_EQ(names_in(dir_.path()), (std::vector<std::string>{"Maildir"}));
  EXPECT_FALSE(std::filesystem::exists(maildir_ + "/.Projects"));
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.Work/cur"));
}

TEST_F(folders_fixture, remove_never_follows_a_link_out_of_the_maildir) {
  const std::string outside = dir_.path() + "/outside";
  std::filesystem::create_directory(outside);
  test::write_file(outside + "/keep", "x");
  std::filesystem::create_directory_symlink(outside, maildir_ + "/.Link");
  EXPECT_EQ(folders_.remove("Link"), errc::not_found);
  EXPECT_TRUE(std::filesystem::exists(outside + "/keep"));
}

TEST_F(folders_fixture, rename_moves_the_folder_and_its_children) {
  ASSERT_FALSE(folders_.create("A"));
  ASSERT_FALSE(folders_.create("A/x"));
  ASSERT_FALSE(folders_.create("AB"));
  test::write_file(maildir_ + "/.A.x/cur/msg", "x");
  ASSERT_FALSE(folders_.rename("A", "New.Name/C"));
  std::error_code error;
  // RFC 9051 §6.3.6: the missing superior level "New.Name" is made a folder.
  EXPECT_EQ(folders_.list(error),
            (std::vector<std::string>{"INBOX", "AB", "New.Name", "New.Name/C", "New.Name/C/x"}));
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.New%2EName/maildirfolder"));
  EXPECT_EQ(test::read_file(maildir_ + "/.New%2EName.C.x/cur/msg"), "x");
  EXPECT_EQ(folders_.rename("AB", "New.Name/C"), errc::already_exists);
  EXPECT_EQ(folders_.rename("Missing", "Other"), errc::not_found);
  EXPECT_EQ(folders_.rename("AB", "AB/inner"), errc::invalid_folder);
  EXPECT_EQ(folders_.rename("INBOX", "Old"), errc::invalid_folder);
  EXPECT_EQ(folders_.rename("AB", "/abs"), errc::invalid_folder);
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.AB"));
}

// RFC 9051 §6.3.6: RENAME INBOX moves the messages, with their flags and delivery times in
// the file names, into a new folder; INBOX and its sub-folders stay.
TEST_F(folders_fixture, move_inbox_moves_the_message_files_into_a_new_folder) {
  ASSERT_FALSE(folders_.create("INBOX/Sub"));
  test::write_file(maildir_ + "/cur/1700000000.M1P1.host,S=1:2,FS", "a");
  test::write_file(maildir_ + "/new/1700000001.M2P1.host,S=1", "b");
  test::write_file(maildir_ + "/tmp/1700000002.M3P1.host", "c");  // not delivered yet
  std::vector<std::string> moved;
  ASSERT_FALSE(folders_.move_inbox("Old/2023", 1'700'000'500, moved));
  EXPECT_EQ(moved, (std::vector<std::string>{"1700000000.M1P1.host,S=1:2,FS",
                                             "1700000001.M2P1.host,S=1"}));
  EXPECT_TRUE(names_in(maildir_ + "/cur").empty());
  EXPECT_TRUE(names_in(maildir_ + "/new").empty());
  EXPECT_EQ(names_in(maildir_ + "/tmp"), (std::vector<std::string>{"1700000002.M3P1.host"}));
  EXPECT_EQ(test::read_file(maildir_ + "/.Old.2023/cur/1700000000.M1P1.host,S=1:2,FS"), "a");
  EXPECT_EQ(test::read_file(maildir_ + "/.Old.2023/new/1700000001.M2P1.host,S=1"), "b");
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.Old/maildirfolder"));
  EXPECT_TRUE(std::filesystem::exists(maildir_ + "/.INBOX.Sub/cur"));
  core::manual_clock clock;
  std::error_code error;
  auto box = mailbox::open(*folders_.path_of("Old/2023"), false, clock, error);
  ASSERT_TRUE(box) << error.message();
  ASSERT_EQ(box->messages().size(), 2U);
  // The clock reads 1'700'000'000 s; the floor given is above it.
  EXPECT_EQ(box->uid_validity(), 1'700'000'501U);
  EXPECT_EQ(box->messages()[0].flags, flag_flagged | flag_seen);
  EXPECT_EQ(box->messages()[0].internal_date_ms, 1'700'000'000'000);
  EXPECT_EQ(box->messages()[1].flags, 0);
  // Onto an existing folder: refused before anything moves.
  test::write_file(maildir_ + "/cur/1700000003.M4P1.host,S=1:2,", "d");
  EXPECT_EQ(folders_.move_inbox("Old/2023", 1, moved), errc::already_exists);
  EXPECT_EQ(folders_.move_inbox("INBOX", 1, moved), errc::invalid_folder);
  EXPECT_EQ(names_in(maildir_ + "/cur"), (std::vector<std::string>{"1700000003.M4P1.host,S=1:2,"}));
}

}  // namespace
}  // namespace mailsim::store
