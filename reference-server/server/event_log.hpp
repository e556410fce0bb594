// mailsim::server event log — one JSON object per line, per event (connect, reply class,
// message accepted, disconnect, start and stop), each with a timestamp and, for sessions,
// the session id. Written to a file (appended) or to standard output.
//
// Contract: write() is thread-safe and writes whole lines; a failed write is dropped
// silently rather than stopping mail service. Timestamps come from the injected clock.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "reference-server/core/clock.hpp"

namespace mailsim::server {

class event_log {
 public:
  // `path` "-" means standard output. Returns an error text in `error` if it cannot open.
  event_log(const std::string& path, const core::clock& clock, std::string& error);
  ~event_log();
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  // Adds "ts" (RFC 3339, UTC, milliseconds) and "event", then writes the line.
  void write(const std::string& event, nlohmann::json fields);
  bool debug = false;

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  const core::clock& clock_;
};

// "2026-11-26T10:35:43.123Z"
std::string rfc3339_utc(core::time_point t);

}  // namespace mailsim::server
