// SCRAM message syntax shared by the server and the client (RFC 5802 §5, §7).
#include "reference-server/sasl/scram.hpp"

#include <array>
#include <cstdint>

#include "reference-server/core/ascii.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::sasl::detail {
namespace {

using core::is_alpha;

}  // namespace

std::optional<std::vector<scram_attribute>> split_scram_attributes(std::string_view message) {
  std::vector<scram_attribute> out;
  for (;;) {
    auto comma = message.find(',');
    auto part = message.substr(0, comma);
    // RFC 5802 §7: attr-val = ALPHA "=" value.
    if (part.size() < 2 || !is_alpha(part[0]) || part[1] != '=') return std::nullopt;
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) return out;
    message.remove_prefix(comma + 1);
  }
}

bool is_saslprep_subset(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;  // also rejects every byte of non-ASCII UTF-8
  }
  return true;
}

std::string encode_saslname(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> decode_saslname(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',') return std::nullopt;
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    // RFC 5802 §5.1: any "=" not starting "=2C" or "=3D" makes the name invalid.
    auto escape = text.substr(i, 3);
    if (escape == "=2C") {
      out += ',';
    } else if (escape == "=3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool is_scram_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::string make_scram_nonce(core::random_source& random) {
  std::array<std::uint8_t, scram_nonce_bytes> bytes{};
  random.fill(bytes);
  // 18 bytes encode to 24 base64 characters without padding, all of them `printable`.
  return core::base64_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace mailsim::sasl::detail
