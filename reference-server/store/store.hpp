// mailsim::store mailbox store — the interface the servers deliver through.
//
// Contract: commit_batch() delivers a batch of accepted messages and answers, per request,
// whether every copy is durable. Only a request whose result is success may be acknowledged
// (SMTP 250, LMTP per-recipient 250, IMAP APPEND OK); a failed request leaves no copy in
// any mailbox, so the sender's retry cannot duplicate a half-delivered message. A batch
// exists so that one durability barrier serves many messages (group commit): the server's
// driver collects what arrives while the previous batch is being committed.
// Implementations: maildir_store (durable, files); a memory store for the virtual world is
// planned (DESIGN.md "Data at rest").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "reference-server/store/directory.hpp"
#include "reference-server/store/quota.hpp"

namespace mailsim::store {

struct delivery_request {
  delivery_request() = default;
  delivery_request(std::string_view message_in, std::string trace_in,
                   std::vector<std::string> users_in, std::string folder_in = {})
      : message(message_in),
        trace(std::move(trace_in)),
        users(std::move(users_in)),
        folder(std::move(folder_in)) {}

  std::string_view message;        // the message as received; must outlive commit_batch()
  std::string trace;               // header lines to prepend (trace_headers()), CRLF-ended
  std::vector<std::string> users;  // canonical user names (resolution::users); one copy each
  // "" for the inbox; otherwise a folder of each user's mailbox (e.g. "Junk", where the
  // spam score files mail), created on first use. Must pass is_folder_name().
  std::string folder;
};

struct delivery_result {
  std::error_code error;           // empty when every copy is durable
  std::vector<std::string> files;  // where the copies are, on success (for logs and tests)
  std::uint64_t bytes = 0;         // bytes written per copy: trace + message

  bool ok() const { return !error; }
};

class mailbox_store {
 public:
  virtual ~mailbox_store() = default;

  // One result per request, in order. Not re-entrant: one batch at a time.
  virtual std::vector<delivery_result> commit_batch(std::span<const delivery_request> batch) = 0;

  // Makes what earlier batches committed durable in its final place, so that the store can
  // drop what it keeps to redo them after a crash (a journal). The driver calls it when no
  // batch is waiting; a store without such state does nothing.
  virtual std::error_code checkpoint() { return {}; }

  // Whether a message of `message_bytes` fits in the user's mailbox now. Thread-safe.
  virtual quota_state quota_check(const user_account& user, std::uint64_t message_bytes) = 0;
};

}  // namespace mailsim::store
