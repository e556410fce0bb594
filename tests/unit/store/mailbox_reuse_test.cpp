// The pool of closed mailboxes (mailbox.hpp "Closed mailboxes are kept for reuse"): a reopen
// starts from the pooled state, and whatever changed meanwhile is still seen.
#include <gtest/gtest.h>

#include <filesystem>

#include "reference-server/store/mailbox.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

constexpr std::string_view letter = "Subject: hi\r\n\r\nHello.\r\n";

class mailbox_reuse : public ::testing::Test {
 protected:
  void TearDown() override { mailbox::set_reuse_capacity(mailbox::reuse_capacity_default); }

  std::unique_ptr<mailbox> open_box(const std::string& path) {
    std::error_code error;
    auto box = mailbox::open(path, true, clock_, error);
    EXPECT_TRUE(box) << error.message();
    return box;
  }
  std::unique_ptr<mailbox> open_box() { return open_box(folder_); }

  std::uint32_t append(mailbox& box) {
    std::uint32_t uid = 0;
    EXPECT_FALSE(box.append(letter, 0, {}, 0, uid));
    return uid;
  }

  test::temp_dir dir_;
  std::string folder_ = dir_.path() + "/Maildir";
  core::manual_clock clock_;
};

TEST_F(mailbox_reuse, a_reopened_folder_starts_from_the_closed_ones_state) {
  auto box = open_box();
  append(*box);
  const std::uint32_t validity = box->uid_validity();
  box.reset();
  const std::uint64_t before = mailbox::reused_opens();
  box = open_box();
  EXPECT_EQ(mailbox::reused_opens(), before + 1);
  ASSERT_EQ(box->messages().size(), 1U);
  EXPECT_EQ(box->uid_validity(), validity);
  // Only one object owns a pooled state: a second open at the same time reads from disk.
  auto second = open_box();
  EXPECT_EQ(mailbox::reused_opens(), before + 1);
  EXPECT_EQ(second->messages().size(), 1U);
}

TEST_F(mailbox_reuse, changes_made_while_pooled_are_seen_on_reopen) {
  auto stale = open_box();
  append(*stale);
  auto writer = open_box();
  const std::uint32_t added = append(*writer);
  std::vector<std::uint32_t> modified;
  const std::uint32_t first = stale->messages().front().uid;
  ASSERT_FALSE(writer->set_flags({&first, 1}, flag_op::add, flag_seen, {}, 0, modified));
  writer.reset();
  stale.reset();  // closed last: the pool keeps the older view
  const std::uint64_t before = mailbox::reused_opens();
  auto box = open_box();
  EXPECT_EQ(mailbox::reused_opens(), before + 1);
  ASSERT_EQ(box->messages().size(), 2U);
  EXPECT_EQ(box->messages().back().uid, added);
  EXPECT_EQ(box->messages().front().flags, flag_seen);
}

TEST_F(mailbox_reuse, a_folder_deleted_and_made_again_is_not_reused) {
  auto box = open_box();
  append(*box);
  box.reset();
  std::filesystem::remove_all(folder_);
  const std::uint64_t before = mailbox::reused_opens();
  box = open_box();
  EXPECT_EQ(mailbox::reused_opens(), before);
  EXPECT_TRUE(box->messages().empty());
  EXPECT_EQ(box->uid_next(), 1U);
}

TEST_F(mailbox_reuse, capacity_bounds_the_pool_and_zero_turns_it_off) {
  const std::string other = dir_.path() + "/Other";
  mailbox::set_reuse_capacity(1);
  open_box().reset();
  open_box(other).reset();  // evicts folder_
  std::uint64_t before = mailbox::reused_opens();
  open_box().reset();
  EXPECT_EQ(mailbox::reused_opens(), before);
  open_box().reset();
  EXPECT_EQ(mailbox::reused_opens(), before + 1);
  mailbox::set_reuse_capacity(0);
  before = mailbox::reused_opens();
  open_box().reset();
  EXPECT_EQ(mailbox::reused_opens(), before);
}

// An operation that refreshes from disk and then does not rebuild the view (copy_to's
// source) must leave the change to the next sync, also when the folders' times are settled
// (a clock well past the files' times) and nothing moves on disk after it.
TEST_F(mailbox_reuse, a_refresh_without_a_rebuild_is_reported_by_the_next_sync) {
  clock_.set(core::from_epoch_ms(4'102'444'800'000));  // 2100: every stamp is settled
  auto a = open_box();
  append(*a);
  auto b = open_box();
  append(*b);  // `a` has not synced since
  auto target = open_box(dir_.path() + "/Target");
  const std::uint32_t first = a->messages().front().uid;
  std::vector<std::uint32_t> new_uids;
  ASSERT_FALSE(a->copy_to({&first, 1}, *target, new_uids));
  sync_report report;
  ASSERT_FALSE(a->sync(report));
  EXPECT_EQ(report.added, 1U);
  EXPECT_EQ(a->messages().size(), 2U);
}

}  // namespace
}  // namespace mailsim::store
