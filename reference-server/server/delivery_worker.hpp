// mailsim::server delivery worker — group commit for the Maildir store.
//
// Contract: submit() queues a delivery and returns at once; the worker thread takes every
// delivery queued so far as one batch, commits it with one durability barrier
// (store::mailbox_store::commit_batch) and hands each result to its callback through
// `post`, i.e. back on the caller's event loop. While one batch commits, the next one
// gathers: under load, batches grow and the cost of a flush is shared (group commit),
// without ever acknowledging before the flush. queue_max bounds what waits; beyond it
// submit() refuses (the session answers 451 4.3.0 and the client retries).
// When no batch has come for `checkpoint_idle` after one was committed, and once more when
// it stops, the worker calls the store's checkpoint(): a journaling store then moves what
// it keeps for crash recovery into place while nobody waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "reference-server/store/store.hpp"

namespace mailsim::server {

class delivery_worker {
 public:
  using done_fn = std::function<void(store::delivery_result)>;
  using post_fn = std::function<void(std::function<void()>)>;

  delivery_worker(store::mailbox_store& store, post_fn post, std::size_t queue_max = 10'000,
                  std::chrono::milliseconds checkpoint_idle = std::chrono::seconds(1));
  ~delivery_worker();  // finishes what was queued, then joins
  delivery_worker(const delivery_worker&) = delete;
  delivery_worker& operator=(const delivery_worker&) = delete;

  // False when the queue is full or the worker is stopping.
  bool submit(store::delivery_request request, done_fn done);
  // Batches committed so far, and requests in them (for logs and benchmarks).
  std::size_t batches() const;
  std::size_t requests() const;

 private:
  struct job {
    store::delivery_request request;
    done_fn done;
  };
  void run();
  // Waits for work; false when stopping with nothing left. Calls checkpoint() when idle.
  bool wait_for_work(std::unique_lock<std::mutex>& lock);

  store::mailbox_store& store_;
  post_fn post_;
  std::size_t queue_max_;
  std::chrono::milliseconds checkpoint_idle_;
  bool committed_since_checkpoint_ = false;  // the worker thread's own
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::size_t batches_ = 0;
  std::size_t requests_ = 0;
  std::thread thread_;
};

}  // namespace mailsim::server
