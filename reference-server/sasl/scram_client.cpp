// SCRAM-SHA-256 client mechanism (RFC 7677, RFC 5802 §5), contract in scram.hpp.
#include <utility>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/crypto.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using status = client_step_result::status;

client_step_result make_result(status state, std::string data, std::string reason = {}) {
  return client_step_result{state, std::move(data), std::move(reason)};
}

client_step_result error(std::string reason) {
  return make_result(status::error, {}, std::move(reason));
}

// RFC 5802 §7: no channel binding, no authzid.
constexpr std::string_view gs2_header = "n,,";

// A server-first message, checked against the client's nonce (RFC 5802 §5.1).
struct server_first {
  std::string nonce;
  std::string salt;
  std::uint32_t iterations = 0;
};

std::optional<std::uint32_t> parse_iterations(std::string_view text) {
  if (text.empty() || text.size() > 10 || text[0] == '0') return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// RFC 5802 §7: server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
// ["," extensions]. Returns the reason it is unacceptable, or nothing.
std::optional<std::string> parse_server_first(std::string_view message,
                                              std::string_view client_nonce, server_first& out) {
  auto attributes = detail::split_scram_attributes(message);
  if (!attributes || attributes->size() < 3) return "malformed server-first message";
  if ((*attributes)[0].name == 'm') return "unsupported mandatory extension";
  const auto& r = (*attributes)[0];
  const auto& s = (*attributes)[1];
  const auto& i = (*attributes)[2];
  if (r.name != 'r' || s.name != 's' || i.name != 'i') return "expected r=, s= and i=";
  // RFC 5802 §5.1 (r=): the server's nonce extends ours; anything else is not our exchange.
  if (!detail::is_scram_nonce(r.value) || r.value.size() <= client_nonce.size() ||
      !r.value.starts_with(client_nonce)) {
    return "server nonce does not extend the client nonce";
  }
  auto salt = core::base64_decode(s.value);
  if (!salt || salt->empty()) return "bad salt";
  auto iterations = parse_iterations(i.value);
  if (!iterations || *iterations < scram_client_iterations_min || *iterations > iterations_max) {
    return "iteration count out of bounds";
  }
  out = server_first{std::string(r.value), std::move(*salt), *iterations};
  return std::nullopt;
}

class scram_client final : public client_mechanism {
 public:
  scram_client(std::string_view user, std::string password, std::string nonce)
      : password_(std::move(password)),
        nonce_(std::move(nonce)),
        client_first_bare_("n=" + detail::encode_saslname(user) + ",r=" + nonce_) {}

  ~scram_client() override { detail::wipe(password_); }
  scram_client(const scram_client&) = delete;
  scram_client& operator=(const scram_client&) = delete;

  std::optional<std::string> initial_response() override {
    return std::string(gs2_header) + client_first_bare_;
  }

  client_step_result step(std::string_view challenge) override {
    switch (phase_) {
      case phase::server_first:
        // An empty challenge means the session sent no initial response (RFC 4954 §4).
        if (challenge.empty()) return make_result(status::respond, *initial_response());
        return on_server_first(challenge);
      case phase::server_final:
        return on_server_final(challenge);
      case phase::done:
      case phase::failed:
        break;
    }
    return error("unexpected challenge");
  }

  bool complete() const override { return phase_ == phase::done; }

 private:
  enum class phase { server_first, server_final, done, failed };

  client_step_result fail(std::string reason) {
    phase_ = phase::failed;
    return error(std::move(reason));
  }

  client_step_result on_server_first(std::string_view message) {
    server_first first;
    if (auto reason = parse_server_first(message, nonce_, first)) return fail(std::move(*reason));
    auto salted = detail::pbkdf2_sha256(password_, first.salt, first.iterations, hash_bytes);
    if (!salted) return fail("key derivation failed");
    // RFC 5802 §3: AuthMessage := client-first-message-bare + "," + server-first-message +
    // "," + client-final-message-without-proof; c= is the base64 of the gs2 header.
    std::string without_proof = "c=" + core::base64_encode(gs2_header) + ",r=" + first.nonce;
    std::string auth_message =
        client_first_bare_ + "," + std::string(message) + "," + without_proof;
    std::string proof = client_proof(*salted, auth_message);
    detail::wipe(*salted);
    phase_ = phase::server_final;
    return make_result(status::respond, without_proof + ",p=" + core::base64_encode(proof));
  }

  // RFC 5802 §3: ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage); also remembers
  // the ServerSignature the server must present.
  std::string client_proof(std::string_view salted_password, std::string_view auth_message) {
    std::string client_key = detail::hmac_sha256(salted_password, "Client Key");
    std::string stored_key = detail::sha256(client_key);
    std::string server_key = detail::hmac_sha256(salted_password, "Server Key");
    std::string proof =
        detail::xor_bytes(client_key, detail::hmac_sha256(stored_key, auth_message));
    expected_server_signature_ = detail::hmac_sha256(server_key, auth_message);
    detail::wipe(client_key);
    detail::wipe(server_key);
    return proof;
  }

  // RFC 5802 §7: server-final-message = (server-error / verifier) ["," extensions].
  client_step_result on_server_final(std::string_view message) {
    auto attributes = detail::split_scram_attributes(message);
    if (!attributes) return fail("malformed server-final message");
    const auto& first = (*attributes)[0];
    if (first.name == 'e') return fail("server error: " + std::string(first.value));
    auto signature = first.name == 'v' ? core::base64_decode(first.value) : std::nullopt;
    if (!signature) return fail("malformed server-final message");
    // RFC 5802 §3: the server proves it knows ServerKey; a mismatch means an impostor.
    if (!detail::equal_constant_time(*signature, expected_server_signature_)) {
      return fail("server signature mismatch");
    }
    phase_ = phase::done;
    return make_result(status::done, {});
  }

  std::string password_;
  std::string nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;
  phase phase_ = phase::server_first;
};

}  // namespace

std::unique_ptr<client_mechanism> make_scram_sha256_client(std::string_view user,
                                                           std::string_view password,
                                                           core::random_source& random,
                                                           std::string_view fixed_client_nonce) {
  if (!detail::is_saslprep_subset(user) || !detail::is_saslprep_subset(password)) return nullptr;
  std::string nonce = fixed_client_nonce.empty() ? detail::make_scram_nonce(random)
                                                 : std::string(fixed_client_nonce);
  return std::make_unique<scram_client>(user, std::string(password), std::move(nonce));
}

}  // namespace mailsim::sasl
