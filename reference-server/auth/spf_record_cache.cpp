// spf_record_cache: parsed SPF records by their text, least recently used out first.
#include <list>
#include <string>
#include <unordered_map>

#include "reference-server/auth/spf_record.hpp"

namespace mailsim::auth {

struct spf_record_cache::impl {
  struct entry {
    std::string text;
    std::shared_ptr<const spf_parse_result> parsed;
  };

  std::size_t entries_max;
  std::size_t hits = 0;
  std::list<entry> order;  // most recently used first
  // Keys are views of entry::text: list nodes never move.
  std::unordered_map<std::string_view, std::list<entry>::iterator> by_text;
};

spf_record_cache::spf_record_cache(std::size_t entries_max) : impl_(std::make_unique<impl>()) {
  impl_->entries_max = entries_max;
}

spf_record_cache::~spf_record_cache() = default;

std::shared_ptr<const spf_parse_result> spf_record_cache::parse(std::string_view text,
                                                                const spf_record_limits& limits) {
  impl& c = *impl_;
  const bool keep = c.entries_max > 0 && text.size() <= limits.record_bytes_max;
  if (!keep) return std::make_shared<const spf_parse_result>(parse_spf_record(text, limits));
  if (auto it = c.by_text.find(text); it != c.by_text.end()) {
    c.order.splice(c.order.begin(), c.order, it->second);
    ++c.hits;
    return it->second->parsed;
  }
  auto parsed = std::make_shared<const spf_parse_result>(parse_spf_record(text, limits));
  c.order.push_front({std::string(text), parsed});
  c.by_text.emplace(c.order.front().text, c.order.begin());
  if (c.order.size() > c.entries_max) {
    c.by_text.erase(c.order.back().text);
    c.order.pop_back();
  }
  return parsed;
}

std::size_t spf_record_cache::size() const {
  return impl_->order.size();
}

std::size_t spf_record_cache::hits() const {
  return impl_->hits;
}

}  // namespace mailsim::auth
