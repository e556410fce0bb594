#include "reference-server/sasl/password.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/crypto.hpp"

namespace mailsim::sasl {
namespace {

constexpr std::string_view pbkdf2_tag = "pbkdf2-sha256";
constexpr std::string_view scrypt_tag = "scrypt";
constexpr std::string_view scram_tag = "scram-sha-256";

struct parsed_hash {
  hash_params params;
  std::string salt;
  std::string hash;        // pbkdf2 and scrypt: the derived key; scram-sha-256: StoredKey
  std::string server_key;  // scram-sha-256 only
};

bool params_valid(const hash_params& p) {
  if (p.scheme != hash_scheme::scrypt) return p.iterations >= 1 && p.iterations <= iterations_max;
  if (p.scrypt_log2_n < 1 || p.scrypt_log2_n > scrypt_log2_n_max) return false;
  if (p.scrypt_r < 1 || p.scrypt_r > scrypt_r_max) return false;
  if (p.scrypt_p < 1 || p.scrypt_p > scrypt_p_max) return false;
  return (128ULL * p.scrypt_r << p.scrypt_log2_n) <= scrypt_memory_bytes_max;
}

// Decimal without sign or leading zeros, at most 10 digits, so that one value has one spelling.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// "key=<number>" fitting in 32 bits.
std::optional<std::uint32_t> parse_assignment(std::string_view text, std::string_view key) {
  if (text.size() <= key.size() + 1 || text.substr(0, key.size()) != key ||
      text[key.size()] != '=') {
    return std::nullopt;
  }
  auto value = parse_number(text.substr(key.size() + 1));
  if (!value || *value > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// "ln=<log2 N>,r=<r>,p=<p>", in this order.
bool parse_scrypt_cost(std::string_view text, hash_params& params) {
  auto parts = split(text, ',');
  if (parts.size() != 3) return false;
  auto ln = parse_assignment(parts[0], "ln");
  auto r = parse_assignment(parts[1], "r");
  auto p = parse_assignment(parts[2], "p");
  if (!ln || !r || !p) return false;
  params.scrypt_log2_n = *ln;
  params.scrypt_r = *r;
  params.scrypt_p = *p;
  return true;
}

bool parse_cost(std::string_view tag, std::string_view cost, hash_params& params) {
  if (tag == scrypt_tag) {
    params.scheme = hash_scheme::scrypt;
    return parse_scrypt_cost(cost, params);
  }
  if (tag == pbkdf2_tag) {
    params.scheme = hash_scheme::pbkdf2_sha256;
  } else if (tag == scram_tag) {
    params.scheme = hash_scheme::scram_sha256;
  } else {
    return false;
  }
  auto iterations = parse_assignment(cost, "i");
  if (!iterations) return false;
  params.iterations = *iterations;
  return true;
}

std::optional<std::string> decode_key(std::string_view text) {
  auto bytes = core::base64_decode(text);
  if (!bytes || bytes->size() != hash_bytes) return std::nullopt;
  return bytes;
}

// "$<tag>$<cost>$<salt>$<hash>" or, for scram-sha-256, "...$<StoredKey>$<ServerKey>".
std::optional<parsed_hash> parse_hash(std::string_view encoded) {
  auto fields = split(encoded, '$');
  if (fields.size() < 5 || !fields[0].empty()) return std::nullopt;
  parsed_hash out;
  if (!parse_cost(fields[1], fields[2], out.params) || !params_valid(out.params)) {
    return std::nullopt;
  }
  bool scram = out.params.scheme == hash_scheme::scram_sha256;
  if (fields.size() != (scram ? 6U : 5U)) return std::nullopt;
  auto salt = core::base64_decode(fields[3]);
  auto hash = decode_key(fields[4]);
  if (!salt || salt->empty() || salt->size() > salt_bytes_max || !hash) return std::nullopt;
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  if (scram) {
    auto server_key = decode_key(fields[5]);
    if (!server_key) return std::nullopt;
    out.server_key = std::move(*server_key);
  }
  return out;
}

// The scheme's key derivation; for scram-sha-256 the result is SaltedPassword.
std::optional<std::string> derive(std::string_view password, const hash_params& params,
                                  std::string_view salt) {
  if (params.scheme == hash_scheme::scrypt) {
    detail::scrypt_cost cost{1ULL << params.scrypt_log2_n, params.scrypt_r, params.scrypt_p};
    return detail::scrypt(password, salt, cost, hash_bytes);
  }
  return detail::pbkdf2_sha256(password, salt, params.iterations, hash_bytes);
}

std::string encode_cost(const hash_params& p) {
  switch (p.scheme) {
    case hash_scheme::scrypt:
      return std::string(scrypt_tag) + "$ln=" + std::to_string(p.scrypt_log2_n) +
             ",r=" + std::to_string(p.scrypt_r) + ",p=" + std::to_string(p.scrypt_p);
    case hash_scheme::scram_sha256:
      return std::string(scram_tag) + "$i=" + std::to_string(p.iterations);
    case hash_scheme::pbkdf2_sha256:
      break;
  }
  return std::string(pbkdf2_tag) + "$i=" + std::to_string(p.iterations);
}

std::string encode(const hash_params& params, std::string_view salt, std::string derived) {
  std::string out = "$" + encode_cost(params) + "$" + core::base64_encode(salt) + "$";
  if (params.scheme == hash_scheme::scram_sha256) {
    // Only the verifier keys are kept: SaltedPassword itself would be password-equivalent.
    auto secrets = scram_secrets_from_salted_password(derived, salt, params.iterations);
    out += core::base64_encode(secrets.stored_key) + "$" + core::base64_encode(secrets.server_key);
  } else {
    out += core::base64_encode(derived);
  }
  detail::wipe(derived);
  return out;
}

}  // namespace

std::string hash_password(std::string_view password, hash_scheme scheme,
                          core::random_source& random) {
  hash_params params;
  params.scheme = scheme;
  return hash_password(password, params, random);
}

std::string hash_password(std::string_view password, const hash_params& params,
                          core::random_source& random) {
  std::array<std::uint8_t, salt_bytes> salt{};
  random.fill(salt);
  return hash_password_with_salt(
      password, params, std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()));
}

std::string hash_password_with_salt(std::string_view password, const hash_params& params,
                                    std::string_view salt) {
  if (!params_valid(params) || salt.empty() || salt.size() > salt_bytes_max) return {};
  auto derived = derive(password, params, salt);
  if (!derived) return {};
  return encode(params, salt, std::move(*derived));
}

bool verify_password(std::string_view password, std::string_view encoded) {
  auto parsed = parse_hash(encoded);
  if (!parsed) return false;
  auto derived = derive(password, parsed->params, parsed->salt);
  if (!derived) return false;
  bool ok = false;
  if (parsed->params.scheme == hash_scheme::scram_sha256) {
    // RFC 5802 §3: a password is right when it leads to the stored StoredKey.
    auto secrets =
        scram_secrets_from_salted_password(*derived, parsed->salt, parsed->params.iterations);
    ok = detail::equal_constant_time(secrets.stored_key, parsed->hash);
  } else {
    ok = detail::equal_constant_time(*derived, parsed->hash);
  }
  detail::wipe(*derived);
  return ok;
}

bool is_password_hash(std::string_view encoded) {
  return parse_hash(encoded).has_value();
}

std::optional<scram_secrets> scram_secrets_from_hash(std::string_view encoded) {
  auto parsed = parse_hash(encoded);
  if (!parsed) return std::nullopt;
  switch (parsed->params.scheme) {
    case hash_scheme::pbkdf2_sha256:
      // The stored hash is Hi(password, salt, i) = SaltedPassword (RFC 5802 §3).
      return scram_secrets_from_salted_password(parsed->hash, parsed->salt,
                                                parsed->params.iterations);
    case hash_scheme::scram_sha256:
      return scram_secrets{std::move(parsed->salt), parsed->params.iterations,
                           std::move(parsed->hash), std::move(parsed->server_key)};
    case hash_scheme::scrypt:
      break;
  }
  return std::nullopt;  // SCRAM's Hi() is PBKDF2; an scrypt hash cannot produce its keys.
}

scram_secrets scram_secrets_from_salted_password(std::string_view salted_password,
                                                 std::string_view salt, std::uint32_t iterations) {
  // RFC 5802 §3: ClientKey := HMAC(SaltedPassword, "Client Key"), StoredKey := H(ClientKey),
  // ServerKey := HMAC(SaltedPassword, "Server Key").
  std::string client_key = detail::hmac_sha256(salted_password, "Client Key");
  scram_secrets out{std::string(salt), iterations, detail::sha256(client_key),
                    detail::hmac_sha256(salted_password, "Server Key")};
  detail::wipe(client_key);
  return out;
}

}  // namespace mailsim::sasl
