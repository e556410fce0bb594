#include "tests/support/fake_resolver.hpp"

#include <algorithm>
#include <cctype>

namespace mailsim::test {

namespace {

// The table's key for a name: lower case, no trailing dot.
std::string key_of(const std::string& name) {
  std::string key = name;
  if (!key.empty() && key.back() == '.') key.pop_back();
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return key;
}

}  // namespace

void fake_resolver::set(const std::string& name, core::rr_type type, core::dns_answer answer) {
  answers_[{key_of(name), type}] = std::move(answer);
}

void fake_resolver::add(const std::string& name, core::rr_type type, std::string record) {
  core::dns_answer& answer = answers_[{key_of(name), type}];
  answer.status = core::dns_status::ok;
  answer.records.push_back(std::move(record));
}

void fake_resolver::add_mx(const std::string& name, std::uint16_t preference,
                           std::string exchange) {
  core::dns_answer& answer = answers_[{key_of(name), core::rr_type::mx}];
  answer.status = core::dns_status::ok;
  answer.mx.push_back({preference, key_of(exchange)});
}

void fake_resolver::fail(const std::string& name, core::dns_status status) {
  failures_[key_of(name)] = status;
}

void fake_resolver::clear_failure(const std::string& name) { failures_.erase(key_of(name)); }

void fake_resolver::remove(const std::string& name) {
  const std::string key = key_of(name);
  std::erase_if(answers_, [&](const auto& entry) { return entry.first.first == key; });
  failures_.erase(key);
}

void fake_resolver::set_delay(const std::string& name, core::duration_ms delay) {
  delays_[key_of(name)] = delay;
}

core::dns_answer fake_resolver::lookup(const std::string& key, core::rr_type type) const {
  if (auto failure = failures_.find(key); failure != failures_.end()) {
    core::dns_answer answer;
    answer.status = failure->second;
    return answer;
  }
  if (auto it = answers_.find({key, type}); it != answers_.end()) return it->second;
  core::dns_answer answer;
  const bool name_exists = std::any_of(answers_.begin(), answers_.end(),
                                       [&](const auto& entry) { return entry.first.first == key; });
  answer.status = name_exists ? core::dns_status::nodata : core::dns_status::nxdomain;
  return answer;
}

void fake_resolver::resolve(const std::string& name, core::rr_type type,
                            std::function<void(const core::dns_answer&)> on_answer) {
  log_.push_back({name, type, loop_.now()});
  const std::string key = key_of(name);
  auto deliver = [answer = lookup(key, type), on_answer = std::move(on_answer)] {
    on_answer(answer);
  };
  auto delay = delays_.find(key);
  const core::duration_ms wait = delay != delays_.end() ? delay->second : delay_;
  if (wait.count() > 0) {
    loop_.schedule(loop_.now() + wait, std::move(deliver));
  } else {
    loop_.post(std::move(deliver));
  }
}

std::size_t fake_resolver::query_count(const std::string& name, core::rr_type type) const {
  const std::string key = key_of(name);
  return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), [&](const query& q) {
    return q.type == type && key_of(q.name) == key;
  }));
}

}  // namespace mailsim::test
