// Internal to mailsim::server: POP3 maildrops over the durable store — each user's inbox
// Maildir opened as a store::mailbox, locked for the whole POP3 session (RFC 1939 §8) with
// "<maildir>/mailsim-pop3.lock". Not a public header.
//
// Contract: open() maps the login name to the configured user, creates the Maildir if the
// user never got mail, takes the maildrop lock and then opens (indexes and scans) the inbox
// once. UIDL values are Dovecot's default form (pop3_uidl_format %08Xu%08Xv: UID then
// UIDVALIDITY in hex, lower case as Dovecot writes them, so that a client moving between
// the two servers does not fetch everything again), stable across sessions and restarts as
// long as the mailbox index lives. commit() expunges through the mailbox (files, then index)
// and then tells `on_removed` the user's usage changed (quota cache).
#pragma once

#include "reference-server/pop3/maildrop.hpp"
#include "reference-server/server/user_maildir.hpp"

namespace mailsim::server {

class store_maildrops final : public pop3::maildrop_opener {
 public:
  explicit store_maildrops(const mail_access_store& store) : store_(store) {}
  pop3::open_result open(std::string_view user) override;

 private:
  const mail_access_store& store_;
};

}  // namespace mailsim::server
