// core/fifo.hpp: first in, first out, across compactions, erasures and moves.
#include "reference-server/core/fifo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

namespace mailsim::core {
namespace {

std::vector<int> contents(const fifo<int>& q) { return {q.begin(), q.end()}; }

TEST(Fifo, PopsInTheOrderOfPushes) {
  fifo<std::string> q;
  EXPECT_TRUE(q.empty());
  q.push_back("a");
  q.emplace_back("b");
  q.push_back("c");
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.front(), "a");
  EXPECT_EQ(q.back(), "c");
  EXPECT_EQ(q[1], "b");
  q.pop_front();
  EXPECT_EQ(q.front(), "b");
  EXPECT_EQ(q[1], "c");
  q.pop_front();
  q.pop_front();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
}

// Pushes and pops interleaved in uneven runs cross every compaction point; a std::deque
// given the same operations says what the queue must hold after each.
TEST(Fifo, AgreesWithADequeThroughCompactions) {
  fifo<int> q;
  std::deque<int> model;
  int next = 0;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < round % 7 + 1; ++k) {
      q.push_back(next);
      model.push_back(next++);
    }
    for (int k = 0; k < round % 5 && !model.empty(); ++k) {
      ASSERT_EQ(q.front(), model.front());
      q.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(contents(q), std::vector<int>(model.begin(), model.end())) << "round " << round;
  }
  while (!model.empty()) {
    ASSERT_EQ(q.front(), model.front());
    q.pop_front();
    model.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

TEST(Fifo, ErasesFromTheMiddleAndByPredicate) {
  fifo<int> q;
  for (int i = 0; i < 10; ++i) q.push_back(i);
  q.pop_front();
  q.pop_front();                          // 2..9 left
  q.erase(q.begin() + 1);                 // 3 goes
  EXPECT_EQ(contents(q), (std::vector<int>{2, 4, 5, 6, 7, 8, 9}));
  q.erase(std::remove_if(q.begin(), q.end(), [](int v) { return v % 2 == 0; }), q.end());
  EXPECT_EQ(contents(q), (std::vector<int>{5, 7, 9}));
  q.erase(q.begin(), q.end());
  EXPECT_TRUE(q.empty());
  q.push_back(11);
  EXPECT_EQ(contents(q), (std::vector<int>{11}));
}

TEST(Fifo, AQueueMovedFromIsEmptyAndUsable) {
  fifo<int> q;
  for (int i = 0; i < 5; ++i) q.push_back(i);
  q.pop_front();
  fifo<int> taken = std::move(q);
  EXPECT_EQ(contents(taken), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(q.empty());  // NOLINT(bugprone-use-after-move): the contract says so
  EXPECT_EQ(q.size(), 0u);
  q.push_back(7);
  EXPECT_EQ(q.front(), 7);
  fifo<int> other;
  other.push_back(9);
  other.pop_front();
  other = std::move(taken);
  EXPECT_EQ(contents(other), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(taken.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(Fifo, ACopyHoldsTheSameElements) {
  fifo<int> q;
  for (int i = 0; i < 4; ++i) q.push_back(i);
  q.pop_front();
  const fifo<int> copy = q;
  EXPECT_EQ(contents(copy), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(copy.front(), 1);
}

}  // namespace
}  // namespace mailsim::core
