// Internal to mailsim::server: IMAP accounts over the durable store — a user's Maildir and
// its Maildir++ folders (store::folders) as imap::account_backend, each folder opened as a
// store::mailbox behind imap::mailbox_backend. Not a public header.
//
// Contract: open() maps the login name to the configured user, creates the Maildir and the
// RFC 6154 special-use folders (Sent, Drafts, Junk, Trash) on first use, and forwards every
// operation to the store, translating store errors into imap::backend_status. Subscriptions
// are a list of names in "<maildir>/mailsim-subscriptions", one per line, replaced
// atomically (write, fsync, rename). A mailbox change that removed messages tells
// `on_removed` so that the user's quota usage is counted again.
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
