// Internal to mailsim::server: IMAP accounts over the durable store — a user's Maildir and
// its Maildir++ folders (store::folders) as imap::account_backend, each folder opened as a
// store::mailbox behind imap::mailbox_backend. Not a public header.
//
// Contract: open() maps the login name to the configured user, creates the Maildir and the
// RFC 6154 special-use folders (Sent, Drafts, Junk, Trash) on first use, and forwards every
// operation to the store, translating store errors into imap::backend_status. The hierarchy
// rules are the store's (store::folders): create and rename make missing superior levels
// as folders, remove refuses a folder with folders below it (invalid_name). RENAME INBOX
// moves the inbox's message files into the new folder (new UIDs and UIDVALIDITY there,
// flags and dates kept) and then sets their keywords again from the inbox's index. Subscriptions
// are a list of names in "<maildir>/mailsim-subscriptions", one per line, replaced
// atomically (write, fsync, rename); list() merges the subscribed names that name no folder
// into the folders (exists = false). An open mailbox whose folder was deleted or renamed
// away (its path names no directory, or another directory than at open) answers sync()
// with not_found, so that the session can end with BYE. A mailbox change that removed
// messages tells `on_removed` so that the user's quota usage is counted again.
#pragma once

#include "reference-server/imap/backend.hpp"
#include "reference-server/server/user_maildir.hpp"

namespace mailsim::server {

class store_accounts final : public imap::backend_opener {
 public:
  explicit store_accounts(const mail_access_store& store) : store_(store) {}
  std::unique_ptr<imap::account_backend> open(std::string_view user) override;

 private:
  const mail_access_store& store_;
};

}  // namespace mailsim::server
