// mailsim::config outbound — the `queue:` section: where the outbound spool lives, its
// limits, and the delivery engine's settings (routes, retry profiles, per-destination limits
// and TLS policy, source-address pools). Filled by the loader (loader.cpp), read by the
// server's outbound service. Every key and its default: docs/configuration.md.
#pragma once

#include <string>
#include <vector>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/queue/delivery_engine.hpp"
#include "reference-server/queue/spool.hpp"

namespace mailsim::config {

// How a message is made durable before the 250 reply, in the Maildir (delivery.durability)
// and in the outbound spool (queue.durability).
enum class durability_mode {
  syncfs,      // write every file of the transaction, then one syncfs(2) of the filesystem
  fsync_each,  // fsync(2) every message file and its directory entry
  journal,     // Maildir only: a record in a preallocated journal, fdatasync(2) (store/journal)
};

// One DKIM signing key (the `dkim.sign` list): queued mail whose From domain is `domain`
// (auth::author_domain) is signed with it before it is stored in the spool.
struct dkim_signing_key {
  std::string domain;    // d=, lower case
  std::string selector;  // s=
  std::string key_file;  // absolute path: PEM (RSA or Ed25519) or the RFC 8463 base64 seed
  auth::canon header_canon = auth::canon::relaxed;
  auth::canon body_canon = auth::canon::relaxed;
  std::vector<std::string> headers;  // empty: auth::default_signed_headers(), From over-signed
};

struct outbound_config {
  // Mail for remote recipients from authenticated clients (and aliases that forward off the
  // server) is queued and delivered. false: such recipients get 451 4.3.0, as before.
  bool enabled = true;
  std::string spool_dir;  // absolute; default <server.state_dir>/queue
  // How the spool makes a batch durable before the 250 (as delivery.durability does for
  // the Maildir): syncfs barriers, or fsync of each file on a filesystem shared with busy
  // writers, where syncfs would also flush their data.
  durability_mode durability = durability_mode::syncfs;
  queue::spool_limits limits;
  // hostname defaults to server.hostname; routing, retry, destinations, source pools.
  queue::engine_settings engine;
  // PEM CA bundle for verifying receivers' certificates (tls_verify trusted/hostname);
  // empty: the system store.
  std::string ca_file;
  std::vector<dkim_signing_key> dkim_keys;  // dkim: sign: (one per domain)
};

}  // namespace mailsim::config
