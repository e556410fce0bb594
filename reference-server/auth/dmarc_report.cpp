// The per-source counters behind DMARC aggregate reports (RFC 7489 §7.2, Appendix C): one
// row per policy domain, source address, From domain and evaluated policy.
#include <iterator>
#include <string>

#include "reference-server/auth/dmarc.hpp"

namespace mailsim::auth {
namespace {

// The row key: the text fields cannot hold NUL, so NUL separates them unambiguously.
std::string key_of(const dmarc_report_row& r) {
  std::string key = r.policy_domain;
  key += '\0';
  key += r.source_ip;
  key += '\0';
  key += r.header_from;
  key += '\0';
  key += static_cast<char>('0' + static_cast<int>(r.disposition));
  key += r.dkim_aligned ? 'd' : '-';
  key += r.spf_aligned ? 's' : '-';
  key += r.sampled_out ? 'o' : '-';
  return key;
}

}  // namespace

bool dmarc_report_counters::record(std::string_view source_ip, const dmarc_outcome& outcome) {
  if (!outcome.record ||
      (outcome.status != dmarc_status::pass && outcome.status != dmarc_status::fail))
    return false;
  if (rows_max_ == 0) {
    ++dropped_messages_;
    return false;
  }
  dmarc_report_row row;
  row.policy_domain = outcome.policy_domain;
  row.source_ip = std::string(source_ip);
  row.header_from = outcome.header_from;
  row.disposition = outcome.disposition;
  row.dkim_aligned = outcome.dkim_aligned;
  row.spf_aligned = outcome.spf_aligned;
  row.sampled_out = outcome.sampled_out;
  std::string key = key_of(row);
  auto found = index_.find(key);
  if (found != index_.end()) {
    ++found->second->count;
    rows_.splice(rows_.end(), rows_, found->second);  // now the most recently counted
    return true;
  }
  if (rows_.size() >= rows_max_) {
    ++dropped_rows_;
    dropped_messages_ += rows_.front().count;
    index_.erase(key_of(rows_.front()));
    rows_.pop_front();
  }
  row.count = 1;
  rows_.push_back(std::move(row));
  index_.emplace(std::move(key), std::prev(rows_.end()));
  return true;
}

std::vector<dmarc_report_row> dmarc_report_counters::rows() const {
  return {rows_.begin(), rows_.end()};
}

std::vector<dmarc_report_row> dmarc_report_counters::rows_for(
    std::string_view policy_domain) const {
  std::vector<dmarc_report_row> out;
  for (const dmarc_report_row& r : rows_) {
    if (r.policy_domain == policy_domain) out.push_back(r);
  }
  return out;
}

void dmarc_report_counters::clear() {
  rows_.clear();
  index_.clear();
  dropped_rows_ = 0;
  dropped_messages_ = 0;
}

}  // namespace mailsim::auth
