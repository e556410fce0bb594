// Command-line splitting, number parsing and the byte-stuffing of multi-line answers.
#include <limits>

#include "reference-server/core/ascii.hpp"
#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {
namespace {

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

}  // namespace

// RFC 1939 §3: a keyword, then arguments separated by single spaces.
command_line split_command(std::string_view text) {
  command_line out;
  std::size_t space = text.find(' ');
  std::string_view name = text.substr(0, space);
  out.name.reserve(name.size());
  for (char c : name) out.name += upper(c);
  if (space == std::string_view::npos) return out;
  out.rest = text.substr(space + 1);
  std::string_view rest = out.rest;
  for (;;) {
    std::size_t next = rest.find(' ');
    std::string_view word = rest.substr(0, next);
    if (word.empty()) out.well_formed = false;
    out.args.push_back(word);
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return out;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (char c : text) {
    if (!core::is_digit(c)) return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (max - digit) / 10 ? max : value * 10 + digit;
  }
  return value;
}

void append_stuffed(std::string& out, std::string_view text) {
  while (!text.empty()) {
    std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out += '.';
    out += line;
    out += "\r\n";
  }
}

std::string top_of(std::string_view message, std::uint64_t body_lines) {
  std::string out;
  std::string_view rest = message;
  bool in_header = true;
  while (!rest.empty() && (in_header || body_lines > 0)) {
    std::size_t lf = rest.find('\n');
    std::size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
    std::string_view line = rest.substr(0, take);
    rest.remove_prefix(take);
    out += line;
    if (!in_header) {
      --body_lines;
    } else if (line == "\r\n" || line == "\n") {
      in_header = false;
    }
  }
  if (in_header) {  // no blank line in the message: end the header, then send the blank line
    if (!out.empty() && out.back() != '\n') out += "\r\n";
    out += "\r\n";
  }
  return out;
}

}  // namespace mailsim::pop3
