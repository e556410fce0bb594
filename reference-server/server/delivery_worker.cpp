#include "reference-server/server/delivery_worker.hpp"

#include <vector>

namespace mailsim::server {

delivery_worker::delivery_worker(store::mailbox_store& store, post_fn post, std::size_t queue_max,
                                 std::chrono::milliseconds checkpoint_idle)
    : store_(store),
      post_(std::move(post)),
      queue_max_(queue_max),
      checkpoint_idle_(checkpoint_idle),
      thread_([this] { run(); }) {}

delivery_worker::~delivery_worker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool delivery_worker::submit(store::delivery_request request, done_fn done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_max_) return false;
    queue_.push_back({std::move(request), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

std::size_t delivery_worker::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::size_t delivery_worker::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool delivery_worker::wait_for_work(std::unique_lock<std::mutex>& lock) {
  const auto ready = [this] { return stopping_ || !queue_.empty(); };
  while (committed_since_checkpoint_ && !wake_.wait_for(lock, checkpoint_idle_, ready)) {
    lock.unlock();
    // A failure leaves the journal as it was; the next idle period tries again.
    committed_since_checkpoint_ = static_cast<bool>(store_.checkpoint());
    lock.lock();
  }
  wake_.wait(lock, ready);
  if (!queue_.empty()) return true;
  lock.unlock();
  if (committed_since_checkpoint_) (void)store_.checkpoint();  // stopping
  return false;
}

void delivery_worker::run() {
  for (;;) {
    std::deque<job> batch;
    {
      std::unique_lock lock(mutex_);
      if (!wait_for_work(lock)) return;  // stopping, and nothing left to commit
      batch.swap(queue_);
    }
    std::vector<store::delivery_request> requests;
    requests.reserve(batch.size());
    for (auto& j : batch) requests.push_back(std::move(j.request));
    std::vector<store::delivery_result> results = store_.commit_batch(requests);
    committed_since_checkpoint_ = true;
    {
      std::lock_guard lock(mutex_);
      ++batches_;
      requests_ += batch.size();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      post_([done = std::move(batch[i].done), result = std::move(results[i])]() mutable {
        done(std::move(result));
      });
    }
  }
}

}  // namespace mailsim::server
