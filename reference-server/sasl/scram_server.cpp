// SCRAM-SHA-256 server mechanism (RFC 7677, RFC 5802 §5), contract in scram.hpp.
#include <utility>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/crypto.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using status = step_result::status;

step_result make_result(status state, std::string reason = {}, std::string data = {}) {
  step_result out;
  out.state = state;
  out.reason = std::move(reason);
  out.data = std::move(data);
  return out;
}

// The parts of a client-first message the server keeps (RFC 5802 §7).
struct client_first {
  std::string gs2_header;  // "n,," or "y,a=...,": echoed in c= of the final message
  std::string bare;        // client-first-message-bare, part of AuthMessage
  std::string user;
  std::string nonce;
};

// RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] ",". Returns the error, if any.
std::optional<step_result> parse_gs2_header(std::string_view message, std::string& header,
                                            std::string& authzid) {
  if (message.starts_with("p=")) {
    // RFC 5802 §6: we advertise no -PLUS mechanism, so a binding request cannot be honoured.
    return make_result(status::failure, "channel binding requested, not offered");
  }
  if (message.size() < 3 || (message[0] != 'n' && message[0] != 'y') || message[1] != ',') {
    return make_result(status::malformed, "bad gs2 header");
  }
  auto end = message.find(',', 2);
  if (end == std::string_view::npos) return make_result(status::malformed, "bad gs2 header");
  auto field = message.substr(2, end - 2);
  if (!field.empty()) {
    auto name = field.starts_with("a=") ? detail::decode_saslname(field.substr(2)) : std::nullopt;
    if (!name) return make_result(status::malformed, "bad authzid");
    authzid = std::move(*name);
  }
  header = std::string(message.substr(0, end + 1));
  return std::nullopt;
}

// RFC 5802 §7: client-first-message-bare = [reserved-mext ","] username "," nonce ["," ext].
std::optional<step_result> parse_bare(std::string_view bare, client_first& out) {
  auto attributes = detail::split_scram_attributes(bare);
  if (!attributes || attributes->size() < 2) return make_result(status::malformed, "bad bare");
  if ((*attributes)[0].name == 'm') {
    // RFC 5802 §5.1: m= must make authentication fail; reported as a syntax error because
    // this version of SCRAM defines no extension this server could parse.
    return make_result(status::malformed, "unsupported mandatory extension");
  }
  auto [n_name, n_value] = (*attributes)[0];
  auto [r_name, r_value] = (*attributes)[1];
  auto user = n_name == 'n' ? detail::decode_saslname(n_value) : std::nullopt;
  if (!user || r_name != 'r') return make_result(status::malformed, "expected n= and r=");
  if (!detail::is_scram_nonce(r_value) || r_value.size() > scram_nonce_chars_max) {
    return make_result(status::malformed, "bad client nonce");
  }
  if (!detail::is_saslprep_subset(*user)) {
    return make_result(status::failure, "user name outside the SASLprep subset");
  }
  out.bare = std::string(bare);
  out.user = std::move(*user);
  out.nonce = std::string(r_value);
  return std::nullopt;
}

class scram_server final : public server_mechanism {
 public:
  scram_server(const credential_store& store, core::random_source& random,
               std::string fixed_server_nonce)
      : store_(store), random_(random), fixed_server_nonce_(std::move(fixed_server_nonce)) {}

  step_result start(std::optional<std::string_view> initial_response) override {
    if (phase_ != phase::start) return make_result(status::malformed, "started twice");
    phase_ = phase::client_first;
    // RFC 5802 §5: the client speaks first; without an initial response it gets an empty
    // challenge (RFC 4954 §4).
    if (!initial_response || initial_response->empty()) return make_result(status::challenge);
    return step(*initial_response);
  }

  step_result step(std::string_view message) override {
    if (message.size() > scram_message_bytes_max) {
      return finish(make_result(status::malformed, "message too long"));
    }
    switch (phase_) {
      case phase::client_first:
        return on_client_first(message);
      case phase::client_final:
        return finish(on_client_final(message));
      case phase::start:
      case phase::finished:
        break;
    }
    return make_result(status::malformed, "unexpected step");
  }

 private:
  enum class phase { start, client_first, client_final, finished };

  step_result finish(step_result result) {
    phase_ = phase::finished;
    return result;
  }

  step_result on_client_first(std::string_view message) {
    std::string authzid;
    if (auto error = parse_gs2_header(message, first_.gs2_header, authzid)) {
      return finish(std::move(*error));
    }
    if (auto error = parse_bare(message.substr(first_.gs2_header.size()), first_)) {
      return finish(std::move(*error));
    }
    if (!authzid.empty() && authzid != first_.user) {
      // Like PLAIN: no authorization policy, so no acting as someone else.
      return finish(make_result(status::failure, "authorization identity differs"));
    }
    look_up_user();
    phase_ = phase::client_final;
    return make_result(status::challenge, {}, server_first_message());
  }

  // Real secrets when the user exists and has a PBKDF2-based hash; otherwise a fake salt that
  // stays the same for the same name, so that repeated probes look like a real user.
  void look_up_user() {
    auto hash = store_.password_hash(first_.user);
    auto secrets = hash ? scram_secrets_from_hash(*hash) : std::nullopt;
    known_user_ = secrets.has_value();
    if (known_user_) {
      secrets_ = std::move(*secrets);
      return;
    }
    std::string key = store_.scram_mock_secret();
    if (key.empty()) key = "mailsim sasl scram mock salt";
    secrets_.salt = detail::hmac_sha256(key, first_.user).substr(0, salt_bytes);
    secrets_.iterations = hash_params{}.iterations;
  }

  // RFC 5802 §7: server-first-message = nonce "," salt "," iteration-count.
  std::string server_first_message() {
    std::string server_nonce =
        fixed_server_nonce_.empty() ? detail::make_scram_nonce(random_) : fixed_server_nonce_;
    nonce_ = first_.nonce + server_nonce;
    server_first_ = "r=" + nonce_ + ",s=" + core::base64_encode(secrets_.salt) +
                    ",i=" + std::to_string(secrets_.iterations);
    return server_first_;
  }

  step_result on_client_final(std::string_view message) {
    // RFC 5802 §7: client-final-message = channel-binding "," nonce ["," ext] "," proof.
    auto attributes = detail::split_scram_attributes(message);
    if (!attributes || attributes->size() < 3 || (*attributes)[0].name != 'c' ||
        (*attributes)[1].name != 'r' || attributes->back().name != 'p') {
      return make_result(status::malformed, "expected c=, r= and p=");
    }
    auto binding = core::base64_decode((*attributes)[0].value);
    auto proof = core::base64_decode(attributes->back().value);
    if (!binding || !proof || proof->size() != detail::sha256_bytes) {
      return make_result(status::malformed, "bad base64 or proof size");
    }
    // RFC 5802 §5.1 (c=): without channel binding it carries the gs2 header itself.
    if (*binding != first_.gs2_header) return make_result(status::failure, "c= mismatch");
    // RFC 5802 §5.1 (r=): the nonce must be the one the server sent.
    if ((*attributes)[1].value != nonce_) return make_result(status::failure, "nonce mismatch");
    auto without_proof = message.substr(0, message.size() - attributes->back().value.size() - 3);
    return verify_proof(*proof, without_proof);
  }

  step_result verify_proof(std::string_view proof, std::string_view final_without_proof) {
    // RFC 5802 §3: AuthMessage := client-first-message-bare + "," + server-first-message +
    // "," + client-final-message-without-proof.
    std::string auth_message =
        first_.bare + "," + server_first_ + "," + std::string(final_without_proof);
    if (!known_user_) return make_result(status::failure, "unknown user or no SCRAM secrets");
    // RFC 5802 §3: ClientKey := ClientProof XOR ClientSignature; H(ClientKey) must be StoredKey.
    std::string client_signature = detail::hmac_sha256(secrets_.stored_key, auth_message);
    std::string client_key = detail::xor_bytes(proof, client_signature);
    bool ok = detail::equal_constant_time(detail::sha256(client_key), secrets_.stored_key);
    detail::wipe(client_key);
    if (!ok) return make_result(status::failure, "wrong proof");
    // RFC 5802 §3: ServerSignature := HMAC(ServerKey, AuthMessage), sent as v=.
    std::string server_signature = detail::hmac_sha256(secrets_.server_key, auth_message);
    step_result out =
        make_result(status::success, {}, "v=" + core::base64_encode(server_signature));
    out.user = first_.user;
    return out;
  }

  const credential_store& store_;
  core::random_source& random_;
  std::string fixed_server_nonce_;
  phase phase_ = phase::start;
  client_first first_;
  scram_secrets secrets_;
  bool known_user_ = false;
  std::string nonce_;
  std::string server_first_;
};

}  // namespace

std::unique_ptr<server_mechanism> make_scram_sha256_server(const credential_store& store,
                                                           core::random_source& random,
                                                           std::string_view fixed_server_nonce) {
  return std::make_unique<scram_server>(store, random, std::string(fixed_server_nonce));
}

}  // namespace mailsim::sasl
