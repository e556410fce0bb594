#include "reference-server/server/event_log.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

namespace mailsim::server {

event_log::event_log(const std::string& path, const core::clock& clock, std::string& error)
    : clock_(clock) {
  if (path == "-") {
    file_ = stdout;
    return;
  }
  file_ = std::fopen(path.c_str(), "ae");
  if (file_ == nullptr) {
    error = "cannot open log file " + path;
    file_ = stdout;
    return;
  }
  owned_ = true;
}

event_log::~event_log() {
  if (owned_) std::fclose(file_);
}

void event_log::write(const std::string& event, nlohmann::json fields) {
  nlohmann::json line = {{"ts", rfc3339_utc(clock_.now())}, {"event", event}};
  line.update(fields);
  // Client-supplied text may be invalid UTF-8; replace it rather than fail the line.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  std::fputs(text.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

std::string rfc3339_utc(core::time_point t) {
  std::int64_t ms = core::epoch_ms(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace mailsim::server
