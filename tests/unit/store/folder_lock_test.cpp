#include "reference-server/store/folder_lock.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "reference-server/store/error.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::store {
namespace {

TEST(folder_lock, creates_the_lock_file_and_holds_it) {
  test::temp_dir dir;
  const std::string path = dir.path() + "/maildrop.lock";
  std::error_code error;
  auto lock = folder_lock::try_acquire(path, error);
  ASSERT_TRUE(lock) << error.message();
  EXPECT_FALSE(error);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  EXPECT_EQ(lock->path(), path);
}

TEST(folder_lock, second_open_fails_while_held_and_succeeds_after_release) {
  test::temp_dir dir;
  const std::string path = dir.path() + "/maildrop.lock";
  std::error_code error;
  auto first = folder_lock::try_acquire(path, error);
  ASSERT_TRUE(first);
  // Same process, a different open file description: flock(2) refuses.
  auto second = folder_lock::try_acquire(path, error);
  EXPECT_FALSE(second);
  EXPECT_EQ(error, errc::locked);
  first.reset();
  second = folder_lock::try_acquire(path, error);
  EXPECT_TRUE(second) << error.message();
  EXPECT_FALSE(error);
  // The lock file stays: removing it would let two sessions lock different files.
  second.reset();
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(folder_lock, bounded_acquire_gives_up_after_its_tries) {
  test::temp_dir dir;
  const std::string path = dir.path() + "/index.lock";
  std::error_code error;
  auto held = folder_lock::try_acquire(path, error);
  ASSERT_TRUE(held);
  auto waiting = folder_lock::acquire(path, 3, 1, error);
  EXPECT_FALSE(waiting);
  EXPECT_EQ(error, errc::locked);
  waiting = folder_lock::acquire(path, 0, 1, error);
  EXPECT_FALSE(waiting);
  EXPECT_EQ(error, errc::locked);
  held.reset();
  waiting = folder_lock::acquire(path, 3, 1, error);
  EXPECT_TRUE(waiting);
}

TEST(folder_lock, reports_a_missing_folder_as_an_os_error) {
  test::temp_dir dir;
  std::error_code error;
  auto lock = folder_lock::try_acquire(dir.path() + "/absent/x.lock", error);
  EXPECT_FALSE(lock);
  EXPECT_EQ(error, std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace mailsim::store
