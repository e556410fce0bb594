// maildir_store with barrier_mode::journal: what open() brings back after a crash that lost
// what only the journal held.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "reference-server/store/maildir.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

using test::names_in;
using test::read_file;

constexpr std::string_view trace_text = "Return-Path: <s@example.net>\r\nReceived: test\r\n";
constexpr std::string_view body = "Subject: hi\r\n\r\nHello.\r\n";

class journal_store : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    restart();
  }

  // A new store over the same root, as after a crash: open() replays, recover() completes.
  recover_report restart() {
    store_.reset();
    store_ = std::make_unique<maildir_store>(
        maildir_config{root_, "mx.test", 4242, barrier_mode::journal, delivery_journal::size_min},
        clock_, &random_);
    EXPECT_FALSE(store_->open());
    return store_->recover();
  }

  std::string deliver(const std::string& user, std::string_view message = body) {
    const std::vector<delivery_request> batch = {{message, std::string(trace_text), {user}}};
    const auto results = store_->commit_batch(batch);
    EXPECT_TRUE(results[0].ok()) << results[0].error.message();
    return results[0].files.empty() ? std::string() : results[0].files[0];
  }

  std::string maildir(const std::string& local) const {
    return root_ + "/example.com/" + local + "/Maildir";
  }

  test::temp_dir dir_;
  std::string root_ = dir_.path() + "/store";
  core::manual_clock clock_;
  core::splitmix_random random_{11};
  std::unique_ptr<maildir_store> store_;
};

TEST_F(journal_store, a_copy_lost_in_a_crash_comes_back_whole_under_its_name) {
  const std::string alice = deliver("alice@example.com");
  const std::string bob = deliver("bob@example.com");
  const std::string whole = std::string(trace_text) + std::string(body);
  // What a crash before write-back can leave: no file at all, or one without its data.
  std::filesystem::remove(alice);
  test::write_file(bob, std::string(whole.size(), '\0'));
  const recover_report report = restart();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.replayed_files, 2u);
  EXPECT_EQ(report.recovered_files, 2u);
  EXPECT_EQ(read_file(alice), whole);
  EXPECT_EQ(read_file(bob), whole);
  EXPECT_TRUE(names_in(maildir("alice") + "/tmp").empty());
  EXPECT_EQ(restart().replayed_files, 0u);  // the replay ended with a checkpoint
}

TEST_F(journal_store, a_copy_a_reader_moved_to_cur_is_left_alone) {
  const std::string file = deliver("alice@example.com");
  const std::string name = std::filesystem::path(file).filename().string();
  std::filesystem::rename(file, maildir("alice") + "/cur/" + name + ":2,S");
  const recover_report report = restart();
  EXPECT_EQ(report.replayed_files, 0u);
  EXPECT_TRUE(names_in(maildir("alice") + "/new").empty());
  EXPECT_EQ(names_in(maildir("alice") + "/cur"), std::vector<std::string>{name + ":2,S"});
}

TEST_F(journal_store, nothing_before_a_checkpoint_is_replayed) {
  const std::string file = deliver("alice@example.com");
  ASSERT_FALSE(store_->checkpoint());
  std::filesystem::remove(file);  // expunged by a reader
  EXPECT_EQ(restart().replayed_files, 0u);
  EXPECT_TRUE(names_in(maildir("alice") + "/new").empty());
}

TEST_F(journal_store, a_full_journal_checkpoints_and_goes_on) {
  const std::size_t records =
      (delivery_journal::size_min - delivery_journal::header_bytes) / delivery_journal::page_bytes;
  std::vector<std::string> files;
  for (std::size_t i = 0; i < records + 10; ++i) files.push_back(deliver("alice@example.com"));
  ASSERT_EQ(names_in(maildir("alice") + "/new").size(), records + 10);
  for (const auto& file : files) std::filesystem::remove(file);
  // Only the deliveries since the checkpoint that made room are still in the journal.
  EXPECT_EQ(restart().replayed_files, 10u);
  EXPECT_EQ(std::filesystem::file_size(root_ + "/" + journal_file_name),
            delivery_journal::size_min);
}

TEST_F(journal_store, a_message_larger_than_the_journal_is_synced_instead) {
  const std::string big(delivery_journal::size_min, 'x');
  const std::string file = deliver("alice@example.com", big);
  EXPECT_EQ(read_file(file), std::string(trace_text) + big);
  std::filesystem::remove(file);
  EXPECT_EQ(restart().replayed_files, 0u);
}

TEST_F(journal_store, a_batch_above_the_record_limit_is_synced_and_empties_the_journal) {
  const std::string before = deliver("alice@example.com");  // journaled
  const std::string big(256 * 1024, 'x');
  const std::string file = deliver("bob@example.com", big);
  EXPECT_EQ(read_file(file), std::string(trace_text) + big);
  std::filesystem::remove(before);
  std::filesystem::remove(file);
  EXPECT_EQ(restart().replayed_files, 0u);  // the syncfs made both durable: nothing to redo
}

TEST_F(journal_store, the_journal_is_not_a_mailbox_and_refuses_a_second_store) {
  deliver("alice@example.com");
  EXPECT_EQ(store_->recover().maildirs, 1u);
  maildir_store second({root_, "mx.test", 1, barrier_mode::journal, delivery_journal::size_min},
                       clock_, &random_);
  EXPECT_EQ(second.open(), std::errc::resource_unavailable_try_again);
}

}  // namespace
}  // namespace mailsim::store
