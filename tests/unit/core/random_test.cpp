#include "reference-server/core/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mailsim::core {
namespace {

TEST(splitmix_random, same_seed_same_sequence) {
  splitmix_random a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    auto va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
}

TEST(splitmix_random, uniform_stays_in_bounds_and_covers_them) {
  splitmix_random r(7);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto v = r.uniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(splitmix_random, fill_handles_odd_lengths) {
  splitmix_random r(1);
  std::uint8_t buf[13] = {};
  r.fill(buf);
  int zeros = 0;
  for (auto b : buf) zeros += b == 0;
  EXPECT_LT(zeros, 4);
}

}  // namespace
}  // namespace mailsim::core
