// mailsim::store Maildir layout — where a user's mail lives and how its files are named.
//
// Contract: pure functions from names to relative paths and file names; no I/O. The store,
// the IMAP and the POP3 modules use them so that they agree on the layout:
//
//   <root>/<domain>/<local>/Maildir/{tmp,new,cur}
//
// <domain> and <local> come from the canonical user name "local@domain" (split at the last
// '@'; the domain is lower-cased, the local part kept as the directory spells it) through
// escape_path_component(), which makes any byte string a safe single directory name:
//   - kept as they are: ASCII letters, digits and "-_+=.~";
//   - every other byte, '%' included, becomes "%XX" (two upper-case hex digits), so '/',
//     NUL, control characters, spaces, quotes and UTF-8 octets never reach the file system
//     raw, and the mapping can be reversed;
//   - a leading '.' becomes "%2E", so no name is ".", "..", hidden, or a Maildir++ folder;
//   - the empty local part (legal when quoted: ""@domain) becomes "%", which no other input
//     produces.
// The mapping is injective: two different user names never share a Maildir.
//
// File names follow the Maildir convention "<secs>.M<usec>P<pid>Q<counter>.<host>,S=<size>"
// (the form Dovecot writes): time, process and a per-process counter make the name unique on
// one host, and S= lets quota code read the size without a stat(2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reference-server/core/clock.hpp"

namespace mailsim::store {

std::string escape_path_component(std::string_view name);

// "<domain>/<local>/Maildir" for a user name "local@domain"; nullopt when there is no '@'.
std::optional<std::string> maildir_relative_path(std::string_view user);

// A top-level mailbox folder name the store accepts: 1-64 octets of ASCII letters, digits,
// '-', '_' and ' ' (no '.', the Maildir++ hierarchy separator; no '/'; not "INBOX").
bool is_folder_name(std::string_view folder);
// Maildir++ (the layout Dovecot and Courier read): folder "Junk" of a Maildir lives in
// "<maildir>/.Junk", itself a Maildir with an empty "maildirfolder" file. "" is the Maildir.
std::string maildir_folder_path(const std::string& maildir, std::string_view folder);

struct file_name_parts {
  core::time_point time;
  std::int64_t pid = 0;
  std::uint64_t counter = 0;
  std::string_view host;  // raw host name; escaped here
  std::uint64_t size_bytes = 0;
};

std::string maildir_file_name(const file_name_parts& parts);

// The host name as a Maildir name part: '/' → "\057", ':' → "\072" (the Maildir
// convention) and ',' → "\054" (',' starts the S= field), so the name parses back.
std::string escape_host(std::string_view host);

// A file in tmp/ carries the checksum of its bytes (content_checksum()) in its name, after
// the name it gets in new/: "<name>,C=<16 lower-case hex digits>". recover() moves a tmp/
// file whose bytes match into new/ under <name>, and deletes the others.
std::string with_checksum(std::string_view name, std::uint64_t checksum);
struct checksummed_name {
  std::string_view name;  // the name without its ",C=" field
  std::uint64_t checksum = 0;
};
// nullopt unless the name ends with a well-formed ",C=" field after a non-empty name.
std::optional<checksummed_name> split_checksum(std::string_view tmp_name);

// The S= size of a Maildir file name ("…,S=1234" or "…,S=1234:2,FS"), if it has one.
std::optional<std::uint64_t> size_from_file_name(std::string_view file_name);

}  // namespace mailsim::store
