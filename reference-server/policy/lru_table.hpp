// mailsim::policy lru_table — a bounded map from text keys to small values that forgets the
// least recently used entry when full. Greylisting and rate windows keep per-client state
// in it, so that a flood of new clients costs at most `entries_max` entries.
//
// Contract: find() and insert() make the entry the most recent; peek() does not. insert()
// on a full table evicts the least recent entry first and counts it (evictions()). Keys are
// stored once (the index holds views of the list's keys, which never move). Not
// thread-safe; no I/O.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mailsim::policy {

template <class V>
class lru_table {
 public:
  explicit lru_table(std::size_t entries_max) : entries_max_(entries_max) {}
  lru_table(const lru_table&) = delete;
  lru_table& operator=(const lru_table&) = delete;

  V* find(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  const V* peek(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }

  // Inserts or replaces; returns the stored value. A table of size 0 stores nothing and
  // returns a scratch value.
  V& insert(std::string key, V value) {
    if (V* existing = find(key)) return *existing = std::move(value);
    if (entries_max_ == 0) return scratch_ = std::move(value);
    if (order_.size() >= entries_max_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++evictions_;
    }
    order_.emplace_front(std::move(key), std::move(value));
    index_.emplace(order_.front().first, order_.begin());
    return order_.front().second;
  }

  void erase(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    auto node = it->second;
    index_.erase(it);
    order_.erase(node);
  }

  // Removes every entry for which pred(key, value) holds; returns how many.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::size_t removed = 0;
    for (auto it = order_.begin(); it != order_.end();) {
      if (!pred(it->first, it->second)) {
        ++it;
        continue;
      }
      index_.erase(it->first);
      it = order_.erase(it);
      ++removed;
    }
    return removed;
  }

  // Visits entries from the least recent to the most recent: the order that, inserted
  // again one by one, rebuilds the same recency.
  template <class F>
  void for_each_oldest_first(F f) const {
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) f(it->first, it->second);
  }

  std::size_t size() const { return order_.size(); }
  std::size_t evictions() const { return evictions_; }
  std::size_t entries_max() const { return entries_max_; }

 private:
  using node_list = std::list<std::pair<std::string, V>>;
  std::size_t entries_max_;
  node_list order_;  // most recent first
  std::unordered_map<std::string_view, typename node_list::iterator> index_;
  std::size_t evictions_ = 0;
  V scratch_{};
};

}  // namespace mailsim::policy
