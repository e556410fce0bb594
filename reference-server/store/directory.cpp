#include "reference-server/store/directory.hpp"

#include <algorithm>

namespace mailsim::store {
namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

// A remote address keeps its local part as written: only the remote host may interpret it
// (RFC 5321 §2.4); its domain is case-insensitive and is lower-cased for deduplication.
std::string remote_form(std::string_view address) {
  const auto at = address.rfind('@');
  return std::string(address.substr(0, at + 1)) + lower(address.substr(at + 1));
}

// RFC 5321 §3.6.1: '%' and '!' are the old source-routing forms; '@' in a quoted local part
// is the same trick. None of them may turn this server into a relay.
bool has_relay_characters(std::string_view local_part) {
  return local_part.find_first_of("%!@") != std::string_view::npos;
}

void add_unique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

// The outcome of an expansion: local when something receives the mail, else config_error
// with nothing to deliver, so that a caller cannot act on a partial list.
resolution finish(const std::string& key, bool ok, resolution out) {
  if (ok && out.users.empty() && out.remote.empty()) {
    out.detail = key + " expands to no recipient (an alias loop)";
    ok = false;
  }
  out.status = ok ? resolve_status::local : resolve_status::config_error;
  if (!ok) {
    out.users.clear();
    out.remote.clear();
  }
  return out;
}

}  // namespace

std::string fold_address(std::string_view address) {
  return lower(address);
}

struct directory::expansion {
  resolution& out;
  std::vector<std::string> chain;  // aliases being expanded, outermost first
  std::set<std::string> done;      // aliases and users already fully taken into `out`
};

directory::directory(const directory_config& config) : alias_depth_max_(config.alias_depth_max) {
  for (const auto& domain : config.domains) domains_.insert(lower(domain));
  for (const auto& [address, account] : config.users) {
    user_account copy = account;
    if (copy.name.empty()) copy.name = address;
    users_[fold_address(address)] = std::move(copy);
  }
  for (const auto& [address, targets] : config.aliases) aliases_[fold_address(address)] = targets;
  for (const auto& [domain, target] : config.catch_all) catch_all_[lower(domain)] = target;
}

bool directory::is_local_domain(std::string_view domain) const {
  return domains_.contains(lower(domain));
}

const user_account* directory::find_user(std::string_view address) const {
  const auto found = users_.find(fold_address(address));
  return found == users_.end() ? nullptr : &found->second;
}

bool directory::is_configured(const std::string& address) const {
  return aliases_.contains(address) || users_.contains(address);
}

resolution directory::resolve(std::string_view local_part, std::string_view domain) const {
  resolution out;
  const std::string folded_domain = lower(domain);
  if (!domains_.contains(folded_domain)) {
    out.status = resolve_status::not_local_domain;
    return out;
  }
  const std::string key = lower(local_part) + "@" + folded_domain;
  const bool configured = is_configured(key);
  const auto catch_all = catch_all_.find(folded_domain);
  if (!configured && (has_relay_characters(local_part) || catch_all == catch_all_.end())) {
    out.status = resolve_status::unknown_user;
    return out;
  }
  expansion state{out, {}, {}};
  const bool ok = expand(configured ? key : catch_all->second, 0, state);
  return finish(key, ok, std::move(out));
}

// Adds what `target` stands for to state.out; false (with state.out.detail) on a
// configuration error, which makes the whole resolution fail: delivering to part of an
// alias list would silently lose mail for the rest.
bool directory::expand(const std::string& target, std::size_t depth, expansion& state) const {
  const std::string key = fold_address(target);
  if (key.find('@') == std::string::npos) {
    state.out.detail = "alias target \"" + target + "\" is not an address";
    return false;
  }
  if (!domains_.contains(domain_of(key))) {
    add_unique(state.out.remote, remote_form(target));
    return true;
  }
  const auto user = users_.find(key);
  if (std::find(state.chain.begin(), state.chain.end(), key) != state.chain.end()) {
    // A loop. The one useful loop is an alias naming itself to keep a local copy.
    if (user != users_.end()) add_unique(state.out.users, user->second.name);
    return true;
  }
  if (state.done.contains(key)) return true;  // reached twice (a diamond): delivered once
  if (const auto alias = aliases_.find(key); alias != aliases_.end()) {
    return expand_alias(key, alias->second, depth, state);
  }
  if (user != users_.end()) {
    add_unique(state.out.users, user->second.name);
    state.done.insert(key);
    return true;
  }
  state.out.detail = "alias target " + target + " is not a local user or alias";
  return false;
}

bool directory::expand_alias(const std::string& address, const std::vector<std::string>& targets,
                             std::size_t depth, expansion& state) const {
  if (depth >= alias_depth_max_) {
    state.out.detail =
        "aliases nested deeper than " + std::to_string(alias_depth_max_) + " levels at " + address;
    return false;
  }
  state.chain.push_back(address);
  for (const auto& target : targets) {
    if (!expand(target, depth + 1, state)) return false;
  }
  state.chain.pop_back();
  state.done.insert(address);
  return true;
}

namespace {

void check_keys(const std::vector<std::string>& keys, const char* what, const directory& dir,
                std::set<std::string>& seen, std::vector<std::string>& problems) {
  for (const auto& key : keys) {
    if (!dir.is_local_domain(domain_of(key))) {
      problems.push_back(std::string(what) + " " + key + ": domain is not a local domain");
    }
    if (!seen.insert(std::string(what) + fold_address(key)).second) {
      problems.push_back(std::string(what) + " " + key + ": listed twice (case is folded)");
    }
  }
}

void check_resolution(const directory& dir, std::string_view address, const std::string& what,
                      std::vector<std::string>& problems) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || !dir.is_local_domain(address.substr(at + 1))) return;
  const resolution r = dir.resolve(address.substr(0, at), address.substr(at + 1));
  if (r.status == resolve_status::config_error) problems.push_back(what + ": " + r.detail);
}

}  // namespace

std::vector<std::string> validate(const directory_config& config) {
  std::vector<std::string> problems;
  const directory dir(config);
  std::set<std::string> seen;
  std::vector<std::string> user_keys, alias_keys;
  for (const auto& [key, account] : config.users) {
    user_keys.push_back(key);
    if (!account.name.empty() && fold_address(account.name) != fold_address(key)) {
      problems.push_back("user " + key + ": name " + account.name + " is another address");
    }
  }
  for (const auto& entry : config.aliases) alias_keys.push_back(entry.first);
  check_keys(user_keys, "user", dir, seen, problems);
  check_keys(alias_keys, "alias", dir, seen, problems);
  for (const auto& key : alias_keys) check_resolution(dir, key, "alias " + key, problems);
  for (const auto& [domain, target] : config.catch_all) {
    if (!dir.is_local_domain(domain)) problems.push_back("catch-all " + domain + ": not local");
    check_resolution(dir, target, "catch-all " + domain, problems);
  }
  for (const auto& domain : config.domains) {
    // RFC 5321 §4.5.1: every SMTP server must accept mail for postmaster.
    if (dir.resolve("postmaster", domain).status != resolve_status::local) {
      problems.push_back("domain " + domain + ": no postmaster (RFC 5321 §4.5.1)");
    }
  }
  return problems;
}

}  // namespace mailsim::store
