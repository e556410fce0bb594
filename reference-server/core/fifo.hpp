// mailsim::core fifo — a first-in first-out queue in one vector, for the queues that every
// SMTP session and every destination has.
//
// Contract: the elements, oldest first, are [begin(), end()). push_back() adds at the end;
// pop_front() takes the oldest away (its slot is kept, as it was left, until the storage is
// compacted: move the front out before popping it to release what it holds). Nothing is
// allocated before the first push (std::deque allocates twice when it is made, even when it
// stays empty); the vector's storage is kept while elements flow through, and the slots of
// popped elements are dropped when the queue empties, or once they are at least 64 and half
// the vector. Iterators and references are invalidated by push_back(), pop_front(), erase()
// and clear(), as a vector's by its insertions and erasures.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace mailsim::core {

template <class T>
class fifo {
 public:
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  fifo() = default;
  fifo(const fifo&) = default;
  fifo& operator=(const fifo&) = default;
  // A queue moved from is empty.
  fifo(fifo&& other) noexcept
      : items_(std::move(other.items_)), head_(std::exchange(other.head_, 0)) {
    other.items_.clear();
  }
  fifo& operator=(fifo&& other) noexcept {
    items_ = std::move(other.items_);
    head_ = std::exchange(other.head_, 0);
    other.items_.clear();
    return *this;
  }

  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  T& operator[](std::size_t i) { return items_[head_ + i]; }
  const T& operator[](std::size_t i) const { return items_[head_ + i]; }

  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return items_.end(); }

  void push_back(T value) { items_.push_back(std::move(value)); }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  void pop_front() {
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), begin());
      head_ = 0;
    }
  }
  iterator erase(iterator at) { return items_.erase(at); }
  iterator erase(iterator first, iterator last) { return items_.erase(first, last); }
  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace mailsim::core
