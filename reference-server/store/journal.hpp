// mailsim::store delivery journal — a preallocated write-ahead log whose barrier is one
// fdatasync(2) of an overwrite.
//
// Contract: a journal is one file of fixed size, written with zeros once when it is created,
// so that appending a record later changes no file-system metadata: fdatasync(2) then costs
// one data write and one cache flush, where syncfs(2) or the fsync(2) of a new file also
// commits the file system's own journal (docs/benchmarks.md, "The delivery journal").
//
// Layout: two 4 KiB header slots, then records. A header slot holds the generation and a
// salt drawn from the injected random source; the valid slot with the higher generation is
// the current one. A record is a 32-byte head (magic, generation, payload length, checksum)
// and its payload, padded to 4 KiB so that no append rewrites a page an earlier one wrote.
// Its checksum covers the salt, the head and the payload: a record of an earlier generation,
// a torn record, or bytes of a message shaped like a record (mail is written here verbatim;
// without the secret salt nobody can make them pass) all end the replay.
//
// Use: open() (creates the file when missing; an existing file keeps its size), then
// replay() once to read back every record of the current generation, then append() records;
// append() returns only when its record is durable. open() takes an exclusive flock(2) on
// the file: a second journal over it (another process, or another store in this one) fails
// with EWOULDBLOCK instead of overwriting its records. reset() starts a new generation: every
// record before it is forgotten, so the caller must first have made their effects durable
// elsewhere (the Maildir store: syncfs(2) of its root). Not thread-safe; errors are errno
// values in std::system_category(), or errc::limit_exceeded for a record that cannot fit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reference-server/core/random.hpp"
#include "reference-server/store/fs.hpp"

namespace mailsim::store {

class delivery_journal {
 public:
  static constexpr std::uint64_t page_bytes = 4096;
  static constexpr std::uint64_t header_bytes = 2 * page_bytes;
  static constexpr std::uint64_t record_head_bytes = 32;
  static constexpr std::uint64_t size_min = 256 * 1024;

  explicit delivery_journal(core::random_source& random) : random_(random) {}

  // Opens <at>/<name>. A missing file is made as <name>.new (zeros, fsync), renamed into
  // place, and the folder synced; size_bytes is rounded up to whole pages (at least size_min).
  std::error_code open(int at, const std::string& name, std::uint64_t size_bytes);

  // Calls `each` with the payload of every valid record of the current generation, in order,
  // and positions appends after the last one.
  std::error_code replay(const std::function<void(std::string_view payload)>& each);

  // Whether a record with a payload of this size fits after the records written so far, and
  // whether it would fit in an empty journal.
  bool fits(std::uint64_t payload_bytes) const;
  bool could_fit(std::uint64_t payload_bytes) const;
  // No record since the last reset() (or in the replayed generation), and no failed append.
  bool empty() const { return end_ == header_bytes && !broken_; }

  // Writes one record and fdatasync(2)s it. On failure nothing may be appended until reset().
  std::error_code append(std::string_view payload);

  // A new generation: writes the other header slot and fdatasync(2)s it.
  std::error_code reset();

  std::uint64_t generation() const { return generation_; }
  std::uint64_t size_bytes() const { return size_; }

 private:
  std::error_code create(int at, const std::string& name, std::uint64_t size_bytes);
  std::error_code read_header();
  std::uint64_t record_checksum(std::string_view head, std::string_view payload) const;

  core::random_source& random_;
  fs::unique_fd fd_;
  std::uint64_t size_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t salt_ = 0;
  std::uint64_t end_ = header_bytes;  // where the next record goes
  bool broken_ = false;               // an append failed: the tail is unknown until reset()
  std::string buffer_;                // the record being written, reused
};

// The Maildir store's payload: a sequence of messages, each with the tmp/ paths (relative to
// the store root) of its copies and the bytes every copy holds (trace, then message).
struct journal_message {
  std::vector<std::string_view> paths;
  std::string_view trace;
  std::string_view message;
};

void append_journal_message(std::string& payload, const journal_message& message);
// Calls `each` for every message of a payload (views into it); false when the payload is
// malformed (the messages before the fault were passed on).
bool read_journal_messages(std::string_view payload,
                           const std::function<void(const journal_message&)>& each);

}  // namespace mailsim::store
