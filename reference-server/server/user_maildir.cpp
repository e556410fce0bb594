#include "reference-server/server/user_maildir.hpp"

#include <filesystem>
#include <system_error>

#include "reference-server/store/maildir_layout.hpp"

namespace mailsim::server {

std::optional<user_maildir> mail_access_store::locate(std::string_view login) const {
  std::optional<std::string> user = credentials.canonical_user(login);
  std::optional<std::string> relative = user ? store::maildir_relative_path(*user) : std::nullopt;
  if (!relative) return std::nullopt;
  user_maildir out{*user, maildir_root + "/" + *relative};
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(out.path).parent_path(), error);
  if (error) return std::nullopt;
  return out;
}

}  // namespace mailsim::server
