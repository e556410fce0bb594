#include "reference-server/smtp/data_reader.hpp"

#include <cstring>

namespace mailsim::smtp {

data_reader::data_reader(data_reader_options options, std::string& out)
    : options_(options), out_(out) {}

void data_reader::emit(const char* bytes, std::size_t n) {
  // Past the size limit bytes are only counted: the caller answers 552 5.3.4 at the end,
  // after it has consumed the whole message (RFC 5321 §4.5.3.1.10 keeps the session alive).
  std::uint64_t before = total_bytes_;
  total_bytes_ += n;
  if (total_bytes_ <= options_.message_bytes_max) {
    out_.append(bytes, n);
  } else if (before < options_.message_bytes_max) {
    out_.append(bytes, options_.message_bytes_max - before);
  }
}

// A bare CR or LF is content, never a line end for end-of-data detection: after one the
// reader stays in `middle`, so a following "." can never be read as the terminator
// (CVE-2023-51766). Both policies store it as CRLF; under `reject` the message is refused.
std::size_t data_reader::feed(std::string_view bytes) {
  static constexpr char crlf[] = {'\r', '\n'};
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end && !done_) {
    switch (state_) {
      case state::line_start:
        if (*p == '.') {
          state_ = state::dot;
          ++p;
        } else {
          state_ = state::middle;
        }
        break;
      case state::dot:
        if (*p == '\r') {
          state_ = state::dot_cr;
          ++p;
        } else if (*p == '\n') {  // "\r\n.\n": not the end (RFC 5321 §4.1.1.4)
          bare_newline_ = true;
          emit(".", 1);
          emit(crlf, 2);
          state_ = state::middle;
          ++p;
        } else {  // RFC 5321 §4.5.2: drop the stuffed dot, keep the rest of the line
          state_ = state::middle;
        }
        break;
      case state::dot_cr:
        if (*p == '\n') {  // CR LF "." CR LF: the only end of data
          done_ = true;
          ++p;
        } else {  // "\r\n.\r" + other: the CR is bare
          bare_newline_ = true;
          emit(".", 1);
          emit(crlf, 2);
          state_ = state::middle;
        }
        break;
      case state::middle: {
        const char* cr = static_cast<const char*>(std::memchr(p, '\r', end - p));
        const char* stop = cr != nullptr ? cr : end;
        const char* lf = static_cast<const char*>(std::memchr(p, '\n', stop - p));
        if (lf != nullptr) {  // a bare LF before any CR
          bare_newline_ = true;
          emit(p, lf - p);
          emit(crlf, 2);
          p = lf + 1;
          break;
        }
        emit(p, stop - p);
        p = stop;
        if (cr != nullptr) {
          state_ = state::cr;
          ++p;
        }
        break;
      }
      case state::cr:
        emit(crlf, 2);
        if (*p == '\n') {
          state_ = state::line_start;
          ++p;
        } else {  // a bare CR: stored as CRLF, but the next byte does not start a line
          bare_newline_ = true;
          state_ = state::middle;
        }
        break;
    }
  }
  return static_cast<std::size_t>(p - bytes.data());
}

}  // namespace mailsim::smtp
