#include "simulator/world/population.hpp"

#include <cmath>
#include <charconv>
#include <numeric>

#include "reference-server/policy/common.hpp"

namespace mailsim::sim::world {

const char* to_string(mailbox_state s) {
  switch (s) {
    case mailbox_state::valid:
      return "valid";
    case mailbox_state::unknown:
      return "unknown";
    case mailbox_state::disabled:
      return "disabled";
    case mailbox_state::full:
      return "full";
    case mailbox_state::bounce_later:
      return "bounce_later";
    case mailbox_state::pristine_trap:
      return "pristine_trap";
    case mailbox_state::recycled_trap:
      return "recycled_trap";
    case mailbox_state::catch_all:
      return "catch_all";
    case mailbox_state::role:
      return "role";
  }
  return "?";
}

// "u" and the index in at least six digits: written by hand, as addresses are made for every
// message a workload sends (snprintf was a visible part of a long run's profile).
std::string local_part_of(std::size_t index) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
  const auto length = static_cast<std::size_t>(end - digits);
  std::string out = "u";
  if (length < 6) out.append(6 - length, '0');
  out.append(digits, length);
  return out;
}

population::population(std::vector<std::string> domains, const mailbox_spec& spec)
    : catch_all_(spec.catch_all), trap_domain_(spec.trap_domain) {
  for (auto& d : domains) domains_.push_back(policy::to_lower(d));
  if (trap_domain_) return;  // nothing generated: every address is a trap
  for (const auto& r : spec.roles) roles_.push_back(policy::to_lower(r));
  const std::size_t valid = spec.valid;
  const std::size_t counts[7] = {valid,
                                 spec.unknown.resolve(valid),
                                 spec.disabled.resolve(valid),
                                 spec.full.resolve(valid),
                                 spec.bounce_later.resolve(valid),
                                 spec.pristine_traps,
                                 spec.recycled_traps};
  std::size_t end = 0;
  for (std::size_t k = 0; k < 7; ++k) {
    end += counts[k];
    ends_[k] = end;
  }
  total_ = end;
  // A stride coprime with n makes (i × stride) mod n a permutation of the positions.
  if (total_ > 1) {
    stride_ = static_cast<std::size_t>(std::llround(0.618 * static_cast<double>(total_)));
    if (stride_ == 0) stride_ = 1;
    while (std::gcd(stride_, total_) != 1) ++stride_;
  }
}

std::size_t population::count(mailbox_state s) const {
  const auto k = static_cast<std::size_t>(s);
  if (k >= 7) return 0;
  return ends_[k] - (k == 0 ? 0 : ends_[k - 1]);
}

mailbox_state population::state_at(std::size_t index) const {
  // Positions fit in 64 bits for any population that fits in memory (n < 2^32).
  const std::uint64_t position =
      (static_cast<std::uint64_t>(index - 1) * stride_) % static_cast<std::uint64_t>(total_);
  std::size_t k = 0;
  while (k < 6 && position >= ends_[k]) ++k;
  const auto s = static_cast<mailbox_state>(k);
  if (s == mailbox_state::unknown && catch_all_) return mailbox_state::catch_all;
  return s;
}

std::optional<std::size_t> population::domain_index(std::string_view domain) const {
  // A provider has a handful of domains: a scan of a vector is the fastest lookup.
  for (std::size_t i = 0; i < domains_.size(); ++i) {
    if (policy::iequals(domains_[i], domain)) return i;
  }
  return std::nullopt;
}

bool population::has_domain(std::string_view domain) const {
  return domain_index(domain).has_value();
}

namespace {

// The index named by a generated local part, or 0 when the text is not one.
std::size_t index_of(std::string_view local) {
  if (local.size() < 7 || (local[0] != 'u' && local[0] != 'U')) return 0;
  const std::string_view digits = local.substr(1);
  if (digits.size() > 6 && digits[0] == '0') return 0;  // one spelling per index
  if (digits.size() > 12) return 0;
  std::size_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

}  // namespace

std::optional<mailbox_state> population::lookup(std::string_view address) const {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  if (!domain_index(address.substr(at + 1))) return std::nullopt;
  if (trap_domain_) return mailbox_state::pristine_trap;
  const std::string_view local = address.substr(0, at);
  for (const std::string& r : roles_) {
    if (policy::iequals(r, local)) return mailbox_state::role;
  }
  const std::size_t index = index_of(local);
  if (index >= 1 && index <= total_) return state_at(index);
  return catch_all_ ? mailbox_state::catch_all : mailbox_state::unknown;
}

std::string population::address(std::size_t domain, std::size_t index) const {
  return local_part_of(index) + "@" + domains_.at(domain);
}

}  // namespace mailsim::sim::world
