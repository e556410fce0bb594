// Test double: a core::resolver that answers from a table, through a manual_loop.
//
// Contract: resolve() never answers re-entrantly: the answer is posted to the loop (or, with
// a delay, scheduled on it). Names match case-insensitively, a trailing dot ignored (DNS
// names are case-insensitive, RFC 4343). For a name with no entry at all the answer is
// nxdomain; for a name that has entries of other types only, nodata; fail() makes every
// query for a name servfail or timeout. An answer set with set() is returned as given. The
// table may change between queries; each query sees the table as it was when asked.
// Every query is counted and logged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/core/resolver.hpp"
#include "tests/support/manual_loop.hpp"

namespace mailsim::test {

class fake_resolver final : public core::resolver {
 public:
  struct query {
    std::string name;  // as asked
    core::rr_type type;
    core::time_point at;
  };

  explicit fake_resolver(manual_loop& loop) : loop_(loop) {}

  // The whole answer for (name, type).
  void set(const std::string& name, core::rr_type type, core::dns_answer answer);
  // Adds one record (A/AAAA address, PTR/CNAME name, TXT text) to an ok answer.
  void add(const std::string& name, core::rr_type type, std::string record);
  void add_mx(const std::string& name, std::uint16_t preference, std::string exchange);
  // Every query for `name` (any type) gets `status` (servfail or timeout); clear_failure undoes.
  void fail(const std::string& name, core::dns_status status);
  void clear_failure(const std::string& name);
  // Forgets every entry and failure of `name`: it no longer exists (nxdomain).
  void remove(const std::string& name);

  // Answers come this long after the query (default 0: on the loop's next turn).
  void set_delay(core::duration_ms delay) { delay_ = delay; }
  void set_delay(const std::string& name, core::duration_ms delay);

  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> on_answer) override;

  std::size_t query_count() const { return log_.size(); }
  std::size_t query_count(const std::string& name, core::rr_type type) const;
  const std::vector<query>& queries() const { return log_; }

 private:
  core::dns_answer lookup(const std::string& key, core::rr_type type) const;

  manual_loop& loop_;
  std::map<std::pair<std::string, core::rr_type>, core::dns_answer> answers_;
  std::map<std::string, core::dns_status> failures_;
  std::map<std::string, core::duration_ms> delays_;
  core::duration_ms delay_{0};
  std::vector<query> log_;
};

}  // namespace mailsim::test
