// mailsim::queue memory spool — the spool of the virtual world and of unit tests.
//
// Contract: the spool interface (spool.hpp) kept in memory. "Durable" means stored in this
// object, apart from the index the shared logic keeps: recover() rebuilds that index from
// what was stored, as a sender restarting after a crash would, so the simulator can crash
// and restart a sender without losing acknowledged mail. Message bytes are stored once and
// shared: load_message() hands out the same bytes without copying them. fail_writes() makes
// every store fail with the given error until it is called with an empty one: the
// scenario fault "disk full" (std::errc::no_space_on_device). Ready as soon as constructed.
// states::not_kept stores the bytes alone: a spool that will never restart (the virtual
// world's senders) saves a copy of every message's state per enqueue and per update, and
// its recover() throws std::logic_error instead of emptying the queue.
// No I/O, no clock, no threads; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "reference-server/core/string_hash.hpp"
#include "reference-server/queue/spool.hpp"

namespace mailsim::queue {

class memory_spool final : public spool {
 public:
  enum class states { kept, not_kept };
  memory_spool(spool_limits limits, const core::clock& clock, core::random_source& random,
               states keep = states::kept);

  void fail_writes(std::error_code error) { write_error_ = error; }

 protected:
  std::vector<std::error_code> store_new(std::span<const new_message> batch) override;
  std::vector<std::error_code> store_states(
      std::span<const queued_message* const> entries) override;
  std::error_code erase(const std::string& id) override;
  std::shared_ptr<const std::string> read_message(const queued_message& entry,
                                                  std::error_code& error) override;
  void load_all(std::vector<queued_message>& out, recover_report& report) override;

 private:
  // By id. The states are a map of their own, empty when not kept: a state inline beside
  // the bytes would cost a message of the virtual world's backlog some 400 bytes unused.
  core::string_map<std::shared_ptr<const std::string>> bytes_;
  core::string_map<queued_message> states_;
  bool keep_states_ = true;
  std::error_code write_error_;
};

}  // namespace mailsim::queue
