// Test double for the IMAP session: every user's mailboxes kept in memory and shared by
// all sessions (so two sessions see each other's changes), with switches for the failures
// the backend contract allows, and a credential store with cheap password hashes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/imap/backend.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"

namespace mailsim::imap::test {

struct memory_folder {
  std::uint32_t uid_validity = 1;
  std::uint32_t uid_next = 1;
  std::uint64_t highest_modseq = 1;
  std::string special_use;
  std::vector<message_entry> entries;  // ascending UID
  std::map<std::uint32_t, std::string> texts;
};

struct memory_account_data {
  std::map<std::string, memory_folder> folders;
  std::set<std::string> subscribed;
};

// Everything the backends share; tests reach in to make changes "from another program".
struct memory_store {
  std::map<std::string, memory_account_data> accounts;
  std::uint32_t next_uid_validity = 1000;
  std::int64_t now_ms = 1'700'000'000'000;
  bool fail_account_open = false;
  bool fail_append = false;

  memory_folder* folder(const std::string& user, const std::string& name) {
    auto a = accounts.find(user);
    if (a == accounts.end()) return nullptr;
    auto f = a->second.folders.find(name);
    return f == a->second.folders.end() ? nullptr : &f->second;
  }

  memory_folder& make_folder(memory_account_data& account, const std::string& name,
                             std::string special_use = {}) {
    memory_folder& f = account.folders[name];
    f.uid_validity = next_uid_validity++;
    f.special_use = std::move(special_use);
    return f;
  }

  // RFC 6154: every account has these from its first open.
  memory_account_data& account(const std::string& user) {
    memory_account_data& a = accounts[user];
    if (a.folders.empty()) {
      make_folder(a, "INBOX");
      make_folder(a, "Drafts", "\\Drafts");
      make_folder(a, "Junk", "\\Junk");
      make_folder(a, "Sent", "\\Sent");
      make_folder(a, "Trash", "\\Trash");
      for (const auto& [name, f] : a.folders) a.subscribed.insert(name);
    }
    return a;
  }

  // Deletion by "another session": views opened on the folder find it gone at their next
  // sync (not_found), as with a Maildir folder removed under an open mailbox.
  bool remove_folder(const std::string& user, const std::string& name) {
    auto a = accounts.find(user);
    return a != accounts.end() && a->second.folders.erase(name) != 0;
  }

  // Delivery by "another program": the message gets the next UID.
  std::uint32_t deliver(const std::string& user, const std::string& name, std::string text,
                        std::uint8_t flags = 0, std::vector<std::string> keywords = {},
                        std::int64_t date_ms = 0) {
    account(user);
    memory_folder& f = *folder(user, name);
    message_entry e;
    e.uid = f.uid_next++;
    e.modseq = ++f.highest_modseq;
    e.flags = flags;
    std::sort(keywords.begin(), keywords.end());
    e.keywords = std::move(keywords);
    e.size_bytes = text.size();
    e.internal_date_ms = date_ms != 0 ? date_ms : now_ms;
    f.texts[e.uid] = std::move(text);
    f.entries.push_back(std::move(e));
    return f.entries.back().uid;
  }
};

class memory_mailbox final : public mailbox_backend {
 public:
  memory_mailbox(memory_store& store, std::string user, std::string name, bool read_only)
      : store_(store), user_(std::move(user)), name_(std::move(name)), read_only_(read_only) {}

  backend_status sync(sync_report& report) override {
    memory_folder* f = folder();
    if (f == nullptr) return backend_status::not_found;
    report = {};
    for (const message_entry& old : view_) {
      if (find(f->entries, old.uid) == nullptr) report.expunged.push_back(old.uid);
    }
    const std::uint32_t max_uid = view_.empty() ? 0 : view_.back().uid;
    for (const message_entry& e : f->entries) {
      if (e.uid > max_uid) {
        ++report.added;
      } else if (const message_entry* old = find(view_, e.uid)) {
        if (old->modseq != e.modseq) report.flags_changed = true;
      }
    }
    view_ = f->entries;
    return backend_status::ok;
  }

  const std::vector<message_entry>& messages() const override { return view_; }
  std::uint32_t uid_validity() const override { return live().uid_validity; }
  std::uint32_t uid_next() const override { return live().uid_next; }
  std::uint64_t highest_modseq() const override { return live().highest_modseq; }

  backend_status read(std::uint32_t uid, std::string& out) const override {
    const memory_folder* f = const_cast<memory_mailbox*>(this)->folder();
    if (f == nullptr) return backend_status::not_found;
    auto it = f->texts.find(uid);
    if (it == f->texts.end()) return backend_status::not_found;
    out = it->second;
    return backend_status::ok;
  }

  backend_status set_flags(std::span<const std::uint32_t> uids, flag_op op, std::uint8_t flags,
                           std::span<const std::string> keywords, std::uint64_t unchanged_since,
                           std::vector<std::uint32_t>& modified) override {
    memory_folder* f = folder();
    if (f == nullptr || read_only_) return backend_status::failed;
    for (std::uint32_t uid : uids) {
      message_entry* e = find(f->entries, uid);
      if (e == nullptr || find(view_, uid) == nullptr) continue;
      if (unchanged_since > 0 && e->modseq > unchanged_since) {
        modified.push_back(uid);
        continue;
      }
      std::uint8_t new_flags = e->flags;
      std::set<std::string> kw(e->keywords.begin(), e->keywords.end());
      if (op == flag_op::replace) {
        new_flags = flags;
        kw = std::set<std::string>(keywords.begin(), keywords.end());
      } else if (op == flag_op::add) {
        new_flags = static_cast<std::uint8_t>(new_flags | flags);
        kw.insert(keywords.begin(), keywords.end());
      } else {
        new_flags = static_cast<std::uint8_t>(new_flags & ~flags);
        for (const std::string& k : keywords) kw.erase(k);
      }
      std::vector<std::string> new_kw(kw.begin(), kw.end());
      if (new_flags == e->flags && new_kw == e->keywords) continue;
      e->flags = new_flags;
      e->keywords = std::move(new_kw);
      e->modseq = ++f->highest_modseq;
    }
    refresh();
    return backend_status::ok;
  }

  backend_status expunge(std::span<const std::uint32_t> uids) override {
    memory_folder* f = folder();
    if (f == nullptr || read_only_) return backend_status::failed;
    for (std::uint32_t uid : uids) {
      std::erase_if(f->entries, [uid](const message_entry& e) { return e.uid == uid; });
      f->texts.erase(uid);
    }
    ++f->highest_modseq;
    refresh();
    return backend_status::ok;
  }

  backend_status append(std::string_view message, std::uint8_t flags,
                        std::span<const std::string> keywords, std::int64_t internal_date_ms,
                        std::uint32_t& uid) override {
    if (folder() == nullptr) return backend_status::not_found;
    if (store_.fail_append) return backend_status::failed;
    uid = store_.deliver(user_, name_, std::string(message), flags,
                         std::vector<std::string>(keywords.begin(), keywords.end()),
                         internal_date_ms);
    refresh();
    return backend_status::ok;
  }

  backend_status copy_to(std::span<const std::uint32_t> uids, mailbox_backend& target,
                         std::vector<std::uint32_t>& new_uids) override {
    for (std::uint32_t uid : uids) {
      const message_entry* e = find(view_, uid);
      std::string text;
      if (e == nullptr || read(uid, text) != backend_status::ok) continue;
      const message_entry copy = *e;
      std::uint32_t new_uid = 0;
      backend_status st = target.append(text, copy.flags, copy.keywords,
                                        copy.internal_date_ms, new_uid);
      if (st != backend_status::ok) return st;
      new_uids.push_back(new_uid);
    }
    return backend_status::ok;
  }

 private:
  static const message_entry* find(const std::vector<message_entry>& v, std::uint32_t uid) {
    for (const auto& e : v) {
      if (e.uid == uid) return &e;
    }
    return nullptr;
  }
  static message_entry* find(std::vector<message_entry>& v, std::uint32_t uid) {
    for (auto& e : v) {
      if (e.uid == uid) return &e;
    }
    return nullptr;
  }
  memory_folder* folder() { return store_.folder(user_, name_); }
  const memory_folder& live() const {
    static const memory_folder gone;
    const memory_folder* f = const_cast<memory_mailbox*>(this)->folder();
    return f != nullptr ? *f : gone;
  }
  void refresh() {
    sync_report ignored;
    sync(ignored);
  }

  memory_store& store_;
  std::string user_;
  std::string name_;
  bool read_only_;
  std::vector<message_entry> view_;
};

class memory_account final : public account_backend {
 public:
  memory_account(memory_store& store, std::string user) : store_(store), user_(std::move(user)) {
    store_.account(user_);
  }

  // Folders and subscribed names merged (a subscription need not name a folder), in byte
  // order with INBOX first.
  std::vector<mailbox_info> list(backend_status& status) override {
    status = backend_status::ok;
    memory_account_data& a = store_.account(user_);
    std::set<std::string> names(a.subscribed.begin(), a.subscribed.end());
    for (const auto& [name, f] : a.folders) names.insert(name);
    std::vector<mailbox_info> out;
    for (const std::string& name : names) {
      mailbox_info info;
      info.name = name;
      auto f = a.folders.find(name);
      info.exists = f != a.folders.end();
      if (info.exists) info.special_use = f->second.special_use;
      info.subscribed = a.subscribed.count(name) != 0;
      const std::string prefix = name + "/";
      auto below = a.folders.lower_bound(prefix);
      info.has_children = below != a.folders.end() && below->first.rfind(prefix, 0) == 0;
      if (name == "INBOX") {
        out.insert(out.begin(), info);
      } else {
        out.push_back(info);
      }
    }
    return out;
  }

  // Like the store: missing superior levels become mailboxes (RFC 9051 §6.3.4). "." and
  // ".." levels are not checked here, so that tests show the session refusing them itself.
  backend_status create(std::string_view name) override {
    std::string n(name);
    if (!valid_name(n)) return backend_status::invalid_name;
    memory_account_data& a = store_.account(user_);
    if (a.folders.count(n) != 0) return backend_status::already_exists;
    make_superiors(a, n);
    store_.make_folder(a, n);
    return backend_status::ok;
  }

  // A mailbox with children is refused, as the store refuses it.
  backend_status remove(std::string_view name) override {
    if (name == "INBOX") return backend_status::invalid_name;
    memory_account_data& a = store_.account(user_);
    const std::string n(name);
    if (a.folders.count(n) == 0) return backend_status::not_found;
    if (has_children(a, n)) return backend_status::invalid_name;
    a.folders.erase(n);
    return backend_status::ok;
  }

  backend_status rename(std::string_view from, std::string_view to) override {
    memory_account_data& a = store_.account(user_);
    const std::string f(from);
    const std::string t(to);
    if (!valid_name(t) || t == "INBOX") return backend_status::invalid_name;
    if (f == "INBOX") return rename_inbox(a, t);
    if (a.folders.count(f) == 0) return backend_status::not_found;
    if (a.folders.count(t) != 0) return backend_status::already_exists;
    if (t.rfind(f + "/", 0) == 0) return backend_status::invalid_name;  // into itself
    std::vector<std::string> moving;
    for (const auto& [name, folder] : a.folders) {
      if (name == f || name.rfind(f + "/", 0) == 0) moving.push_back(name);
    }
    make_superiors(a, t);
    for (const std::string& name : moving) {
      auto node = a.folders.extract(name);
      node.key() = t + name.substr(f.size());
      a.folders.insert(std::move(node));
    }
    return backend_status::ok;
  }

  backend_status subscribe(std::string_view name, bool subscribed) override {
    memory_account_data& a = store_.account(user_);
    if (subscribed) {
      a.subscribed.insert(std::string(name));
    } else {
      a.subscribed.erase(std::string(name));
    }
    return backend_status::ok;
  }

  std::unique_ptr<mailbox_backend> open(std::string_view name, bool read_only,
                                        backend_status& status) override {
    if (store_.folder(user_, std::string(name)) == nullptr) {
      status = backend_status::not_found;
      return nullptr;
    }
    status = backend_status::ok;
    return std::make_unique<memory_mailbox>(store_, user_, std::string(name), read_only);
  }

 private:
  static bool valid_name(const std::string& n) {
    return !n.empty() && n.front() != '/' && n.back() != '/' && n.find("//") == std::string::npos;
  }

  static bool has_children(const memory_account_data& a, const std::string& name) {
    auto below = a.folders.lower_bound(name + "/");
    return below != a.folders.end() && below->first.rfind(name + "/", 0) == 0;
  }

  void make_superiors(memory_account_data& a, const std::string& name) {
    for (auto slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      const std::string level = name.substr(0, slash);
      if (a.folders.count(level) == 0) store_.make_folder(a, level);
    }
  }

  // RFC 9051 §6.3.6: INBOX's messages move, in order and with new UIDs, into a new mailbox
  // (its own UIDVALIDITY); INBOX stays with its UIDVALIDITY and UIDNEXT, and changes MODSEQ.
  backend_status rename_inbox(memory_account_data& a, const std::string& to) {
    if (a.folders.count(to) != 0) return backend_status::already_exists;
    make_superiors(a, to);
    store_.make_folder(a, to);
    memory_folder& inbox = a.folders.at("INBOX");
    memory_folder& target = a.folders.at(to);
    for (message_entry e : inbox.entries) {
      std::string text = inbox.texts[e.uid];
      e.uid = target.uid_next++;
      e.modseq = ++target.highest_modseq;
      target.texts[e.uid] = std::move(text);
      target.entries.push_back(std::move(e));
    }
    inbox.entries.clear();
    inbox.texts.clear();
    ++inbox.highest_modseq;
    return backend_status::ok;
  }

  memory_store& store_;
  std::string user_;
};

class memory_opener final : public backend_opener {
 public:
  explicit memory_opener(memory_store& store) : store_(store) {}
  std::unique_ptr<account_backend> open(std::string_view user) override {
    if (store_.fail_account_open) return nullptr;
    return std::make_unique<memory_account>(store_, std::string(user));
  }

 private:
  memory_store& store_;
};

// alice@example.test and bob@example.test, password "secret", hashed cheaply (4096 PBKDF2
// iterations) so that tests that log in many times stay fast.
class test_credentials final : public sasl::credential_store {
 public:
  test_credentials()
      : hash_(sasl::hash_password_with_salt("secret", {sasl::hash_scheme::pbkdf2_sha256, 4096},
                                            "0123456789abcdef")) {}
  std::optional<std::string> password_hash(std::string_view user) const override {
    if (user == "alice@example.test" || user == "bob@example.test") return hash_;
    return sasl::hash_password_with_salt("no such user", {sasl::hash_scheme::pbkdf2_sha256, 4096},
                                         "fedcba9876543210");
  }

 private:
  std::string hash_;
};

}  // namespace mailsim::imap::test
