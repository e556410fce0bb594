// mailsim::queue spool — the outbound queue's messages and per-recipient delivery state.
//
// Contract: a spool holds every message accepted for outbound delivery until each of its
// recipients is final (delivered, relayed, failed) and the message is removed. Two
// implementations share this interface and its logic: file_spool (durable, on disk) and
// memory_spool (the virtual world and unit tests). What their results mean:
// - enqueue() stores a batch of new messages and answers per message. Success means durable:
//   only then may the SMTP server answer 250 (DESIGN.md "Data at rest"). A refusal because of
//   spool_limits is errc::queue_full_messages / queue_full_bytes, which the server answers
//   with 452 4.3.1. The message bytes are stored once, however many recipients they have.
// - update() applies recipient changes (the outcome of an attempt, a DSN sent) and answers
//   per change only after they are durable; a batch shares one durability barrier. On
//   failure the spool keeps the previous state, in memory as on disk.
// - remove() drops a message whose recipients are all final. It is not synced: after a crash
//   a removed message may come back; its state then shows nothing pending, or, if the last
//   update() did not complete, a pending recipient that is tried again. Delivery is
//   at-least-once: a crash between a delivery and its update() duplicates it, never loses it.
// - recover() at start-up loads what the spool holds (file_spool: cleans the debris of a
//   crash, moves corrupt state aside) and reports what it found.
// - The spool keeps every message's state (not its bytes) in memory, so that the deliverer
//   can ask what is due (due(), next_due()) and look messages up (find()) without I/O.
// Message ids are 24 lower-case hex digits: the injected clock's milliseconds (12 digits), a
// sequence number within the millisecond (4), and 32 random bits (8), so ids sort by arrival
// and stay unique across restarts; the sequence keeps ids increasing even when the clock
// stands still (a manual clock) or steps back.
// What it must not do: read the OS clock or real randomness, start threads. Not thread-safe:
// one caller at a time (the delivery engine's loop, or one worker thread that does all the
// spool's calls). Never throws; errors are std::error_code (errc, or errno values in
// std::system_category() from the file system).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/core/string_hash.hpp"
#include "reference-server/smtp/envelope.hpp"
#include "reference-server/smtp/reply.hpp"

namespace mailsim::queue {

// Where a recipient stands. Every state but pending is final.
enum class recipient_state {
  pending,    // to be tried (again) at next_attempt_at
  delivered,  // a server accepted it with 2xx and took over (DSN: "delivered" or, from a
              // server that offers DSN, nothing more from us: RFC 3461 §5.2.1)
  relayed,    // accepted by a server without the DSN extension (RFC 3461 §5.2.2)
  failed,     // bounced: a 5xx, a routing failure, or expiry (4.4.7)
};

std::string_view state_name(recipient_state state);

// The part of a recipient that changes as delivery goes on; fields map onto the DSN's
// per-recipient fields (dsn.hpp dsn_recipient).
struct recipient_status {
  recipient_state state = recipient_state::pending;
  std::uint32_t attempts = 0;
  core::time_point next_attempt_at{};
  std::optional<core::time_point> last_attempt_at;
  std::string status;                // RFC 3463 code of the last outcome ("4.7.1"), or ""
  std::optional<smtp::reply> reply;  // what the server answered last, if one did
  std::string remote_mta;            // that server's DNS name (or static route host)
  std::string remote_address;        // that server's address
  std::string diagnostic;            // a local reason when no server answered
  bool delay_warning_sent = false;   // the "delayed" DSN went out (once per recipient)
  bool dsn_sent = false;             // the DSN for the final state went out, or none is due

  // Field by field (smtp::reply has no operator== of its own).
  bool operator==(const recipient_status& other) const;
};

struct queued_recipient {
  smtp::recipient rcpt;  // address, NOTIFY, ORCPT as received; never changes
  recipient_status status;
};

struct queued_message {
  std::string id;
  // MAIL FROM and the session facts (ENVID, RET, BODY, SMTPUTF8, AUTH, HELO, TLS); its
  // `recipients` stay empty: they live in `recipients` below with their state.
  smtp::envelope envelope;
  std::string received_from;  // the client, for DSN Received-From-MTA, e.g. "dns; x (1.2.3.4)"
  // The message class that picks its source-address pool (delivery_engine.hpp source_pool),
  // from the submitted X-Mailsim-Class field; "" for none. Always "" or is_message_class().
  std::string message_class;
  core::time_point queued_at{};
  std::uint64_t size_bytes = 0;  // trace + message bytes stored
  // A checksum of the stored bytes (message_checksum() in state_file.hpp), set by storages
  // that write the message and its state under one barrier (file_spool) so that recovery can
  // tell a message file that was never completely written; none otherwise.
  std::optional<std::uint64_t> message_sum;
  std::vector<queued_recipient> recipients;

  bool has_pending() const;
  // The earliest next_attempt_at among pending recipients.
  std::optional<core::time_point> next_due() const;
};

struct spool_limits {
  std::size_t messages_max = 100'000;                // 0: no limit
  std::uint64_t bytes_max = std::uint64_t{4} << 30;  // 4 GiB; 0: no limit
};

struct enqueue_request {
  smtp::envelope envelope;    // with its recipients (at least one)
  std::string trace;          // header lines to prepend (Received:), CRLF-ended; may be empty
  std::string_view message;   // the message as received; must outlive enqueue()
  std::string received_from;  // see queued_message
  // See queued_message. A value that is not is_message_class() is stored as "" (none), so
  // that what the spool holds always survives its state file. Initialised so that the
  // brace-initialised requests written before it existed need no change.
  std::string message_class{};
};

struct enqueue_result {
  std::error_code error;
  std::string id;  // when ok

  bool ok() const { return !error; }
};

struct recipient_change {
  std::size_t index = 0;  // into queued_message::recipients
  recipient_status status;
};

struct state_update {
  std::string id;
  std::vector<recipient_change> changes;
};

struct recover_report {
  std::size_t loaded = 0;             // messages now in the spool
  std::size_t removed_tmp = 0;        // unfinished writes deleted
  std::size_t orphan_messages = 0;    // message files without state (never acknowledged): deleted
  std::size_t orphan_states = 0;      // state files without message: moved to corrupt/
  std::size_t corrupt = 0;            // state files failing their checks: moved to corrupt/
  std::size_t foreign = 0;            // files whose names are not ids: left alone
  std::vector<std::string> problems;  // one line per orphan, corrupt or foreign file
  std::error_code error;              // the first error met; the walk goes on after it
};

// A new message as it goes to the storage: its state and its bytes. The storage may fill in
// entry->message_sum; nothing else of the entry changes.
struct new_message {
  queued_message* entry = nullptr;
  std::string_view trace;
  std::string_view message;
};

class spool {
 public:
  spool(spool_limits limits, const core::clock& clock, core::random_source& random);
  virtual ~spool() = default;
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  // One result per request, in order. Each recipient starts pending, due at once.
  std::vector<enqueue_result> enqueue(std::span<const enqueue_request> batch);

  // One result per update, in order. Several updates of one message are applied in order
  // and written once. A recipient's address, NOTIFY and ORCPT never change.
  std::vector<std::error_code> update(std::span<const state_update> batch);
  std::error_code update(const state_update& one);

  // errc::recipients_pending while a recipient is pending; errc::unknown_message.
  std::error_code remove(const std::string& id);
  // Removes a message whose last attempt settled every pending recipient with nothing more
  // owed (no report), in place of the update that would record it: what Postfix does when
  // it unlinks a delivered queue file. Not synced, like remove(): after a crash the message
  // may come back with its earlier state and be sent again (at-least-once), never lost.
  std::error_code remove_settled(const std::string& id);

  // The stored bytes (trace + message); nullptr with `error` set when they cannot be read.
  std::shared_ptr<const std::string> load_message(const std::string& id, std::error_code& error);

  // Forgets what is in memory and loads what the storage holds.
  recover_report recover();

  // The message, or nullptr. The pointer, and references into the message, stay valid until
  // the message is removed or recover() runs: update() changes recipient statuses in place.
  const queued_message* find(std::string_view id) const;
  // Ids of messages with a pending recipient due at or before `now`, earliest first (ties:
  // by id), at most `max`.
  std::vector<std::string> due(core::time_point now, std::size_t max = SIZE_MAX) const;
  // When the next pending recipient is due, if any is pending.
  std::optional<core::time_point> next_due() const;
  // Keeps a message out of due() and next_due() while the deliverer works on it, so that a
  // backlog in flight costs nothing per look at the schedule. Memory only: after recover()
  // nothing is held. Unknown ids and repeated calls are harmless; updates keep the hold.
  void hold(const std::string& id);
  void unhold(const std::string& id);
  // Every message id, in id (arrival) order.
  std::vector<std::string> ids() const;
  std::size_t message_count() const { return entries_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  const spool_limits& limits() const { return limits_; }

 protected:
  // The storage below the shared logic. Each answers per item, in order; success means the
  // item is durable (as durable as the implementation is).
  virtual std::vector<std::error_code> store_new(std::span<const new_message> batch) = 0;
  virtual std::vector<std::error_code> store_states(
      std::span<const queued_message* const> entries) = 0;
  virtual std::error_code erase(const std::string& id) = 0;
  // The stored bytes of a message that is in memory (its size_bytes tell how many).
  virtual std::shared_ptr<const std::string> read_message(const queued_message& entry,
                                                          std::error_code& error) = 0;
  // Everything stored, for recover(); fills `out` and the counts of the report.
  virtual void load_all(std::vector<queued_message>& out, recover_report& report) = 0;

  // Whether operations are allowed (file_spool: after open() and recover()).
  void set_ready(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }

 private:
  std::string next_id(core::time_point now);
  void index(queued_message entry);
  void account(const queued_message& entry);  // its bytes and its place in the schedule
  void unaccount(const queued_message& entry);

  spool_limits limits_;
  const core::clock& clock_;
  core::random_source& random_;
  bool ready_ = false;
  // Hashed: ids of one millisecond share their first dozen characters, which an ordered map
  // compared on every step of every lookup.
  core::string_map<queued_message> entries_;
  std::set<std::pair<core::time_point, std::string>> schedule_;  // (next due, id), not held
  core::string_set held_;
  std::uint64_t bytes_ = 0;
  std::int64_t id_ms_ = -1;   // milliseconds part of the last id
  std::uint32_t id_seq_ = 0;  // sequence part of the last id
};

// The id format described above; make_message_id() is exposed for tests and tools.
std::string make_message_id(std::int64_t epoch_ms, std::uint16_t sequence, std::uint32_t random);
bool is_message_id(std::string_view text);

// A message class name: 1 to 64 characters of A-Z a-z 0-9 '.' '_' '-'. Names keep their
// case; pools compare them case-insensitively.
bool is_message_class(std::string_view text);

}  // namespace mailsim::queue
