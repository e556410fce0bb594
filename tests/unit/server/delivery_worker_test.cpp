#include "reference-server/server/delivery_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace mailsim::server {
namespace {

using namespace std::chrono_literals;

// Counts what the worker asks of it; every delivery succeeds.
class counting_store final : public store::mailbox_store {
 public:
  std::vector<store::delivery_result> commit_batch(
      std::span<const store::delivery_request> batch) override {
    commits += batch.size();
    return std::vector<store::delivery_result>(batch.size());
  }
  std::error_code checkpoint() override {
    ++checkpoints;
    return {};
  }
  store::quota_state quota_check(const store::user_account&, std::uint64_t) override {
    return store::quota_state::ok;
  }

  std::atomic<std::size_t> commits{0};
  std::atomic<std::size_t> checkpoints{0};
};

// Polls for a condition the worker thread brings about, for at most a few seconds: the test
// checks that it happens, not how fast.
template <typename Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 500 && !condition(); ++i) std::this_thread::sleep_for(10ms);
  return condition();
}

TEST(delivery_worker, checkpoints_once_idle_after_a_commit_and_not_before_any) {
  counting_store store;
  std::atomic<int> done{0};
  delivery_worker worker(store, [](std::function<void()> f) { f(); }, 100, 20ms);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(store.checkpoints, 0u);  // nothing committed yet: nothing to checkpoint
  ASSERT_TRUE(worker.submit({"m", "", {"a@example.com"}}, [&](auto) { ++done; }));
  ASSERT_TRUE(eventually([&] { return store.checkpoints == 1; }));
  EXPECT_EQ(done, 1);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(store.checkpoints, 1u);  // idle since: no second checkpoint
}

TEST(delivery_worker, checkpoints_when_it_stops) {
  counting_store store;
  {
    delivery_worker worker(store, [](std::function<void()> f) { f(); }, 100, 1h);
    ASSERT_TRUE(worker.submit({"m", "", {"a@example.com"}}, [](auto) {}));
    ASSERT_TRUE(eventually([&] { return store.commits == 1; }));
    EXPECT_EQ(store.checkpoints, 0u);
  }
  EXPECT_EQ(store.checkpoints, 1u);
}

}  // namespace
}  // namespace mailsim::server
