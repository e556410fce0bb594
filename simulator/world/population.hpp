// mailsim::sim::world population — the mailboxes of a provider's domains, generated from a
// mailbox_spec without storing them.
//
// Contract: every domain of a provider gets the same layout of `size()` addresses named
// u000001@domain, u000002@domain, ... (at least six digits, no other leading zeros). Which
// index has which state is a fixed rule: the states are laid out in spec order (valid,
// unknown, disabled, full, bounce_later, pristine_trap, recycled_trap) over positions
// 0..n-1, and index i sits at position (i-1) × stride mod n, stride the first number at or
// above 0.618 × n that is coprime with n. So the states are scattered over the address
// range (the first hundred addresses are not all valid) and the result never depends on a
// seed, a hash order or anything but the spec. lookup() is O(length of the address): no
// table of addresses exists, so a world of millions of mailboxes costs nothing until
// someone asks for the list (addresses()).
// An address not generated at one of our domains is catch_all when spec.catch_all, else
// unknown; with catch_all the generated unknown addresses are catch_all too (a catch-all
// domain accepts every local part). Domains compare case-insensitively, local parts too
// (the recorder does the same). A trap domain (spec.trap_domain, a typo domain such as
// gmial.sim) generates no address and answers pristine_trap for every address at its
// domains. The spec's role local parts (postmaster, abuse, ...) answer role at every domain
// (not counted in size(): they are not generated addresses). No I/O, no randomness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/world/spec.hpp"

namespace mailsim::sim::world {

enum class mailbox_state : std::uint8_t {
  valid,
  unknown,
  disabled,
  full,
  bounce_later,
  pristine_trap,
  recycled_trap,
  catch_all,
  role,
};

// The metrics::message_record::kind word: "valid", "pristine_trap", ...
const char* to_string(mailbox_state s);

// "u000042" for index 42.
std::string local_part_of(std::size_t index);

class population {
 public:
  population(std::vector<std::string> domains, const mailbox_spec& spec);

  const std::vector<std::string>& domains() const { return domains_; }  // lower case
  // Addresses generated per domain.
  std::size_t size() const { return total_; }
  // How many addresses of one domain have state `s` (catch_all: 0).
  std::size_t count(mailbox_state s) const;
  // The state of generated index `index` (1-based, at most size()).
  mailbox_state state_at(std::size_t index) const;
  // The state of `address`; nullopt when its domain is not one of ours.
  std::optional<mailbox_state> lookup(std::string_view address) const;
  // The role local parts, lower case, in spec order (empty for a trap domain).
  const std::vector<std::string>& roles() const { return roles_; }
  // Whether `domain` is one of ours.
  bool has_domain(std::string_view domain) const;
  // The index-th address of domains()[domain].
  std::string address(std::size_t domain, std::size_t index) const;

 private:
  std::optional<std::size_t> domain_index(std::string_view domain) const;

  std::vector<std::string> domains_;
  std::vector<std::string> roles_;
  bool catch_all_ = false;
  bool trap_domain_ = false;
  std::size_t total_ = 0;
  std::size_t stride_ = 1;
  // ends_[k]: the first position past state k's range, in the order of mailbox_state.
  std::size_t ends_[7] = {};
};

}  // namespace mailsim::sim::world
