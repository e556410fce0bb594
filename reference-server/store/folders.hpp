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
// The hierarchy has no holes made here: create and rename make the missing superior levels
// as real folders (RFC 9051 §6.3.4, §6.3.6; ".Archive" for "Archive/2023", as Dovecot does),
// and remove refuses a folder that has folders below it. Another program may still leave
// holes (".A.B" without ".A"); list() shows what is on disk.
// Results: errc::already_exists (create, or rename onto an existing folder), errc::not_found
// (delete or rename of a missing folder), errc::invalid_folder (a refused name, INBOX
// deleted or renamed by rename()), std::errc::directory_not_empty (remove of a folder with
// folders below it), else errno values. Never throws.
// What it must not do: follow a symbolic link out of the Maildir, or read the clock.
#pragma once

#include <cstddef>
#include <cstdint>
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

  // Creates the folder and any missing superior level ("Archive" for "Archive/2023").
  // errc::already_exists, with nothing made, when the folder itself exists.
  std::error_code create(std::string_view imap_name) const;
  // Removes the folder and the messages and index in it. A folder with folders below it
  // (".A.B" for "A") is refused with std::errc::directory_not_empty, so that no level is
  // left without a folder (RFC 9051 §6.3.5 lets a server refuse; Dovecot does).
  std::error_code remove(std::string_view imap_name) const;
  // Renames the folder and the folders below it ("A/x" → "B/x" with "A" → "B"), after
  // making the missing superior levels of `to`.
  std::error_code rename(std::string_view from, std::string_view to) const;
  // RENAME INBOX (RFC 9051 §6.3.6): creates `to` (as create() does) and moves every message
  // file of the inbox's cur/ and new/ into the same sub-directory of it with rename(2), so
  // each message is in exactly one of the two folders at any moment: a crash loses none
  // (the link + unlink fallback of rename_no_replace may leave one in both). The inbox and
  // its sub-folders stay; the new folder's index gives the messages its own UIDs under a
  // new UIDVALIDITY, while flags (in the file names) and internal dates (the names' time)
  // travel with the files. Keywords live in the inbox's index only: carrying them over is
  // the caller's part. `moved` gets the file names moved (as they were named in the inbox).
  // A file that vanishes meanwhile (renamed by a flag change, expunged) is left where it is.
  // The new folder's UIDVALIDITY will be greater than `uid_validity_floor` (pass INBOX's, so
  // that the two differ even when made in the same second).
  std::error_code move_inbox(std::string_view to, std::uint32_t uid_validity_floor,
                             std::vector<std::string>& moved) const;

 private:
  // mkdir of a folder (its Maildir sub-directories and marker, synced); `created` false when
  // the directory was there already.
  std::error_code make_folder(const std::string& directory, bool& created) const;
  // Makes every missing superior level of `imap_name` a folder.
  std::error_code make_superiors(std::string_view imap_name) const;
  // Whether folders exist below the folder in `directory` (".A.x" for ".A").
  bool has_children(const std::string& directory, std::error_code& error) const;

  std::string maildir_;
};

}  // namespace mailsim::store
