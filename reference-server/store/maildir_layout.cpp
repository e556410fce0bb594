#include "reference-server/store/maildir_layout.hpp"

#include <algorithm>
#include <charconv>

namespace mailsim::store {
namespace {

bool is_safe_byte(char c) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || c == '-' || c == '_' || c == '+' || c == '=' || c == '.' || c == '~';
}

void append_escaped(std::string& out, unsigned char byte) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out += '%';
  out += hex[byte >> 4];
  out += hex[byte & 0x0F];
}

}  // namespace

std::string escape_path_component(std::string_view name) {
  if (name.empty()) return "%";
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool leading_dot = i == 0 && c == '.';
    if (is_safe_byte(c) && !leading_dot) {
      out += c;
    } else {
      append_escaped(out, static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::optional<std::string> maildir_relative_path(std::string_view user) {
  const auto at = user.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string domain(user.substr(at + 1));
  // Domains are case-insensitive (RFC 5321 §2.4): one folder per domain, whatever the case.
  std::transform(domain.begin(), domain.end(), domain.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return escape_path_component(domain) + "/" + escape_path_component(user.substr(0, at)) +
         "/Maildir";
}

bool is_folder_name(std::string_view folder) {
  if (folder.empty() || folder.size() > 64) return false;
  std::string upper(folder);
  for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  if (upper == "INBOX") return false;
  return std::all_of(folder.begin(), folder.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ' ';
  });
}

std::string maildir_folder_path(const std::string& maildir, std::string_view folder) {
  return folder.empty() ? maildir : maildir + "/." + std::string(folder);
}

std::string escape_host(std::string_view host) {
  std::string out;
  for (const char c : host) {
    if (c == '/') {
      out += "\\057";
    } else if (c == ':') {
      out += "\\072";
    } else if (c == ',') {
      out += "\\054";
    } else {
      out += c;
    }
  }
  return out;
}

std::string maildir_file_name(const file_name_parts& parts) {
  const std::int64_t ms = core::epoch_ms(parts.time);
  // Floor division, so that a time before 1970 still gives a usec field in [0, 999000].
  const std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const std::int64_t usec = (ms - secs * 1000) * 1000;  // the clock has millisecond resolution
  return std::to_string(secs) + ".M" + std::to_string(usec) + "P" + std::to_string(parts.pid) +
         "Q" + std::to_string(parts.counter) + "." + escape_host(parts.host) +
         ",S=" + std::to_string(parts.size_bytes);
}

namespace {
constexpr std::string_view checksum_field = ",C=";
constexpr std::size_t checksum_digits = 16;
}  // namespace

std::string with_checksum(std::string_view name, std::uint64_t checksum) {
  std::string out(name);
  out += checksum_field;
  for (int shift = 60; shift >= 0; shift -= 4) out += "0123456789abcdef"[(checksum >> shift) & 0xf];
  return out;
}

std::optional<checksummed_name> split_checksum(std::string_view tmp_name) {
  const std::size_t suffix = checksum_field.size() + checksum_digits;
  if (tmp_name.size() <= suffix) return std::nullopt;
  const std::string_view name = tmp_name.substr(0, tmp_name.size() - suffix);
  const std::string_view field = tmp_name.substr(name.size());
  if (!field.starts_with(checksum_field)) return std::nullopt;
  std::uint64_t checksum = 0;
  for (const char c : field.substr(checksum_field.size())) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(c >= 'a' && c <= 'f')) return std::nullopt;
    checksum = (checksum << 4) | static_cast<std::uint64_t>(digit ? c - '0' : c - 'a' + 10);
  }
  return checksummed_name{name, checksum};
}

std::optional<std::uint64_t> size_from_file_name(std::string_view file_name) {
  // The base name ends at ':' (the "2,FLAGS" info of messages in cur/).
  const std::string_view base = file_name.substr(0, file_name.find(':'));
  const auto field = base.find(",S=");
  if (field == std::string_view::npos) return std::nullopt;
  const std::string_view digits = base.substr(field + 3);
  std::uint64_t size = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
  if (error != std::errc{} || end == digits.data()) return std::nullopt;
  if (end != digits.data() + digits.size() && *end != ',') return std::nullopt;
  return size;
}

}  // namespace mailsim::store
