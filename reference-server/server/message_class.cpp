#include "reference-server/server/message_class.hpp"

#include <algorithm>

#include "reference-server/queue/spool.hpp"

namespace mailsim::server {
namespace {

// How much of a malformed value goes into `problem`: enough to recognise it in a log.
constexpr std::size_t shown_max = 80;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_wsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_wsp(text.back())) text.remove_suffix(1);
  return text;
}

// ASCII only: field names are printable US-ASCII (RFC 5322 §2.2).
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// A line's text without its CRLF or LF.
std::string_view content_of(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Whether the line starts an X-Mailsim-Class field; `value` gets what follows the ':'.
bool is_class_field(std::string_view content, std::string_view& value) {
  const auto colon = content.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = content.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  if (!same_ignoring_case(name, message_class_field)) return false;
  value = content.substr(colon + 1);
  return true;
}

std::string describe_problem(const std::optional<std::string>& malformed, std::size_t fields) {
  std::string out;
  if (malformed) {
    out = "malformed " + std::string(message_class_field) + " value \"" +
          malformed->substr(0, shown_max) + "\"";
  }
  if (fields > 1) {
    if (!out.empty()) out += "; ";
    out += std::to_string(fields) + " " + std::string(message_class_field) +
           " fields: only the first counts";
  }
  return out;
}

}  // namespace

message_class_scan take_message_class(std::string_view message) {
  message_class_scan out;
  std::string kept;                 // the header lines that stay
  std::optional<std::string> first;  // the first field's value, unfolded
  bool in_class_field = false;      // the current field is being removed
  std::size_t at = 0;
  while (at < message.size()) {
    const auto lf = message.find('\n', at);
    const std::size_t next = lf == std::string_view::npos ? message.size() : lf + 1;
    const std::string_view line = message.substr(at, next - at);
    const std::string_view content = content_of(line);
    if (content.empty()) break;  // the empty line that ends the header section
    std::string_view value;
    if (is_wsp(content.front())) {
      // A continuation line goes with its field; unfolding joins it without the line end.
      if (in_class_field && out.fields == 1) *first += content;
    } else {
      in_class_field = is_class_field(content, value);
      if (in_class_field && ++out.fields == 1) first = std::string(value);
    }
    if (!in_class_field) kept += line;
    at = next;
  }
  if (out.fields == 0) return out;
  out.stripped = kept + std::string(message.substr(at));
  const std::string_view name = trim(*first);
  std::optional<std::string> malformed;
  if (queue::is_message_class(name)) {
    out.name = std::string(name);
  } else {
    malformed = std::string(name);
  }
  out.problem = describe_problem(malformed, out.fields);
  return out;
}

}  // namespace mailsim::server
