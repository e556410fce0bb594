// Test doubles for the POP3 session: maildrops kept in memory, with switches for every
// failure the maildrop contract allows (locked, failing open, unreadable message, failing
// commit), and a credential store with cheap password hashes.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/pop3/maildrop.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"

namespace mailsim::pop3::test {

struct stored_message {
  std::string uid;
  std::string text;
};

// Every user's messages plus the switches; shared by the maildrops it hands out.
struct memory_mailboxes {
  std::map<std::string, std::vector<stored_message>> boxes;
  std::set<std::string> locked;  // users whose maildrop is open
  bool fail_open = false;
  bool fail_commit = false;
  std::set<std::size_t> unreadable;               // indexes whose read() fails
  std::vector<std::vector<std::size_t>> commits;  // every successful commit()
  int opens = 0;
};

class memory_maildrop final : public maildrop {
 public:
  memory_maildrop(memory_mailboxes& boxes, std::string user)
      : boxes_(boxes), user_(std::move(user)) {
    boxes_.locked.insert(user_);
    for (const auto& m : boxes_.boxes[user_]) messages_.push_back({m.text.size(), m.uid});
  }
  ~memory_maildrop() override { boxes_.locked.erase(user_); }

  const std::vector<drop_message>& messages() const override { return messages_; }

  bool read(std::size_t index, std::string& out) override {
    if (boxes_.unreadable.count(index) != 0) return false;
    out = boxes_.boxes[user_].at(index).text;
    return true;
  }

  bool commit(const std::vector<std::size_t>& deleted) override {
    if (boxes_.fail_commit) return false;
    auto& box = boxes_.boxes[user_];
    for (auto it = deleted.rbegin(); it != deleted.rend(); ++it) {
      box.erase(box.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    boxes_.commits.push_back(deleted);
    return true;
  }

 private:
  memory_mailboxes& boxes_;
  std::string user_;
  std::vector<drop_message> messages_;
};

class memory_opener final : public maildrop_opener {
 public:
  explicit memory_opener(memory_mailboxes& boxes) : boxes_(boxes) {}
  open_result open(std::string_view user) override {
    ++boxes_.opens;
    if (boxes_.fail_open) return {open_status::failed, nullptr};
    std::string name(user);
    if (boxes_.locked.count(name) != 0) return {open_status::in_use, nullptr};
    return {open_status::ok, std::make_unique<memory_maildrop>(boxes_, name)};
  }

 private:
  memory_mailboxes& boxes_;
};

// alice@example.test and bob@example.test, password "secret", hashed cheaply (4096 PBKDF2
// iterations, the least SCRAM clients accept) so that tests that log in hundreds of times
// stay fast.
class test_credentials final : public sasl::credential_store {
 public:
  test_credentials()
      : hash_(sasl::hash_password_with_salt("secret", {sasl::hash_scheme::pbkdf2_sha256, 4096},
                                            "0123456789abcdef")) {}
  std::optional<std::string> password_hash(std::string_view user) const override {
    if (user == "alice@example.test" || user == "bob@example.test") return hash_;
    // Unknown users get a cheap hash of another password, not the slow default dummy.
    return sasl::hash_password_with_salt("no such user", {sasl::hash_scheme::pbkdf2_sha256, 4096},
                                         "fedcba9876543210");
  }

 private:
  std::string hash_;
};

}  // namespace mailsim::pop3::test
