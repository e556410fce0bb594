// Internal to mailsim::server: what the POP3 and IMAP store adapters share — finding a
// logged-in user's Maildir, and telling the quota cache when mail was removed. Not a public
// header.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/clock.hpp"
#include "reference-server/server/credentials.hpp"

namespace mailsim::server {

struct user_maildir {
  std::string user;  // the configured address the login names
  std::string path;  // <maildir_root>/<domain>/<local>/Maildir (its parents exist)
};

struct mail_access_store {
  std::string maildir_root;
  const directory_credentials& credentials;
  const core::clock& clock;
  std::function<void(const std::string&)> on_removed;  // a user's mail was removed

  // The user's Maildir for a login name, with its parent folders made (a user who never got
  // mail has none yet); nullopt for an unknown login or when they cannot be made.
  std::optional<user_maildir> locate(std::string_view login) const;
};

}  // namespace mailsim::server
