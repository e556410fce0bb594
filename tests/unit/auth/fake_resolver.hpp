// A core::resolver for the auth tests: answers from a map, and only when the test drains its
// queue, so that no callback ever runs inside resolve() (the resolver contract).
// (tests/support will get shared doubles; this one stays local to keep the auth tests
// independent of them.)
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/core/resolver.hpp"

namespace mailsim::auth::test {

class fake_resolver final : public core::resolver {
 public:
  // TXT records at `name` (lower-case, no trailing dot).
  void add_txt(const std::string& name, std::vector<std::string> records) {
    core::dns_answer a;
    a.status = core::dns_status::ok;
    a.records = std::move(records);
    a.ttl_s = 300;
    answers_[name] = std::move(a);
  }
  void set_status(const std::string& name, core::dns_status status) {
    core::dns_answer a;
    a.status = status;
    answers_[name] = std::move(a);
  }

  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> on_answer) override {
    asked_.push_back(name);
    core::dns_answer answer;
    answer.status = core::dns_status::nxdomain;
    auto it = answers_.find(name);
    if (type == core::rr_type::txt && it != answers_.end()) answer = it->second;
    queue_.emplace_back(std::move(on_answer), std::move(answer));
  }

  // Runs the queued callbacks (and any they cause); returns how many ran.
  std::size_t drain() {
    std::size_t n = 0;
    while (!queue_.empty()) {
      auto [callback, answer] = std::move(queue_.front());
      queue_.pop_front();
      callback(answer);
      ++n;
    }
    return n;
  }

  const std::vector<std::string>& asked() const { return asked_; }
  std::size_t pending() const { return queue_.size(); }

 private:
  std::map<std::string, core::dns_answer> answers_;
  std::deque<std::pair<std::function<void(const core::dns_answer&)>, core::dns_answer>> queue_;
  std::vector<std::string> asked_;
};

}  // namespace mailsim::auth::test
