// mailsim::server credentials — the SASL credential store over the configured users.
//
// Contract: a user authenticates with the full address ("demo@mailsim.test") or, as mail
// clients commonly do, with the bare local part when it names a user in exactly one local
// domain. Read-only after construction; thread-safe.
#pragma once

#include <map>
#include <string>

#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/store/directory.hpp"

namespace mailsim::server {

class directory_credentials final : public sasl::credential_store {
 public:
  explicit directory_credentials(const store::directory_config& config);
  std::optional<std::string> password_hash(std::string_view user) const override;
  // The configured address of the user a login name (as password_hash() takes it) names:
  // the name its Maildir is filed under. nullopt for unknown or ambiguous names.
  std::optional<std::string> canonical_user(std::string_view login) const;

 private:
  std::optional<std::string> folded_user(std::string_view login) const;

  std::map<std::string, std::string, std::less<>> hashes_;  // folded address → hash
  std::map<std::string, std::string, std::less<>> names_;   // folded address → as configured
  std::map<std::string, std::string, std::less<>> bare_;    // unique local part → address
};

}  // namespace mailsim::server
