// mailsim::store folders — a user's Maildir++ folders under their IMAP names.
//
// Contract: maps IMAP mailbox names to the Maildir++ layout Dovecot and Courier read, and
// lists, creates, deletes and renames folders, always inside the one Maildir it is given.
//   - "INBOX" (any case) is the Maildir itself; every other name is a directory
//     "<maildir>/.<name>" with the IMAP hierarchy separator '/' written as '.', so
//     "Work/2024" lives in ".Work.2024";
//   - a literal '.' in a name is written "%2E" and a literal '%' "%25", so names with dots
//     round-trip ("v1.2" ↔ ".v1%2E2");
//   - refused (errc::invalid_folder): the empty name, a leading or trailing '/', an empty
//     level ("a//b"), the levels "." and "..", NUL and other control octets (below 0x20 and
//     0x7F), names or directory names over folder_name_max_bytes octets. Nothing a caller
//     passes can reach outside the Maildir.
// A created folder is a Maildir (tmp/ new/ cur/) with the empty "maildirfolder" marker;
// creating and renaming sync the Maildir's directory, so the change survives a crash.
// Results: errc::already_exists (create, or rename onto an existing folder), errc::not_found
// (delete or rename of a missing folder), errc::invalid_folder (a refused name, INBOX
// deleted or renamed), else errno values. Never throws.
// What it must not do: follow a symbolic link out of the Maildir, or read the clock.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailsim::store {

inline constexpr char imap_hierarchy_separator = '/';
inline constexpr std::size_t folder_name_max_bytes = 255;

// The Maildir++ directory name for an IMAP name (".Work.2024"), "" for INBOX; nullopt when
// the name is refused.
std::optional<std::string> folder_directory_name(std::string_view imap_name);
// The IMAP name of a Maildir++ directory name; nullopt when it is not one this layout makes.
std::optional<std::string> folder_imap_name(std::string_view directory_name);

class folders {
 public:
  // `maildir`: the user's Maildir (absolute path), which must exist.
  explicit folders(std::string maildir) : maildir_(std::move(maildir)) {}

  // The absolute path of a folder (it need not exist); nullopt when the name is refused.
  std::optional<std::string> path_of(std::string_view imap_name) const;

  // "INBOX" first, then the existing folders' IMAP names in byte order. Directories that are
  // not folders of this layout (or symbolic links) are left out.
  std::vector<std::string> list(std::error_code& error) const;

  std::error_code create(std::string_view imap_name) const;
  // Removes the folder and the messages and index in it. Folders below it (".A.B" for "A")
  // are separate Maildirs and stay, as IMAP DELETE allows (RFC 9051 §6.3.5).
  std::error_code remove(std::string_view imap_name) const;
  // Renames the folder and the folders below it ("A/x" → "B/x" with "A" → "B").
  std::error_code rename(std::string_view from, std::string_view to) const;

 private:
  std::string maildir_;
};

}  // namespace mailsim::store
