#include "reference-server/store/mailbox.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <filesystem>

#include "reference-server/store/error.hpp"
#include "reference-server/store/folder_lock.hpp"
#include "reference-server/store/maildir.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

using test::names_in;
using test::read_file;
using test::write_file;

constexpr std::string_view letter = "Subject: hi\r\n\r\nHello.\r\n";

// The current file name (in cur/ or new/) of the i-th message of the view.
std::string name_of(const mailbox& box, std::size_t i) {
  return std::filesystem::path(box.file_path(box.messages()[i].uid)).filename().string();
}

std::vector<std::uint32_t> uids_of(const mailbox& box) {
  std::vector<std::uint32_t> out;
  for (const auto& entry : box.messages()) out.push_back(entry.uid);
  return out;
}

class mailbox_fixture : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::unique_ptr<mailbox> open_box(const std::string& path) {
    std::error_code error;
    auto box = mailbox::open(path, true, clock_, error);
    EXPECT_TRUE(box) << error.message();
    return box;
  }
  std::unique_ptr<mailbox> open_box() { return open_box(folder_); }

  // A delivery the way maildir_store makes it: a complete file appearing in new/.
  void deliver(const std::string& name, std::string_view bytes = letter) {
    write_file(folder_ + "/new/" + name, std::string(bytes));
  }

  std::uint32_t append(mailbox& box, std::string_view bytes, std::uint8_t flags = 0,
                       std::vector<std::string> keywords = {}) {
    std::uint32_t uid = 0;
    EXPECT_FALSE(box.append(bytes, flags, keywords, 0, uid));
    return uid;
  }

  std::string index_text() const { return read_file(folder_ + "/mailsim-index"); }

  test::temp_dir dir_;
  std::string folder_ = dir_.path() + "/Maildir";
  core::manual_clock clock_;
};

TEST_F(mailbox_fixture, open_without_create_reports_not_found) {
  std::error_code error;
  auto box = mailbox::open(folder_, false, clock_, error);
  EXPECT_FALSE(box);
  EXPECT_EQ(error, errc::not_found);
}

TEST_F(mailbox_fixture, open_creates_the_maildir_and_an_index) {
  auto box = open_box();
  ASSERT_TRUE(box);
  EXPECT_EQ(names_in(folder_),
            (std::vector<std::string>{"cur", "mailsim-index", "mailsim-index.lock",
                                      "mailsim-uidvalidity", "new", "tmp"}));
  EXPECT_EQ(box->uid_validity(), 1'700'000'000U);  // the clock's seconds
  EXPECT_EQ(box->uid_next(), 1U);
  EXPECT_TRUE(box->messages().empty());
  EXPECT_EQ(index_text(), "mailsim-index 1 1700000000 1 0 1 0\n");
}

TEST_F(mailbox_fixture, sync_assigns_uids_in_delivery_order_and_moves_new_to_cur) {
  ASSERT_TRUE(open_box());
  deliver("1700000010.M0P1Q1.mx,S=24");
  deliver("1700000002.M0P1Q7.mx,S=24");
  deliver("999999999.M0P1Q3.mx,S=24");  // an earlier second with fewer digits
  deliver(".hidden");
  std::filesystem::create_directory(folder_ + "/new/subdir");
  auto box = open_box();
  ASSERT_TRUE(box);
  ASSERT_EQ(uids_of(*box), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(name_of(*box, 0), "999999999.M0P1Q3.mx,S=24:2,");
  EXPECT_EQ(name_of(*box, 1), "1700000002.M0P1Q7.mx,S=24:2,");
  EXPECT_EQ(name_of(*box, 2), "1700000010.M0P1Q1.mx,S=24:2,");
  EXPECT_EQ(box->messages()[1].internal_date_ms, 1'700'000'002'000);
  EXPECT_EQ(box->messages()[1].size_bytes, 24U);
  EXPECT_EQ(names_in(folder_ + "/new"), (std::vector<std::string>{".hidden", "subdir"}));
  EXPECT_EQ(box->uid_next(), 4U);
  EXPECT_EQ(box->highest_modseq(), 3U);
}

TEST_F(mailbox_fixture, uids_survive_reopen) {
  auto box = open_box();
  deliver("1700000001.M0P1Q1.mx,S=24");
  deliver("1700000002.M0P1Q2.mx,S=24");
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const auto validity = box->uid_validity();
  box.reset();
  clock_.advance(core::duration_ms{50'000});
  auto again = open_box();
  EXPECT_EQ(uids_of(*again), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(again->uid_validity(), validity);
  EXPECT_EQ(again->uid_next(), 3U);
  EXPECT_EQ(name_of(*again, 1), "1700000002.M0P1Q2.mx,S=24:2,");
}

TEST_F(mailbox_fixture, maildir_store_delivery_shows_up_with_the_next_uid) {
  const std::string root = dir_.path() + "/store";
  maildir_store store({root, "mx.test", 4242, barrier_mode::none}, clock_);
  ASSERT_FALSE(store.open());
  const std::vector<delivery_request> first = {{letter, "X-Trace: 1\r\n", {"alice@example.com"}}};
  ASSERT_TRUE(store.commit_batch(first)[0].ok());
  folder_ = root + "/example.com/alice/Maildir";
  auto box = open_box();
  ASSERT_EQ(uids_of(*box), (std::vector<std::uint32_t>{1}));
  clock_.advance(core::duration_ms{1000});
  const std::vector<delivery_request> second = {{letter, "X-Trace: 2\r\n", {"alice@example.com"}}};
  ASSERT_TRUE(store.commit_batch(second)[0].ok());
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  EXPECT_EQ(report.added, 1U);
  EXPECT_TRUE(report.expunged.empty());
  ASSERT_EQ(uids_of(*box), (std::vector<std::uint32_t>{1, 2}));
  std::string bytes;
  ASSERT_FALSE(box->read(2, bytes));
  EXPECT_EQ(bytes, "X-Trace: 2\r\n" + std::string(letter));
  EXPECT_EQ(box->messages()[1].size_bytes, bytes.size());
  EXPECT_TRUE(names_in(folder_ + "/new").empty());
}

TEST_F(mailbox_fixture, unknown_files_in_cur_get_uids_and_their_mtime_as_date) {
  auto box = open_box();
  write_file(folder_ + "/cur/foreign-message", std::string(letter));
  write_file(folder_ + "/cur/other:2,S", std::string(letter));
  const utimbuf times{1'600'000'000, 1'600'000'000};
  ASSERT_EQ(::utime((folder_ + "/cur/foreign-message").c_str(), &times), 0);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  ASSERT_EQ(box->messages().size(), 2U);
  EXPECT_EQ(report.added, 2U);
  const auto& foreign = box->messages()[0];
  EXPECT_EQ(name_of(*box, 0), "foreign-message");
  EXPECT_EQ(foreign.internal_date_ms, 1'600'000'000'000);
  EXPECT_EQ(foreign.size_bytes, letter.size());
  EXPECT_EQ(box->messages()[1].flags, flag_seen);
}

TEST_F(mailbox_fixture, append_is_durable_and_reads_back_byte_for_byte) {
  auto box = open_box();
  const std::string message = "From: a@b\r\nSubject: x\r\n\r\nbinary \x01\xff\r\n.\r\n";
  std::uint32_t uid = 0;
  const std::vector<std::string> keywords = {"$Junk", "$Forwarded", "$Junk"};
  ASSERT_FALSE(box->append(message, flag_seen | flag_answered, keywords, 1'650'000'000'123, uid));
  EXPECT_EQ(uid, 1U);
  EXPECT_TRUE(names_in(folder_ + "/tmp").empty());
  std::string bytes;
  ASSERT_FALSE(box->read(uid, bytes));
  EXPECT_EQ(bytes, message);
  EXPECT_EQ(read_file(box->file_path(uid)), message);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  ASSERT_EQ(box->messages().size(), 1U);
  const auto& entry = box->messages()[0];
  EXPECT_EQ(entry.flags, flag_seen | flag_answered);
  EXPECT_EQ(entry.keywords, (std::vector<std::string>{"$Forwarded", "$Junk"}));
  EXPECT_EQ(entry.internal_date_ms, 1'650'000'000'123);
  EXPECT_EQ(entry.size_bytes, message.size());
  EXPECT_TRUE(name_of(*box, 0).ends_with(":2,RS")) << name_of(*box, 0);
  EXPECT_TRUE(name_of(*box, 0).starts_with("1650000000.M123000P")) << name_of(*box, 0);
  // Another object (another session) reads the same from disk.
  auto other = open_box();
  ASSERT_EQ(other->messages().size(), 1U);
  EXPECT_EQ(other->messages()[0].keywords, entry.keywords);
  EXPECT_EQ(other->messages()[0].internal_date_ms, 1'650'000'000'123);
}

TEST_F(mailbox_fixture, append_without_date_takes_the_clock) {
  auto box = open_box();
  clock_.advance(core::duration_ms{5'000});
  const std::uint32_t uid = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  ASSERT_EQ(uids_of(*box), (std::vector<std::uint32_t>{uid}));
  EXPECT_EQ(box->messages()[0].internal_date_ms, 1'700'000'005'000);
}

TEST_F(mailbox_fixture, set_flags_renames_with_sorted_letters_and_grows_modseq) {
  auto box = open_box();
  const std::uint32_t uid = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const std::uint64_t before = box->messages()[0].modseq;
  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> uids = {uid};
  ASSERT_FALSE(box->set_flags(
      uids, flag_op::add, flag_seen | flag_draft | flag_flagged | flag_deleted, {}, 0, modified));
  EXPECT_TRUE(modified.empty());
  // The object's own change is in its view at once; a sync finds nothing more.
  ASSERT_FALSE(box->sync(report));
  EXPECT_FALSE(report.flags_changed);
  const auto& entry = box->messages()[0];
  EXPECT_TRUE(name_of(*box, 0).ends_with(":2,DFST")) << name_of(*box, 0);
  EXPECT_GT(entry.modseq, before);
  EXPECT_EQ(box->highest_modseq(), entry.modseq);
  const auto cur = names_in(folder_ + "/cur");
  ASSERT_EQ(cur.size(), 1U);
  EXPECT_TRUE(cur[0].ends_with(":2,DFST"));

  const std::vector<std::string> keywords = {"$Label1"};
  ASSERT_FALSE(box->set_flags(uids, flag_op::remove, flag_deleted | flag_flagged, {}, 0, modified));
  ASSERT_FALSE(box->set_flags(uids, flag_op::add, 0, keywords, 0, modified));
  ASSERT_FALSE(box->sync(report));
  EXPECT_TRUE(name_of(*box, 0).ends_with(":2,DS"));
  EXPECT_EQ(box->messages()[0].keywords, keywords);
  const std::uint64_t after = box->messages()[0].modseq;
  // A change to the same flags is no change: no new MODSEQ.
  ASSERT_FALSE(box->set_flags(uids, flag_op::add, flag_seen, keywords, 0, modified));
  ASSERT_FALSE(box->sync(report));
  EXPECT_FALSE(report.flags_changed);
  EXPECT_EQ(box->messages()[0].modseq, after);
  ASSERT_FALSE(box->set_flags(uids, flag_op::replace, 0, {}, 0, modified));
  ASSERT_FALSE(box->sync(report));
  EXPECT_TRUE(name_of(*box, 0).ends_with(":2,"));
  EXPECT_TRUE(box->messages()[0].keywords.empty());
}

TEST_F(mailbox_fixture, unchanged_since_leaves_newer_messages_alone) {
  auto box = open_box();
  const std::uint32_t a = append(*box, letter);
  const std::uint32_t b = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const std::uint64_t seen_modseq = box->highest_modseq();
  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> only_b = {b};
  ASSERT_FALSE(box->set_flags(only_b, flag_op::add, flag_flagged, {}, 0, modified));
  const std::vector<std::uint32_t> both = {a, b};
  ASSERT_FALSE(box->set_flags(both, flag_op::add, flag_seen, {}, seen_modseq, modified));
  EXPECT_EQ(modified, (std::vector<std::uint32_t>{b}));
  ASSERT_FALSE(box->sync(report));
  EXPECT_EQ(box->messages()[0].flags, flag_seen);
  EXPECT_EQ(box->messages()[1].flags, flag_flagged);
}

TEST_F(mailbox_fixture, two_objects_see_each_others_changes) {
  auto first = open_box();
  auto second = open_box();
  const std::uint32_t uid = append(*first, letter);
  sync_report report;
  ASSERT_FALSE(second->sync(report));
  EXPECT_EQ(report.added, 1U);
  ASSERT_EQ(uids_of(*second), (std::vector<std::uint32_t>{uid}));

  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> uids = {uid};
  const std::vector<std::string> keywords = {"work"};
  ASSERT_FALSE(first->set_flags(uids, flag_op::add, flag_seen, keywords, 0, modified));
  ASSERT_FALSE(second->sync(report));
  EXPECT_TRUE(report.flags_changed);
  EXPECT_EQ(second->messages()[0].flags, flag_seen);
  EXPECT_EQ(second->messages()[0].keywords, keywords);

  // Both append without losing each other's UIDs.
  const std::uint32_t from_second = append(*second, letter);
  const std::uint32_t from_first = append(*first, letter);
  EXPECT_EQ(from_second, 2U);
  EXPECT_EQ(from_first, 3U);

  ASSERT_FALSE(first->sync(report));
  ASSERT_EQ(uids_of(*first), (std::vector<std::uint32_t>{1, 2, 3}));
  ASSERT_FALSE(second->expunge(uids));
  ASSERT_FALSE(first->sync(report));
  EXPECT_EQ(report.expunged, (std::vector<std::uint32_t>{uid}));
  EXPECT_EQ(uids_of(*first), (std::vector<std::uint32_t>{2, 3}));
  std::string bytes;
  EXPECT_EQ(first->read(uid, bytes), errc::not_found);
}

TEST_F(mailbox_fixture, read_follows_a_rename_by_another_session) {
  auto first = open_box();
  auto second = open_box();
  const std::uint32_t uid = append(*first, letter);
  sync_report report;
  ASSERT_FALSE(second->sync(report));
  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> uids = {uid};
  ASSERT_FALSE(first->set_flags(uids, flag_op::add, flag_seen, {}, 0, modified));
  std::string bytes;
  ASSERT_FALSE(second->read(uid, bytes));
  EXPECT_EQ(bytes, letter);
}

TEST_F(mailbox_fixture, flags_changed_by_another_program_get_a_new_modseq) {
  auto box = open_box();
  const std::uint32_t uid = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const auto before = box->messages()[0];
  // mutt marks it read: a rename in cur/.
  std::filesystem::rename(
      box->file_path(uid),
      folder_ + "/cur/" + name_of(*box, 0).substr(0, name_of(*box, 0).size() - 3) + ":2,S");
  ASSERT_FALSE(box->sync(report));
  EXPECT_TRUE(report.flags_changed);
  EXPECT_EQ(box->messages()[0].flags, flag_seen);
  EXPECT_GT(box->messages()[0].modseq, before.modseq);
}

TEST_F(mailbox_fixture, expunge_removes_files_and_entries) {
  auto box = open_box();
  const std::uint32_t a = append(*box, letter);
  const std::uint32_t b = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const std::string path_a = box->file_path(a);
  const std::uint64_t modseq = box->highest_modseq();
  const std::vector<std::uint32_t> uids = {a, 99};
  ASSERT_FALSE(box->expunge(uids));
  EXPECT_FALSE(std::filesystem::exists(path_a));
  EXPECT_GT(box->highest_modseq(), modseq);
  EXPECT_EQ(uids_of(*box), (std::vector<std::uint32_t>{b}));  // at once, as after a sync
  ASSERT_FALSE(box->sync(report));
  EXPECT_TRUE(report.expunged.empty());
  EXPECT_EQ(uids_of(*box), (std::vector<std::uint32_t>{b}));
  EXPECT_EQ(box->uid_next(), 3U);  // UIDs are never reused
  EXPECT_EQ(index_text().find("\n1 "), std::string::npos);
}

TEST_F(mailbox_fixture, a_file_deleted_by_another_program_leaves_the_view) {
  auto box = open_box();
  const std::uint32_t a = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  std::filesystem::remove(box->file_path(a));
  ASSERT_FALSE(box->sync(report));
  EXPECT_EQ(report.expunged, (std::vector<std::uint32_t>{a}));
  EXPECT_TRUE(box->messages().empty());
}

TEST_F(mailbox_fixture, copy_to_gives_new_uids_in_the_target) {
  auto source = open_box();
  auto target = open_box(dir_.path() + "/Maildir/.Archive");
  ASSERT_TRUE(target);
  append(*target, "existing\r\n");
  const std::vector<std::string> keywords = {"$Important"};
  std::uint32_t a = 0;
  ASSERT_FALSE(source->append("first\r\n", flag_seen, keywords, 1'600'000'000'000, a));
  const std::uint32_t b = append(*source, "second\r\n", flag_flagged);
  std::vector<std::uint32_t> new_uids;
  const std::vector<std::uint32_t> uids = {b, a};
  ASSERT_FALSE(source->copy_to(uids, *target, new_uids));
  EXPECT_EQ(new_uids, (std::vector<std::uint32_t>{2, 3}));
  sync_report report;
  ASSERT_FALSE(target->sync(report));
  ASSERT_EQ(target->messages().size(), 3U);
  std::string bytes;
  ASSERT_FALSE(target->read(2, bytes));
  EXPECT_EQ(bytes, "second\r\n");
  ASSERT_FALSE(target->read(3, bytes));
  EXPECT_EQ(bytes, "first\r\n");
  EXPECT_EQ(target->messages()[1].flags, flag_flagged);
  EXPECT_EQ(target->messages()[2].flags, flag_seen);
  EXPECT_EQ(target->messages()[2].keywords, keywords);
  EXPECT_EQ(target->messages()[2].internal_date_ms, 1'600'000'000'000);
  // The source is unchanged.
  ASSERT_FALSE(source->sync(report));
  EXPECT_EQ(source->messages().size(), 2U);
}

TEST_F(mailbox_fixture, a_deleted_index_gives_a_strictly_greater_uid_validity) {
  auto box = open_box();
  append(*box, letter);
  const std::uint32_t old_validity = box->uid_validity();
  box.reset();
  std::filesystem::remove(folder_ + "/mailsim-index");
  // The clock has not moved: the recorded UIDVALIDITY, not the clock, makes it greater.
  auto again = open_box();
  EXPECT_GT(again->uid_validity(), old_validity);
  EXPECT_EQ(uids_of(*again), (std::vector<std::uint32_t>{1}));
  // An object that was open sees the change as "everything expunged, everything added".
  auto third = open_box();
  std::filesystem::remove(folder_ + "/mailsim-index");
  sync_report report;
  ASSERT_FALSE(third->sync(report));
  EXPECT_GT(third->uid_validity(), again->uid_validity());
  EXPECT_EQ(report.expunged, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(report.added, 1U);
}

TEST_F(mailbox_fixture, a_corrupt_index_is_treated_as_missing) {
  auto box = open_box();
  append(*box, letter);
  append(*box, letter);
  const std::string good = index_text();
  std::uint32_t validity = box->uid_validity();
  box.reset();
  const std::vector<std::string> damaged = {
      good.substr(0, good.size() - 5),                        // truncated inside the last line
      good.substr(0, good.rfind('\n', good.size() - 2) + 1),  // a whole line missing
      "garbage\n\x01\x02\xff",                                // not an index at all
      "",                                                     // empty
      good + "3 1 0 x - \n",                                  // an extra line with an empty field
  };
  for (const auto& text : damaged) {
    write_file(folder_ + "/mailsim-index", text);
    auto again = open_box();
    ASSERT_TRUE(again);
    EXPECT_GT(again->uid_validity(), validity) << text;
    EXPECT_EQ(again->messages().size(), 2U);
    validity = again->uid_validity();
  }
}

TEST_F(mailbox_fixture, uid_next_never_goes_back_after_a_crash) {
  auto box = open_box();
  append(*box, letter);
  append(*box, letter);
  const std::string before_delivery = index_text();
  deliver("1700000100.M0P1Q1.mx,S=24");
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  ASSERT_EQ(uids_of(*box), (std::vector<std::uint32_t>{1, 2, 3}));
  const std::string moved = name_of(*box, 2);

  // Index written, rename new/ → cur/ lost: the file is back in new/, it keeps UID 3.
  std::filesystem::rename(folder_ + "/cur/" + moved, folder_ + "/new/1700000100.M0P1Q1.mx,S=24");
  auto reopened = open_box();
  EXPECT_EQ(uids_of(*reopened), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(reopened->uid_next(), 4U);

  // Rename done, index write lost: the old index comes back. A fresh session gives the file
  // the UID the lost write would have; the session that saw UIDNEXT 4 never goes below it.
  write_file(folder_ + "/mailsim-index", before_delivery);
  ASSERT_FALSE(box->sync(report));
  EXPECT_GE(box->uid_next(), 4U);
  for (const auto& entry : box->messages()) EXPECT_LT(entry.uid, box->uid_next());
  auto fresh = open_box();
  EXPECT_EQ(fresh->uid_next(), box->uid_next());
  EXPECT_EQ(fresh->messages().size(), 3U);
}

TEST_F(mailbox_fixture, index_and_file_disagree_after_a_crash_in_set_flags) {
  auto box = open_box();
  const std::uint32_t uid = append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  const std::string original = name_of(*box, 0);
  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> uids = {uid};
  ASSERT_FALSE(box->set_flags(uids, flag_op::add, flag_seen, {}, 0, modified));
  const std::uint64_t modseq = box->highest_modseq();
  // The rename is undone, as if the crash came between index write and rename.
  std::filesystem::rename(box->file_path(uid), folder_ + "/cur/" + original);
  auto fresh = open_box();
  ASSERT_EQ(fresh->messages().size(), 1U);
  EXPECT_EQ(fresh->messages()[0].flags, 0);
  EXPECT_GT(fresh->messages()[0].modseq, modseq);
}

TEST_F(mailbox_fixture, refuses_index_lines_over_the_limit) {
  auto box = open_box();
  const std::uint32_t uid = append(*box, letter);
  std::vector<std::string> keywords;
  keywords.reserve(1000);
  for (int i = 0; i < 1000; ++i) keywords.push_back("keyword" + std::to_string(i));
  std::vector<std::uint32_t> modified;
  const std::vector<std::uint32_t> uids = {uid};
  EXPECT_EQ(box->set_flags(uids, flag_op::add, 0, keywords, 0, modified), errc::limit_exceeded);
  std::uint32_t refused = 0;
  EXPECT_EQ(box->append(letter, 0, keywords, 0, refused), errc::limit_exceeded);
  EXPECT_TRUE(names_in(folder_ + "/tmp").empty());
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  EXPECT_EQ(box->messages().size(), 1U);
  EXPECT_TRUE(box->messages()[0].keywords.empty());
}

TEST_F(mailbox_fixture, two_processes_appending_at_once_never_share_a_uid) {
  ASSERT_TRUE(open_box());
  constexpr int per_process = 40;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child's own session; it reports through its exit status only.
    std::error_code error;
    auto box = mailbox::open(folder_, false, clock_, error);
    int failures = box ? 0 : 1;
    for (int i = 0; box && i < per_process; ++i) {
      std::uint32_t uid = 0;
      if (box->append("child\r\n", 0, {}, 0, uid)) ++failures;
    }
    ::_exit(failures == 0 ? 0 : 1);
  }
  auto box = open_box();
  std::vector<std::uint32_t> mine;
  mine.reserve(per_process);
  for (int i = 0; i < per_process; ++i) mine.push_back(append(*box, "parent\r\n"));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  ASSERT_EQ(box->messages().size(), 2U * per_process);
  EXPECT_EQ(box->uid_next(), 2U * per_process + 1);
  int parents = 0;
  for (const auto& entry : box->messages()) {
    std::string bytes;
    ASSERT_FALSE(box->read(entry.uid, bytes));
    if (bytes == "parent\r\n") {
      ++parents;
      EXPECT_NE(std::find(mine.begin(), mine.end(), entry.uid), mine.end());
    }
  }
  EXPECT_EQ(parents, per_process);
}

TEST_F(mailbox_fixture, rereads_the_index_when_the_file_changed) {
  auto box = open_box();
  append(*box, letter);
  sync_report report;
  ASSERT_FALSE(box->sync(report));
  EXPECT_FALSE(report.flags_changed);
  const std::string text = index_text();
  // "mailsim-index 1 <validity> 2 1 <generation 2> 1\n<uid 1> …" edited in place to add a
  // keyword, generation unchanged: the file is not the one the session read, so it rereads.
  write_file(folder_ + "/mailsim-index", text.substr(0, text.size() - 1) + " hand\n");
  ASSERT_FALSE(box->sync(report));
  EXPECT_TRUE(report.flags_changed);
  EXPECT_EQ(box->messages()[0].keywords, (std::vector<std::string>{"hand"}));
  ASSERT_FALSE(box->sync(report));
  EXPECT_FALSE(report.flags_changed);
}

TEST_F(mailbox_fixture, a_held_index_lock_makes_changes_wait_then_fail) {
  // Exercised through the lock file the contract names, as another process would hold it.
  auto box = open_box();
  std::error_code error;
  auto held = folder_lock::try_acquire(folder_ + "/mailsim-index.lock", error);
  ASSERT_TRUE(held);
  sync_report report;
  EXPECT_EQ(box->sync(report), errc::locked);
  held.reset();
  EXPECT_FALSE(box->sync(report));
}

}  // namespace
}  // namespace mailsim::store
