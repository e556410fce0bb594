#include "reference-server/core/line_reader.hpp"

#include <cstring>

namespace mailsim::core {

void line_reader::feed(std::string_view bytes) {
  compact();
  buffer_.append(bytes.data(), bytes.size());
}

line line_reader::next() {
  for (;;) {
    const char* base = buffer_.data() + start_;
    std::size_t avail = buffer_.size() - start_;
    const void* lf = std::memchr(base + scanned_, '\n', avail - scanned_);
    if (lf == nullptr) {
      scanned_ = avail;
      if (skipping_) {  // still inside an over-long line: drop what we have
        start_ = buffer_.size();
        scanned_ = 0;
        return {};
      }
      if (avail > limits_.line_bytes_max + 1) {  // +1: a CR may be waiting for its LF
        skipping_ = true;
        start_ = buffer_.size();
        scanned_ = 0;
        return {line::status::too_long, {}, line_ending::crlf, false};
      }
      return {};
    }
    std::size_t len = static_cast<const char*>(lf) - base;
    std::size_t next_start = start_ + len + 1;
    scanned_ = 0;
    if (skipping_) {  // the end of an over-long line: already reported
      skipping_ = false;
      start_ = next_start;
      continue;
    }
    line out;
    out.ending = line_ending::bare_lf;
    if (len > 0 && base[len - 1] == '\r') {
      out.ending = line_ending::crlf;
      --len;
    }
    start_ = next_start;
    if (len > limits_.line_bytes_max) {
      out.state = line::status::too_long;
      return out;
    }
    out.state = line::status::ok;
    out.text = std::string_view(base, len);
    out.has_bare_cr = out.text.find('\r') != std::string_view::npos;
    return out;
  }
}

std::string_view line_reader::pending() const {
  return std::string_view(buffer_).substr(start_);
}

void line_reader::consume_pending(std::size_t n) {
  start_ += std::min(n, buffer_.size() - start_);
  scanned_ = 0;
}

void line_reader::clear() {
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  skipping_ = false;
}

void line_reader::compact() {
  // Returned string_views stay valid until this call; drop consumed bytes only now.
  if (start_ == 0) return;
  buffer_.erase(0, start_);
  start_ = 0;
}

}  // namespace mailsim::core
