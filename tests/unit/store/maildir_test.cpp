#include "reference-server/store/maildir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/error.hpp"
#include "reference-server/store/maildir_layout.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

using test::names_in;
using test::read_file;

constexpr std::string_view trace_text = "Return-Path: <s@example.net>\r\nReceived: test\r\n";
constexpr std::string_view body = "Subject: hi\r\n\r\nHello.\r\n";

std::string trace_block() {
  return std::string(trace_text);
}

class maildir_fixture : public ::testing::TestWithParam<barrier_mode> {
 protected:
  maildir_fixture()
      : store_({root_, "mx.test", 4242, barrier(), delivery_journal::size_min}, clock_) {}

  barrier_mode barrier() const { return GetParam(); }

  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_FALSE(store_.open());
  }

  std::string maildir(const std::string& domain, const std::string& local) const {
    return root_ + "/" + domain + "/" + local + "/Maildir";
  }

  // Every file under tmp/ of every Maildir: must stay empty after any batch.
  std::vector<std::string> tmp_debris() const {
    std::vector<std::string> out;
    for (const auto& item : std::filesystem::recursive_directory_iterator(root_)) {
      if (item.is_regular_file() && item.path().parent_path().filename() == "tmp") {
        out.push_back(item.path().string());
      }
    }
    return out;
  }

  test::temp_dir dir_;
  std::string root_ = dir_.path() + "/store";
  core::manual_clock clock_;
  maildir_store store_;
};

TEST_P(maildir_fixture, delivers_exact_bytes_into_new) {
  const std::vector<delivery_request> batch = {
      {body, trace_block(), {"alice@example.com", "bob@example.com"}}};
  const auto results = store_.commit_batch(batch);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok()) << results[0].error.message();
  EXPECT_EQ(results[0].bytes, trace_text.size() + body.size());
  ASSERT_EQ(results[0].files.size(), 2u);
  const std::regex name(R"(1700000000\.M0P4242Q\d+\.mx\.test,S=)" +
                        std::to_string(trace_text.size() + body.size()));
  for (const char* user : {"alice", "bob"}) {
    const auto files = names_in(maildir("example.com", user) + "/new");
    ASSERT_EQ(files.size(), 1u) << user;
    EXPECT_TRUE(std::regex_match(files[0], name)) << files[0];
    EXPECT_EQ(read_file(maildir("example.com", user) + "/new/" + files[0]),
              trace_block() + std::string(body));
    EXPECT_TRUE(names_in(maildir("example.com", user) + "/cur").empty());
    EXPECT_TRUE(std::filesystem::is_directory(maildir("example.com", user) + "/cur"));
  }
  EXPECT_EQ(read_file(results[0].files[0]), trace_block() + std::string(body));
  EXPECT_TRUE(tmp_debris().empty());
}

TEST_P(maildir_fixture, files_into_a_maildirplusplus_folder) {
  delivery_request request{body, trace_block(), {"alice@example.com"}};
  request.folder = "Junk";
  const auto results = store_.commit_batch(std::vector<delivery_request>{request});
  ASSERT_TRUE(results[0].ok()) << results[0].error.message();
  const std::string junk = maildir("example.com", "alice") + "/.Junk";
  const auto files = names_in(junk + "/new");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(read_file(junk + "/new/" + files[0]), trace_block() + std::string(body));
  EXPECT_TRUE(std::filesystem::is_regular_file(junk + "/maildirfolder"));
  EXPECT_TRUE(std::filesystem::is_directory(junk + "/cur"));
  EXPECT_TRUE(names_in(maildir("example.com", "alice") + "/new").empty());
  EXPECT_TRUE(tmp_debris().empty());
  // The folder counts towards the user's usage, as Maildir++ quota does.
  EXPECT_EQ(store_.usage_bytes("alice@example.com"), trace_text.size() + body.size());
}

TEST_P(maildir_fixture, refuses_folder_names_outside_the_layout) {
  for (const char* bad : {"../x", ".Junk", "a/b", "INBOX", "inbox", "Junk.Sub"}) {
    delivery_request request{body, trace_block(), {"alice@example.com"}};
    request.folder = bad;
    const auto results = store_.commit_batch(std::vector<delivery_request>{request});
    EXPECT_EQ(results[0].error, errc::invalid_folder) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(root_ + "/x"));
  EXPECT_TRUE(tmp_debris().empty());
}

TEST_P(maildir_fixture, names_are_unique_within_and_across_batches_at_one_time) {
  const std::vector<delivery_request> batch = {{body, trace_block(), {"alice@example.com"}},
                                               {body, trace_block(), {"alice@example.com"}},
                                               {body, "", {"alice@example.com"}}};
  for (int round = 0; round < 2; ++round) {
    for (const auto& result : store_.commit_batch(batch)) EXPECT_TRUE(result.ok());
  }
  const auto files = names_in(maildir("example.com", "alice") + "/new");
  EXPECT_EQ(files.size(), 6u);
  EXPECT_EQ(std::set<std::string>(files.begin(), files.end()).size(), 6u);
  EXPECT_TRUE(tmp_debris().empty());
}

TEST_P(maildir_fixture, a_failing_request_fails_alone_and_leaves_nothing) {
  // "broken"'s user folder is a file, so its Maildir cannot be created: ENOTDIR.
  std::filesystem::create_directories(root_ + "/example.com");
  test::write_file(root_ + "/example.com/broken", "not a folder");
  // "tmpfile"'s Maildir exists but its tmp/ is a file.
  std::filesystem::create_directories(maildir("example.com", "tmpfile"));
  test::write_file(maildir("example.com", "tmpfile") + "/tmp", "");
  const std::vector<delivery_request> batch = {
      {body, trace_block(), {"alice@example.com"}},
      {body,
       trace_block(),
       {"bob@example.com", "broken@example.com"}},  // bob's copy is written first
      {body, trace_block(), {"carol@example.com"}},
      {body, trace_block(), {"dave@example.com", "tmpfile@example.com"}},
      {body, trace_block(), {}},
      {body, trace_block(), {"no-at-sign"}},
  };
  const auto results = store_.commit_batch(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].error, std::errc::not_a_directory);
  EXPECT_TRUE(results[1].files.empty());
  EXPECT_TRUE(results[2].ok());
  EXPECT_EQ(results[3].error, std::errc::not_a_directory);
  EXPECT_EQ(results[4].error, errc::no_recipients);
  EXPECT_EQ(results[5].error, errc::invalid_user_name);
  EXPECT_EQ(names_in(maildir("example.com", "alice") + "/new").size(), 1u);
  EXPECT_EQ(names_in(maildir("example.com", "carol") + "/new").size(), 1u);
  EXPECT_TRUE(names_in(maildir("example.com", "bob") + "/new").empty());
  EXPECT_TRUE(names_in(maildir("example.com", "dave") + "/new").empty());
  EXPECT_TRUE(tmp_debris().empty());
  // Repaired, the same user receives again: the store does not remember the failure.
  std::filesystem::remove(maildir("example.com", "tmpfile") + "/tmp");
  const std::vector<delivery_request> again = {{body, trace_block(), {"tmpfile@example.com"}}};
  EXPECT_TRUE(store_.commit_batch(again)[0].ok());
}

TEST_P(maildir_fixture, odd_local_parts_stay_inside_their_folder) {
  const std::vector<delivery_request> batch = {
      {body, trace_block(), {"../../evil@Example.COM", "a b/c@example.com", "@example.com"}}};
  ASSERT_TRUE(store_.commit_batch(batch)[0].ok());
  std::vector<std::string> top = names_in(root_);
  std::erase(top, journal_file_name);  // the journal mode's own file
  EXPECT_EQ(top, std::vector<std::string>{"example.com"});
  EXPECT_EQ(names_in(root_ + "/example.com"),
            (std::vector<std::string>{"%", "%2E.%2F..%2Fevil", "a%20b%2Fc"}));
  EXPECT_EQ(names_in(maildir("example.com", "%2E.%2F..%2Fevil") + "/new").size(), 1u);
}

TEST_P(maildir_fixture, recover_removes_tmp_debris_only) {
  const std::vector<delivery_request> batch = {{body, trace_block(), {"alice@example.com"}}};
  ASSERT_TRUE(store_.commit_batch(batch)[0].ok());
  const std::string alice = maildir("example.com", "alice");
  test::write_file(alice + "/tmp/1.M1P1Q1.crashed", "half a mess");
  test::write_file(alice + "/tmp/2.M1P1Q2.crashed", "");
  std::filesystem::create_directories(alice + "/.Sent/tmp");
  test::write_file(alice + "/.Sent/tmp/3.M1P1Q3.crashed", "x");
  std::filesystem::create_directories(alice + "/.Drafts");  // a sub-folder without tmp/
  std::filesystem::create_directories(root_ + "/example.com/nomaildir");
  const recover_report report = store_.recover();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.removed_files, 3u);
  EXPECT_EQ(report.maildirs, 1u);
  EXPECT_TRUE(tmp_debris().empty());
  EXPECT_EQ(names_in(alice + "/new").size(), 1u);
  EXPECT_EQ(store_.recover().removed_files, 0u);
}

// A crash after the barrier but before the rename became durable leaves the file complete
// in tmp/ under its checksummed name: recover() delivers it under the name it was meant to
// have. A file whose bytes do not match its checksum (cut, or with blocks never written) is
// debris, however well-formed its name.
TEST_P(maildir_fixture, recover_completes_renames_of_durable_files_only) {
  const std::vector<delivery_request> batch = {{body, trace_block(), {"alice@example.com"}}};
  const auto results = store_.commit_batch(batch);
  ASSERT_TRUE(results[0].ok());
  const std::string alice = maildir("example.com", "alice");
  const std::string name = names_in(alice + "/new").at(0);
  EXPECT_EQ(name.find(",C="), std::string::npos) << name;
  const std::string bytes = read_file(alice + "/new/" + name);
  const std::uint64_t sum = content_checksum(bytes);
  EXPECT_EQ(sum, content_checksum(trace_block(), body));
  // The rename undone, as a crash can leave it; beside it, a cut copy and a zeroed one.
  std::filesystem::rename(alice + "/new/" + name, alice + "/tmp/" + with_checksum(name, sum));
  test::write_file(alice + "/tmp/" + with_checksum("2.M1P1Q2.h,S=70", sum), bytes.substr(0, 40));
  test::write_file(alice + "/tmp/" + with_checksum("3.M1P1Q3.h,S=70", sum),
                   std::string(bytes.size(), '\0'));
  const recover_report report = store_.recover();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.recovered_files, 1u);
  EXPECT_EQ(report.removed_files, 2u);
  EXPECT_EQ(names_in(alice + "/new"), std::vector<std::string>{name});
  EXPECT_EQ(read_file(alice + "/new/" + name), bytes);
  EXPECT_TRUE(tmp_debris().empty());
}

// rename_no_replace() falls back to link + unlink on file systems without renameat2: a crash
// between the two leaves the same file in tmp/ and new/. The copy in new/ stays, alone.
TEST_P(maildir_fixture, recover_drops_a_tmp_file_already_linked_into_new) {
  const std::vector<delivery_request> batch = {{body, trace_block(), {"carol@example.com"}}};
  ASSERT_TRUE(store_.commit_batch(batch)[0].ok());
  const std::string carol = maildir("example.com", "carol");
  const std::string name = names_in(carol + "/new").at(0);
  const std::string bytes = read_file(carol + "/new/" + name);
  std::filesystem::create_hard_link(carol + "/new/" + name,
                                    carol + "/tmp/" + with_checksum(name, content_checksum(bytes)));
  const recover_report report = store_.recover();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.recovered_files, 1u);
  EXPECT_EQ(names_in(carol + "/new"), std::vector<std::string>{name});
  EXPECT_EQ(read_file(carol + "/new/" + name), bytes);
  EXPECT_TRUE(tmp_debris().empty());
}

TEST_P(maildir_fixture, a_maildir_on_another_file_system_is_synced_on_its_own) {
  // syncfs(2) of the root does not reach another file system: such a Maildir (here a
  // symbolic link into /dev/shm, a tmpfs) must get its own fsyncs and still be delivered to.
  if (!std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  test::temp_dir elsewhere("/dev/shm");
  ASSERT_FALSE(elsewhere.path().empty());
  std::filesystem::create_directories(root_ + "/example.com");
  std::filesystem::create_directory_symlink(elsewhere.path(), root_ + "/example.com/shm");
  const std::vector<delivery_request> batch = {
      {body, trace_block(), {"shm@example.com", "alice@example.com"}}};
  const auto results = store_.commit_batch(batch);
  ASSERT_TRUE(results[0].ok()) << results[0].error.message();
  EXPECT_EQ(names_in(elsewhere.path() + "/Maildir/new").size(), 1u);
  EXPECT_EQ(names_in(maildir("example.com", "alice") + "/new").size(), 1u);
  EXPECT_TRUE(tmp_debris().empty());
  test::write_file(elsewhere.path() + "/Maildir/tmp/1.M1P1Q1.crashed", "");
  EXPECT_EQ(store_.recover().removed_files, 1u);  // recover() follows the link too
}

INSTANTIATE_TEST_SUITE_P(barriers, maildir_fixture,
                         ::testing::Values(barrier_mode::syncfs, barrier_mode::fsync_each,
                                           barrier_mode::none, barrier_mode::journal),
                         [](const auto& test_info) {
                           switch (test_info.param) {
                             case barrier_mode::syncfs:
                               return std::string("syncfs");
                             case barrier_mode::fsync_each:
                               return std::string("fsync_each");
                             case barrier_mode::none:
                               return std::string("none");
                             case barrier_mode::journal:
                               return std::string("journal");
                           }
                           return std::string("unknown");
                         });

TEST(maildir_store, reports_not_open) {
  test::temp_dir dir;
  core::manual_clock clock;
  maildir_store store({dir.path() + "/store", "mx.test", 1, barrier_mode::syncfs}, clock);
  const std::vector<delivery_request> batch = {{body, trace_block(), {"alice@example.com"}}};
  EXPECT_EQ(store.commit_batch(batch)[0].error, errc::not_open);
  EXPECT_EQ(store.recover().error, errc::not_open);
}

TEST(maildir_store, open_fails_when_the_parent_is_missing) {
  test::temp_dir dir;
  core::manual_clock clock;
  maildir_store store({dir.path() + "/no/such/store", "mx.test", 1, barrier_mode::syncfs}, clock);
  EXPECT_EQ(store.open(), std::errc::no_such_file_or_directory);
}

TEST(maildir_store, clock_time_appears_in_names) {
  test::temp_dir dir;
  core::manual_clock clock(core::from_epoch_ms(1'709'208'000'123));
  maildir_store store({dir.path() + "/store", "host/with:odd,chars", 7, barrier_mode::none}, clock);
  ASSERT_FALSE(store.open());
  const std::vector<delivery_request> batch = {{"x", "", {"a@example.com"}}};
  const auto results = store.commit_batch(batch);
  ASSERT_TRUE(results[0].ok());
  const std::string file = std::filesystem::path(results[0].files[0]).filename().string();
  EXPECT_TRUE(std::regex_match(
      file, std::regex(R"(1709208000\.M123000P7Q\d+\.host\\057with\\072odd\\054chars,S=1)")))
      << file;
}

}  // namespace
}  // namespace mailsim::store
