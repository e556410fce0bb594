// mailsim::message addresses — RFC 5322 §3.4 address lists as IMAP ENVELOPE needs them.
//
// Contract: parse_address_list() reads an unfolded address-list (mailboxes and groups,
// RFC 5322 §3.4, with the obsolete forms of §4.4: route, empty list members) and returns
// flat IMAP address entries (RFC 9051 §7.5.2): a group is a start entry (group name in
// `mailbox`, no host) then its members then an end entry (all absent). Display names are
// kept raw: encoded-words are not decoded and a phrase's words are joined by one space,
// quoted strings unquoted. When there is no display name, a trailing comment is used, as
// servers do. A local part without domain gets the host "MISSING_DOMAIN" so that it is not
// read as a group start. Unparsable members are skipped; the call never fails or throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::message {

struct address {
  std::optional<std::string> name;     // display name, raw
  std::optional<std::string> route;    // obsolete source route "@a,@b"
  std::optional<std::string> mailbox;  // local part (unquoted) or group name
  std::optional<std::string> host;     // domain; absent for group start and end

  bool group_start() const { return mailbox && !host; }
  bool group_end() const { return !mailbox && !host; }
};

std::vector<address> parse_address_list(std::string_view value);

}  // namespace mailsim::message
