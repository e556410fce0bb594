// Server mechanisms PLAIN and LOGIN, and the factory; SCRAM-SHA-256 is in scram_server.cpp.
#include "reference-server/sasl/mechanism.hpp"

#include <algorithm>
#include <cstddef>

#include "reference-server/core/base64.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using status = step_result::status;

// RFC 4616 §2: authzid, authcid and passwd are each at most 255 octets; LOGIN has no limit
// of its own and borrows this one.
constexpr std::size_t field_bytes_max = 255;

step_result make_result(status state, std::string reason = {}) {
  step_result out;
  out.state = state;
  out.reason = std::move(reason);
  return out;
}

step_result challenge(std::string data) {
  step_result out = make_result(status::challenge);
  out.data = std::move(data);
  return out;
}

step_result success(std::string user) {
  step_result out = make_result(status::success);
  out.user = std::move(user);
  return out;
}

// A hash with the default cost that matches no password: verifying against it when the user
// is unknown makes a failed login take as long for unknown users as for known ones.
const std::string& dummy_hash() {
  static const std::string hash = "$pbkdf2-sha256$i=" + std::to_string(hash_params{}.iterations) +
                                  "$" + core::base64_encode(std::string(salt_bytes, '\0')) + "$" +
                                  core::base64_encode(std::string(hash_bytes, '\0'));
  return hash;
}

step_result check_password(const credential_store& store, std::string_view user,
                           std::string_view password) {
  auto hash = store.password_hash(user);
  if (!hash) {
    (void)verify_password(password, dummy_hash());
    return make_result(status::failure, "unknown user");
  }
  if (!verify_password(password, *hash)) return make_result(status::failure, "wrong password");
  return success(std::string(user));
}

bool valid_field(std::string_view field) {
  return !field.empty() && field.size() <= field_bytes_max &&
         field.find('\0') == std::string_view::npos;
}

// PLAIN, RFC 4616.
class plain_server final : public server_mechanism {
 public:
  explicit plain_server(const credential_store& store) : store_(store) {}

  step_result start(std::optional<std::string_view> initial_response) override {
    if (state_ != state::start) return make_result(status::malformed, "started twice");
    // RFC 4954 §4: without an initial response the server sends an empty challenge. An empty
    // one ("=", RFC 4959 §3, RFC 5034 §4) is what the client sent: PLAIN has no valid empty
    // message, so it is a failed login, not a request for a challenge.
    if (!initial_response) {
      state_ = state::waiting;
      return challenge({});
    }
    if (initial_response->empty()) {
      state_ = state::finished;
      return make_result(status::failure, "empty response");
    }
    return verify(*initial_response);
  }

  step_result step(std::string_view client_message) override {
    if (state_ != state::waiting) return make_result(status::malformed, "unexpected step");
    return verify(client_message);
  }

 private:
  enum class state { start, waiting, finished };

  step_result verify(std::string_view message) {
    state_ = state::finished;
    // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
    auto first = message.find('\0');
    auto second = first == std::string_view::npos ? first : message.find('\0', first + 1);
    if (second == std::string_view::npos) return make_result(status::malformed, "missing NUL");
    auto authzid = message.substr(0, first);
    auto authcid = message.substr(first + 1, second - first - 1);
    auto passwd = message.substr(second + 1);
    bool authzid_ok = authzid.empty() || valid_field(authzid);
    if (!authzid_ok || !valid_field(authcid) || !valid_field(passwd)) {
      return make_result(status::malformed, "field empty, too long or with NUL");
    }
    // RFC 4616 §2: acting as another identity needs an authorization policy, which this
    // server does not have; only an authzid equal to the authcid is allowed.
    if (!authzid.empty() && authzid != authcid) {
      return make_result(status::failure, "authorization identity differs");
    }
    return check_password(store_, authcid, passwd);
  }

  const credential_store& store_;
  state state_ = state::start;
};

// LOGIN, draft-murchison-sasl-login: two prompts, then the check.
class login_server final : public server_mechanism {
 public:
  explicit login_server(const credential_store& store) : store_(store) {}

  step_result start(std::optional<std::string_view> initial_response) override {
    if (state_ != state::start) return make_result(status::malformed, "started twice");
    // Some clients send the user name as an initial response (draft-murchison-sasl-login §2).
    if (initial_response && !initial_response->empty()) return take_user(*initial_response);
    state_ = state::want_user;
    return challenge("Username:");
  }

  step_result step(std::string_view client_message) override {
    if (state_ == state::want_user) return take_user(client_message);
    if (state_ == state::want_password) return take_password(client_message);
    return make_result(status::malformed, "unexpected step");
  }

 private:
  enum class state { start, want_user, want_password, finished };

  step_result take_user(std::string_view user) {
    if (!valid_field(user)) {
      state_ = state::finished;
      return make_result(status::malformed, "bad user name");
    }
    user_ = user;
    state_ = state::want_password;
    return challenge("Password:");
  }

  step_result take_password(std::string_view password) {
    state_ = state::finished;
    if (!valid_field(password)) return make_result(status::malformed, "bad password field");
    return check_password(store_, user_, password);
  }

  const credential_store& store_;
  state state_ = state::start;
  std::string user_;
};

bool same_name(std::string_view a, std::string_view b) {
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return upper(x) == upper(y); });
}

}  // namespace

std::unique_ptr<server_mechanism> make_server_mechanism(std::string_view name,
                                                        const credential_store& store,
                                                        core::random_source& random) {
  // RFC 4422 §3.1 names are upper case; a lower-case spelling is accepted all the same.
  if (same_name(name, "SCRAM-SHA-256")) return make_scram_sha256_server(store, random, {});
  if (same_name(name, "PLAIN")) return std::make_unique<plain_server>(store);
  if (same_name(name, "LOGIN")) return std::make_unique<login_server>(store);
  return nullptr;
}

const std::vector<std::string>& supported_mechanisms() {
  static const std::vector<std::string> names = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};
  return names;
}

}  // namespace mailsim::sasl
