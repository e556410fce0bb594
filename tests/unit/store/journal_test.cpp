#include "reference-server/store/journal.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/error.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

constexpr std::uint64_t page = delivery_journal::page_bytes;
constexpr std::uint64_t first_record = delivery_journal::header_bytes;

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

class journal_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::error_code error;
    dir_fd_ = fs::open_directory(AT_FDCWD, dir_.path(), error);
    ASSERT_FALSE(error);
  }

  std::unique_ptr<delivery_journal> open(std::uint64_t size = delivery_journal::size_min) {
    auto journal = std::make_unique<delivery_journal>(random_);
    const auto error = journal->open(dir_fd_.get(), "journal", size);
    EXPECT_FALSE(error) << error.message();
    return journal;
  }

  // A journal opened afresh, as after a crash: the payloads it replays.
  std::vector<std::string> reopen_and_replay() {
    journal_.reset();
    journal_ = open();
    std::vector<std::string> out;
    EXPECT_FALSE(journal_->replay([&](std::string_view p) { out.emplace_back(p); }));
    return out;
  }

  void overwrite(std::uint64_t offset, std::string_view bytes) {
    fs::unique_fd fd(::openat(dir_fd_.get(), "journal", O_WRONLY | O_CLOEXEC));
    ASSERT_FALSE(fs::write_at(fd.get(), bytes, offset));
  }

  std::string path() const { return dir_.path() + "/journal"; }

  test::temp_dir dir_;
  fs::unique_fd dir_fd_;
  core::splitmix_random random_{7};
  std::unique_ptr<delivery_journal> journal_;
};

TEST_F(journal_fixture, a_new_journal_is_zero_filled_whole_pages) {
  journal_ = open(delivery_journal::size_min + 1);
  EXPECT_EQ(journal_->size_bytes(), delivery_journal::size_min + page);
  EXPECT_EQ(std::filesystem::file_size(path()), delivery_journal::size_min + page);
  const std::string bytes = test::read_file(path());
  EXPECT_EQ(bytes.find_first_not_of('\0', first_record), std::string::npos);
  EXPECT_TRUE(journal_->empty());
  EXPECT_FALSE(std::filesystem::exists(path() + ".new"));
}

TEST_F(journal_fixture, records_come_back_in_order_after_a_reopen) {
  journal_ = open();
  EXPECT_FALSE(journal_->replay([](std::string_view) { FAIL() << "a fresh journal is empty"; }));
  const std::string big(5000, 'b');  // spans two pages
  ASSERT_FALSE(journal_->append("one"));
  ASSERT_FALSE(journal_->append(big));
  EXPECT_EQ(reopen_and_replay(), (std::vector<std::string>{"one", big}));
  EXPECT_FALSE(journal_->empty());
  ASSERT_FALSE(journal_->append("three"));  // after the replayed ones, not over them
  EXPECT_EQ(reopen_and_replay(), (std::vector<std::string>{"one", big, "three"}));
  EXPECT_EQ(std::filesystem::file_size(path()), delivery_journal::size_min);  // never grows
}

TEST_F(journal_fixture, reset_forgets_what_came_before) {
  journal_ = open();
  const std::uint64_t generation = journal_->generation();
  ASSERT_FALSE(journal_->append("old"));
  ASSERT_FALSE(journal_->reset());
  EXPECT_TRUE(journal_->empty());
  EXPECT_EQ(journal_->generation(), generation + 1);
  ASSERT_FALSE(journal_->append("new"));
  EXPECT_EQ(reopen_and_replay(), std::vector<std::string>{"new"});
  EXPECT_EQ(journal_->generation(), generation + 1);
}

TEST_F(journal_fixture, a_damaged_record_ends_the_replay) {
  journal_ = open();
  for (const char* payload : {"first", "second", "third"}) ASSERT_FALSE(journal_->append(payload));
  overwrite(first_record + page + delivery_journal::record_head_bytes + 2, "X");
  EXPECT_EQ(reopen_and_replay(), std::vector<std::string>{"first"});
}

// Mail is written into the journal verbatim, so a sender can shape bytes like a record of the
// next generation at a page boundary where a later, shorter record ends. Without the salt of
// that generation its checksum cannot be right.
TEST_F(journal_fixture, a_record_forged_inside_a_message_is_not_replayed) {
  journal_ = open();
  const std::uint64_t next = journal_->generation() + 1;
  std::string forged = le(0x524a534d, 4) + le(0, 4) + le(next, 8) + le(4, 8);
  forged += le(content_checksum(le(0, 8) + forged, "evil"), 8) + "evil";  // salt 0
  std::string message(page - delivery_journal::record_head_bytes, 'm');
  ASSERT_FALSE(journal_->append(message + forged));  // the forgery starts the second page
  ASSERT_FALSE(journal_->reset());
  ASSERT_FALSE(journal_->append("honest"));  // one page: the next record would be there
  EXPECT_EQ(reopen_and_replay(), std::vector<std::string>{"honest"});
}

TEST_F(journal_fixture, a_torn_header_slot_leaves_the_other_in_charge) {
  journal_ = open();
  ASSERT_FALSE(journal_->append("a"));
  ASSERT_FALSE(journal_->reset());
  ASSERT_FALSE(journal_->append("b"));
  const std::uint64_t newest = journal_->generation();
  overwrite((newest - 1) % 2 * page + 10, "torn");  // the older slot
  EXPECT_EQ(reopen_and_replay(), std::vector<std::string>{"b"});
  EXPECT_EQ(journal_->generation(), newest);
  overwrite(newest % 2 * page + 10, "torn");  // now the newest: its records are not trusted
  EXPECT_TRUE(reopen_and_replay().empty());
  EXPECT_NE(journal_->generation(), newest);
}

TEST_F(journal_fixture, a_record_that_does_not_fit_is_refused) {
  journal_ = open();
  const std::uint64_t room = delivery_journal::size_min - first_record;
  EXPECT_FALSE(journal_->could_fit(room));
  EXPECT_TRUE(journal_->could_fit(room - delivery_journal::record_head_bytes));
  EXPECT_EQ(journal_->append(std::string(room, 'x')), errc::limit_exceeded);
  std::size_t appended = 0;
  while (journal_->fits(100)) {
    ASSERT_FALSE(journal_->append("x"));
    ++appended;
  }
  EXPECT_EQ(appended, room / page);
  EXPECT_EQ(journal_->append("x"), errc::limit_exceeded);
  ASSERT_FALSE(journal_->reset());
  EXPECT_TRUE(journal_->fits(100));
}

TEST_F(journal_fixture, one_journal_per_file) {
  journal_ = open();
  delivery_journal second(random_);
  EXPECT_EQ(second.open(dir_fd_.get(), "journal", delivery_journal::size_min),
            std::errc::resource_unavailable_try_again);
}

TEST_F(journal_fixture, a_cut_file_is_refused) {
  test::write_file(path(), std::string(1000, '\0'));
  delivery_journal journal(random_);
  EXPECT_EQ(journal.open(dir_fd_.get(), "journal", delivery_journal::size_min), errc::damaged);
}

TEST(journal_message, round_trips_and_refuses_a_cut_payload) {
  std::string payload;
  append_journal_message(payload, {{"a/tmp/1", "b/tmp/2"}, "trace\r\n", "body\r\n"});
  append_journal_message(payload, {{"c/tmp/3"}, "", std::string(70000, 'z')});
  std::vector<std::string> seen;
  EXPECT_TRUE(read_journal_messages(payload, [&](const journal_message& m) {
    std::string line;
    for (const auto p : m.paths) line += std::string(p) + " ";
    seen.push_back(line + std::string(m.trace) + std::to_string(m.message.size()));
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a/tmp/1 b/tmp/2 trace\r\n6", "c/tmp/3 70000"}));
  for (std::size_t cut = 1; cut < 40; ++cut) {
    std::size_t calls = 0;
    EXPECT_FALSE(read_journal_messages(std::string_view(payload).substr(0, cut),
                                       [&](const journal_message&) { ++calls; }))
        << cut;
    EXPECT_EQ(calls, 0u);
  }
}

}  // namespace
}  // namespace mailsim::store
