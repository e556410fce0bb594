// Client mechanisms PLAIN and LOGIN, and the factory; SCRAM-SHA-256 is in scram_client.cpp.
#include "reference-server/sasl/client.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "reference-server/sasl/crypto.hpp"
#include "reference-server/sasl/scram.hpp"

namespace mailsim::sasl {
namespace {

using status = client_step_result::status;

// RFC 4616 §2: at most 255 octets per field; LOGIN borrows the limit.
constexpr std::size_t field_bytes_max = 255;

bool valid_field(std::string_view field) {
  return !field.empty() && field.size() <= field_bytes_max &&
         field.find('\0') == std::string_view::npos;
}

client_step_result respond(std::string data) {
  return {status::respond, std::move(data), {}};
}
client_step_result error(std::string reason) {
  return {status::error, {}, std::move(reason)};
}

// PLAIN, RFC 4616: everything goes in one message, normally the initial response.
class plain_client final : public client_mechanism {
 public:
  plain_client(std::string_view user, std::string_view password)
      // RFC 4616 §2: an empty authzid means "act as the authentication identity".
      : message_(std::string(1, '\0') + std::string(user) + '\0' + std::string(password)) {}

  ~plain_client() override { detail::wipe(message_); }
  plain_client(const plain_client&) = delete;
  plain_client& operator=(const plain_client&) = delete;

  std::optional<std::string> initial_response() override {
    sent_ = true;
    return message_;
  }

  client_step_result step(std::string_view challenge) override {
    // RFC 4954 §4: an empty challenge asks for the response the session did not send with
    // AUTH; PLAIN has nothing else to say, so it answers once and no more.
    if (!challenge.empty() || answered_) return error("unexpected challenge");
    answered_ = true;
    sent_ = true;
    return respond(message_);
  }

  bool complete() const override { return sent_; }

 private:
  std::string message_;
  bool sent_ = false;
  bool answered_ = false;
};

// LOGIN, draft-murchison-sasl-login: the first challenge gets the user name, the second the
// password. Prompts are not compared, since servers word them differently.
class login_client final : public client_mechanism {
 public:
  login_client(std::string_view user, std::string_view password)
      : user_(user), password_(password) {}

  ~login_client() override { detail::wipe(password_); }
  login_client(const login_client&) = delete;
  login_client& operator=(const login_client&) = delete;

  std::optional<std::string> initial_response() override { return std::nullopt; }

  client_step_result step(std::string_view /*challenge*/) override {
    ++challenges_;
    if (challenges_ == 1) return respond(user_);
    if (challenges_ == 2) return respond(password_);
    return error("unexpected challenge");
  }

  bool complete() const override { return challenges_ == 2; }

 private:
  std::string user_;
  std::string password_;
  int challenges_ = 0;
};

bool same_name(std::string_view a, std::string_view b) {
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return upper(x) == upper(y); });
}

}  // namespace

std::unique_ptr<client_mechanism> make_client_mechanism(std::string_view name,
                                                        std::string_view user,
                                                        std::string_view password,
                                                        core::random_source& random) {
  if (same_name(name, "SCRAM-SHA-256")) return make_scram_sha256_client(user, password, random, {});
  if (!valid_field(user) || !valid_field(password)) return nullptr;
  if (same_name(name, "PLAIN")) return std::make_unique<plain_client>(user, password);
  if (same_name(name, "LOGIN")) return std::make_unique<login_client>(user, password);
  return nullptr;
}

}  // namespace mailsim::sasl
