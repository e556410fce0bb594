// Fuzz target: the X-Mailsim-Class scanner (reference-server/server/message_class.hpp), a
// pure function over a whole message. Besides not crashing, the contract is checked: the
// body is never touched, only whole field lines are removed, a class is always a valid
// class name, and a second scan of the stripped message finds no field left.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reference-server/queue/spool.hpp"
#include "reference-server/server/message_class.hpp"

namespace {

// Where the header section ends: after the first empty line (CRLF or bare LF), else the end.
std::size_t header_end(std::string_view m) {
  std::size_t start = 0;
  while (start < m.size()) {
    const std::size_t lf = m.find('\n', start);
    if (lf == std::string_view::npos) return m.size();
    const std::string_view line = m.substr(start, lf - start);
    if (line.empty() || line == "\r") return lf + 1;
    start = lf + 1;
  }
  return m.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailsim;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const server::message_class_scan scan = server::take_message_class(message);
  if (!scan.name.empty() && !queue::is_message_class(scan.name)) std::abort();
  if ((scan.fields == 0) != !scan.stripped.has_value()) std::abort();
  if (!scan.stripped) {
    if (!scan.name.empty()) std::abort();
    return 0;
  }
  const std::string_view out = *scan.stripped;
  if (out.size() >= message.size()) std::abort();  // something was removed
  // The body (everything after the header section) comes through byte for byte.
  const std::string_view body = message.substr(header_end(message));
  if (out.size() < body.size() || out.substr(out.size() - body.size()) != body) std::abort();
  // What is kept of the header section is a subsequence of it, whole lines only.
  const std::string_view head = message.substr(0, message.size() - body.size());
  const std::string_view kept = out.substr(0, out.size() - body.size());
  std::size_t at = 0;
  for (std::size_t start = 0; start < kept.size();) {
    const std::size_t lf = kept.find('\n', start);
    const std::size_t end = lf == std::string_view::npos ? kept.size() : lf + 1;
    const std::size_t found = head.find(kept.substr(start, end - start), at);
    if (found == std::string_view::npos) std::abort();
    at = found + (end - start);
    start = end;
  }
  const server::message_class_scan again = server::take_message_class(out);
  if (again.fields != 0 || again.stripped) std::abort();
  return 0;
}
