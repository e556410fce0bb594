// mailsim::server inbound policy — who may send what to whom through this server.
//
// Contract: pure decisions over the directory and the store's quota, for the SMTP events
// that need them. Relay rule (RFC 5321 §3.6.1, §7.1): local domains accept mail from
// anyone; other domains only from authenticated clients, whose mail for them goes to the
// outbound queue (or gets 451 4.3.0 when the queue is switched off). Relay tricks ('%', '!', '@' in
// the local part: RFC 5321 §3.6.1, bang paths, address literals) are refused with 554 5.7.1.
// No I/O, no clock; the driver supplies everything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reference-server/smtp/envelope.hpp"
#include "reference-server/smtp/reply.hpp"
#include "reference-server/store/directory.hpp"
#include "reference-server/store/store.hpp"

namespace mailsim::server {

struct rcpt_decision {
  std::optional<smtp::reply> refusal;  // empty: accept
  std::vector<std::string> users;      // local users that get a copy, when accepted
  std::vector<std::string> remote;     // addresses the queue forwards to, when accepted
};

class inbound_policy {
 public:
  // `primary_domain` receives mail for the bare "<Postmaster>" (RFC 5321 §4.1.1.3).
  // `outbound`: remote recipients (authenticated senders, forwarding aliases) are queued.
  inbound_policy(const store::directory& directory, store::mailbox_store& store,
                 std::string primary_domain, bool outbound = false)
      : directory_(directory),
        store_(store),
        primary_domain_(std::move(primary_domain)),
        outbound_(outbound) {}

  rcpt_decision on_rcpt(const smtp::path& recipient, bool authenticated) const;
  // VRFY when enabled: 250 for a local address, 550 5.1.1 otherwise (RFC 5321 §3.5.3).
  smtp::reply on_vrfy(const std::string& argument) const;
  // After DATA: 552 5.2.2 when the message would overflow any recipient's quota.
  std::optional<smtp::reply> on_message(const std::vector<std::string>& users,
                                        std::uint64_t message_bytes) const;

 private:
  const store::directory& directory_;
  store::mailbox_store& store_;
  std::string primary_domain_;
  bool outbound_ = false;
};

}  // namespace mailsim::server
