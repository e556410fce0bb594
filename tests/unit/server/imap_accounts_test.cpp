// The IMAP store adapter (reference-server/server/imap_accounts.cpp) over a real Maildir in
// a temporary folder: subscribed names that name no folder are listed, a selected folder
// deleted or renamed by another account object makes sync() answer not_found (which is what
// lets the session send "* BYE Mailbox was deleted"), and the hierarchy rules hold on disk:
// no "." or ".." levels, superior levels made as folders, no DELETE of a parent, RENAME INBOX.
#include "reference-server/server/imap_accounts.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/server/credentials.hpp"
#include "reference-server/store/directory.hpp"
#include "reference-server/store/mailbox.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::server {
namespace {

using imap::backend_status;

constexpr const char* alice = "alice@example.test";

store::directory_config one_user() {
  store::directory_config config;
  config.domains = {"example.test"};
  config.users = {{alice, {}}};
  return config;
}

// One user's Maildir under a temporary root, opened through store_accounts as the IMAP
// server opens it; every open() gives an independent account object, like two sessions.
class accounts_fixture : public ::testing::Test {
 protected:
  accounts_fixture()
      : credentials_(one_user()),
        access_{root_.path(), credentials_, clock_, [this](const std::string& user) {
                  removed_for_.push_back(user);
                }},
        opener_(access_) {}

  std::unique_ptr<imap::account_backend> open_account() {
    std::unique_ptr<imap::account_backend> account = opener_.open(alice);
    EXPECT_NE(account, nullptr);
    return account;
  }

  std::unique_ptr<imap::mailbox_backend> open_box(imap::account_backend& account,
                                                  std::string_view name) {
    backend_status status = backend_status::failed;
    std::unique_ptr<imap::mailbox_backend> box = account.open(name, false, status);
    EXPECT_EQ(status, backend_status::ok);
    return box;
  }

  std::string maildir() const { return root_.path() + "/example.test/alice/Maildir"; }

  static backend_status sync(imap::mailbox_backend& box) {
    imap::sync_report report;
    return box.sync(report);
  }

  store::test::temp_dir root_;
  core::manual_clock clock_;
  directory_credentials credentials_;
  std::vector<std::string> removed_for_;
  mail_access_store access_;
  store_accounts opener_;
};

const imap::mailbox_info* find(const std::vector<imap::mailbox_info>& list,
                               std::string_view name) {
  for (const imap::mailbox_info& info : list) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::vector<std::string> names_of(const std::vector<imap::mailbox_info>& list) {
  std::vector<std::string> out;
  for (const imap::mailbox_info& info : list) out.push_back(info.name);
  return out;
}

TEST_F(accounts_fixture, SyncOfFolderDeletedByAnotherAccountIsNotFound) {
  auto first = open_account();
  auto second = open_account();
  ASSERT_EQ(first->create("Gone"), backend_status::ok);
  auto box = open_box(*first, "Gone");
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(sync(*box), backend_status::ok);
  ASSERT_EQ(second->remove("Gone"), backend_status::ok);
  EXPECT_EQ(removed_for_, std::vector<std::string>{alice});
  EXPECT_EQ(sync(*box), backend_status::not_found);
  EXPECT_EQ(sync(*box), backend_status::not_found);  // and it stays so
}

TEST_F(accounts_fixture, SyncOfFolderRenamedAwayIsNotFound) {
  auto first = open_account();
  auto second = open_account();
  ASSERT_EQ(first->create("Old"), backend_status::ok);
  auto box = open_box(*first, "Old");
  ASSERT_NE(box, nullptr);
  ASSERT_EQ(second->rename("Old", "New"), backend_status::ok);
  EXPECT_EQ(sync(*box), backend_status::not_found);
}

// A folder deleted and made again under the same name is another mailbox (a new
// UIDVALIDITY): the old view cannot continue in it.
TEST_F(accounts_fixture, SyncOfFolderDeletedAndMadeAgainIsNotFound) {
  auto first = open_account();
  auto second = open_account();
  ASSERT_EQ(first->create("Again"), backend_status::ok);
  auto box = open_box(*first, "Again");
  ASSERT_NE(box, nullptr);
  ASSERT_EQ(second->remove("Again"), backend_status::ok);
  ASSERT_EQ(second->create("Again"), backend_status::ok);
  EXPECT_EQ(sync(*box), backend_status::not_found);
}

TEST_F(accounts_fixture, SyncOfAStandingFolderSeesOtherSessionsChanges) {
  auto first = open_account();
  auto second = open_account();
  auto box = open_box(*first, "INBOX");
  auto other = open_box(*second, "INBOX");
  ASSERT_NE(box, nullptr);
  ASSERT_NE(other, nullptr);
  std::uint32_t uid = 0;
  ASSERT_EQ(other->append("Subject: x\r\n\r\nbody\r\n", 0, {}, 0, uid), backend_status::ok);
  imap::sync_report report;
  EXPECT_EQ(box->sync(report), backend_status::ok);
  EXPECT_EQ(report.added, 1U);
  EXPECT_EQ(box->messages().size(), 1U);
}

// The premise of the adapter's mapping: the store itself reports a removed folder as the
// errno of its lock file's open, which status_of() alone would make `failed`.
TEST_F(accounts_fixture, StoreSyncOfRemovedFolderFailsWithEnoent) {
  auto account = open_account();
  ASSERT_EQ(account->create("Raw"), backend_status::ok);
  const std::string path = root_.path() + "/example.test/alice/Maildir/.Raw";
  ASSERT_TRUE(std::filesystem::is_directory(path)) << path;
  std::error_code error;
  std::unique_ptr<store::mailbox> box = store::mailbox::open(path, false, clock_, error);
  ASSERT_NE(box, nullptr) << error.message();
  std::filesystem::remove_all(path);
  store::sync_report report;
  EXPECT_EQ(box->sync(report), std::errc::no_such_file_or_directory);
}

TEST_F(accounts_fixture, ListMergesSubscribedNamesThatNameNoFolder) {
  auto account = open_account();
  ASSERT_EQ(account->create("Work"), backend_status::ok);
  ASSERT_EQ(account->subscribe("Work", true), backend_status::ok);
  ASSERT_EQ(account->subscribe("Archive", true), backend_status::ok);
  ASSERT_EQ(account->subscribe("Zoo/Old", true), backend_status::ok);
  ASSERT_EQ(account->subscribe("INBOX", true), backend_status::ok);
  backend_status status = backend_status::failed;
  const std::vector<imap::mailbox_info> list = account->list(status);
  ASSERT_EQ(status, backend_status::ok);
  EXPECT_EQ(names_of(list), (std::vector<std::string>{"INBOX", "Archive", "Drafts", "Junk",
                                                      "Sent", "Trash", "Work", "Zoo/Old"}));
  const imap::mailbox_info* inbox = find(list, "INBOX");
  EXPECT_TRUE(inbox->exists && inbox->subscribed);
  const imap::mailbox_info* archive = find(list, "Archive");
  EXPECT_FALSE(archive->exists);
  EXPECT_TRUE(archive->subscribed);
  EXPECT_FALSE(archive->has_children);
  EXPECT_TRUE(archive->special_use.empty());
  const imap::mailbox_info* work = find(list, "Work");
  EXPECT_TRUE(work->exists && work->subscribed);
  const imap::mailbox_info* sent = find(list, "Sent");
  EXPECT_TRUE(sent->exists);
  EXPECT_FALSE(sent->subscribed);
  EXPECT_EQ(sent->special_use, "\\Sent");
  EXPECT_FALSE(find(list, "Zoo/Old")->exists);
}

// Another program (or an older version) may remove a Maildir++ parent and leave the folders
// below it: a subscribed name with no folder can then still have children.
TEST_F(accounts_fixture, ParentRemovedByAnotherProgramKeepsItsChildren) {
  auto account = open_account();
  ASSERT_EQ(account->create("Projects/2024"), backend_status::ok);
  ASSERT_EQ(account->subscribe("Projects", true), backend_status::ok);
  std::filesystem::remove_all(maildir() + "/.Projects");
  backend_status status = backend_status::failed;
  const std::vector<imap::mailbox_info> list = account->list(status);
  ASSERT_EQ(status, backend_status::ok);
  const imap::mailbox_info* parent = find(list, "Projects");
  ASSERT_NE(parent, nullptr);
  EXPECT_FALSE(parent->exists);
  EXPECT_TRUE(parent->subscribed);
  EXPECT_TRUE(parent->has_children);
  const imap::mailbox_info* child = find(list, "Projects/2024");
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->exists);
  EXPECT_FALSE(child->subscribed);
  // Unsubscribing the gone name drops it from the list.
  ASSERT_EQ(account->subscribe("Projects", false), backend_status::ok);
  EXPECT_EQ(find(account->list(status), "Projects"), nullptr);
}

// Names with "." or ".." levels never reach the file system, whatever the operation (the
// session refuses them too, before asking the backend).
TEST_F(accounts_fixture, DotLevelsAreRefusedAndNothingLeavesTheMaildir) {
  auto account = open_account();
  ASSERT_EQ(account->create("Work"), backend_status::ok);
  EXPECT_EQ(account->create("../escape"), backend_status::invalid_name);
  EXPECT_EQ(account->create("Projects/../../x"), backend_status::invalid_name);
  EXPECT_EQ(account->create("a/./b"), backend_status::invalid_name);
  EXPECT_EQ(account->rename("Work", "../Work"), backend_status::invalid_name);
  EXPECT_EQ(account->rename("INBOX", "../Inbox"), backend_status::invalid_name);
  EXPECT_EQ(account->remove(".."), backend_status::invalid_name);
  backend_status status = backend_status::ok;
  EXPECT_EQ(account->open("../..", false, status), nullptr);
  EXPECT_EQ(status, backend_status::invalid_name);
  const std::string user_dir = root_.path() + "/example.test/alice";
  EXPECT_EQ(store::test::names_in(user_dir), std::vector<std::string>{"Maildir"});
  EXPECT_FALSE(std::filesystem::exists(maildir() + "/.Projects"));
  EXPECT_TRUE(std::filesystem::is_directory(maildir() + "/.Work/cur"));
}

// RFC 9051 §6.3.4: CREATE makes the missing superior levels, and in Maildir++ each is a
// real folder (".Archive"), selectable as Dovecot makes it.
TEST_F(accounts_fixture, CreateMakesSuperiorLevelsAsRealMailboxes) {
  auto account = open_account();
  ASSERT_EQ(account->create("Archive/2023"), backend_status::ok);
  EXPECT_TRUE(std::filesystem::exists(maildir() + "/.Archive/maildirfolder"));
  backend_status status = backend_status::failed;
  const std::vector<imap::mailbox_info> list = account->list(status);
  const imap::mailbox_info* parent = find(list, "Archive");
  ASSERT_NE(parent, nullptr);
  EXPECT_TRUE(parent->exists);
  EXPECT_TRUE(parent->has_children);
  auto box = open_box(*account, "Archive");
  ASSERT_NE(box, nullptr);
  std::uint32_t uid = 0;
  EXPECT_EQ(box->append("Subject: x\r\n\r\nbody\r\n", 0, {}, 0, uid), backend_status::ok);
  EXPECT_EQ(account->create("Archive/2023"), backend_status::already_exists);
  // RENAME makes them too (RFC 9051 §6.3.6).
  ASSERT_EQ(account->rename("Archive/2023", "Old/Years/2023"), backend_status::ok);
  EXPECT_TRUE(find(account->list(status), "Old/Years")->exists);
}

// RFC 9051 §6.3.5: a mailbox with children is refused (as Dovecot does), so no level is
// left without a folder; the session answers NO [CANNOT].
TEST_F(accounts_fixture, RemoveOfAFolderWithChildrenIsRefused) {
  auto account = open_account();
  ASSERT_EQ(account->create("A/B"), backend_status::ok);
  EXPECT_EQ(account->remove("A"), backend_status::invalid_name);
  EXPECT_TRUE(removed_for_.empty());
  EXPECT_TRUE(std::filesystem::is_directory(maildir() + "/.A/cur"));
  ASSERT_EQ(account->remove("A/B"), backend_status::ok);
  EXPECT_EQ(account->remove("A"), backend_status::ok);
}

// RFC 9051 §6.3.6: RENAME INBOX moves every message into a new mailbox with its own
// UIDVALIDITY; flags, keywords and internal dates go along; INBOX stays, empty, and a
// session that has it open sees the messages expunged.
TEST_F(accounts_fixture, RenameInboxMovesEveryMessageIntoANewMailbox) {
  auto account = open_account();
  auto inbox = open_box(*account, "INBOX");
  ASSERT_NE(inbox, nullptr);
  const std::vector<std::string> keywords = {"$Work", "Later"};
  std::uint32_t uid = 0;
  ASSERT_EQ(inbox->append("Subject: one\r\n\r\n1\r\n", imap::flag_seen | imap::flag_flagged,
                          keywords, 1'700'000'000'000, uid),
            backend_status::ok);
  ASSERT_EQ(inbox->append("Subject: two\r\n\r\n2\r\n", 0, {}, 1'700'000'100'000, uid),
            backend_status::ok);
  std::string first;
  ASSERT_EQ(inbox->read(1, first), backend_status::ok);
  ASSERT_EQ(account->create("INBOX/Sub"), backend_status::ok);

  // Made in the same second as INBOX's (the clock stands still), the new UIDVALIDITY still
  // differs from it.
  ASSERT_EQ(account->rename("INBOX", "Old/2023"), backend_status::ok);

  imap::sync_report report;
  ASSERT_EQ(inbox->sync(report), backend_status::ok);
  EXPECT_EQ(report.expunged, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_TRUE(inbox->messages().empty());
  auto moved = open_box(*account, "Old/2023");
  ASSERT_NE(moved, nullptr);
  EXPECT_GT(moved->uid_validity(), inbox->uid_validity());
  ASSERT_EQ(moved->messages().size(), 2U);
  const imap::message_entry& m = moved->messages()[0];
  EXPECT_EQ(m.flags, imap::flag_seen | imap::flag_flagged);
  EXPECT_EQ(m.keywords, keywords);
  EXPECT_EQ(m.internal_date_ms, 1'700'000'000'000);
  EXPECT_TRUE(moved->messages()[1].keywords.empty());
  EXPECT_EQ(moved->messages()[1].internal_date_ms, 1'700'000'100'000);
  std::string text;
  ASSERT_EQ(moved->read(m.uid, text), backend_status::ok);
  EXPECT_EQ(text, first);
  // INBOX, its sub-folder and the new superior level are all there.
  backend_status status = backend_status::failed;
  const std::vector<imap::mailbox_info> list = account->list(status);
  EXPECT_EQ(names_of(list), (std::vector<std::string>{"INBOX", "Drafts", "INBOX/Sub", "Junk",
                                                      "Old", "Old/2023", "Sent", "Trash"}));
  // New deliveries keep coming to INBOX, under its old UIDVALIDITY and after its old UIDs.
  ASSERT_EQ(inbox->append("Subject: three\r\n\r\n3\r\n", 0, {}, 0, uid), backend_status::ok);
  EXPECT_EQ(uid, 3U);
  EXPECT_EQ(account->rename("INBOX", "Old/2023"), backend_status::already_exists);
  EXPECT_EQ(inbox->messages().size(), 1U);
}

}  // namespace
}  // namespace mailsim::server
