// mailsim::store directory — who receives mail here.
//
// Contract: resolve() maps a recipient (local part, domain) to the local users that get a
// copy and the remote addresses the queue must forward to, following aliases and catch-all
// addresses of the configuration. It is a pure lookup over an immutable configuration: no
// I/O, no clock, safe to call from several threads at once.
//
// Matching rules (decisions; see resolve()):
// - Domains are case-insensitive (RFC 5321 §2.4). Local parts are, in principle, case-
//   sensitive (same section), but virtually every receiving system folds ASCII case
//   (Postfix lookup tables, Dovecot's default auth_username_format %Lu). Senders rely on it,
//   and a user "Bob" who cannot receive mail for "bob" is a support ticket, so ASCII letters
//   are folded. Non-ASCII octets (RFC 6531 local parts) are compared as they are.
// - Relay tricks: a local part containing '%', '!' or '@' ("user%other@here",
//   "host!user@here", quoted "a@b"@here) is never a local user and never matches a
//   catch-all, unless that exact address is configured as a user or an alias (RFC 5321
//   §3.6.1 and §7.1: a server must not be an open relay through such forms).
// - Lookup order: alias, then user, then the domain's catch-all, as Postfix applies
//   virtual_alias_maps before mailbox lookup. An address that is both an alias and a user
//   is an alias; an alias that lists itself also delivers to the user ("bob: bob, bob@x"
//   keeps a local copy and forwards one, the sendmail idiom).
// - Aliases expand recursively among local addresses, up to alias_depth_max levels. A target
//   already on the current expansion chain is a loop and contributes nothing (except the
//   idiom above); an address reached twice is delivered once.
// - Subaddressing ("user+tag") is out of scope: "+" is an ordinary character here.
// - A configuration mistake met during resolution (an alias or catch-all pointing at a local
//   address that does not exist, an expansion deeper than the bound, an alias that expands to
//   nothing) gives config_error, not unknown_user: the sender should retry (451 4.3.5,
//   RFC 3463 "system incorrectly configured") while the administrator fixes it, instead of
//   getting a permanent bounce for an address the administrator meant to exist.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::store {

struct user_account {
  std::string name;               // canonical address "local@domain"; the key when left empty
  std::string password_hash;      // opaque here; the SASL layer verifies it
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
};

struct directory_config {
  std::vector<std::string> domains;                         // the local domains
  std::map<std::string, user_account> users;                // "local@domain" → account
  std::map<std::string, std::vector<std::string>> aliases;  // "local@domain" → targets
  std::map<std::string, std::string> catch_all;             // domain → target address
  std::size_t alias_depth_max = 10;                         // nesting levels of aliases
};

enum class resolve_status {
  local,             // deliver to `users` and forward to `remote` (at least one is non-empty)
  not_local_domain,  // the domain is not ours: relaying decisions belong to the policy
  unknown_user,      // ours, but nobody receives it: 550 5.1.1 (RFC 3463)
  config_error,      // ours, but the configuration is broken for it: 451 4.3.5 (RFC 3463)
};

struct resolution {
  resolve_status status = resolve_status::unknown_user;
  std::vector<std::string> users;   // canonical user names, deduplicated, first-seen order
  std::vector<std::string> remote;  // non-local targets (domain lower-cased), deduplicated
  std::string detail;               // why, for the log, when status is config_error
};

class directory {
 public:
  explicit directory(const directory_config& config);

  resolution resolve(std::string_view local_part, std::string_view domain) const;

  bool is_local_domain(std::string_view domain) const;

  // The account for an address in any case of ASCII letters, or nullptr. For SASL and quota.
  const user_account* find_user(std::string_view address) const;

 private:
  struct expansion;
  bool expand(const std::string& address, std::size_t depth, expansion& state) const;
  bool expand_alias(const std::string& address, const std::vector<std::string>& targets,
                    std::size_t depth, expansion& state) const;
  bool is_configured(const std::string& address) const;

  std::set<std::string, std::less<>> domains_;
  std::map<std::string, user_account, std::less<>> users_;
  std::map<std::string, std::vector<std::string>, std::less<>> aliases_;
  std::map<std::string, std::string, std::less<>> catch_all_;
  std::size_t alias_depth_max_;
};

// "Local@Example.COM" → "local@example.com": the key form used for lookups. The split is at
// the last '@', since an exactly configured local part may itself contain one.
std::string fold_address(std::string_view address);

// The problems resolve() would meet at run time, one sentence each, for the config loader:
// keys outside the local domains, keys equal after case folding, broken aliases and
// catch-alls, and local domains without a postmaster (RFC 5321 §4.5.1 requires one).
std::vector<std::string> validate(const directory_config& config);

}  // namespace mailsim::store
