#include "reference-server/server/credentials.hpp"

#include <set>

namespace mailsim::server {

directory_credentials::directory_credentials(const store::directory_config& config) {
  std::set<std::string> ambiguous;
  for (const auto& [address, account] : config.users) {
    std::string folded = store::fold_address(address);
    hashes_[folded] = account.password_hash;
    names_[folded] = account.name.empty() ? address : account.name;
    std::string local = folded.substr(0, folded.rfind('@'));
    if (!bare_.emplace(local, folded).second) ambiguous.insert(local);
  }
  for (const auto& local : ambiguous) bare_.erase(local);  // "demo" in two domains: no guess
}

std::optional<std::string> directory_credentials::folded_user(std::string_view login) const {
  std::string folded = store::fold_address(login);
  if (folded.find('@') != std::string::npos) return folded;
  auto bare = bare_.find(folded);
  if (bare == bare_.end()) return std::nullopt;
  return bare->second;
}

std::optional<std::string> directory_credentials::password_hash(std::string_view user) const {
  std::optional<std::string> folded = folded_user(user);
  if (!folded) return std::nullopt;
  auto it = hashes_.find(*folded);
  if (it == hashes_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> directory_credentials::canonical_user(std::string_view login) const {
  std::optional<std::string> folded = folded_user(login);
  if (!folded) return std::nullopt;
  auto it = names_.find(*folded);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mailsim::server
