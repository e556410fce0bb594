#include "reference-server/server/credentials.hpp"

#include <set>

namespace mailsim::server {

directory_credentials::directory_credentials(const store::directory_config& config) {
  std::set<std::string> ambiguous;
  for (const auto& [address, account] : config.users) {
    std::string folded = store::fold_address(address);
    hashes_[folded] = account.password_hash;
    std::string local = folded.substr(0, folded.rfind('@'));
    if (!bare_.emplace(local, folded).second) ambiguous.insert(local);
  }
  for (const auto& local : ambiguous) bare_.erase(local);  // "demo" in two domains: no guess
}

std::optional<std::string> directory_credentials::password_hash(std::string_view user) const {
  std::string folded = store::fold_address(user);
  if (folded.find('@') == std::string::npos) {
    auto bare = bare_.find(folded);
    if (bare == bare_.end()) return std::nullopt;
    folded = bare->second;
  }
  auto it = hashes_.find(folded);
  if (it == hashes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mailsim::server
